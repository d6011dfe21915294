"""The MLP, its training loop and the network experiments of genlab.analysis.double_descent (width, epochs)
and genlab.analysis.regularize (regularizers side by side), at tiny sizes."""

import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # as genlab's workers: tiny networks on many threads are many times slower

from genlab import GenlabError  # noqa: E402
from genlab.models.mlp import MLP, MLPConfig, TorchMLPClassifier, as_tensors, evaluate, train  # noqa: E402
from genlab.analysis.double_descent import epoch_wise, gd_iterates, mlp_width_sweep  # noqa: E402
from genlab.analysis.regularize import regularizers_side_by_side  # noqa: E402
from genlab.core.seeding import seed_sequence, torch_seed  # noqa: E402
from genlab.core.stats import find_peak  # noqa: E402
from genlab.data.splits import noisy_splits  # noqa: E402


@pytest.fixture(scope="module")
def noisy_digits():
    """150 training points of digits with 40% label noise, 150 noisy validation points, clean test."""
    s = noisy_splits("digits", n_train=150, n_val=150, label_noise=0.4, seed=0, repeat=0)
    return {k: s[k] for k in ("train", "val", "test")}


def test_forward_returns_logits_and_loss():
    for loss in ("cross_entropy", "squared"):
        cfg = MLPConfig(n_inputs=5, width=7, depth=2, n_classes=3, loss=loss)
        model = MLP(cfg, seed=0)
        x, t = torch.randn(4, 5), torch.tensor([0, 2, 1, 2])
        logits, out = model(x, t)
        assert logits.shape == (4, 3) and logits.dtype == torch.float32
        assert out.shape == () and float(out.detach()) > 0
        assert model(x)[1] is None
        assert sum(p.numel() for p in model.parameters()) == cfg.n_params == 6 * 7 + 8 * 7 + 8 * 3
    assert MLPConfig(n_inputs=4, depth=0, n_classes=3).n_params == 15


def test_training_lowers_the_loss(noisy_digits):
    model = MLP(MLPConfig(width=16), seed=1)
    r = train(model, noisy_digits, epochs=15, lr=1e-2, batch_size=32, seed=1)
    assert list(r.epochs) == list(range(16))
    assert r.train_loss[-1] < 0.7 * r.train_loss[0]
    assert r.test_error[-1] < r.test_error[0]
    assert r.samples_per_s > 0 and not r.restored


