"""One results protocol: every result class of genlab, built from a small real run, follows it.

The walk finds every subclass of :class:`genlab.core.results.Result` in the package (so a new
result class without a factory here fails the test), builds one from a tiny run, and checks:
``summary()`` is a non-empty DataFrame equal to ``to_frame()``, ``to_dict()`` is plain JSON,
``plot(ax)`` draws into the given Axes and returns it, ``plot()`` makes its own, and
``_repr_html_`` shows both the table and the figure.
"""

import importlib
import json
import pkgutil

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import genlab  # noqa: E402
from genlab.core.results import Result  # noqa: E402


def _all_result_classes():
    for info in pkgutil.walk_packages(genlab.__path__, "genlab."):
        importlib.import_module(info.name)
    found, todo = set(), [Result]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("genlab.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return {c.__name__: c for c in found}


# -- one small real run per class ---------------------------------------------------------------------

def fit_result():
    from genlab import ARTICLE_SOURCE, fit_polynomial

    return fit_polynomial(ARTICLE_SOURCE.draw(30, 0, "data"), 3, source=ARTICLE_SOURCE)


def capacity_curve():
    from genlab import ARTICLE_SOURCE, capacity_curve

    return capacity_curve(ARTICLE_SOURCE, "0-4", repeats=5)


def bias_variance():
    from genlab import ARTICLE_SOURCE, decompose_polynomial

    return decompose_polynomial(ARTICLE_SOURCE, range(4), n_datasets=200, engine="lapack")


def double_descent_curve():
    from genlab import random_features_sweep

    return random_features_sweep("digits", n_train=30, n_test=60, ps=[5, 30, 90], seeds=2)


def curve_family():
    from genlab import polynomial_model_wise

    return polynomial_model_wise(n=8, degrees=range(0, 12, 3), bases=("legendre",), seeds=2, n_test=50)


def variance_split():
    from genlab import random_features_variance_split

    return random_features_variance_split(n_train=20, n_test=40, ps=[5, 20, 60], data_seeds=2, feature_seeds=2)


def singular_value_analysis():
    from genlab.analysis.double_descent import singular_value_analysis

    return singular_value_analysis("diabetes", ns=[5, 10, 15], seeds=3, n_test=40)


def width_sweep():
    from genlab import mlp_width_sweep

    return mlp_width_sweep(widths=[2, 8], n_train=60, n_val=40, epochs=4, seeds=1)


def epoch_wise_curve():
    from genlab import epoch_wise

    return epoch_wise(n_train=20, n_fast=8, n_slow=2, max_steps=2000, n_points=9, seeds=2)


def ridge_cv():
    from genlab import ARTICLE_SOURCE, ridge_cv

    return ridge_cv(ARTICLE_SOURCE.draw(30, 0, "data"), 12, alphas=np.logspace(-6, 0, 4), source=ARTICLE_SOURCE)


def implicit_regularization():
    from genlab import implicit_regularization

    return implicit_regularization(n=8, p=20, steps=500)


def sample_wise_curve():
    from genlab import sample_wise_linear

    return sample_wise_linear(d=10, ns=[5, 10, 20], seeds=3)


def regularizer_comparison():
    from genlab import regularizers_side_by_side

    return regularizers_side_by_side(methods=["none", "l2"], grids={"l2": [3e-2]}, n_train=60, n_val=40,
                                     epochs=4, seeds=1, width=8)


def scaling_fit():
    from genlab.analysis.scaling import fit, preset, synthetic_runs

    runs = synthetic_runs(preset("chinchilla"), [1e7, 3e7, 1e8, 3e8], [1e9, 3e9, 1e10], noise=0.005, seed=0)
    return fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=10, seed=0)


def scaling_law():
    from genlab import preset

    return preset("chinchilla")


def compute_plan():
    from genlab.analysis.scaling import plan

    return plan([1e20, 1e22], law=scaling_law())


def crossed_decomposition():
    from genlab import SyntheticSource
    from genlab.analysis.crossed import crossed_sweep
    from genlab.models import RandomFeaturesRegressor

    return crossed_sweep(RandomFeaturesRegressor(kind="fourier", scale=6.0), knob="n_features", values=[4, 64],
                         data=SyntheticSource("sin(2*pi*x)", 0.3), R=3, S=3, n_train=16, n_test=25)


