"""The shared training loop of genlab's torch models (genlab.models.training) and its result objects."""

import json

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from genlab.models.training import FlatAdam, epoch_batches, steps_per_epoch, train_loop  # noqa: E402

torch.set_num_threads(1)


class _Linear(torch.nn.Module):
    """``forward(x, targets) -> (output, mean squared error)``, the interface the loop expects."""

    def __init__(self, d=6):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = torch.nn.Parameter(torch.randn(d, 2, generator=g))
        self.b = torch.nn.Parameter(torch.zeros(2))

    def forward(self, x, targets):
        out = x @ self.w + self.b
        return out, ((out - targets) ** 2).mean()


def _data(n=40, d=6):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, d, generator=g)
    return X, X[:, :2] * 2.0 + 0.1 * torch.randn(n, 2, generator=g)


def test_epoch_batches_cover_the_set_once_per_epoch():
    X, y = _data(10)
    batches = epoch_batches(X, y, 4, torch.Generator().manual_seed(0))
    assert steps_per_epoch(10, 4) == 3 and steps_per_epoch(10, 50) == 1
    for _ in range(2):
        epoch = [next(batches) for _ in range(3)]
        assert [b[0].shape[0] for b in epoch] == [4, 4, 2]
        rows = torch.cat([b[0] for b in epoch])
        assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, X.tolist()))
    xb, yb = next(epoch_batches(X, y, 50, torch.Generator()))
    assert xb is X and yb is y                                  # full batch: the set in its order
    xb, _ = next(epoch_batches(X, y, 50, torch.Generator().manual_seed(0), shuffle_full_batch=True))
    assert not torch.equal(xb, X) and sorted(map(tuple, xb.tolist())) == sorted(map(tuple, X.tolist()))


