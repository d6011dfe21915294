"""The article's §2 numbers, reproduced in distribution."""

import numpy as np
import pytest

from genlab.article.sections.overfitting import ARTICLE_RMSE, article_fits, fidelity
from genlab.data.sources import ARTICLE_SOURCE


@pytest.fixture(scope="module")
def fid():
    return fidelity(200)


@pytest.mark.parametrize("model", list(ARTICLE_RMSE))
def test_article_value_lies_in_the_5_95_band(fid, model):
    lo, hi = np.percentile(fid.rmse[model], [5, 95])
    assert lo <= ARTICLE_RMSE[model] <= hi, (model, lo, hi)


def test_the_bands_are_not_vacuous(fid):
    # Each band is narrow enough to tell the models apart: the ordering of the article holds.
    p = {k: np.percentile(v, [5, 95]) for k, v in fid.rmse.items()}
    assert p["degree30"][1] < p["quadratic"][0] < p["quadratic"][1] < p["line"][1] < p["wrong_line"][0]


def test_closest_seed_reproduces_the_article(fid):
    fits = article_fits(ARTICLE_SOURCE.draw(30, fid.closest_seed, "data"))
    for k, v in ARTICLE_RMSE.items():
        assert fits[k].train_rmse == pytest.approx(v, rel=0.15)


def test_training_error_falls_with_degree_on_every_dataset(fid):
    assert np.all(fid.rmse["degree30"] < fid.rmse["quadratic"])
    assert np.all(fid.rmse["quadratic"] <= fid.rmse["line"] + 1e-12)
