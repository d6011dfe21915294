"""Lottery tickets: iterative magnitude pruning with rewinding, and its two controls.

The article closes (§5) on redundancy: trained networks hold parameters they
do not need, and the *lottery-ticket hypothesis* (Frankle & Carbin 2019) says
that a randomly initialized network contains a small subnetwork — a winning
ticket — that, trained alone from the same initial values, matches the whole
network. This module finds such tickets in an MLP on scikit-learn's digits and
checks them against the controls of the paper.

Iterative magnitude pruning (IMP), one repeat:

1. Initialize the network, θ_0; train it densely (round 0), keeping θ_k, the
   weights after k optimizer steps (``rewind=k``; k = 0 is θ_0 itself).
2. Prune: in each layer remove the smallest-magnitude surviving *weights*
   of the last training's weights at its end (``prune_from="final"``, Frankle
   & Carbin's rule; ``"best"`` prunes the early-stopped ones instead; biases
   are never pruned) so that after round r a hidden layer keeps
   ``round(n (1 - rate)^r)`` of its n weights and the output layer
   ``round(n (1 - rate/2)^r)``: ``rate`` of the remaining weights per round,
   the output layer at half the rate, as Frankle & Carbin do for their
   fully-connected nets (it is small, and every class needs its inputs).
3. Rewind: set the surviving weights (and all biases) back to θ_k, the pruned
   weights to exactly zero, and retrain with the mask held fixed (the
   gradients of pruned weights are zeroed before every step and the weights
   re-zeroed after it, so they are exactly 0 throughout).
4. Repeat from 2 for ``rounds`` rounds.

Controls, on the same per-layer sparsity and the same data, training seed and
budget in every round:

* ``reinit`` — the ticket's mask with a fresh random initialization (the same
  distribution, an independent draw; trained from step 0): does the ticket
  need its *initial values*?
* ``random`` — a random mask with the ticket's per-layer counts (pruned
  iteratively at random, so the masks are nested like IMP's), rewound to the
  original θ_k: does it need its *structure*?

Each training reports the weights of its lowest validation loss (evaluated
every epoch; Frankle & Carbin's early-stopping criterion): that evaluation's
optimizer step as the early-stop iteration, and the test accuracy of those
weights. As in the paper, early stopping chooses what is reported, not what
is pruned: the next round prunes the weights at the end of training unless
``prune_from="best"``. By default every training runs all its epochs
(``patience=None``).

A round is *below dense* when a one-sided paired t-test of the difference
from the dense accuracy over the repeats (n − 1 degrees of freedom), with
Holm's correction over the rounds tested (familywise 5%), finds a drop and
the mean drop exceeds 1 percentage point (:meth:`LotteryResult.below_dense`).

All variants of a repeat run in one job (:func:`lottery_job`): they share the
split, the dense network and the rewinding point, so their differences from
dense are paired, and ``reinit`` needs the ticket's masks anyway.

Measured with the defaults (64-100-100-10 MLP, 17,400 weights, n_train = 800,
rate 0.2, 15 rounds, 5 repeats; seed 0; pruning the final weights): dense
test accuracy 0.964 ± 0.004; the ticket keeps it down to 5.5% of the weights
(0.954 ± 0.001 there, 0.950 ± 0.003 at 4.5%); the re-initialized ticket down
to 9.9% (0.921 ± 0.006 at 4.5%); the random mask down to 12.1% (0.831 ± 0.013
at 4.5%). Pruning the early-stopped weights instead (``prune_from="best"``,
other initializations, since the option is part of the jobs' seeds): 5.5%,
6.6% and 8.1%; the random mask, which the option does not touch, moving from
12.1% to 8.1% shows how much such a threshold varies from one set of 5
repeats to another. See :attr:`LotteryResult.thresholds` for what "keeps"
means.

The package: :mod:`.masks` (magnitude and random masks, rewinding),
:mod:`.train` (a training with a fixed mask, on the shared loop of
:mod:`genlab.models.training`), :mod:`.sweep` (one repeat as a job, the
sweep and its settings) and :mod:`.results` (:class:`LotteryResult`).

torch is imported by the jobs and the building blocks, not by ``import genlab``.
"""

from .masks import apply_masks, layer_rates, magnitude_masks, random_masks, rewind, target_counts
from .results import COLORS, LABELS, VARIANTS, LotteryResult
from .sweep import DEFAULTS, check_rate, lottery_job, lottery_settings, lottery_sweep
from .train import MaskedRun, train_masked

__all__ = ["COLORS", "DEFAULTS", "LABELS", "VARIANTS", "LotteryResult", "MaskedRun", "apply_masks", "check_rate",
           "layer_rates", "lottery_job", "lottery_settings", "lottery_sweep", "magnitude_masks", "random_masks",
           "rewind", "target_counts", "train_masked"]
