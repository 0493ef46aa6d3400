"""The hybrid two-tower predictor.

Training (:meth:`HybridPredictor.fit`) uses PyTorch, imported lazily from
:mod:`apps.recommend.engine.hybrid_torch`. After training everything serving needs is plain
NumPy: unit track vectors, each track's pooled history input vector, the demographic
embeddings and the listener MLP. Scoring a context is then one small MLP forward pass and one
``(n_tracks, 64) @ (64,)`` product, and a web worker never imports torch.

Inductive by construction: a new history is pooled from its tracks' input vectors (no
retraining), and a track without plays has a zero id row, so its vector comes from its artist,
album, genres, tags, year, popularity and audio features.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommend.engine._common import history_of, saturating, take
from apps.recommend.engine.dataset import Context, Dataset, Scores
from apps.recommend.engine.hybrid_features import DemographicVocab, encode_tracks

logger = logging.getLogger(__name__)


@dataclass
class HybridConfig:
    """Hyper-parameters of the two-tower model (the defaults fit 2.4 M rows in ~1 min on 2 CPUs)."""

    dim: int = 64  # shared embedding table width
    out_dim: int = 64  # unit vector width
    hidden: int = 128
    small_dim: int = 8  # year / popularity bucket embeddings
    demo_dim: int = 8
    n_tag_buckets: int = 1 << 14
    min_item_count: int = 1  # interactions before a track gets its own id row
    # Passes over the data; None: as many as fit ``target_budget`` training targets, between 1
    # and ``max_epochs``. Small data needs many passes (ML-100K: NDCG@10 0.21 after 2 epochs,
    # 0.25 after 8), 2.4 M interactions get one and stay inside the training-time target.
    epochs: int | None = None
    target_budget: int = 1_000_000
    max_epochs: int = 10
    batch_samples: int = 512  # listener samples per batch (x targets_per_sample targets)
    targets_per_sample: int = 4
    max_user_items: int = 200  # per listener and epoch
    temperature: float = 0.1
    lr: float = 3e-3
    lr_sparse: float = 1e-2
    init_std: float = 0.05
    seed: int = 0
    threads: int | None = None  # torch CPU threads; None = all cores
    use_gpu: bool = True  # use CUDA when available
    min_interactions: int = 500  # below this fit() trains nothing and confidence is 0
    min_listeners: int = 20
    support_full: float = 50_000.0  # interactions for full data confidence
    history_half: float = 3.0  # history length at which history confidence reaches 0.5
    keep_module: bool = False  # keep the torch module after fit (tests compare outputs)
    progress: Callable[[int, int, float], None] | None = None  # (epoch, epochs, loss)


@dataclass
class HybridPredictor:
    """Two-tower model: listener (demographics + history) and track (id + metadata) towers."""

    name: str = "model"
    config: HybridConfig = field(default_factory=HybridConfig)

    trained: bool = False
    n_tracks: int = 0
    n_interactions: int = 0
    track_vectors: np.ndarray | None = None  # float32 (n_tracks, out_dim)
    hist_table: np.ndarray | None = None  # float32 (n_tracks, dim)
    has_id: np.ndarray | None = None  # bool (n_tracks,)
    demo_tables: list[np.ndarray] = field(default_factory=list)
    w1: np.ndarray | None = None
    b1: np.ndarray | None = None
    w2: np.ndarray | None = None
    b2: np.ndarray | None = None
    vocab: DemographicVocab | None = None
    losses: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    module: Any = None  # torch module, only with config.keep_module

    def fit(self, dataset: Dataset) -> HybridPredictor:
        cfg = self.config
        self.n_tracks = dataset.n_tracks
        self.n_interactions = dataset.n_interactions
        n_active = len(np.unique(dataset.user))
        if dataset.n_interactions < cfg.min_interactions or n_active < cfg.min_listeners:
            logger.info(
                "hybrid model not trained: %d interactions, %d listeners",
                dataset.n_interactions,
                n_active,
            )
            self.trained = False
            return self
        from apps.recommend.engine import hybrid_torch  # lazy: serving never imports torch

        counts = np.bincount(dataset.item, minlength=dataset.n_tracks)
        enc = encode_tracks(
            dataset.tracks,
            dataset.n_tracks,
            counts,
            min_count=cfg.min_item_count,
            n_tag_buckets=cfg.n_tag_buckets,
        )
        vocab = DemographicVocab.build(dataset)
        exported = hybrid_torch.train(
            user=dataset.user,
            item=dataset.item,
            weight=dataset.weight.astype(np.float32),
            n_listeners=dataset.n_listeners,
            enc=enc,
            demo=vocab.encode_all(dataset),
            vocab=vocab,
            cfg=cfg,
        )
        self.track_vectors = exported.track_vectors
        self.hist_table = exported.hist_table
        self.has_id = enc.has_id
        self.demo_tables = exported.demo_tables
        self.w1, self.b1, self.w2, self.b2 = exported.w1, exported.b1, exported.w2, exported.b2
        self.vocab = vocab
        self.losses = exported.losses
        self.train_seconds = exported.seconds
        self.module = exported.module
        self.trained = True
        return self

    # --- serving (NumPy only) -----------------------------------------------------------------
    def listener_vector(self, context: Context) -> np.ndarray:
        """The listener tower's unit vector for ``context`` (NumPy re-implementation)."""
        assert self.trained and self.vocab is not None and self.hist_table is not None
        assert self.w1 is not None and self.b1 is not None
        assert self.w2 is not None and self.b2 is not None
        hist = history_of(context)
        hist = hist[(hist >= 0) & (hist < self.n_tracks)]
        if len(hist):
            pooled = self.hist_table[hist].mean(axis=0, dtype=np.float32)
        else:
            pooled = np.zeros(self.hist_table.shape[1], dtype=np.float32)
        demo = self.vocab.encode_one(
            context.age, context.gender, context.country, context.occupation
        )
        parts = [pooled] + [tbl[demo[j]] for j, tbl in enumerate(self.demo_tables)]
        parts.append(np.array([np.log1p(len(hist)) / 4.0], dtype=np.float32))
        x = np.concatenate(parts).astype(np.float32)
        h = np.maximum(self.w1 @ x + self.b1, 0.0)
        out = self.w2 @ h + self.b2
        norm = float(np.linalg.norm(out))
        return (out / norm if norm > 0 else out).astype(np.float32)

    def confidence(self, context: Context) -> float:
        if not self.trained or self.has_id is None:
            return 0.0
        hist = history_of(context)
        hist = hist[(hist >= 0) & (hist < self.n_tracks)]
        # a history track the model never saw played counts half: it is known by metadata only
        effective = float(self.has_id[hist].sum()) + 0.5 * float((~self.has_id[hist]).sum())
        support = min(1.0, self.n_interactions / self.config.support_full)
        return support * saturating(effective, self.config.history_half)

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        if not self.trained or self.track_vectors is None:
            n = self.n_tracks if candidates is None else len(candidates)
            return Scores(scores=np.zeros(n, dtype=np.float32), confidence=0.0)
        u = self.listener_vector(context)
        vecs = self.track_vectors if candidates is None else self.track_vectors[candidates]
        return Scores(scores=vecs @ u, confidence=self.confidence(context))

    def score_many(self, contexts: list[Context]) -> list[Scores]:
        """Score every track for several contexts with one matrix product."""
        if not self.trained or self.track_vectors is None:
            return [self.score(c) for c in contexts]
        users = np.stack([self.listener_vector(c) for c in contexts])
        all_scores = users @ self.track_vectors.T
        return [
            Scores(scores=all_scores[j], confidence=self.confidence(c))
            for j, c in enumerate(contexts)
        ]

    def because(self, context: Context, track: int) -> int | None:
        """The history track most similar to ``track`` (for "Because you added ...")."""
        hist = history_of(context)
        hist = hist[(hist >= 0) & (hist < self.n_tracks)]
        if not len(hist) or self.track_vectors is None:
            return None
        sims = self.track_vectors[hist] @ self.track_vectors[track]
        return int(hist[int(np.argmax(sims))])

    def similar_vector_scores(self, track: int) -> np.ndarray | None:
        if self.track_vectors is None:
            return None
        return take(self.track_vectors @ self.track_vectors[track], None)

    # --- persistence --------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        cfg = {
            k: v
            for k, v in self.config.__dict__.items()
            if k not in ("progress", "keep_module") and not callable(v)
        }
        meta: dict[str, Any] = {
            "name": self.name,
            "config": cfg,
            "trained": self.trained,
            "n_tracks": self.n_tracks,
            "n_interactions": self.n_interactions,
            "losses": self.losses,
            "train_seconds": self.train_seconds,
            "vocab": self.vocab.to_json() if self.vocab else None,
            "n_demo_tables": len(self.demo_tables),
        }
        arrays: dict[str, np.ndarray] = {}
        if self.trained:
            assert self.track_vectors is not None and self.hist_table is not None
            assert self.has_id is not None and self.w1 is not None and self.b1 is not None
            assert self.w2 is not None and self.b2 is not None
            arrays = {
                "track_vectors": self.track_vectors,
                "hist_table": self.hist_table,
                "has_id": self.has_id,
                "w1": self.w1,
                "b1": self.b1,
                "w2": self.w2,
                "b2": self.b2,
            }
            for j, tbl in enumerate(self.demo_tables):
                arrays[f"demo{j}"] = tbl
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> HybridPredictor:
        p = cls(name=meta["name"], config=HybridConfig(**meta["config"]))
        p.trained = bool(meta["trained"])
        p.n_tracks = int(meta["n_tracks"])
        p.n_interactions = int(meta["n_interactions"])
        p.losses = [float(x) for x in meta["losses"]]
        p.train_seconds = float(meta["train_seconds"])
        p.vocab = DemographicVocab.from_json(meta["vocab"]) if meta["vocab"] else None
        if p.trained:
            p.track_vectors = arrays["track_vectors"]
            p.hist_table = arrays["hist_table"]
            p.has_id = arrays["has_id"].astype(bool)
            p.w1, p.b1, p.w2, p.b2 = arrays["w1"], arrays["b1"], arrays["w2"], arrays["b2"]
            p.demo_tables = [arrays[f"demo{j}"] for j in range(int(meta["n_demo_tables"]))]
        return p
