"""Interactive figures: the plotly builders, their JSON, and how the page embeds them (no browser here;
tests/test_browser.py drives the page in Chromium)."""

import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from genlab.article.report import Figure, Number, Report, Section
from genlab.article.report.interactive import (Panel, Trace, figure, figure_dict, marker, plotly_js, slider_figure,
                                               to_dict, to_json)
from genlab.article.report.write import write_report


def _slider(active=1):
    x = np.linspace(0, 1, 5)
    return slider_figure([Panel([Trace("truth", x, x ** 2),
                                 Trace("fit", x, [x * k for k in range(3)], moving=True),
                                 Trace("band", x, (x - 1, x + 1), kind="band")]),
                          Panel([Trace("error", [0, 1, 2], [3.0, 2.0, 1.0]), *marker("here", [0, 1, 2], [3.0, 2.0, 1.0])],
                                logy=True, yrange=(0.1, 10))],
                         steps=["0", "1", "2"], prefix="k = ", notes=["zero", "one", "two"], active=active)


def test_slider_steps_restyle_the_moving_traces():
    d = to_dict(_slider(active=1))
    names = [t["name"] for t in d["data"]]
    fit, here = names.index("fit"), names.index("here")
    # the figure starts at the active step
    assert d["data"][fit]["y"] == [0, 0.25, 0.5, 0.75, 1] and d["data"][here]["x"] == [1]
    assert d["layout"]["title"]["text"] == "one"
    slider = d["layout"]["sliders"][0]
    assert slider["active"] == 1 and [s["label"] for s in slider["steps"]] == ["0", "1", "2"]
    step = slider["steps"][2]
    assert step["method"] == "update"
    data, layout, traces = step["args"]
    assert traces == [fit, here]
    assert data["y"] == [[0, 0.5, 1, 1.5, 2], [1]] and data["x"][1] == [2]
    assert layout == {"title.text": "two"}
    # the band is two traces (upper, then lower filled to it); the log axis takes log10 of its range
    assert names.count("band") == 2
    assert d["layout"]["yaxis2"]["type"] == "log" and d["layout"]["yaxis2"]["range"] == [-1, 1]


def _panel_sets():
    """Panels covering every option of Panel and Trace: one to three panels, titles on some, log axes,
    ranges, bands, points, dashes, legend groups, NaN and a large value."""
    x = np.linspace(0.5, 2, 30)
    y = np.sin(x) + 2
    y_gap = y.copy()
    y_gap[3] = np.nan
    return [
        [Panel()],
        [Panel([Trace("line", x, y)], xlabel="x", ylabel="y")],
        [Panel([Trace("line", x, y_gap, color="#123456", dash="dash", width=1.5, opacity=0.4),
                Trace("band", x, (y - 0.1, y + 0.1), kind="band", group="g"),
                Trace("points", x[:5], y[:5] * 1e300, kind="points", size=9, symbol="x", legend=False)],
               xlabel="n", ylabel="error", logx=True, logy=True, xrange=(0.5, 2), yrange=(1e-3, 1e3), title="left"),
         Panel([Trace("other", [1, 2, 3], [3, 2, 1], dash="dot")], xrange=(0, 4), title="right")],
        [Panel([Trace(f"t{i}", x, y + i) for i in range(12)], title="twelve colours"),
         Panel([Trace("b", x, (y, y + 1), kind="band")], logy=True),
         Panel([Trace("c", x, y, kind="points")], ylabel="third", yrange=(-1, 1))],
    ]


@pytest.mark.parametrize("k", range(4))
def test_figure_dict_is_the_plotly_figure_as_json(k):
    """The lab's fast builder gives exactly the JSON of the plotly figure: data, axes, domains, titles, template."""
    panels = _panel_sets()[k]
    fast, slow = figure_dict(panels, height=333), to_dict(figure(panels, height=333))
    assert fast == slow
    assert json.dumps(fast, allow_nan=False)  # JSON-able as it stands
    # a caller's change to its figure does not reach the next one (the template is a fresh copy)
    fast["layout"]["template"]["layout"]["font"] = "changed"
    assert figure_dict(panels, height=333) == slow


def test_figure_dict_refuses_what_figure_refuses():
    with pytest.raises(ValueError, match="at least one panel"):
        figure_dict([])
    with pytest.raises(ValueError, match="unknown trace kind"):
        figure_dict([Panel([Trace("a", [1], [1], kind="bars")])])
    with pytest.raises(ValueError, match="no slider"):
        figure_dict([Panel([Trace("a", [1], [[1]], moving=True)])])


def test_slider_checks_its_input():
    x = np.arange(3.0)
    with pytest.raises(ValueError, match="2 steps, the slider has 3"):
        slider_figure([Panel([Trace("f", x, [x, x], moving=True)])], steps="abc", prefix="")
    with pytest.raises(ValueError, match="at least one moving trace"):
        slider_figure([Panel([Trace("f", x, x)])], steps="ab", prefix="")
    with pytest.raises(ValueError, match="outside"):
        slider_figure([Panel([Trace("f", x, [x, x], moving=True)])], steps="ab", prefix="", active=2)
    with pytest.raises(ValueError, match="no slider"):
        figure([Panel([Trace("f", x, [x, x], moving=True)])])