def test_training_is_deterministic(noisy_digits):
    def run(seed):
        model = MLP(MLPConfig(width=12, dropout=0.2), seed=seed)
        r = train(model, noisy_digits, epochs=5, lr=1e-2, batch_size=16, l1=1e-4, weight_decay=1e-3, seed=seed)
        return r, [p.detach().clone() for p in model.parameters()]

    before = torch.get_rng_state().clone()
    (a, pa), (b, pb), (c, _) = run(3), run(3), run(4)
    assert torch.equal(before, torch.get_rng_state())  # the caller's stream is left alone
    for name in ("train_loss", "val_loss", "test_loss", "train_error", "test_error"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert all(torch.equal(x, y) for x, y in zip(pa, pb))
    assert not np.array_equal(a.train_loss, c.train_loss)


def test_early_stopping_stops_and_restores_the_best_epoch(noisy_digits):
    model = MLP(MLPConfig(width=64), seed=0)
    r = train(model, noisy_digits, epochs=400, lr=1e-2, batch_size=None, eval_every=5, patience=6, seed=0)
    assert r.stopped_early and r.restored and r.stopped_epoch < 400
    k = int(np.flatnonzero(r.epochs == r.best_epoch)[0])
    assert r.val_error[k] == r.val_error.min()
    assert r.stopped_epoch == r.best_epoch + 6 * 5
    assert r.val_error[-1] > r.val_error[k]  # it had got worse since
    now = evaluate(model, as_tensors(noisy_digits))
    assert now["val"][1] == pytest.approx(r.val_error[k]) and now["test"][1] == pytest.approx(r.test_error[k])
    assert r.final()["test_error"] == r.test_error[k]


def test_bad_input_is_a_genlab_error(noisy_digits):
    model = MLP(MLPConfig(width=4), seed=0)
    with pytest.raises(GenlabError, match="width"):
        MLPConfig(width=0)
    with pytest.raises(GenlabError, match="width"):
        mlp_width_sweep(widths=[0, 4])
    with pytest.raises(GenlabError, match="label_noise"):
        mlp_width_sweep(label_noise=1.5)
    with pytest.raises(GenlabError, match="label noise"):
        noisy_splits("digits", n_train=10, n_val=0, label_noise=-0.1, seed=0, repeat=0)
    with pytest.raises(GenlabError, match="optimizer"):
        train(model, noisy_digits, optimizer="rmsprop")
    with pytest.raises(GenlabError, match="optimizer"):
        regularizers_side_by_side(optimizer="lbfgs")
    with pytest.raises(GenlabError, match="val"):
        train(model, {"train": noisy_digits["train"]}, patience=3)
    with pytest.raises(GenlabError, match="dropout"):
        MLPConfig(dropout=1.0)
    with pytest.raises(GenlabError, match="methods"):
        regularizers_side_by_side(methods=["none", "mixup"])
    with pytest.raises(GenlabError, match="classification"):
        mlp_width_sweep("diabetes")
    with pytest.raises(GenlabError, match="lr"):
        gd_iterates(np.eye(3), np.ones(3), lr=10.0, steps=[1])


def test_width_sweep_is_independent_of_jobs_and_reports():
    kw = dict(widths=[2, 24], n_train=60, n_val=20, epochs=40, seeds=2)
    a = mlp_width_sweep(jobs=1, **kw)
    b = mlp_width_sweep(jobs=2, **kw)
    for name in ("train_error", "test_error", "test_loss", "test_error_by_epoch"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.test_error.shape == (2, 2) and a.test_error_by_epoch.shape[:2] == (2, 2)
    assert list(a.n_params) == [75 * 2 + 10, 75 * 24 + 10]
    frame = a.summary()
    assert {"width", "n_params", "test_error_mean", "test_error_se", "test_error_median", "test_error_q25"} \
        <= set(frame.columns)
    json.dumps(a.to_dict())
    assert a.plot() is not None


def test_epoch_wise_falls_rises_and_falls_again():
    r = epoch_wise(seeds=6)
    ph = r.phases
    assert ph["first_min_step"] < ph["peak_step"] < ph["second_min_step"]
    assert ph["start_test"] > ph["first_min_test"] + 1.0          # falls (noise variance is 1)
    assert ph["peak_test"] > ph["first_min_test"] + 0.5           # rises
    assert ph["second_min_test"] < ph["peak_test"] - 1.0          # falls again
    assert ph["share_of_repeats"] == 1.0                          # in every repeat, not only the median
    assert "time scales" in r.cause and r.test.shape == (6, r.steps.size)
    # equal time scales remove it: the cause, checked
    assert epoch_wise(seeds=6, slow_variance=1.0).phases["share_of_repeats"] == 0.0
    json.dumps(r.to_dict())
    assert r.plot() is not None


def test_gd_iterates_are_gradient_descent():
    g = np.random.default_rng(0)
    X = g.standard_normal((30, 8)) * np.r_[np.ones(4), np.full(4, 0.1)]
    y = g.standard_normal(30)
    W = gd_iterates(X, y, lr=0.1, steps=[0, 1, 7, 300])
    w, out = np.zeros(8), {}
    for t in range(301):
        out[t] = w.copy()
        w = w - 0.1 * X.T @ (X @ w - y) / 30
    np.testing.assert_allclose(W, np.stack([out[t] for t in (0, 1, 7, 300)]), rtol=1e-10, atol=1e-12)


def test_torch_seed_is_the_first_word_of_the_stream_halved():
    ss = seed_sequence(3, "job", 1)
    first = int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    assert torch_seed(ss) == torch_seed(3, "job", 1) == first < 2**63
    assert torch_seed(ss, 0) != first and torch_seed(ss, 0) == torch_seed(ss, 0)


def test_find_peak():
    p = find_peak([3.0, 1.0, 2.0, 0.5, 0.6])
    assert (p["first_min"], p["peak"], p["second_min"], p["prominence"]) == (1, 2, 3, 1.0)
    assert find_peak([3.0, 2.0, 1.0, 0.5])["prominence"] <= 0


def test_each_regularizer_beats_none_on_the_noisy_task():
    # one strength each (the one the default 5-repeat grid search picks in most repeats), 2 repeats
    r = regularizers_side_by_side(grids={"l1": [3e-3], "l2": [3e-2], "dropout": [0.7]}, seeds=2, jobs=2)
    s = r.summary().set_index("method")
    none = r.test_error[:, r.methods.index("none")]
    for i, m in enumerate(r.methods):
        if m != "none":
            # paired by repeat (same data): the repeat-to-repeat spread of the difference is 0.015-0.04,
            # the mean reductions 0.10-0.22 (5 repeats); require 0.03 in every repeat
            assert np.all(r.test_error[:, i] < none - 0.03), (m, r.test_error[:, i], none)
    assert s.loc["none", "train_mean"] == 0.0  # it interpolated the noisy labels
    assert set(r.grids) == {"l1", "l2", "dropout"}
    json.dumps(r.to_dict())
    assert r.plot() is not None


def test_torch_classifier_estimator_api():
    from sklearn.base import clone

    s = noisy_splits("digits", n_train=300, n_val=0, label_noise=0.0, seed=0, repeat=0)
    (X, y), (Xt, yt) = s["train"], s["test"]
    labels = np.array(list("abcdefghij"))
    est = TorchMLPClassifier(width=32, epochs=30, lr=1e-2, random_state=0).fit(X, labels[y])
    proba = est.predict_proba(Xt)
    assert proba.shape == (Xt.shape[0], 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.mean(est.predict(Xt) == labels[yt]) > 0.8
    again = clone(est).fit(X, labels[y])
    assert np.array_equal(again.predict_proba(Xt), proba)


def test_import_genlab_does_not_import_torch():
    code = ("import sys, genlab, genlab.analysis.double_descent, genlab.analysis.regularize; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_activation_and_the_regressor_layers():
    from genlab.models.mlp import ACTIVATIONS, mlp_layers

    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    relu = MLP(MLPConfig(n_inputs=4, width=6, depth=2, n_classes=3), seed=0)
    tanh = MLP(MLPConfig(n_inputs=4, width=6, depth=2, n_classes=3, activation="tanh"), seed=0)
    assert isinstance(tanh.hidden[1], torch.nn.Tanh) and isinstance(relu.hidden[1], torch.nn.ReLU)
    for a, b in zip(relu.state_dict().values(), tanh.state_dict().values()):
        assert torch.equal(a, b)  # the same initialization; only the nonlinearity differs
    assert not torch.equal(relu(x)[0], tanh(x)[0])
    net = mlp_layers(4, 2, width=6, depth=2, activation="gelu", dropout=0.1)
    assert [type(m).__name__ for m in net] == ["Linear", "GELU", "Dropout"] * 2 + ["Linear"]
    assert net(x).shape == (5, 2) and len(mlp_layers(4, 1, depth=0)) == 1
    assert set(ACTIVATIONS) == {"relu", "tanh", "sigmoid", "gelu", "silu", "identity"}
    with pytest.raises(GenlabError, match="unknown activation 'elu'"):
        MLPConfig(activation="elu")
    with pytest.raises(GenlabError, match="n_outputs must be an integer >= 1"):
        mlp_layers(4, 0)