def prediction():
    from genlab.analysis.scaling import predict

    return predict("chinchilla", N=1e9, D=2e10)


def scaling_sweep(tmp_path_factory):
    from genlab import scaling_sweep

    return scaling_sweep((1e3, 3.3e3), (5e3, 1.2e4), corpus="markov", batch_size=8, block_size=32, eval_batches=2,
                         n_evals=2, device="cpu", jobs=1, store=tmp_path_factory.mktemp("lm") / "runs.sqlite")


def lm_run():
    from genlab.analysis.scaling.lm import train
    from genlab.data.corpora import markov_corpus
    from genlab.models.transformer import GPTConfig

    corpus = markov_corpus(length=20_000)
    cfg = GPTConfig(vocab_size=corpus.vocab_size, block_size=16, n_layer=1, n_head=1, n_embd=8)
    return train(cfg, corpus, tokens=12 * 4 * 16, batch_size=4, n_evals=2, eval_batches=1, device="cpu")


def train_result():
    from genlab.data.splits import noisy_splits
    from genlab.models.mlp import MLP, MLPConfig, train

    split = noisy_splits("digits", n_train=60, n_val=30, label_noise=0.0, seed=0, repeat=0)
    return train(MLP(MLPConfig(width=8), seed=0), {k: split[k] for k in ("train", "val", "test")}, epochs=2,
                 batch_size=32, seed=0)


def lottery_result():
    from genlab import lottery_sweep

    return lottery_sweep(rounds=2, rate=0.5, seeds=1, width=8, depth=1, epochs=2, n_train=60, n_val=30)


def sweep_result(tmp_path_factory):
    from genlab import run_sweep
    from genlab.runs.jobs import demo_job

    return run_sweep(demo_job, [{"x": 0.5}, {"x": 0.25}], store=tmp_path_factory.mktemp("sw") / "runs.sqlite",
                     jobs=1, progress=False)


def estimator_curve():
    from sklearn.tree import DecisionTreeRegressor

    from genlab import ARTICLE_SOURCE
    from genlab.analysis.validation import validation_curve

    return validation_curve(DecisionTreeRegressor(), ARTICLE_SOURCE, param="max_depth", values="1-3", n=30, n_val=50,
                            repeats=3)


FACTORIES = {
    "FitResult": fit_result, "CapacityCurve": capacity_curve, "BiasVariance": bias_variance,
    "DoubleDescentCurve": double_descent_curve, "CurveFamily": curve_family, "VarianceSplit": variance_split,
    "SingularValueAnalysis": singular_value_analysis, "WidthSweep": width_sweep,
    "EpochWiseCurve": epoch_wise_curve, "RidgeCV": ridge_cv, "ImplicitRegularization": implicit_regularization,
    "SampleWiseCurve": sample_wise_curve, "RegularizerComparison": regularizer_comparison,
    "ScalingFit": scaling_fit, "ScalingLaw": scaling_law, "ComputePlan": compute_plan,
    "ScalingSweep": scaling_sweep, "LMRun": lm_run, "TrainResult": train_result, "LotteryResult": lottery_result,
    "SweepResult": sweep_result, "EstimatorCurve": estimator_curve,
    "Prediction": prediction, "CrossedDecomposition": crossed_decomposition,
}


def test_every_result_class_has_a_factory_here():
    assert set(_all_result_classes()) == set(FACTORIES)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_result_follows_the_protocol(name, tmp_path_factory):
    make = FACTORIES[name]
    result = make(tmp_path_factory) if make.__code__.co_argcount else make()
    assert type(result).__name__ == name and isinstance(result, Result)
    frame = result.summary()
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    pd.testing.assert_frame_equal(result.to_frame(), frame)
    record = result.to_dict()
    assert isinstance(record, dict)
    json.dumps(record, allow_nan=True)
    ax = Figure().add_subplot()
    assert result.plot(ax) is ax and ax.has_data()
    own = result.plot()
    assert isinstance(own, Axes)
    matplotlib.pyplot.close("all")
    html = result._repr_html_()
    assert "<svg" in html and "<table" in html
