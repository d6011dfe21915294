"""ridge_paths: the stacked ridge path of the bias-variance engine equals a loop of ridge_path."""

import numpy as np
import pytest

from genlab.linalg.bases import vander
from genlab.linalg.solvers import ridge_path, ridge_paths

ALPHAS = 10.0 ** np.arange(-12, 2.5, 0.5)


def _designs(b, n, P, seed, repeat_x=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (b, n))
    if repeat_x:                      # two distinct inputs only: rank 2 whatever P is
        x = np.where(x > 0, 0.5, -0.5)
    A = np.stack([vander(xi, P - 1, "legendre") for xi in x])
    return A, rng.standard_normal((b, n))


@pytest.mark.parametrize("b, n, P, repeat_x", [
    (40, 30, 31, False),   # square, interpolating at small alpha (the lab's §4.2 default)
    (40, 20, 8, False),    # overdetermined
    (40, 5, 12, False),    # more parameters than points
    (40, 30, 1, False),    # the constant alone
    (40, 30, 2, False),
    (40, 30, 10, True),    # rank-deficient: singular values cut
])
def test_ridge_paths_equal_a_loop_of_ridge_path(b, n, P, repeat_x):
    A, y = _designs(b, n, P, seed=n * P, repeat_x=repeat_x)
    loop = np.stack([ridge_path(A[i], y[i], ALPHAS)[0] for i in range(b)])
    stacked = ridge_paths(A, y, ALPHAS)
    assert stacked.shape == (b, P, ALPHAS.size)
    # the predictions at the training points, each dataset and alpha on its own scale
    pred_loop, pred_stacked = np.einsum("bnp,bpk->bnk", A, loop), np.einsum("bnp,bpk->bnk", A, stacked)
    scale = np.abs(pred_loop).max(axis=1, keepdims=True)
    assert np.all(np.abs(pred_stacked - pred_loop) <= 1e-9 * scale)
    np.testing.assert_allclose(stacked, loop, rtol=1e-7, atol=1e-9 * np.abs(loop).max())


def test_ridge_paths_checks_shapes():
    with pytest.raises(ValueError, match=r"\(b, n, P\)"):
        ridge_paths(np.ones((3, 4)), np.ones(3), [1.0])
    with pytest.raises(ValueError, match=r"\(b, n\)"):
        ridge_paths(np.ones((2, 4, 3)), np.ones((2, 5)), [1.0])
