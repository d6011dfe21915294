"""genlab's public names: every one in ``__all__`` resolves, and ``import genlab`` stays light."""

import subprocess
import sys

import pytest

import genlab


@pytest.mark.parametrize("name", genlab.__all__)
def test_every_public_name_resolves(name):
    value = getattr(genlab, name)
    assert value is not None
    if name[0].isupper() and name not in ("ARTICLE_SOURCE",):
        assert isinstance(value, type), f"{name} should be a class"


def test_import_genlab_is_light_and_unknown_names_fail():
    code = ("import sys, genlab; heavy = [m for m in ('numpy', 'sklearn', 'torch', 'pandas', 'matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "", f"import genlab loaded {out.strip()}"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        genlab.nope  # noqa: B018
    assert "decompose" in dir(genlab)


def test_trim_mean_is_scipys_without_importing_it():
    import numpy as np
    from scipy import stats

    from genlab.core.stats import trim_mean

    g = np.random.default_rng(0)
    for shape in [(5,), (3, 7), (4, 21), (2, 3, 50), (1, 1), (6, 2), (2, 1000)]:
        a = np.ascontiguousarray(g.standard_cauchy(shape) ** 2)
        np.testing.assert_array_equal(trim_mean(a, 0.1), stats.trim_mean(a, 0.1, axis=-1))
    assert np.isnan(trim_mean(np.empty((3, 0)))).all()


def test_a_polynomial_decomposition_does_not_import_scipy_stats():
    code = ("import sys; from genlab import decompose_polynomial; decompose_polynomial(n_datasets=100, "
            "degrees=range(3), engine='lapack'); print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
