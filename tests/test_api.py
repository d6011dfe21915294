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
