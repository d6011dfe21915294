"""Writing results without half-written files.

A single file goes to a temporary name in its folder and is renamed into place
once complete (:func:`atomic_write_bytes`). The files of one result (a
figure's PNG and SVG, its table, its JSON record) are written as a set
(:class:`OutputSet`): staged in a hidden folder beside them, then moved in
with the JSON record last as the mark that the set is complete; on any error
nothing of the new set remains. An operating-system error while writing (a
full disk, a read-only folder) is an :class:`OutputError` naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .errors import GenlabError

_UMASK = os.umask(0)
os.umask(_UMASK)


class OutputError(GenlabError, OSError):
    """An operating-system error while writing results, e.g. a full disk (ENOSPC).

    Both a :class:`~genlab.GenlabError` (the command prints its message on one
    line and exits with status 2) and an :class:`OSError` (``errno`` and
    ``filename`` are set); the message names the file being written.
    """

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _output_error(exc: OSError, path) -> OutputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = reason[:1].lower() + reason[1:]
    full = exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    hint = "; free some space or write elsewhere" if full else ""
    err = OutputError(f"{reason} writing {path}{hint}")
    err.errno, err.filename = exc.errno, str(path)
    return err


@contextlib.contextmanager
def _writing(path):
    """Turn an OSError into an :class:`OutputError` naming ``path``."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise _output_error(exc, path) from None


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` under a temporary name in its folder, renamed into place when complete.

    Raises
    ------
    OutputError
        On any OS error (a full disk, no permission), naming ``path``; the
        temporary file is removed and an existing ``path`` is left as it was.
    """
    path = Path(path)
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give what open() would
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def plain(obj, digits: int | None = None):
    """Numbers and containers as JSON-ready Python values (NaN/inf become null); floats rounded to
    ``digits`` significant digits when given (integral results become ints)."""
    if isinstance(obj, dict):
        return {str(k): plain(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, digits) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist(), digits)
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if not math.isfinite(v):
            return None
        if digits is None or v == 0:
            return v
        r = float(f"{v:.{digits}g}")
        return int(r) if r.is_integer() and abs(r) < 2**53 else r
    if isinstance(obj, Path):
        return str(obj)
    return obj


def to_json(obj) -> str:
    """Deterministic JSON: sorted keys, full float precision, no NaN."""
    return json.dumps(plain(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path, obj) -> Path:
    return atomic_write_text(path, to_json(obj))


def csv_text(frame) -> str:
    """A DataFrame, or a dict of equally long columns, as CSV text: no index, 10 significant digits,
    ``\\n`` line ends (a dict is written as pandas writes the same DataFrame, without importing it)."""
    if not isinstance(frame, dict):
        return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    import csv

    def cell(v):
        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        if isinstance(v, (float, np.floating)):
            return "" if v != v else "%.10g" % v
        return v

    columns = list(column_lists(frame).values())
    n = len(columns[0]) if columns else 0
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(frame))
    writer.writerows([cell(c[i]) for c in columns] for i in range(n))
    return buf.getvalue()


def column_lists(cols: dict) -> dict[str, list]:
    """Equally long columns (lists, arrays, or scalars broadcast to the length of the first) as lists."""
    n = len(next(iter(cols.values()))) if cols else 0
    return {k: v if isinstance(v, list) else np.broadcast_to(np.asarray(v), (n,)).tolist() for k, v in cols.items()}


def records(cols: dict) -> list[dict]:
    """Columns as one dict per row: ``DataFrame(cols).to_dict(orient="records")`` without pandas."""
    lists = column_lists(cols)
    n = len(next(iter(lists.values()))) if lists else 0
    return [{k: v[i] for k, v in lists.items()} for i in range(n)]


def write_csv(path, frame) -> Path:
    return atomic_write_text(path, csv_text(frame))


def figure_bytes(fig, fmt: str) -> bytes:
    """A matplotlib figure rendered as ``png`` (150 dpi) or ``svg``, without timestamps inside."""
    buf = io.BytesIO()
    meta = {"Date": None} if fmt == "svg" else {"Software": None}
    kwargs = {"dpi": 150} if fmt == "png" else {}
    fig.savefig(buf, format=fmt, metadata=meta, bbox_inches="tight", **kwargs)
    return buf.getvalue()


def save_figure(fig, directory, stem: str, formats=("png", "svg")) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` and ``stem.svg``, both or neither."""
    with OutputSet(directory) as files:
        files.add_figure(fig, stem, formats)
    return files.paths


def write_stdout(text: str) -> None:
    """Write ``text`` on stdout now; a full disk or a closed pipe is an :class:`OutputError`.

    On such an error whatever is still buffered is dropped (stdout then goes to
    ``/dev/null``), so that Python's own flush at exit does not fail a second time.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        with contextlib.suppress(Exception):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        raise _output_error(exc, "standard output") from None


