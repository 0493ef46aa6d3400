"""Our MS Recommenders split + metric code reproduces their published SAR row exactly.

SAR (similarity_type="jaccard", time_decay_coefficient=30, timedecay_formula=True) is rebuilt
here in a few lines of NumPy from their sar_singlenode.py. If the split or any metric definition
drifted, these numbers would not match to six decimals.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from apps.recommend.engine.evaluation.metrics import msr_user_metrics
from apps.recommend.engine.evaluation.readers import load_dataset
from apps.recommend.engine.evaluation.runner import rank_items
from apps.recommend.engine.evaluation.splits import msr_cases, msr_stratified_split, subset
from tests.conftest import SHARED_DATA

HALF_LIFE_S = 30 * 24 * 3600


@pytest.mark.shared_data
def test_sar_on_their_split_gives_their_published_numbers() -> None:
    ds = load_dataset("ml-100k", SHARED_DATA).dataset
    mask = msr_stratified_split(ds, 0.75, 42)
    train, test = subset(ds, mask), subset(ds, ~mask)
    decay = np.power(0.5, (train.timestamp.max() - train.timestamp) / HALF_LIFE_S)
    shape = (ds.n_listeners, ds.n_tracks)
    affinity = sp.csr_matrix((train.weight * decay, (train.user, train.item)), shape=shape)
    seen = sp.csr_matrix((np.ones(train.n_interactions), (train.user, train.item)), shape=shape)
    cooc = (seen.T @ seen).toarray()
    diag = np.diag(cooc)
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.nan_to_num(cooc / (diag[:, None] + diag[None, :] - cooc))
    scores = np.asarray(affinity @ jaccard)
    per_user = [
        msr_user_metrics(rank_items(scores[c.user], c.context.history), c.relevant, 10)
        for c in msr_cases(train, test)
    ]
    got = {k: float(np.mean([m[k] for m in per_user])) for k in per_user[0]}
    # sar_movielens.ipynb: MAP 0.110591, NDCG 0.382461, Precision@K 0.330753, Recall@K 0.176385
    assert got["msr_ndcg@10"] == pytest.approx(0.382461, abs=1e-6)
    assert got["msr_recall@10"] == pytest.approx(0.176385, abs=1e-6)
    assert got["msr_precision@10"] == pytest.approx(0.330753, abs=1e-6)
    assert got["msr_map"] == pytest.approx(0.110591, abs=1e-6)
