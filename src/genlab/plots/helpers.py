"""Small matplotlib helpers shared by the result objects' ``plot`` methods."""

from __future__ import annotations

import numpy as np

#: Scatter layers of more points than this are drawn as an image inside SVG and PDF figures (a million
#: vector markers make a 100 MB SVG); axes, lines and text stay vectors, and PNGs look the same.
RASTERIZE_ABOVE = 5000


def scatter(ax, x, y, **kwargs):
    """``ax.scatter(x, y, **kwargs)``, rasterized when it has more than :data:`RASTERIZE_ABOVE` points."""
    return ax.scatter(x, y, rasterized=np.size(x) > RASTERIZE_ABOVE, **kwargs)


def axes(ax=None, figsize=(5.2, 3.8)):
    """``ax``, or the axes of a new figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def data_ylim(*ys, pad: float = 0.25):
    """y-limits that show ``ys`` (arrays; NaN and inf ignored) with ``pad`` of their span on each side.

    Plots take their limits from the data they show, never from one article's figure; None
    when nothing finite is given (matplotlib then decides).
    """
    finite = [np.asarray(y, dtype=float).ravel() for y in ys]
    finite = np.concatenate([y[np.isfinite(y)] for y in finite]) if finite else np.empty(0)
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span


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


def quartile_band(ax, x, samples, *, color=None, label=None, alpha=0.2, ms=2.5, ls="-", band=True, mean=False,
                  mean_label=None, mean_lw=0.8) -> dict:
    """The median over repeats with its interquartile band (and, optionally, the mean dashed).

    Parameters
    ----------
    ax : matplotlib Axes
    x : array-like of shape (n_points,)
    samples : ndarray of shape (n_repeats, n_points)
    color : color, optional
        Of the median, the band and the mean (default: the next colour of the cycle).
    label : str, optional
        Legend entry of the median.
    alpha : float
        Opacity of the band.
    ms, ls
        Marker size and line style of the median.
    band, mean : bool
        Draw the band, the mean (neither for a single repeat: they would be the median).
    mean_label, mean_lw
        Legend entry and width of the mean's line.

    Returns
    -------
    dict
        :func:`genlab.core.stats.summarize` of ``samples`` (what was drawn).
    """
    from ..core.stats import summarize

    s = summarize(samples)
    line, = ax.plot(x, s["median"], color=color, ls=ls, marker="o", ms=ms, label=label)
    color = line.get_color()
    several = np.shape(samples)[0] > 1
    if band and several:
        ax.fill_between(x, s["q25"], s["q75"], color=color, alpha=alpha, lw=0)
    if mean and several:
        ax.plot(x, s["mean"], color=color, ls="--", lw=mean_lw, label=mean_label)
    return s
