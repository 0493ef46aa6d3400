"""Time-decayed popularity blended with the catalogue's own popularity (FMA listens/favorites).

An interaction at time ``t`` counts ``weight * 2 ** (-(ref - t) / half_life)`` where ``ref`` is
the data's latest time. The decayed counts ``d`` are blended with the prior ``q`` (a
distribution over tracks) as ``(d + k q) / (D + k)``: with no interactions this is the prior, so
the predictor answers from day one. Requests at a later ``now`` scale every count by the same
factor, which shifts weight toward the prior as the data ages. Optionally the same is kept per
age band x gender group, shrunk toward the global vector. Refitting is a few bincounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommend.engine._common import age_band, age_bands, norm_str, prior_distribution, take
from apps.recommend.engine.dataset import Context, Dataset, Scores

DEFAULT_HALF_LIFE_S = 7 * 86_400.0
REASON_TRENDING = "Trending this week"
REASON_PRIOR = "Popular on FMA"


@dataclass
class PopularityPredictor:
    """Recent popularity with a catalogue prior; cheap to refresh."""

    name: str = "popularity"
    half_life_s: float = DEFAULT_HALF_LIFE_S
    prior_strength: float = 50.0  # interactions' worth of prior
    by_group: bool = False  # keep per (age band, gender) vectors as well
    group_shrinkage: float = 20.0  # decayed interactions' worth of global popularity
    prior_confidence: float = 0.1  # confidence with no interactions at all
    confidence_half: float = 500.0  # decayed mass at which the data half-trusts itself

    n_tracks: int = 0
    ref_time: float = 0.0
    decayed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    prior: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    groups: dict[str, int] = field(default_factory=dict)
    group_decayed: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    #: log-score vectors at the reference time, per group key (at most one per group + global)
    _cache: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict, repr=False)

    def fit(self, dataset: Dataset) -> PopularityPredictor:
        self._cache = {}
        n = dataset.n_tracks
        self.n_tracks = n
        self.prior = prior_distribution(dataset, n).astype(np.float32)
        ts = np.asarray(dataset.timestamp, dtype=np.float64)
        self.ref_time = float(ts.max()) if len(ts) else 0.0
        decay = np.exp2(-(self.ref_time - ts) / self.half_life_s) if len(ts) else ts
        w = dataset.weight.astype(np.float64) * decay
        self.decayed = np.bincount(dataset.item, weights=w, minlength=n).astype(np.float32)
        self.groups = {}
        rows: list[np.ndarray] = []
        if self.by_group and dataset.listeners is not None and len(ts):
            lf = dataset.listeners
            bands = age_bands(lf.age)
            genders = np.array([norm_str(g) for g in lf.gender], dtype=object)
            key = np.array([f"{b}|{g}" for b, g in zip(bands, genders, strict=True)], dtype=object)
            ukeys, inverse = np.unique(key, return_inverse=True)
            per_row = inverse[dataset.user]
            for gi, k in enumerate(ukeys):
                sel = per_row == gi
                if sel.any():
                    self.groups[str(k)] = len(rows)
                    counts = np.bincount(dataset.item[sel], weights=w[sel], minlength=n)
                    rows.append(counts.astype(np.float32))
        self.group_decayed = np.stack(rows) if rows else np.zeros((0, n), dtype=np.float32)
        return self

    def _scale(self, context: Context) -> float:
        if context.now is None or context.now <= self.ref_time:
            return 1.0
        return float(np.exp2(-(context.now - self.ref_time) / self.half_life_s))

    def _vector(self, context: Context) -> tuple[np.ndarray, float]:
        scale = self._scale(context)
        counts = self.decayed
        gkey = f"{age_band(context.age)}|{norm_str(context.gender)}"
        if self.by_group and gkey in self.groups:
            g = self.group_decayed[self.groups[gkey]]
            total_g = float(g.sum())
            total = float(self.decayed.sum())
            m = self.group_shrinkage
            # the global vector rescaled to m interactions' worth, added to the group's
            counts = g + np.float32(m / max(total, 1e-12)) * self.decayed
            mass = (total_g + m) * scale
        else:
            mass = float(counts.sum()) * scale
        k = self.prior_strength
        vec = (np.float32(scale) * counts + np.float32(k) * self.prior) * np.float32(
            1.0 / (mass + k)
        )
        conf = self.prior_confidence + (1 - self.prior_confidence) * mass / (
            mass + self.confidence_half
        )
        return vec, float(conf)

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        if self.n_tracks == 0:
            n = 0 if candidates is None else len(candidates)
            return Scores(scores=np.zeros(n, dtype=np.float32), confidence=0.0)
        gkey = f"{age_band(context.age)}|{norm_str(context.gender)}"
        key = gkey if self.by_group and gkey in self.groups else ""
        cached = self._cache.get(key) if self._scale(context) == 1.0 else None
        if cached is None:
            vec, conf = self._vector(context)
            # log-probabilities: the ensemble standardises scores; raw counts are heavy-tailed
            logs = np.log(vec + np.float32(1e-12))
            logs.flags.writeable = False  # shared between requests
            cached = (logs, conf)
            if self._scale(context) == 1.0:
                self._cache[key] = cached
        return Scores(scores=take(cached[0], candidates), confidence=cached[1])

    def explain(self, context: Context, track: int) -> str:
        """ "Trending this week" when recent interactions, not the prior, carry this track."""
        scale = self._scale(context)
        recent = scale * float(self.decayed[track])
        from_prior = self.prior_strength * float(self.prior[track])
        return REASON_TRENDING if recent > from_prior else REASON_PRIOR

    # --- persistence --------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {
            "decayed": self.decayed,
            "prior": self.prior,
            "group_decayed": self.group_decayed,
        }
        meta = {
            "name": self.name,
            "half_life_s": self.half_life_s,
            "prior_strength": self.prior_strength,
            "by_group": self.by_group,
            "group_shrinkage": self.group_shrinkage,
            "prior_confidence": self.prior_confidence,
            "confidence_half": self.confidence_half,
            "n_tracks": self.n_tracks,
            "ref_time": self.ref_time,
            "groups": self.groups,
        }
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> PopularityPredictor:
        return cls(
            name=meta["name"],
            half_life_s=float(meta["half_life_s"]),
            prior_strength=float(meta["prior_strength"]),
            by_group=bool(meta["by_group"]),
            group_shrinkage=float(meta["group_shrinkage"]),
            prior_confidence=float(meta["prior_confidence"]),
            confidence_half=float(meta["confidence_half"]),
            n_tracks=int(meta["n_tracks"]),
            ref_time=float(meta["ref_time"]),
            groups={k: int(v) for k, v in meta["groups"].items()},
            decayed=arrays["decayed"],
            prior=arrays["prior"],
            group_decayed=arrays["group_decayed"],
        )
