"""The data of the lab's §4.1 page: the bundled sets' sizes and a pasted or uploaded CSV, checked as
``load_csv`` checks a file and written once under the store's folder for the sweep's workers."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..common import size_text
from .double_descent_words import dd_words

#: Largest CSV the page reads (pasted or uploaded), in bytes, and its most rows.
UPLOAD_BYTES = 2**20
MAX_ROWS = 20_000


def _rows(name: str) -> tuple[int, int, str]:
    """(rows, inputs, task) of a bundled set."""
    from ...analysis.double_descent._common import dataset

    ds = dataset(name)
    return int(ds.n), int(ds.X.shape[1]), ds.task


def x_columns(text: str, y: str):
    """The input columns the text names (comma-separated), or None for every column but ``y``."""
    from ...data.sources import column_list

    return column_list(text if text.strip() else None, y)


def read_csv_text(v: dict, errors: dict, lang: str) -> dict | None:
    """The pasted CSV checked as ``load_csv`` checks a file: ``{rows, d, sha, x, y}``, or None with the reason
    under the field it concerns."""
    import io

    import pandas as pd

    from ...core.errors import GenlabError
    from ...data.sources import csv_column

    w = dd_words(lang)
    text = v["data_csv"]
    try:
        blob = text.encode("utf-8")
    except UnicodeError:
        errors["data_csv"] = w["csv_text"]
        return None
    if len(blob) > UPLOAD_BYTES:
        errors["data_csv"] = w["csv_big"].format(size=size_text(len(blob)), limit=size_text(UPLOAD_BYTES))
        return None
    if not text.strip():
        errors["data_csv"] = w["csv_missing"]
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True, nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError, OverflowError) as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        errors["data_csv"] = w["csv_bad"].format(why=why[:200])
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) > MAX_ROWS:
        errors["data_csv"] = w["csv_rows"].format(limit=MAX_ROWS)
        return None
    cols = ", ".join(repr(c)[:40] for c in frame.columns[:20])
    y = v["y_col"]
    if y not in frame.columns:
        errors["y_col"] = w["csv_col"].format(col=y[:60], cols=cols)
        return None
    try:
        xs = x_columns(v["x_cols"], y)
    except GenlabError as exc:
        errors["x_cols"] = str(exc)
        return None
    if xs is None:
        xs = tuple(c for c in frame.columns if c != y)
        if not xs:
            errors["y_col"] = w["csv_inputs"].format(col=y[:60])
            return None
    missing = [c for c in xs if c not in frame.columns]
    if missing:
        errors["x_cols"] = w["csv_col"].format(col=missing[0][:60], cols=cols)
        return None
    if len(frame) == 0:
        errors["data_csv"] = w["csv_missing"]
        return None
    try:
        for c in (*xs, y):
            csv_column(frame, c, "the data")
    except GenlabError as exc:
        errors["data_csv"] = str(exc)
        return None
    return {"rows": int(len(frame)), "d": len(xs), "sha": hashlib.sha256(blob).hexdigest(),
            "x": None if not v["x_cols"].strip() else xs, "y": y}


def csv_dataset(v: dict, store_path):
    """The pasted data as a :class:`~genlab.data.sources.Dataset` loaded from its file under the store's folder
    (``lab-data/<sha256>.csv``, written once): the sweep's workers load the same file."""
    import os

    from ...data.sources import load_csv

    info = v["_csv"]
    folder = Path(store_path).parent / "lab-data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{info['sha'][:32]}.csv"
    if not path.exists():
        tmp = folder / f".{info['sha'][:32]}.{os.getpid()}.tmp"
        tmp.write_bytes(v["data_csv"].encode("utf-8"))
        os.replace(tmp, path)
    return load_csv(path, x=info["x"], y=info["y"])
