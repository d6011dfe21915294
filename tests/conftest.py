import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the pyplot figures a test leaves open: matplotlib warns past 20 open figures, and a
    RuntimeWarning raised from genlab's code is an error in this suite (pyproject's filterwarnings)."""
    yield
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
