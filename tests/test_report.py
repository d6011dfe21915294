import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from genlab.core.io import atomic_write_bytes, to_json
from genlab.article.report import Figure, Number, Report, Section
from genlab.article.report.write import write_report


def _report():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    sec = Section("s1", "Section <one>", ["Text with <b>markup</b> & more."],
                  [Figure("f1", "Fig. A", "caption", fig, pd.DataFrame({"x": [0, 1]}))],
                  [Number("k", "a number", 0.1234, se=0.01, interval=(0.1, 0.2), interval_label="5–95%",
                          article=0.12)], {"raw": np.arange(3)})
    return Report("Title", "Sub", [sec], meta={"seed": 0})


def test_report_folder(tmp_path):
    index = write_report(_report(), tmp_path)
    html = index.read_text()
    assert "Section &lt;one&gt;" in html and "<b>markup</b>" not in html  # text is escaped
    assert "<svg" in html and "0.123 ± 0.01" in html and "0.12" in html
    assert (tmp_path / "figures" / "f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "data" / "f1.csv").read_text().splitlines()[0] == "x"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["sections"]["s1"]["numbers"]["k"]["se"] == 0.01
    assert results["sections"]["s1"]["results"]["raw"] == [0, 1, 2]
    assert not list(tmp_path.rglob("*.tmp"))


def test_json_is_deterministic_and_has_no_nan():
    a = to_json({"b": np.float64(np.nan), "a": [np.int64(1), 2.5]})
    assert a == to_json({"a": [1, 2.5], "b": None})
    assert json.loads(a) == {"a": [1, 2.5], "b": None}


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("genlab.core.io.os.replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