class OutputSet:
    """Files that appear together or not at all: a figure's PNG and SVG, its CSV, its JSON record.

    Each file is written, as it is added, into a hidden staging folder
    (``.genlab-*.tmp``) inside ``directory``; :meth:`commit` then renames them
    into place in the order they were added, so the file added last (the JSON
    record) is the mark that the set is complete. The previous set's mark is
    removed before the first rename, so that an older set whose files are being
    replaced never looks complete. On any error, a full disk or Ctrl-C
    included, the staging folder and every file of the new set already moved
    in are removed.

    As a context manager it commits on success and discards on an exception.

    Parameters
    ----------
    directory : str or Path
        The output folder (created when missing).

    Attributes
    ----------
    paths : list of Path
        Where the files go (``directory / name``), in the order added.

    Raises
    ------
    OutputError
        On any OS error while writing, naming the file.

    Examples
    --------
    >>> with OutputSet(out) as files:                    # doctest: +SKIP
    ...     files.add_figure(fig, "fit")                 # fit.png, fit.svg
    ...     files.add_csv("fit.csv", frame)
    ...     files.add_json("fit.json", record)           # last: the completion mark
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.paths: list[Path] = []
        self._stage: Path | None = None

    @property
    def staging(self) -> Path:
        """The hidden folder holding the files added so far (under the names given)."""
        if self._stage is None:
            with _writing(self.directory):
                self.directory.mkdir(parents=True, exist_ok=True)
                self._stage = Path(tempfile.mkdtemp(prefix=".genlab-", suffix=".tmp", dir=self.directory))
        return self._stage

    def add(self, name: str, data: bytes) -> Path:
        """Stage ``data`` as ``directory/name`` (``name`` may hold subfolders); return that final path."""
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"an output name is a relative path inside the folder, got {name!r}")
        target = self.directory / rel
        if target in self.paths:
            raise ValueError(f"{name} was added twice to the output set")
        staged = self.staging / rel
        with _writing(target):
            staged.parent.mkdir(parents=True, exist_ok=True)
            with open(staged, "wb") as fh:
                fh.write(data)
        self.paths.append(target)
        return target

    def add_text(self, name: str, text: str) -> Path:
        return self.add(name, text.encode("utf-8"))

    def add_json(self, name: str, obj) -> Path:
        return self.add_text(name, to_json(obj))

    def add_csv(self, name: str, frame) -> Path:
        return self.add_text(name, csv_text(frame))

    def add_figure(self, fig, stem: str, formats=("png", "svg")) -> list[Path]:
        """Stage a matplotlib figure as ``stem.png`` and ``stem.svg`` (see :func:`figure_bytes`)."""
        return [self.add(f"{stem}.{fmt}", figure_bytes(fig, fmt)) for fmt in formats]

    def commit(self) -> list[Path]:
        """Move the staged files into place, the last one added last; return their paths."""
        moved = []
        try:
            if self.paths:
                with _writing(self.paths[-1]):
                    self.paths[-1].unlink(missing_ok=True)  # the old set is no longer complete
            for target in self.paths:
                with _writing(target):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(self.staging / target.relative_to(self.directory), target)
                moved.append(target)
        except BaseException:
            for path in moved:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        finally:
            self.discard()
        return list(self.paths)

    def discard(self) -> None:
        """Remove everything staged (files already committed stay)."""
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
            self._stage = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.discard()
        return False
