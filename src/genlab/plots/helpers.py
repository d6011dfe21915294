"""Small matplotlib helpers shared by the result objects' ``plot`` methods."""

from __future__ import annotations

#: Scatter layers of more points than this are drawn as an image inside SVG and PDF figures (a million
#: vector markers make a 100 MB SVG); axes, lines and text stay vectors, and PNGs look the same.
RASTERIZE_ABOVE = 5000


def scatter(ax, x, y, **kwargs):
    """``ax.scatter(x, y, **kwargs)``, rasterized when it has more than :data:`RASTERIZE_ABOVE` points."""
    import numpy as np

    return ax.scatter(x, y, rasterized=np.size(x) > RASTERIZE_ABOVE, **kwargs)


def axes(ax=None, figsize=(5.2, 3.8)):
    """``ax``, or the axes of a new figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def finish_xy(ax, *, ylim=None, title=None, legend_loc="lower right"):
    """Labels, limits, legend and title of an x-y plot of fitted curves."""
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc=legend_loc, fontsize="small")
    if title:
        ax.set_title(title)
    return ax
