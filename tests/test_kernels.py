"""The compiled nested least-squares engine against np.linalg.lstsq, the LAPACK reference and exact arithmetic."""

import numpy as np
import pytest

from genlab.linalg import nested
from genlab.data.sources import ARTICLE_SOURCE, SyntheticSource
from genlab.analysis.biasvar import decompose_polynomial
from genlab.linalg.nested import nested_lstsq

FIELDS = ("bias2", "variance", "noise", "error", "error_median", "error_trimmed", "bias2_se", "variance_se",
          "error_se", "hbar", "var_x", "first_fits", "per_dataset_error", "per_dataset_dist")


@pytest.mark.parametrize("n, P", [(30, 30), (45, 30), (31, 30), (12, 1), (12, 2), (9, 7)])
def test_compiled_nested_lstsq_is_least_squares_at_every_degree(n, P):
    # square (n = P), tall, and stacks that do not fill the last chunk of 8 datasets
    g = np.random.default_rng(n * 100 + P)
    B = 13
    Phi, Y = g.standard_normal((B, n, P)), g.standard_normal((B, n))
    C, rdiag = nested_lstsq(Phi, Y, engine="numba")
    C0, rdiag0 = nested_lstsq(Phi, Y, engine="lapack")
    assert C.shape == (B, P, P) and rdiag.shape == (B, P)
    for b in range(B):
        for d in range(P):
            ref = np.linalg.lstsq(Phi[b, :, : d + 1], Y[b], rcond=None)[0]
            np.testing.assert_allclose(C[b, : d + 1, d], ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
            assert not C[b, d + 1:, d].any()
    np.testing.assert_allclose(C, C0, rtol=0, atol=1e-10 * np.abs(C0).max())
    np.testing.assert_allclose(rdiag, rdiag0, rtol=1e-10)


def test_each_datasets_fit_does_not_depend_on_its_place_in_the_stack():
    # datasets are factored 8 side by side: whichever lane (or chunk, block, thread) one lands in, the
    # arithmetic is the same, bit for bit -- what makes the numbers independent of the worker count
    g = np.random.default_rng(3)
    Phi, Y = g.standard_normal((21, 30, 30)), g.standard_normal((21, 30))
    C, _ = nested_lstsq(Phi, Y)
    for start in (1, 5, 13):
        assert np.array_equal(nested_lstsq(Phi[start:], Y[start:])[0], C[start:])
    order = g.permutation(21)
    assert np.array_equal(nested_lstsq(Phi[order], Y[order])[0], C[order])


# Every number -- each term, standard error, per-x curve, first fit and per-dataset error -- to 1e-10 relative,
# at the degrees whose fits are well conditioned enough for any two solvers to agree that far (measured: up to
# ~9 at n = 30, ~18 at n = 120; past them the differences grow with cond(A), see the test below)
@pytest.mark.parametrize("kwargs", [
    dict(degrees=range(9), n=30, n_datasets=300),           # blocks of 15: the last chunk of each is partial
    dict(degrees=[0, 3, 8], n=30, n_datasets=416),          # a subset of the degrees
    dict(degrees=range(17), n=120, n_datasets=200),
    dict(degrees=[1, 4, 6], n=12, n_datasets=160, source=SyntheticSource("sin(2*pi*x)", noise=0.3)),
])
def test_compiled_engine_equals_the_lapack_engine_on_the_same_datasets(kwargs):
    kwargs = dict(kwargs)
    source = kwargs.pop("source", ARTICLE_SOURCE)
    a = decompose_polynomial(source, seed=11, engine="numba", **kwargs)
    b = decompose_polynomial(source, seed=11, engine="lapack", **kwargs)
    for k in FIELDS:
        x, y = getattr(a, k), getattr(b, k)
        # a curve over the test points (h-bar, var_x, a fit) relative to its own size: where it crosses 0,
        # a value relative to itself is rounding noise
        scale = np.abs(y).max(axis=-1, keepdims=True) if k in ("hbar", "var_x", "first_fits") else np.abs(y)
        assert np.all(np.abs(x - y) <= 1e-10 * scale), (k, np.max(np.abs(x - y) / scale))
    assert a.config == b.config


def test_the_lapack_engine_is_lapack():
    # the reference must not quietly run the kernels it is the reference for
    from genlab.linalg import kernels

    called = []
    real = kernels.nested_lstsq
    try:
        kernels.nested_lstsq = lambda *a: called.append(1) or real(*a)
        decompose_polynomial(ARTICLE_SOURCE, [1, 5], n_datasets=40, engine="lapack")
        assert not called
        nested.nested_lstsq(np.ones((2, 3, 2)), np.ones((2, 3)), engine="numba")
        assert called
    finally:
        kernels.nested_lstsq = real


def test_where_the_fits_are_ill_conditioned_both_engines_are_as_close_to_exact_arithmetic():
    # n = 30 and degree up to 29: cond(A) reaches 1e14, so no two floating-point solvers agree to 1e-10 there.
    # Each must be within the first-order perturbation bound of least squares (a backward-stable solver's
    # accuracy, Golub & Van Loan 5.3.8) of the exact solution of the same inputs: eps (k + k^2 |r| / (|A| |x|)) |x|
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 60
    g = np.random.default_rng(7)
    tb = nested.TestBasis(np.linspace(0, 1, 200), 29, "legendre", (0.0, 1.0))
    x = g.uniform(0, 1, (4, 30))
    A, y = np.ascontiguousarray(tb(x)), 2 * x ** 2 + 1 + g.normal(0, 0.1, (4, 30))
    fits = {engine: nested_lstsq(A, y, engine=engine)[0] for engine in ("numba", "lapack")}
    worst = dict.fromkeys(fits, 0.0)
    for b in range(4):
        for d in (2, 15, 22, 29):
            Ad = A[b, :, : d + 1]
            M, v = mp.matrix(Ad.tolist()), mp.matrix(y[b].tolist())
            exact = np.array([float(c) for c in mp.lu_solve(M.T * M, M.T * v)], dtype=float)
            k, nx = np.linalg.cond(Ad), np.linalg.norm(exact)
            r = np.linalg.norm(y[b] - Ad @ exact)
            bound = np.finfo(float).eps * (k + k * k * r / (np.linalg.norm(Ad, 2) * nx)) * nx
            for engine, C in fits.items():
                worst[engine] = max(worst[engine], np.linalg.norm(C[b, : d + 1, d] - exact) / bound)
    assert max(worst.values()) < 10, worst


def test_compiled_engine_gives_the_same_numbers_on_one_worker_or_two():
    a = decompose_polynomial(ARTICLE_SOURCE, range(30), n_datasets=1000, seed=4, jobs=1)
    b = decompose_polynomial(ARTICLE_SOURCE, range(30), n_datasets=1000, seed=4, jobs=2)
    for k in FIELDS:
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


def test_unknown_engines_are_refused():
    from genlab import GenlabError

    with pytest.raises(GenlabError, match="engine"):
        decompose_polynomial(ARTICLE_SOURCE, [1], n_datasets=40, engine="fortran")
    with pytest.raises(ValueError, match="engine"):
        nested_lstsq(np.ones((1, 3, 2)), np.ones((1, 3)), engine="fortran")
