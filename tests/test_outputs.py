"""Output sets are complete or absent; OS errors while writing are one line naming the file.

Full disks are faked in-process (a write raising ENOSPC) and, where user and
mount namespaces allow it, made real: a tiny tmpfs mounted in a private
namespace (nothing outside the test sees it), and ``/dev/full`` as stdout.
"""

import builtins
import errno
import json
import os
import re
import shutil
import subprocess
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import genlab.core.io as gio
from genlab import GenlabError
from genlab.cli.app import main
from genlab.core.io import OutputError, OutputSet, atomic_write_bytes

FIT = ["fit_degree2.csv", "fit_degree2.json", "fit_degree2.png", "fit_degree2.svg"]


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def names(folder):
    """Every entry under ``folder``, hidden ones included, as sorted relative paths."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def small_figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    return fig


def full_disk_on(monkeypatch, suffix):
    """Make genlab.core.io's writes of files ending in ``suffix`` fail as on a full disk (ENOSPC)."""

    class Full:
        def __init__(self, fh):
            self._fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

        def write(self, data):
            self._fh.write(data[:10])  # a part goes through, as on a real disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fake_open(path, mode="r", *args, **kwargs):
        fh = builtins.open(path, mode, *args, **kwargs)
        return Full(fh) if "w" in mode and str(path).endswith(suffix) else fh

    monkeypatch.setattr(gio, "open", fake_open, raising=False)


# -- the set, in-process -----------------------------------------------------------------------

