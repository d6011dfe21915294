"""Per-job random streams: a job's numbers depend on (seed, job key) only.

Each job draws from ``numpy.random.Generator(PCG64(SeedSequence(seed,
spawn_key=key)))``, so results are the same whatever the number of workers or
the order in which jobs run.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .errors import GenlabError


#: The largest seed: the results store keeps seeds as SQLite INTEGER (64-bit signed).
MAX_SEED = 2**63 - 1


def check_seed(seed) -> int:
    """``seed`` as an int, or a one-line :class:`GenlabError` unless it is an integer in [0, 2**63 - 1]."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise GenlabError(f"seed must be an integer between 0 and 2**63 - 1, got {seed!r}")
    return int(seed)


def _key_int(part) -> int:
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool) and part >= 0:
        return int(part)
    digest = hashlib.blake2b(repr(part).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def seed_sequence(seed: int, *key) -> np.random.SeedSequence:
    """The SeedSequence of job ``key`` (ints or strings) under ``seed``."""
    return np.random.SeedSequence(check_seed(seed), spawn_key=tuple(_key_int(k) for k in key))


def rng(seed: int, *key) -> np.random.Generator:
    """A Generator for job ``key`` under ``seed``: ``rng(0, "fit", 3)``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *key)))


def child(seed: np.random.SeedSequence, *key) -> np.random.SeedSequence:
    """The fixed child ``key`` of ``seed``: its spawn key extended by ``key``.

    Unlike ``SeedSequence.spawn``, which counts its calls, the same ``(seed, key)``
    gives the same child every time: ``child(ss, 0)``, ``child(ss, 1)``, …
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + tuple(_key_int(k) for k in key),
                                  pool_size=seed.pool_size)


def torch_seed(seed, *key) -> int:
    """A seed for ``torch.manual_seed`` (an int in [0, 2**63)) from a random stream.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        A sweep's seed (then the stream is :func:`seed_sequence` ``(seed, *key)``)
        or a job's own SeedSequence (then its :func:`child` ``key``, or itself
        when no key is given).
    *key
        Ints or strings naming the stream.

    Returns
    -------
    int
        The first 64-bit word of the stream's state, halved to fit torch's signed seed.
    """
    if isinstance(seed, np.random.SeedSequence):
        ss = child(seed, *key) if key else seed
    else:
        ss = seed_sequence(seed, *key)
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
