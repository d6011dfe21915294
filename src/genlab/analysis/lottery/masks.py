"""Masks of the lottery tickets: which weights a layer keeps, by magnitude or at random; rewinding.

A mask is a bool tensor of a weight matrix's shape, True where the weight is
kept; a network's masks are one per weight matrix, in ``model.weights()``
order. Biases are never pruned.
"""

from __future__ import annotations

import numpy as np

from ...core.errors import GenlabError


def layer_rates(n_layers: int, rate: float) -> list[float]:
    """Per weight matrix: ``rate`` for the hidden layers, ``rate / 2`` for the output layer (the last)."""
    return [rate] * (n_layers - 1) + [rate / 2]


def target_counts(sizes, rates, r: int) -> list[int]:
    """Weights each layer keeps after ``r`` rounds: ``round(n (1 - rate)^r)``, at least 1."""
    return [max(1, int(round(n * (1.0 - p) ** r))) for n, p in zip(sizes, rates)]


def magnitude_masks(weights, masks, counts) -> list:
    """Keep the ``counts[i]`` largest-magnitude weights of layer i among those ``masks[i]`` keeps.

    Parameters
    ----------
    weights : list of Tensor
        Trained weight matrices, e.g. ``model.weights()``.
    masks : list of bool Tensor
        The current masks (same shapes); a pruned weight stays pruned.
    counts : list of int
        Weights to keep per layer (at most the current number kept).

    Returns
    -------
    list of bool Tensor
        The new masks, nested in the old ones, with exactly ``counts[i]`` True entries.
    """
    import torch

    out = []
    for w, m, k in zip(weights, masks, counts):
        if k > int(m.sum()):
            raise GenlabError(f"cannot keep {k} weights of a layer that has {int(m.sum())} left")
        score = torch.where(m, w.detach().abs(), torch.tensor(-1.0)).flatten()   # pruned: below any |w|
        keep = torch.topk(score, k, sorted=False).indices                      # ties: torch's order
        new = torch.zeros(score.numel(), dtype=torch.bool)
        new[keep] = True
        out.append(new.view_as(m))
    return out


def random_masks(masks, counts, generator) -> list:
    """Keep ``counts[i]`` entries of ``masks[i]`` chosen uniformly at random (``generator``: numpy)."""
    import torch

    out = []
    for m, k in zip(masks, counts):
        alive = np.flatnonzero(m.flatten().numpy())
        if k > alive.size:
            raise GenlabError(f"cannot keep {k} weights of a layer that has {alive.size} left")
        new = np.zeros(m.numel(), dtype=bool)
        new[generator.choice(alive, size=k, replace=False)] = True
        out.append(torch.from_numpy(new).view_as(m))
    return out


def apply_masks(model, masks) -> None:
    """Set the pruned weights of ``model`` to exactly 0 (in place)."""
    import torch

    with torch.no_grad():
        for w, m in zip(model.weights(), masks):
            w.masked_fill_(~m, 0.0)


def rewind(model, state: dict, masks) -> None:
    """Load ``state`` (the weights at the rewinding point) into ``model``, then zero the pruned weights."""
    model.load_state_dict(state)
    apply_masks(model, masks)


def state(model) -> dict:
    """A copy of ``model``'s weights (its ``state_dict``, cloned)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