def test_a_set_moves_in_whole_with_its_json_last(tmp_path, monkeypatch):
    order = []
    real_replace = os.replace
    monkeypatch.setattr(gio.os, "replace", lambda a, b: (order.append(os.path.basename(str(b))), real_replace(a, b)))
    fig = small_figure()
    with OutputSet(tmp_path / "out") as files:
        files.add_figure(fig, "f")
        files.add_csv("f.csv", pd.DataFrame({"x": [1.0]}))
        files.add_csv("sub/g.csv", pd.DataFrame({"y": [2]}))
        files.add_json("f.json", {"a": 1})
        assert names(tmp_path / "out") == [files.staging.name] + [f"{files.staging.name}/{n}" for n in
                                                                   ("f.csv", "f.json", "f.png", "f.svg", "sub",
                                                                    "sub/g.csv")]
    plt.close(fig)
    assert order == ["f.png", "f.svg", "f.csv", "g.csv", "f.json"]
    assert names(tmp_path / "out") == ["f.csv", "f.json", "f.png", "f.svg", "sub", "sub/g.csv"]
    assert files.paths[-1] == tmp_path / "out" / "f.json" and json.loads(files.paths[-1].read_text()) == {"a": 1}
    assert oct(files.paths[0].stat().st_mode & 0o777) == oct(0o666 & ~gio._UMASK)


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_failure_while_staging_leaves_the_old_set_and_nothing_new(tmp_path, failure):
    out = tmp_path / "out"
    with OutputSet(out) as files:
        files.add_text("r.csv", "old\n")
        files.add_text("r.json", "{}\n")
    before = {p: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(type(failure)):
        with OutputSet(out) as files:
            files.add_text("r.csv", "new\n")
            files.add_text("new.png", "png")
            raise failure
    assert {p: p.read_bytes() for p in out.iterdir()} == before  # no staging folder left either


def test_a_failure_while_moving_in_removes_the_new_files_and_the_old_mark(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with OutputSet(out) as files:
        for name in ("r.png", "r.csv", "r.json"):
            files.add_text(name, "old")
    real_replace = os.replace

    def replace(a, b):
        if str(b).endswith("r.csv"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(a, b)

    monkeypatch.setattr(gio.os, "replace", replace)
    with pytest.raises(OutputError, match="no space left on device writing .*r.csv"):
        with OutputSet(out) as files:
            for name in ("r.png", "r.csv", "r.json"):
                files.add_text(name, "new")
    # r.png of the new set went in and was taken out again; the old set lost its mark (r.json)
    assert names(out) == ["r.csv"] and (out / "r.csv").read_text() == "old"


def test_output_names_stay_inside_the_folder(tmp_path):
    files = OutputSet(tmp_path)
    for bad in ("../x", "/etc/x", ""):
        with pytest.raises(ValueError):
            files.add(bad, b"")
    files.add("a", b"1")
    with pytest.raises(ValueError, match="twice"):
        files.add("a", b"2")
    files.discard()
    assert names(tmp_path) == []


# -- ENOSPC and other OS errors ----------------------------------------------------------------

def test_enospc_in_a_single_atomic_write_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "x.json"
    target.write_text("old")
    real_fdopen = os.fdopen

    def fdopen(fd, mode="r", *a, **k):
        fh = real_fdopen(fd, mode, *a, **k)
        fh.write = lambda data: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device"))
        return fh

    monkeypatch.setattr(gio.os, "fdopen", fdopen)
    with pytest.raises(OutputError) as exc:
        atomic_write_bytes(target, b"new")
    assert str(exc.value) == f"no space left on device writing {target}; free some space or write elsewhere"
    assert isinstance(exc.value, GenlabError) and isinstance(exc.value, OSError)
    assert exc.value.errno == errno.ENOSPC and exc.value.filename == str(target)
    assert names(tmp_path) == ["x.json"] and target.read_text() == "old"


def test_fit_on_a_full_disk_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    full_disk_on(monkeypatch, ".csv")
    rc, out, err = run(capsys, "fit", "--out", tmp_path / "o")
    assert rc == 2 and out == ""
    assert err == (f"genlab: error: no space left on device writing {tmp_path / 'o' / 'fit_degree2.csv'}; "
                   "free some space or write elsewhere\n")
    assert names(tmp_path / "o") == []
    monkeypatch.undo()
    rc, out, err = run(capsys, "fit", "--out", tmp_path / "o")
    assert rc == 0 and names(tmp_path / "o") == FIT


def test_a_read_only_output_folder_is_one_line(tmp_path, capsys, monkeypatch):
    def refuse(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(gio.tempfile, "mkdtemp", refuse)  # as a folder we may not write in (root may anyway)
    rc, out, err = run(capsys, "fit", "--out", tmp_path)
    assert rc == 2 and err == f"genlab: error: permission denied writing {tmp_path}\n"


def test_lottery_writes_its_extra_table_in_the_same_set(tmp_path, monkeypatch):
    """`lottery` writes lottery_sizes.csv with its figure: a failure there leaves no part of the set."""
    import genlab.cli._common as cli

    full_disk_on(monkeypatch, "_sizes.csv")
    fig = small_figure()
    with pytest.raises(OutputError, match="lottery_sizes.csv"):
        cli.emit(tmp_path, "lottery", fig, pd.DataFrame({"a": [1]}), {"x": 1}, False,
                  tables={"sizes": pd.DataFrame({"b": [2]})})
    assert names(tmp_path) == []


def test_report_is_written_as_a_set_with_index_last(tmp_path, monkeypatch):
    from genlab.article.report import Figure, Report, Section
    from genlab.article.report.write import write_report

    def report():
        return Report("T", "", [Section("s", "S", [], [Figure("f1", "F", "c", small_figure(),
                                                             pd.DataFrame({"x": [0]}))], [], {})], meta={})

    full_disk_on(monkeypatch, "results.json")
    with pytest.raises(OutputError, match="results.json"):
        write_report(report(), tmp_path / "r")
    assert names(tmp_path / "r") == []
    monkeypatch.undo()
    index = write_report(report(), tmp_path / "r")
    assert "<svg" in index.read_text()  # the SVG inlined from the staged file
    assert names(tmp_path / "r") == ["data", "data/f1.csv", "figures", "figures/f1.png", "figures/f1.svg",
                                     "index.html", "results.json"]


# -- real full devices -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["runs", "ls", "--json"], ["runs", "ls"]])
def test_stdout_on_dev_full_is_one_line(tmp_path, args):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    from genlab.runs.store import Store

    with Store(tmp_path / "runs.sqlite") as st:
        st.add_jobs("genlab.runs.jobs:demo_job", 0, [{"x": i} for i in range(3)])
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "genlab.cli.app", *args, "--store", tmp_path / "runs.sqlite"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "genlab: error: no space left on device writing standard output; free some space or " \
                          "write elsewhere\n"


def _private_tmpfs_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=16k none /mnt"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(sys.platform != "linux" or not _private_tmpfs_works(),
                    reason="needs user and mount namespaces (unshare -rm) to mount a private tmpfs")
def test_fit_on_a_really_full_filesystem(tmp_path):
    """A 64 KiB tmpfs, mounted in a private mount namespace over an empty folder: the figure fills it."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = ('mount -t tmpfs -o size=64k none "$1" || exit 99; '
              '"$2" -m genlab.cli.app fit --degree 9 --n 300 --out "$1/out"; rc=$?; '
              'echo "rc=$rc"; find "$1" -mindepth 1 | sort')
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(mnt), sys.executable],
                          capture_output=True, text=True, timeout=120, env=env)
    lines = proc.stdout.split("\n")
    assert "rc=2" in lines, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith(f"genlab: error: no space left on device writing {mnt}/out/fit_degree9_n=300.")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert [ln for ln in lines[lines.index("rc=2") + 1:] if ln] == [f"{mnt}/out"]  # an empty folder, no part


# -- the names of a run's files: two runs into one folder keep both (issue 16) -----------------------------

def test_output_stem_names_the_command_the_models_and_is_safe_and_short():
    from genlab.cli._common import STEM_MAX, model_names, output_stem

    models = model_names(["sklearn.tree.DecisionTreeRegressor(max_depth=3)", "sklearn.linear_model.Ridge()",
                          "mypkg.models:MyRegressor(width=16)"])
    assert output_stem("curve validation", models, "max_depth=1-20") == \
        "curve_validation_DecisionTreeRegressor-max_depth=3+Ridge+MyRegressor-width=16_max_depth=1-20"
    assert output_stem("double-descent", "model", "relu", None, "") == "double_descent_model_relu"
    for hostile in ("../../etc/passwd", "a b'c\"d", "..", "x/y\\z:w*?<>|", "データ", "\x00\n\t"):
        stem = output_stem("fit", hostile)
        assert re.fullmatch(r"[A-Za-z0-9._+=,-]+", stem) and not stem.startswith("."), (hostile, stem)
        assert "/" not in stem and ".." not in stem.replace("...", "")
    assert output_stem("fit", "データ") != output_stem("fit", "テスト")      # non-ASCII names stay apart
    long1 = output_stem("biasvar", "Pipeline(" + "x" * 300 + "1)")
    long2 = output_stem("biasvar", "Pipeline(" + "x" * 300 + "2)")
    assert len(long1) == len(long2) == STEM_MAX and long1 != long2
    assert re.search(r"-[0-9a-f]{10}$", long1) and long1.startswith("biasvar_Pipeline-xxx")


def test_two_runs_into_one_folder_keep_both_and_the_same_run_replaces_its_own(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = [("fit", "--degree", 2), ("fit", "--degree", 2, "--basis", "monomial"), ("fit", "--degree", 2, "--seed", 1),
            ("biasvar", "--degrees", "0-3", "--datasets", 40),
            ("biasvar", "--estimator", "sklearn.linear_model.Ridge()", "--datasets", 40, "--jobs", 1),
            ("biasvar", "--estimator", "sklearn.linear_model.Ridge(alpha=2.0)", "--datasets", 40, "--jobs", 1)]
    written = []
    for args in runs:
        rc, out, err = run(capsys, *args, "--out", "o")
        assert rc == 0, err
        line = [ln for ln in out.splitlines() if ln.startswith("wrote ")][-1]
        files = line[len("wrote "):].split(", ")
        assert [f.rsplit(".", 1)[1] for f in files] == ["png", "svg", "csv", "json"]   # the line names them
        assert len({f.rsplit(".", 1)[0] for f in files}) == 1
        written.append(files)
    stems = [files[0].rsplit(".", 1)[0].split("/")[-1] for files in written]
    assert stems == ["fit_degree2", "fit_degree2_basis=monomial", "fit_degree2_seed=1",
                     "biasvar_polynomial_degrees=0-3_datasets=40", "biasvar_Ridge_datasets=40",
                     "biasvar_Ridge-alpha=2.0_datasets=40"]
    on_disk = set(names(tmp_path / "o"))
    assert on_disk == {f.split("/")[-1] for files in written for f in files} | {"runs.sqlite"}  # every run kept
    before = (tmp_path / "o" / "fit_degree2_seed=1.json").stat().st_ino
    rc, out, err = run(capsys, "fit", "--degree", 2, "--seed", 1, "--json", "--out", "o")     # the same run again
    assert rc == 0 and set(names(tmp_path / "o")) == on_disk
    assert (tmp_path / "o" / "fit_degree2_seed=1.json").stat().st_ino != before                 # replaced, as a set
    assert json.loads((tmp_path / "o" / "fit_degree2_seed=1.json").read_text()) == json.loads(out)
    assert json.loads(out)["seed"] == 1
