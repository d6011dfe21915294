"""Writing results without half-written files: everything goes to a temporary
name in the target folder and is renamed into place once complete."""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
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


def write_csv(path, frame) -> Path:
    return atomic_write_text(path, frame.to_csv(index=False, float_format="%.10g", lineterminator="\n"))


def save_figure(fig, directory, stem: str, formats=("png", "svg")) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` and ``stem.svg`` (no timestamps inside)."""
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        meta = {"Date": None} if fmt == "svg" else {"Software": None}
        kwargs = {"dpi": 150} if fmt == "png" else {}
        fig.savefig(buf, format=fmt, metadata=meta, bbox_inches="tight", **kwargs)
        paths.append(atomic_write_bytes(Path(directory) / f"{stem}.{fmt}", buf.getvalue()))
    return paths
