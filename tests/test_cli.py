"""Tests for the `genlab` command line (genlab.cli.app).

Most tests call ``genlab.cli.app.main(argv)`` in-process (it returns the exit
status and never raises for user mistakes); a few run a real subprocess to
check the exit status and the absence of a traceback end to end.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # before anything imports matplotlib

import csv
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import genlab
from genlab.cli.app import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIT_FILES = ("png", "svg", "csv", "json")
RMSE_RE = r"training RMSE ([0-9.eE+-]+)"
VAL_RMSE_RE = r"validation RMSE ([0-9.eE+-]+)"


def run(capsys, *args):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    rc = main([str(a) for a in args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def run_subprocess(cwd, *args, timeout=120):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "genlab.cli.app", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def tree(root: Path) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


def read_csv_rows(path: Path):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def assert_valid_svg(path: Path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), root.tag


def assert_png(path: Path):
    assert path.read_bytes()[:8] == PNG_MAGIC


# -- version -------------------------------------------------------------------

def test_version(capsys):
    rc, out, err = run(capsys, "--version")
    assert rc == 0
    assert out.strip() == f"genlab {genlab.__version__}"
    assert err == ""


# -- fit: human output -------------------------------------------------------------

def test_fit_prints_training_rmse_only(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "fit", "--out", tmp_path / "o")
    assert rc == 0, err
    m = re.search(RMSE_RE, out)
    assert m, out
    assert "validation RMSE" not in out
    record = json.loads((tmp_path / "o" / "fit_degree2.json").read_text())
    assert float(m[1]) == pytest.approx(record["train_rmse"], rel=1e-3)
    # the default target is a quadratic with noise 0.1: a quadratic fit's RMSE is about the noise
    assert 0.03 < record["train_rmse"] < 0.2
    assert "val_rmse" not in record


def test_fit_n_val_prints_validation_rmse(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "o"
    rc, out, err = run(capsys, "fit", "--n-val", 100, "--out", out_dir)
    assert rc == 0, err
    assert re.search(RMSE_RE, out), out
    m = re.search(VAL_RMSE_RE, out)
    assert m, out
    record = json.loads((out_dir / "fit_degree2_n-val=100.json").read_text())
    assert record["n_train"] == 30 and record["n_val"] == 100
    assert float(m[1]) == pytest.approx(record["val_rmse"], rel=1e-3)
    _, rows = read_csv_rows(out_dir / "fit_degree2_n-val=100.csv")
    assert sum(r["split"] == "train" for r in rows) == 30
    assert sum(r["split"] == "validation" for r in rows) == 100


def test_fit_n_val_prints_validation_rmse(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "o"
    rc, out, err = run(capsys, "fit", "--n", 21, "--n-val", 9, "--out", out_dir)
    assert rc == 0, err
    assert re.search(RMSE_RE, out), out
    assert re.search(VAL_RMSE_RE, out), out
    record = json.loads((out_dir / "fit_degree2_n=21_n-val=9.json").read_text())
    assert record["n_train"] == 21 and record["n_val"] == 9  # --n trains, --n-val validates
    assert record["val_rmse"] is not None
    # a fraction of the rows is for a CSV; on the source --n is the training points
    rc, _, err = run(capsys, "fit", "--val-fraction", 0.3, "--out", tmp_path / "o2")
    assert rc == 2 and "--n-val" in err and not (tmp_path / "o2").exists()


def test_fit_csv_with_named_columns(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    xs = [i / 19 for i in range(20)]
    lines = ["id,inp,outp"] + [f"{i},{x!r},{3 * x * x - x + 0.5!r}" for i, x in enumerate(xs)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    out_dir = tmp_path / "o"
    rc, out, err = run(capsys, "fit", "--csv", "data.csv", "--x-col", "inp", "--y-col", "outp",
                       "--degree", 2, "--json", "--out", out_dir)
    assert rc == 0, err
    record = json.loads(out)
    assert record["n_train"] == 20
    assert record["train_rmse"] < 1e-8  # exact quadratic data
    assert "source" not in record  # fitted the CSV, not the synthetic source
    header, rows = read_csv_rows(out_dir / "fit_degree2_csv=data.csv_x-col=inp_y-col=outp.csv")
    assert [float(r["x"]) for r in rows] == pytest.approx(xs)


def test_fit_out_writes_png_svg_csv_json(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "results"
    rc, out, err = run(capsys, "fit", "--degree", 3, "--json", "--out", out_dir)
    assert rc == 0, err
    printed = json.loads(out)
    stem = out_dir / "fit_degree3"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"fit_degree3.{ext}" for ext in FIT_FILES)
    assert_png(stem.with_suffix(".png"))
    assert_valid_svg(stem.with_suffix(".svg"))
    saved = json.loads(stem.with_suffix(".json").read_text())
    assert saved["train_rmse"] == printed["train_rmse"]
    assert saved == printed
    header, rows = read_csv_rows(stem.with_suffix(".csv"))
    assert header == ["x", "y", "prediction", "split"]
    assert len(rows) == 30 and {r["split"] for r in rows} == {"train"}
    for r in rows:
        float(r["x"]), float(r["y"]), float(r["prediction"])
    # the CSV's predictions reproduce the training RMSE that was printed
    sq = [(float(r["y"]) - float(r["prediction"])) ** 2 for r in rows]
    assert (sum(sq) / len(sq)) ** 0.5 == pytest.approx(printed["train_rmse"], rel=1e-6)


def test_fit_default_out_is_in_cwd(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "fit", "--degree", 1)
    assert rc == 0, err
    assert (tmp_path / "genlab-out" / "fit_degree1.png").is_file()


# -- --json and determinism ---------------------------------------------------------

def test_fit_json_stdout_is_one_document_and_human_lines_go_to_stderr(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "fit", "--degree", 5, "--seed", 3, "--json", "--out", tmp_path / "o")
    assert rc == 0, err
    record = json.loads(out)  # exactly one document: extra data would raise
    assert record["command"] == "fit" and record["seed"] == 3 and record["n_params"] == 6
    assert "wrote" in err and "wrote" not in out
    assert "training RMSE" not in out


def test_fit_json_is_deterministic_and_depends_on_seed(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    args = ("fit", "--degree", 5, "--json")
    rc1, out1, _ = run(capsys, *args, "--seed", 3, "--out", tmp_path / "a")
    rc2, out2, _ = run(capsys, *args, "--seed", 3, "--out", tmp_path / "b")
    rc3, out3, _ = run(capsys, *args, "--seed", 4, "--out", tmp_path / "c")
    assert rc1 == rc2 == rc3 == 0
    assert out1 == out2
    for name in ("fit_degree5_seed=3.json", "fit_degree5_seed=3.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert out3 != out1
    assert json.loads(out3)["train_rmse"] != json.loads(out1)["train_rmse"]


def test_curve_json_is_deterministic_and_depends_on_seed(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    args = ("curve", "capacity", "--degrees", "0-8", "--repeats", 20, "--json")
    rc1, out1, err1 = run(capsys, *args, "--out", tmp_path / "a")
    rc2, out2, _ = run(capsys, *args, "--out", tmp_path / "b")
    rc3, out3, _ = run(capsys, *args, "--seed", 1, "--out", tmp_path / "c")
    assert rc1 == rc2 == rc3 == 0
    json.loads(out1)
    assert "wrote" in err1 and "wrote" not in out1
    assert out1 == out2
    assert out3 != out1
    # the saved results are the document printed on stdout
    assert (tmp_path / "a" / "curve_capacity_degrees=0-8_repeats=20.json").read_text() == out1


# -- curve capacity -------------------------------------------------------------------

@pytest.mark.parametrize("method_args", [("--method", "holdout"), ("--method", "kfold", "--folds", 5)],
                         ids=["holdout", "kfold"])
def test_curve_capacity_shape(capsys, monkeypatch, tmp_path, method_args):
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "o"
    rc, out, err = run(capsys, "curve", "capacity", "--degrees", "0-10", "--repeats", 30, *method_args,
                       "--seed", 0, "--json", "--out", out_dir)
    assert rc == 0, err
    d = json.loads(out)
    assert d["command"] == "curve capacity"
    assert d["method"] == method_args[1]
    assert d["n_repeats"] == 30
    if method_args[1] == "kfold":
        assert d["config"]["folds"] == 5
        assert d["n_train"] == 24
    else:
        assert d["n_train"] == 20
    recs = d["by_degree"]
    assert [r["degree"] for r in recs] == list(range(11))  # one record per degree
    train = [r["train_median"] for r in recs]
    val = [r["val_median"] for r in recs]
    # nested least-squares fits: training error never rises with the degree
    assert all(b <= a * (1 + 1e-9) for a, b in zip(train, train[1:])), train
    assert train[10] < train[0]
    # validation is U-shaped with its minimum near the true degree (2)
    assert val[2] < val[0] and val[2] < val[10]
    assert 2 <= d["best_degree"] <= 4
    assert d["best_degree"] == min(range(11), key=lambda k: val[k])
    # the file names: the command and the options changed from their defaults (--method holdout and
    # --seed 0 are the defaults)
    stem = "curve_capacity_degrees=0-10" + ("_method=kfold" if method_args[1] == "kfold" else "") + "_repeats=30"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{stem}.{ext}" for ext in ("png", "svg", "csv", "json"))
    assert_png(out_dir / f"{stem}.png")
    assert_valid_svg(out_dir / f"{stem}.svg")
    header, rows = read_csv_rows(out_dir / f"{stem}.csv")
    assert len(rows) == 11 and "degree" in header and "val_median" in header


def test_curve_capacity_human_output(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "curve", "capacity", "--degrees", "0-6", "--repeats", 10, "--out", tmp_path / "o")
    assert rc == 0, err
    m = re.search(r"best degree \(median validation RMSE\): (\d+)", out)
    assert m, out
    saved = json.loads((tmp_path / "o" / "curve_capacity_degrees=0-6_repeats=10.json").read_text())
    assert int(m[1]) == saved["best_degree"]
    assert "wrote" in out


# -- article ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def article_runs(tmp_path_factory):
    """`genlab article --quick` of §2-§3 run twice, into two folders (all sections: test_article.py)."""
    dirs = [tmp_path_factory.mktemp("article") / "report" for _ in range(2)]
    for d in dirs:
        assert main(["article", "--quick", "--only", "overfitting,biasvar", "--out", str(d)]) == 0
    return dirs


def test_article_writes_index_html(article_runs):
    html = (article_runs[0] / "index.html").read_text(encoding="utf-8")
    for i in range(1, 6):
        assert f"Fig. {i}" in html
    assert "<svg" in html
    assert html.count("<svg") >= 5  # every figure inlined


def test_article_writes_results_json(article_runs):
    results = json.loads((article_runs[0] / "results.json").read_text(encoding="utf-8"))
    numbers = results["sections"]["overfitting"]["numbers"]
    assert {"line", "wrong_line", "quadratic", "degree30"} <= set(numbers)
    for key in ("line", "wrong_line", "quadratic", "degree30"):
        assert isinstance(numbers[key]["value"], float)
    assert results["meta"]["quick"] is True


def test_article_writes_figures_and_data(article_runs):
    root = article_runs[0]
    for i in range(1, 6):
        assert_png(root / "figures" / f"fig{i}.png")
        assert_valid_svg(root / "figures" / f"fig{i}.svg")
        header, rows = read_csv_rows(root / "data" / f"fig{i}.csv")
        assert header and rows


def test_article_is_reproducible(article_runs):
    a, b = article_runs
    assert (a / "results.json").read_bytes() == (b / "results.json").read_bytes()


# -- bad input ----------------------------------------------------------------------

CSV_FILES = {
    "good.csv": "t,v\n0,1\n0.5,1.5\n1,3\n",
    "nan.csv": "t,v\n0,1\n0.5,nan\n1,3\n",
    "text.csv": "t,v\n0,1\nabc,1.5\n1,3\n",
    "empty.csv": "t,v\n",
    "inf.csv": "t,v\n0,1\n0.5,inf\n1,3\n",
}

BAD_INPUTS = {
    "negative degree": ["fit", "--degree", "-1"],
    "fractional degree": ["fit", "--degree", "2.5"],
    "zero n": ["fit", "--n", "0"],
    "negative noise": ["fit", "--noise", "-0.1"],
    "malformed target": ["fit", "--target", "2*x**"],
    "code injection target": ["fit", "--target", "__import__('os').system('echo hi')"],
    "unknown basis": ["fit", "--basis", "foo"],
    "unknown solver": ["fit", "--solver", "foo"],
    "lasso without alpha": ["fit", "--solver", "lasso"],
    "negative alpha": ["fit", "--alpha", "-1", "--solver", "ridge"],
    "unknown option": ["fit", "--bogus-option"],
    "missing csv": ["fit", "--csv", "missing.csv"],
    "csv missing column": ["fit", "--csv", "good.csv", "--x-col", "t", "--y-col", "z"],
    "csv nan": ["fit", "--csv", "nan.csv", "--x-col", "t", "--y-col", "v"],
    "csv text": ["fit", "--csv", "text.csv", "--x-col", "t", "--y-col", "v"],
    "csv header only": ["fit", "--csv", "empty.csv", "--x-col", "t", "--y-col", "v"],
    "empty degree range": ["curve", "capacity", "--degrees", "5-1"],
    "malformed degrees": ["curve", "capacity", "--degrees", "abc"],
    "unknown method": ["curve", "capacity", "--method", "loo"],
    "zero repeats": ["curve", "capacity", "--repeats", "0"],
    "unknown language": ["article", "--lang", "xx"],
    "unknown section": ["article", "--only", "overfitting,appendix"],
    "negative seed": ["fit", "--seed", "-1"],
    "csv inf": ["fit", "--csv", "inf.csv", "--x-col", "t", "--y-col", "v"],
    "negative alpha": ["biasvar", "--alpha", "-1"],
    "alpha without a penalized solver": ["biasvar", "--alpha", "0.5"],
}

# what the one error line must mention
MESSAGE_MUST_NAME = {
    "csv missing column": "'z'",
    "csv nan": "'v'",   # the NaN is in the y column
    "csv text": "'t'",  # the text is in the x column
    "missing csv": "missing.csv",
    "unknown option": "--bogus-option",
    "csv inf": "data row 2: inf is not a finite number",
    "alpha without a penalized solver": "solver 'ridge'",
}


def assert_one_error_line(rc, out, err):
    assert rc == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("genlab: error:"), err
    assert out == ""


@pytest.mark.parametrize("args", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_writes_nothing(capfd, monkeypatch, tmp_path, args):
    for name, text in CSV_FILES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    out_dir = tmp_path / "out"
    rc, out, err = run(capfd, *args, "--out", out_dir)  # capfd: also catches a shell's `echo hi`
    assert_one_error_line(rc, out, err)
    assert not out_dir.exists() or not any(out_dir.iterdir())
    assert tree(tmp_path) == before  # nothing written anywhere (no default genlab-out either)
    case = next(k for k, v in BAD_INPUTS.items() if v == args)
    if case in MESSAGE_MUST_NAME:
        assert MESSAGE_MUST_NAME[case] in err, err


# -- an output folder that cannot be used ---------------------------------------------

@pytest.mark.parametrize("command", [["fit", "--degree", "2"], ["biasvar", "--datasets", "40"],
                                     ["double-descent", "--kind", "samples"], ["lottery"],
                                     ["scaling", "plan", "--flops", "1e15"], ["article", "--quick"]])
@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_out_that_is_not_a_folder_is_refused_before_any_work(capfd, monkeypatch, tmp_path, command, where):
    monkeypatch.chdir(tmp_path)
    Path("taken").write_text("mine")
    out = "taken" if where == "a file" else "taken/sub"
    before = tree(tmp_path)
    rc, stdout, err = run(capfd, *command, "--out", out)
    assert_one_error_line(rc, stdout, err)
    assert "--out taken" in err and ("is a file" in err)
    assert tree(tmp_path) == before and Path("taken").read_text() == "mine"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_path_the_system_refuses_is_one_error_line(capfd, tmp_path):
    rc, out, err = run(capfd, "fit", "--degree", "2", "--out", "/proc/genlab-out")
    assert_one_error_line(rc, out, err)
    assert "/proc/genlab-out" in err


# -- ill-conditioning warning -------------------------------------------------------

def test_degree_30_warns_once_and_succeeds(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "fit", "--degree", 30, "--out", tmp_path / "o")
    assert rc == 0, err
    warn = [line for line in err.splitlines() if line.startswith("genlab: warning:")]
    assert len(warn) == 1, err
    assert "ill-conditioned" in warn[0]
    assert err.splitlines() == warn  # nothing else on stderr: no file:line, no source line
    assert "Traceback" not in err
    assert re.search(RMSE_RE, out)
    assert (tmp_path / "o" / "fit_degree30.png").is_file()


# -- end to end, in a real process ------------------------------------------------------

@pytest.mark.parametrize("case", ["fractional degree", "code injection target", "csv nan", "unknown option"])
def test_subprocess_bad_input(tmp_path, case):
    for name, text in CSV_FILES.items():
        (tmp_path / name).write_text(text)
    before = tree(tmp_path)
    proc = run_subprocess(tmp_path, *BAD_INPUTS[case], "--out", tmp_path / "out")
    assert_one_error_line(proc.returncode, proc.stdout, proc.stderr)
    assert "hi" not in proc.stdout.split()  # the injected shell command never ran
    assert tree(tmp_path) == before
    if case in MESSAGE_MUST_NAME:
        assert MESSAGE_MUST_NAME[case] in proc.stderr


def test_subprocess_good_case(tmp_path):
    out_dir = tmp_path / "o"
    proc = run_subprocess(tmp_path, "fit", "--degree", 30, "--json", "--out", out_dir)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    record = json.loads(proc.stdout)
    assert record["n_params"] == 31
    err_lines = proc.stderr.splitlines()
    warn = [line for line in err_lines if line.startswith("genlab: warning:")]
    assert len(warn) == 1 and "ill-conditioned" in warn[0], proc.stderr
    assert len(err_lines) == 2 and err_lines[1].startswith("wrote "), proc.stderr
    assert json.loads((out_dir / "fit_degree30.json").read_text()) == record


def test_console_script_version(tmp_path):
    script = Path(sys.executable).with_name("genlab")
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    proc = subprocess.run([str(script), "--version"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"genlab {genlab.__version__}"