def test_the_loop_trains_with_a_schedule_masks_and_early_stopping():
    X, y = _data()
    model = _Linear()
    keep = (torch.rand(model.w.shape, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    with torch.no_grad():
        model.w.mul_(keep)
    seen, evaluated = [], []

    def evaluate(done):
        evaluated.append(done)
        return done >= 12                                       # stop at the evaluation after 12 steps

    stats = train_loop(model, torch.optim.Adam(model.parameters(), lr=0.1),
                       epoch_batches(X, y, 8, torch.Generator().manual_seed(0)), steps=50,
                       lr=lambda step: 0.1 / (1 + step), masks=[(model.w, keep)], grad_clip=1.0,
                       after_step=seen.append, evaluate=evaluate, eval_at=range(0, 51, 6))
    assert stats.steps == 12 and stats.stopped and evaluated == [0, 6, 12] and seen == list(range(1, 13))
    assert stats.lrs.tolist() == [0.1 / (1 + s) for s in range(12)]
    assert stats.losses.shape == (12,) and stats.losses[-1] < stats.losses[0]
    assert stats.samples == 12 * 8 and stats.step_s > 0
    assert torch.count_nonzero(model.w[keep == 0]) == 0           # pruned entries: exactly 0 throughout
    # the same seeds give the same run, bit for bit
    again = _Linear()
    with torch.no_grad():
        again.w.mul_(keep)
    stats2 = train_loop(again, torch.optim.Adam(again.parameters(), lr=0.1),
                        epoch_batches(X, y, 8, torch.Generator().manual_seed(0)), steps=12,
                        lr=lambda step: 0.1 / (1 + step), masks=[(again.w, keep)], grad_clip=1.0)
    assert np.array_equal(stats.losses, stats2.losses) and torch.equal(model.w, again.w)
    assert not stats2.stopped


def test_flat_adam_is_adam_on_one_buffer():
    X, y = _data()
    a, b = _Linear(), _Linear()
    opt_a, opt_b = FlatAdam(a.parameters(), lr=0.01), torch.optim.Adam(b.parameters(), lr=0.01)
    base = opt_a.flat.data_ptr()
    assert all(base <= p.data_ptr() < base + opt_a.flat.numel() * 4 for p in a.parameters())
    for opt, model in ((opt_a, a), (opt_b, b)):
        train_loop(model, opt, epoch_batches(X, y, 8, torch.Generator().manual_seed(0)), steps=25)
    for p, q in zip(a.parameters(), b.parameters()):   # torch's Adam rounds differently in the last bits only
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    assert not torch.equal(a.w, _Linear().w)


def _check_protocol(result):
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from genlab.core.results import Result

    assert isinstance(result, Result)
    frame = result.summary()
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    pd.testing.assert_frame_equal(result.to_frame(), frame)
    json.dumps(result.to_dict(), allow_nan=True)
    ax = result.plot(Figure().add_subplot())
    assert isinstance(ax, Axes) and ax.has_data()
    html = result._repr_html_()
    assert "<svg" in html and "<table" in html


def test_train_result_follows_the_results_protocol():
    from genlab.data.splits import noisy_splits
    from genlab.models.mlp import MLP, MLPConfig, train

    split = noisy_splits("digits", n_train=100, n_val=50, label_noise=0.0, seed=0, repeat=0)
    r = train(MLP(MLPConfig(width=8), seed=0), {k: split[k] for k in ("train", "val", "test")}, epochs=3,
              batch_size=32, seed=0)
    _check_protocol(r)
    assert list(r.summary()["epochs"]) == [0, 1, 2, 3]


def test_lm_run_follows_the_results_protocol():
    from genlab.analysis.scaling.lm import train
    from genlab.data.corpora import markov_corpus
    from genlab.models.transformer import GPTConfig

    corpus = markov_corpus(length=20_000)
    cfg = GPTConfig(vocab_size=corpus.vocab_size, block_size=16, n_layer=1, n_head=1, n_embd=8)
    run = train(cfg, corpus, tokens=12 * 4 * 16, batch_size=4, n_evals=2, eval_batches=1, device="cpu")
    _check_protocol(run)
    s = run.summary()
    assert len(s) == run.steps + 1 and s["val_loss"].notna().sum() == len(run.eval_steps)
    assert s["val_loss"].iloc[-1] == run.val_loss and s["train_loss"].iloc[:-1].tolist() == run.train_loss.tolist()


def test_train_model_trains_any_module_on_real_targets():
    from genlab.models.training import TrainResult, evaluate, rng_devices, train_model

    X, y = _data()
    model = _Linear()
    w0 = model.w.detach().clone()
    r = train_model(model, {"train": (X[:30], y[:30]), "val": (X[30:], y[30:])}, epochs=60, lr=0.05, batch_size=10,
                    patience=3, eval_every=2, monitor="val_loss", seed=1, settings={"targets": "values"})
    assert isinstance(r, TrainResult) and r.settings["targets"] == "values" and r.settings["batch_size"] == 10
    assert list(r.epochs[:3]) == [0, 2, 4] and r.val_loss[-1] < r.val_loss[0] and not model.training
    # for real targets the "error" is the mean squared error, here the loss itself
    np.testing.assert_allclose(r.train_error, r.train_loss, rtol=1e-6)
    loss, err = evaluate(model, {"val": (X[30:], y[30:])})["val"]
    assert loss == err == r.final()["val_loss"]
    assert r.restored and rng_devices("cpu") == []  # with patience, the best evaluation's weights
    # penalties act on the weight matrices (ndim >= 2), not the bias: weight decay shrinks w
    decayed = _Linear()
    with torch.no_grad():
        decayed.w.copy_(w0)
    train_model(decayed, {"train": (X, y)}, epochs=60, lr=0.05, batch_size=10, weight_decay=5.0, seed=1)
    plain = _Linear()
    train_model(plain, {"train": (X, y)}, epochs=60, lr=0.05, batch_size=10, seed=1)
    assert decayed.w.norm() < 0.5 * plain.w.norm()
    from genlab import GenlabError

    with pytest.raises(GenlabError, match="needs a 'val' split"):
        train_model(_Linear(), {"train": (X, y)}, epochs=2, patience=1)
