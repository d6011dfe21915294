"""Text corpora for language-model runs, without downloads: token arrays split into train and validation.

Three sources, each a :class:`Corpus` (character- or byte-level tokens, the
validation set the contiguous tail of the text, so no window of it was seen
in training):

* :func:`python_corpus` — the text bundled with Python itself: the help
  topics of ``pydoc_data.topics`` (about 465 000 characters of English prose
  with code, the same on every install of one Python version), optionally
  followed by the sources of a fixed list of standard-library modules;
* :func:`text_corpus` — any UTF-8 text file of the user's;
* :func:`markov_corpus` — a sample of a random order-k Markov chain over a
  small alphabet (:class:`MarkovChain`), whose entropy rate is known exactly:
  H = −Σ_c π_c Σ_j P_cj log P_cj nats per token, with π the stationary
  distribution over contexts. No model can do better than H on average, so
  the irreducible term E of a fitted scaling law can be checked against it.

:func:`load_corpus` turns a spec (``"python"``, ``"markov"``, a path, or the
dict of :meth:`Corpus.spec`) into a corpus, cached per process, so that a job
of a sweep carries only the spec in its config. Everything is deterministic
given the spec (the Markov chain and its sample are drawn from the seed).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.checks import check_fraction, check_int, check_positive
from ..core.errors import GenlabError
from ..core.seeding import check_seed, rng as make_rng

#: The shortest text a corpus accepts (characters or bytes): below it a run has nothing to learn from.
MIN_TOKENS = 2000
#: Standard-library modules whose sources ``python_corpus(sources=True)`` appends, in this order.
STDLIB_MODULES = ("argparse", "collections/__init__", "dataclasses", "functools", "inspect", "json/decoder",
                  "pathlib", "random", "statistics", "string", "textwrap", "typing")
LEVELS = ("char", "byte")
#: Corpus names accepted by :func:`load_corpus` besides a path.
NAMES = ("python", "markov")


@dataclass
class Corpus:
    """Tokens of a text, split into a training part and a held-out validation tail.

    Attributes
    ----------
    name : str
    train, val : ndarray of shape (n_train,), (n_val,), dtype int64
        Token ids in ``[0, vocab_size)``.
    vocab : list of str
        The character (or the byte, as ``"\\xNN"``) of each token id.
    entropy_rate : float or None
        Nats per token that no model can beat (known for a Markov corpus only).
    info : dict
        How it was made (source, sizes, hash of the text); its :meth:`spec` recreates it.
    """

    name: str
    train: np.ndarray
    val: np.ndarray
    vocab: list
    entropy_rate: float | None = None
    info: dict = field(default_factory=dict)
    chain: "MarkovChain | None" = field(default=None, repr=False)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def uniform_loss(self) -> float:
        """log(vocab_size): the loss of a model that knows nothing (nats per token)."""
        return math.log(self.vocab_size)

    def spec(self) -> dict:
        """A JSON-able dict that :func:`load_corpus` turns back into this corpus."""
        return dict(self.info["spec"])

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in np.asarray(ids).ravel())

    def unigram_entropy(self) -> float:
        """Entropy (nats) of the training set's token frequencies: the loss of the best
        context-free model, a reference between log(vocab) and the entropy rate."""
        p = np.bincount(self.train, minlength=self.vocab_size) / self.train.size
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    def to_dict(self) -> dict:
        return {"name": self.name, "vocab_size": self.vocab_size, "n_train": int(self.train.size),
                "n_val": int(self.val.size), "entropy_rate": self.entropy_rate,
                "uniform_loss": self.uniform_loss, "unigram_entropy": self.unigram_entropy(), **self.info}


def _split(name: str, ids: np.ndarray, vocab: list, val_fraction: float, info: dict,
           entropy_rate=None) -> Corpus:
    val_fraction = check_fraction(val_fraction, "val_fraction")
    n = ids.size
    n_val = int(round(n * val_fraction))
    if not 0 < n_val < n:
        raise GenlabError(f"val_fraction {val_fraction:g} leaves no validation or no training text "
                          f"({n} tokens); choose it in (0, 1), e.g. 0.1")
    ids = ids.astype(np.int64, copy=False)
    info = dict(info, n_tokens=int(n), val_fraction=val_fraction)
    return Corpus(name, ids[: n - n_val].copy(), ids[n - n_val:].copy(), vocab, entropy_rate, info)


def _tokenize(text: str, level: str) -> tuple[np.ndarray, list]:
    if level == "byte":
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        used = np.unique(raw)
        lookup = np.zeros(256, dtype=np.int64)
        lookup[used] = np.arange(used.size)
        vocab = [chr(b) if b < 128 else f"\\x{b:02x}" for b in used.tolist()]
        return lookup[raw], vocab
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text)), chars


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise GenlabError(f"unknown token level {level!r}; choose {' or '.join(LEVELS)}")
    return level


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


# --------------------------------------------------------------------------- Python's own text

def python_text(sources: bool = False) -> str:
    """The help topics of ``pydoc_data.topics`` (sorted by topic, blank line between), then, with
    ``sources``, the sources of :data:`STDLIB_MODULES`."""
    from pydoc_data.topics import topics

    parts = [topics[k].strip() for k in sorted(topics)]
    if sources:
        import sysconfig

        lib = Path(sysconfig.get_paths()["stdlib"])
        for mod in STDLIB_MODULES:
            path = lib / f"{mod}.py"
            if path.is_file():
                parts.append(path.read_text("utf-8"))
    return "\n\n".join(parts)


def python_corpus(*, sources: bool = False, level: str = "char", val_fraction: float = 0.1) -> Corpus:
    """Python's bundled documentation (and, with ``sources``, some standard-library sources) as a corpus.

    Parameters
    ----------
    sources : bool, default=False
        Append the sources of :data:`STDLIB_MODULES` (about 4x more text, more code).
    level : {"char", "byte"}
        One token per character (about 100 distinct) or per UTF-8 byte.
    val_fraction : float, default=0.1
        The held-out tail.
    """
    import sys

    text = python_text(sources)
    ids, vocab = _tokenize(text, _check_level(level))
    spec = {"kind": "python", "sources": bool(sources), "level": level, "val_fraction": float(val_fraction)}
    info = {"spec": spec, "source": "pydoc_data.topics" + (" + stdlib sources" if sources else ""),
            "python": ".".join(map(str, sys.version_info[:3])), "sha": _digest(text)}
    return _split("python", ids, vocab, val_fraction, info)


# --------------------------------------------------------------------------- a user's file

def read_text_file(path) -> str:
    """The text of a UTF-8 file, or a one-line error saying what to fix."""
    path = Path(path)
    if not path.exists():
        raise GenlabError(f"corpus file {str(path)!r} does not exist; give a UTF-8 text file, or python or markov")
    if not path.is_file():
        raise GenlabError(f"corpus {str(path)!r} is not a file; give a UTF-8 text file")
    from .sources import open_regular_file
    from ..core.limits import LIMITS

    with open_regular_file(path, "corpus file", int(LIMITS["corpus_bytes"].cap)) as fh:
        data = fh.read()
    if not data.strip():
        raise GenlabError(f"corpus file {str(path)!r} is empty; give a text file of at least {MIN_TOKENS} "
                          "characters")
    if b"\x00" in data[:65536]:
        raise GenlabError(f"corpus file {str(path)!r} looks binary (it has NUL bytes); give a UTF-8 text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GenlabError(f"corpus file {str(path)!r} is not UTF-8 text (byte {exc.start}); convert it to "
                          "UTF-8 or give another file") from None


def text_corpus(path, *, level: str = "char", val_fraction: float = 0.1) -> Corpus:
    """A UTF-8 text file as a corpus (character- or byte-level); the last ``val_fraction`` is held out.

    Raises
    ------
    GenlabError
        If the file is missing, empty, binary, not UTF-8, or shorter than :data:`MIN_TOKENS` tokens.
    """
    path = Path(path)
    text = read_text_file(path)
    ids, vocab = _tokenize(text, _check_level(level))
    if ids.size < MIN_TOKENS:
        raise GenlabError(f"corpus file {str(path)!r} has {ids.size} {'characters' if level == 'char' else 'bytes'}"
                          f"; give at least {MIN_TOKENS} (a few pages of text)")
    if len(vocab) < 2:
        raise GenlabError(f"corpus file {str(path)!r} has a single distinct character; give real text")
    sha = _digest(text)
    spec = {"kind": "file", "path": str(path.resolve()), "sha": sha, "level": level,
            "val_fraction": float(val_fraction)}
    return _split(path.name, ids, vocab, val_fraction, {"spec": spec, "source": str(path), "sha": sha})


# --------------------------------------------------------------------------- a Markov chain with known entropy

@dataclass
class MarkovChain:
    """An order-k Markov chain over ``n_symbols`` symbols.

    Contexts are the last k symbols, numbered ``c = Σ_i s_i · A^(k-1-i)`` (oldest
    first); ``P[c, j]`` is the probability that symbol j follows context c.

    Attributes
    ----------
    P : ndarray of shape (n_symbols**order, n_symbols)
    order : int
    """

    P: np.ndarray
    order: int

    @classmethod
    def random(cls, n_symbols: int = 16, order: int = 2, concentration: float = 0.5, seed: int = 0) -> "MarkovChain":
        """Rows drawn from a symmetric Dirichlet(``concentration``): small values give peaked,
        predictable rows (low entropy), large ones near-uniform rows (entropy near log A)."""
        A = check_int(n_symbols, "n_symbols", 2)
        k = check_int(order, "order", 1)
        if A ** k > 65536:
            raise GenlabError(f"n_symbols**order = {A ** k} contexts is too many; keep it <= 65536")
        conc = check_positive(concentration, "concentration")
        g = make_rng(check_seed(seed), "markov-chain", A, k, repr(float(conc)))
        P = g.dirichlet(np.full(A, conc), size=A ** k)
        P = np.maximum(P, 1e-12)               # every transition possible: irreducible and aperiodic
        return cls(P / P.sum(axis=1, keepdims=True), k)

    @property
    def n_symbols(self) -> int:
        return self.P.shape[1]

    @functools.cached_property
    def stationary(self) -> np.ndarray:
        """π over contexts, shape (n_symbols**order,): the fixed point of the context chain
        (power iteration to 1e-14 in L1)."""
        A, k = self.n_symbols, self.order
        R = A ** (k - 1)
        P3 = self.P.reshape(A, R, A)                        # [oldest symbol, rest of context, next]
        pi = np.full(A ** k, 1.0 / A ** k)
        for _ in range(200_000):
            new = np.einsum("ar,arj->rj", pi.reshape(A, R), P3).reshape(-1)   # context (rest, next)
            if np.abs(new - pi).sum() < 1e-14:
                return new / new.sum()
            pi = new
        raise RuntimeError("the stationary distribution did not converge")  # pragma: no cover

    @property
    def entropy_rate(self) -> float:
        """H = −Σ_c π_c Σ_j P_cj log P_cj, nats per symbol."""
        h = -(self.P * np.log(self.P)).sum(axis=1)
        return float(self.stationary @ h)

    def sample(self, length: int, seed: int = 0) -> np.ndarray:
        """``length`` symbols, the first context drawn from π (so the sample is stationary)."""
        length = check_int(length, "length", self.order + 1)
        A, k = self.n_symbols, self.order
        g = make_rng(check_seed(seed), "markov-sample")
        c = int(g.choice(A ** k, p=self.stationary))
        out = np.empty(length, dtype=np.int64)
        for i in range(k):                                   # the first context's symbols, oldest first
            out[i] = (c // A ** (k - 1 - i)) % A
        cum = np.cumsum(self.P, axis=1)
        cum[:, -1] = 1.0
        u = g.random(length)
        mod = A ** (k - 1) if k > 1 else 1
        cum_rows = cum.tolist()
        from bisect import bisect_right

        for t in range(k, length):
            j = bisect_right(cum_rows[c], u[t])
            j = min(j, A - 1)
            out[t] = j
            c = (c % mod) * A + j
        return out

    def contexts(self, x: np.ndarray) -> np.ndarray:
        """The context before each position t >= order, shape (len(x) - order,)."""
        A, k = self.n_symbols, self.order
        c = np.zeros(x.size - k, dtype=np.int64)
        for i in range(k):
            c = c * A + x[i: x.size - k + i]
        return c

    def nll(self, x) -> np.ndarray:
        """−log P(x_t | context) under the true chain, for each t >= order (nats); its mean
        over a stationary sample estimates the entropy rate without bias."""
        x = np.asarray(x, dtype=np.int64)
        return -np.log(self.P[self.contexts(x), x[self.order:]])

    def to_dict(self) -> dict:
        return {"n_symbols": self.n_symbols, "order": self.order, "entropy_rate": self.entropy_rate,
                "max_entropy": math.log(self.n_symbols)}


def markov_corpus(*, n_symbols: int = 32, order: int = 1, concentration: float = 0.5, length: int = 400_000,
                  seed: int = 0, val_fraction: float = 0.1) -> Corpus:
    """A sample of :meth:`MarkovChain.random` as a corpus whose irreducible loss is its entropy rate.

    The default, an order-1 chain over 32 symbols (H ≈ 2.75 nats against log 32 ≈ 3.47),
    is learnable by a one-layer model (a 32 × 32 table of next-token probabilities) in a
    few hundred steps once n_embd is large enough to represent it, so both N and D
    limit the loss and the limit is H. (An order-2 chain is not: the models sit at the
    unigram loss for hundreds of steps before they learn to attend to the previous token.)

    Parameters
    ----------
    n_symbols, order, concentration
        The chain: alphabet size, context length, Dirichlet concentration of its rows.
    length : int, default=400000
        Tokens, train and validation together.
    seed : int
        Draws the chain and the sample.
    """
    chain = MarkovChain.random(n_symbols, order, concentration, seed)
    length = check_int(length, "length", MIN_TOKENS)
    ids = chain.sample(length, seed)
    vocab = [chr(ord("a") + i) if i < 26 else f"<{i}>" for i in range(chain.n_symbols)]
    spec = {"kind": "markov", "n_symbols": chain.n_symbols, "order": chain.order,
            "concentration": float(concentration), "length": length, "seed": int(seed),
            "val_fraction": float(val_fraction)}
    info = {"spec": spec, "source": f"order-{chain.order} Markov chain over {chain.n_symbols} symbols "
                                    f"(Dirichlet {float(concentration):g})", "chain": chain.to_dict()}
    corpus = _split("markov", ids, vocab, val_fraction, info, entropy_rate=chain.entropy_rate)
    corpus.chain = chain
    return corpus


# --------------------------------------------------------------------------- specs

def corpus_spec(corpus) -> dict:
    """The spec of ``corpus``: ``"python"``, ``"markov"`` (defaults), a path, a dict or a :class:`Corpus`."""
    if isinstance(corpus, Corpus):
        return corpus.spec()
    if isinstance(corpus, dict):
        return dict(corpus)
    if isinstance(corpus, str) and corpus == "python":
        return {"kind": "python", "sources": False, "level": "char", "val_fraction": 0.1}
    if isinstance(corpus, str) and corpus == "markov":
        return markov_corpus_spec()
    if isinstance(corpus, (str, Path)):
        p = Path(corpus)
        if not p.exists():
            raise GenlabError(f"unknown corpus {str(corpus)!r}: not python, markov, nor an existing text file")
        return text_corpus(p).spec()
    raise GenlabError(f"a corpus is python, markov or a path to a text file; got {corpus!r}")


def markov_corpus_spec(**kwargs) -> dict:
    base = {"kind": "markov", "n_symbols": 32, "order": 1, "concentration": 0.5, "length": 400_000, "seed": 0,
            "val_fraction": 0.1}
    base.update(kwargs)
    return base


@functools.lru_cache(maxsize=4)
def _load(text: str) -> Corpus:
    spec = json.loads(text)
    kind = spec.get("kind")
    kw = {k: v for k, v in spec.items() if k != "kind"}
    if kind == "python":
        return python_corpus(**kw)
    if kind == "markov":
        return markov_corpus(**kw)
    if kind == "file":
        want = kw.pop("sha", None)
        c = text_corpus(kw.pop("path"), **kw)
        if want is not None and c.info["sha"] != want:
            raise GenlabError(f"corpus file {c.info['source']!r} changed since the sweep was planned; "
                              "run the sweep again with a new --store")
        return c
    raise GenlabError(f"unknown corpus kind {kind!r}; choose python, markov or a file")


def load_corpus(corpus) -> Corpus:
    """A :class:`Corpus` from a name (``python``, ``markov``), a path, a spec dict or a Corpus (cached)."""
    if isinstance(corpus, Corpus):
        return corpus
    try:
        return _load(json.dumps(corpus_spec(corpus), sort_keys=True))
    except TypeError as exc:
        raise GenlabError(f"bad corpus options: {exc}") from None