def test_json_is_safe_in_a_script_and_has_no_nan():
    fig = figure([Panel([Trace("</script><b>", [0, 1, 2], [np.nan, np.inf, 1 / 3])])])
    text = to_json(fig)
    assert "</script>" not in text and "<b>" not in text and "NaN" not in text and "Infinity" not in text
    d = json.loads(text)
    assert d["data"][0]["name"] == "</script><b>"
    assert d["data"][0]["y"] == [None, None, 0.33333]  # rounded to 5 significant digits


def _report(plotly=True, lang="en"):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig2, ax2 = plt.subplots()
    ax2.plot([0, 1], [1, 0])
    figs = [Figure("f1", "Fig. A", "caption", fig, plotly=_slider() if plotly else None, hint="move it"),
            Figure("f2", "Fig. B", "static", fig2)]
    return Report("Title", "Sub", [Section("s1", "One", ["text"], figs, [Number("k", "a number", 1.0)])], lang=lang)


def test_page_embeds_plotly_once_and_keeps_the_static_files(tmp_path):
    html = write_report(_report(), tmp_path).read_text(encoding="utf-8")
    js = plotly_js()
    assert html.count(js[:300]) == 1 and js[-200:] in html
    m = re.search(r"<script type='application/json' id='plot-f1-json'>(.*?)</script>", html, re.S)
    assert m and json.loads(m.group(1)) == json.loads(to_json(_slider()))
    assert "<div class='genlab-plot' id='plot-f1'" in html and "<p class='hint'>move it</p>" in html
    # the interactive figure falls back to its SVG without JavaScript; the static one is inlined
    assert "<noscript><img class='static' src='figures/f1.svg'" in html
    f2 = html[html.index("<figure id='f2'>"):]
    assert f2.index("<svg") < f2.index("</figure>")
    for name in ("f1.png", "f1.svg", "f2.png", "f2.svg"):
        assert f"figures/{name}" in html and (tmp_path / "figures" / name).stat().st_size > 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["sections"]["s1"]["figures"]["f1"]["interactive"] is True
    assert results["sections"]["s1"]["figures"]["f2"]["interactive"] is False


def test_static_page_has_no_plotly(tmp_path):
    html = write_report(_report(plotly=False), tmp_path).read_text(encoding="utf-8")
    assert "<div class='genlab-plot'" not in html and "Plotly" not in html and len(html) < 200_000


def test_page_words_follow_the_language(tmp_path):
    ja = write_report(_report(lang="ja"), tmp_path / "ja").read_text(encoding="utf-8")
    en = write_report(_report(lang="en"), tmp_path / "en").read_text(encoding="utf-8")
    assert "<html lang='ja'>" in ja and "<th>測定量</th>" in ja and "<th>measured</th>" not in ja
    assert "<html lang='en'>" in en and "<th>measured</th>" in en


def test_degree_slider_fits_each_degree():
    from genlab.analysis.curves import capacity_curve
    from genlab.data.sources import ARTICLE_SOURCE
    from genlab.article.sections.overfitting import degree_slider
    from genlab.analysis.fitting import fit_polynomial

    data = ARTICLE_SOURCE.draw(30, 3, "data")
    curve = capacity_curve(ARTICLE_SOURCE, range(0, 31), n=30, repeats=5, seed=3)
    d = to_dict(degree_slider(data, ARTICLE_SOURCE, curve, seed=3)[0])
    names = [t["name"] for t in d["data"]]
    fit = names.index("fit")
    train_pts = d["data"][names.index("training points")]
    val_pts = d["data"][names.index("validation points")]
    assert len(train_pts["x"]) == curve.n_train == 20 and len(val_pts["x"]) == 10
    steps = d["layout"]["sliders"][0]["steps"]
    assert len(steps) == 31 and d["layout"]["sliders"][0]["active"] == 2
    data_k, _, idx = steps[5]["args"]
    from genlab.data.sources import Dataset

    train = Dataset(np.array(train_pts["x"])[:, None], np.array(train_pts["y"]))
    f = fit_polynomial(train, 5, basis="legendre", source=ARTICLE_SOURCE, quiet=True)
    grid = np.linspace(0, 1, 301)
    np.testing.assert_allclose(data_k["y"][idx.index(fit)], f.predict(grid), rtol=1e-3, atol=1e-3)
    # the two markers sit at degree 5, on this split's training and validation RMSE
    markers = [(i, y) for i, x, y in zip(idx, data_k["x"], data_k["y"]) if x == [5]]
    assert len(markers) == 2
    assert markers[0][1][0] == pytest.approx(f.train_rmse, rel=1e-3)
    assert "degree 5 (6 parameters)" in steps[5]["args"][1]["title.text"]
