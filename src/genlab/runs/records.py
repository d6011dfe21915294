"""What a job record is, apart from the SQLite file that keeps it.

* a config's canonical JSON text and its hash, which with the sweep seed name a
  job (:func:`canonical_json`, :func:`config_hash`, :func:`check_sweep_seed`);
* plain Python scalars from NumPy's (:func:`python_scalar`), shared by configs
  and by the metrics a job returns;
* the cells of a stored job read back, each checked (:func:`read_record`,
  :func:`parse_cell`, :func:`array_layout`): a damaged cell is named, never
  trusted;
* records as pandas frames (:func:`records_frame`, :func:`series_frame`) and
  the one line of a traceback shown for a failure (:func:`last_line`).
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from ..core.errors import GenlabError

#: Hex digits of a config's SHA-256 kept as its hash.
HASH_CHARS = 16
#: The largest sweep seed: SQLite integers are signed 64-bit.
MAX_SEED = 2**63 - 1


# --------------------------------------------------------------------------- configs and seeds

def python_scalar(value):
    """``value`` as a plain Python scalar: None, bool, str, int or float (NumPy's and 0-d arrays too).

    Raises
    ------
    TypeError
        If ``value`` is none of these; the message is the name of its type.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    raise TypeError(type(value).__name__)


def _canonical(obj, where: str):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise GenlabError(f"config key {k!r} at {where} is not a string; configs are JSON objects")
            out[k] = _canonical(v, f"{where}.{k}")
        return out
    if isinstance(obj, (list, tuple)):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return _canonical(obj.tolist(), where)
    try:
        value = python_scalar(obj)
    except TypeError as exc:
        raise GenlabError(f"config value at {where} is a {exc}; "
                          "configs take str, int, float, bool, None, lists and dicts") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise GenlabError(f"config value at {where} is {value}; configs take finite numbers only")
    return value


def canonical_json(config: dict) -> str:
    """The canonical JSON text of a config: sorted keys, compact separators, floats as ``repr``.

    ``1`` and ``1.0`` are different configs (an int and a float); tuples and
    NumPy values are written as the lists and numbers they hold.

    Raises
    ------
    GenlabError
        If the config is not a dict of JSON values (str keys, finite numbers).
    """
    if not isinstance(config, dict):
        raise GenlabError(f"a config must be a dict, got {type(config).__name__}")
    return json.dumps(_canonical(config, "config"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def config_hash(config_json: str) -> str:
    """The first 16 hex digits of the SHA-256 of a canonical config JSON."""
    return hashlib.sha256(config_json.encode("utf-8")).hexdigest()[:HASH_CHARS]


def check_sweep_seed(seed) -> int:
    """``seed`` as an int, if it is an integer in ``[0, 2**63 - 1]`` (what a store can keep).

    Raises
    ------
    GenlabError
        Otherwise (bools are refused too).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise GenlabError(f"seed must be an integer between 0 and 2**63 - 1, got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------- stored cells read back

def parse_cell(text, column: str):
    """A JSON cell of the jobs table: ``(value, None)``, or ``(None, why it cannot be read back)``.

    Parameters
    ----------
    text : str or None
        The cell as stored.
    column : {"config", "metrics", "series"}
        Its column: a config may not be empty, metrics are scalars, series lists.
    """
    if text is None:
        return None, (None if column != "config" else "empty")
    try:
        value = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    if column == "metrics" and not all(v is None or isinstance(v, (bool, int, float, str)) for v in value.values()):
        return None, "holding a metric that is not a number or a string"
    if column == "series" and not all(isinstance(v, list) for v in value.values()):
        return None, "holding a series that is not a list"
    return value, None


def read_record(row) -> dict:
    """A job row as a dict, JSON cells parsed; a cell that cannot be read back is None, and the
    record then has ``damaged`` saying which and why."""
    rec = dict(row)
    problems = []
    for column in ("config", "metrics", "series"):
        rec[column], problem = parse_cell(rec[column], column)
        if problem is not None:
            problems.append(f"its {column} is {problem}")
    if problems:
        rec["damaged"] = "; ".join(problems)
    return rec


def array_layout(dtype: str, shape: str, nbytes: int):
    """The numpy dtype and shape of a stored array, checked against its size in bytes.

    Raises
    ------
    ValueError
        If the dtype is not numeric, the shape not a list of sizes, or the
        bytes do not fill that shape exactly.
    """
    try:
        dt = np.dtype(dtype)
        dims = json.loads(shape)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dtype {dtype!r}, shape {shape!r}: {exc}") from None
    if dt.kind not in "biuf" or not isinstance(dims, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ValueError(f"dtype {dtype!r}, shape {shape!r}")
    if math.prod(dims) * dt.itemsize != nbytes:
        raise ValueError(f"{nbytes} bytes for shape {dims} of {dt}")
    return dt, dims


# --------------------------------------------------------------------------- frames and lines

def _flatten(prefix: str, value, out: dict):
    if isinstance(value, dict):  # an empty dict adds no column
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = value


def records_frame(records):
    """A DataFrame of job records (as :meth:`Store.jobs <genlab.runs.store.Store.jobs>` returns), one
    row per job, series left out."""
    import pandas as pd

    head = ["id", "kind", "status", "seed", "config_hash"]
    tail = ["duration_s", "started_at", "finished_at", "attempts", "host", "genlab_version", "git_rev", "error"]
    rows, conf, mets = [], set(), set()
    for rec in records:
        row = {k: rec[k] for k in head + tail}
        row["error"] = last_line(rec["error"])
        flat: dict = {}
        _flatten("config", rec["config"] or {}, flat)
        conf.update(flat)
        row.update(flat)
        flat = {}
        _flatten("metrics", rec["metrics"] or {}, flat)
        mets.update(flat)
        row.update(flat)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=head + sorted(conf) + sorted(mets) + tail)
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col].astype("float64"), unit="s", utc=True)
    return frame


def series_frame(records, name: str | None = None):
    """The series of job records (as :meth:`Store.jobs <genlab.runs.store.Store.jobs>` returns) in
    long form: id, name, step, value."""
    import pandas as pd

    parts = []
    for rec in records:
        for key, values in (rec["series"] or {}).items():
            if name is None or key == name:
                parts.append(pd.DataFrame({"id": rec["id"], "name": key, "step": np.arange(len(values)),
                                           "value": np.asarray(values, dtype=np.float64)}))
    if not parts:
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "name": pd.Series(dtype="object"),
                             "step": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
    return pd.concat(parts, ignore_index=True)


def last_line(text: str | None) -> str | None:
    """The last non-empty line of a traceback (``ValueError: ...``), or None."""
    if not text:
        return None
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else None
