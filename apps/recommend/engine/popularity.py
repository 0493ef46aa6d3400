"""Time-decayed popularity blended with the catalogue's own popularity (FMA listens/favorites).

An interaction at time ``t`` counts ``weight * 2 ** (-(ref - t) / half_life)`` where ``ref`` is
the data's latest time. The half-life is given, or (the default) chosen at fit time from
``HALF_LIFE_GRID_S``: the latest items of some listeners are held out and the half-life whose
counts rank them best (NDCG@10) wins. Which one wins depends on the data: a site whose
listeners follow what is new gets days, a catalogue of evergreen favourites gets years.

The decayed counts ``d`` are blended with the prior ``q`` (a
distribution over tracks) as ``(d + k q) / (D + k)``: with no interactions this is the prior, so
the predictor answers from day one. Requests at a later ``now`` scale every count by the same
factor, which shifts weight toward the prior as the data ages. Optionally the same is kept per
age band x gender group, shrunk toward the global vector. Refitting is a few bincounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommend.engine._common import (
    age_band,
    age_bands,
    hold_out_items,
    ndcg_of_hits,
    norm_str,
    prior_distribution,
    take,
)
from apps.recommend.engine.dataset import Context, Dataset, Scores

DAY_S = 86_400.0
#: Half-lives tried when none is given; the last one is "no decay" in practice.
HALF_LIFE_GRID_S: tuple[float, ...] = (1 * DAY_S, 7 * DAY_S, 30 * DAY_S, 180 * DAY_S, 3650 * DAY_S)
#: Used when there is too little data to choose.
DEFAULT_HALF_LIFE_S = 7 * DAY_S
#: Up to this half-life the counts describe what is new, and the reason says "trending".
TRENDING_MAX_HALF_LIFE_S = 14 * DAY_S
# Half-life tuning: a share of the listeners only, since hiding everyone's latest items would
# hide the present.
TUNING_LISTENERS = 500
TUNING_MIN_LISTENERS = 20
TUNING_SHARE = 0.2
TUNING_MIN_HISTORY = 5
REASON_TRENDING = "Trending this week"
REASON_POPULAR = "Popular with listeners"
REASON_PRIOR = "Popular on FMA"


@dataclass
class PopularityPredictor:
    """Recent popularity with a catalogue prior; cheap to refresh."""

    name: str = "popularity"
    half_life_s: float | None = None  # None: chosen from half_life_grid at fit time
    half_life_grid: tuple[float, ...] = HALF_LIFE_GRID_S
    prior_strength: float = 50.0  # interactions' worth of prior
    by_group: bool = False  # keep per (age band, gender) vectors as well
    group_shrinkage: float = 20.0  # decayed interactions' worth of global popularity
    prior_confidence: float = 0.1  # confidence with no interactions at all
    confidence_half: float = 500.0  # decayed mass at which the data half-trusts itself

    n_tracks: int = 0
    ref_time: float = 0.0
    chosen_half_life_s: float = DEFAULT_HALF_LIFE_S
    tuning: dict[str, float] = field(default_factory=dict)  # half-life (days) -> NDCG@10
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
        self.chosen_half_life_s = (
            float(self.half_life_s)
            if self.half_life_s is not None
            else self._choose_half_life(dataset)
        )
        decay = np.exp2(-(self.ref_time - ts) / self.chosen_half_life_s) if len(ts) else ts
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

    def _choose_half_life(self, dataset: Dataset) -> float:
        """The half-life whose decayed counts best rank listeners' latest items (ties: shorter).

        Some listeners (``TUNING_SHARE``, at most ``TUNING_LISTENERS``) lose their latest items
        (``hold_out_items``); the counts of everything else, decayed to the latest remaining
        time, rank the catalogue minus each listener's own remaining items, and NDCG@10 on the
        held-out ones decides.
        """
        self.tuning = {}
        held = hold_out_items(
            dataset,
            np.random.default_rng(0),
            share=TUNING_SHARE,
            max_listeners=TUNING_LISTENERS,
            min_listeners=TUNING_MIN_LISTENERS,
            min_history=TUNING_MIN_HISTORY,
        )
        if held is None or len(self.half_life_grid) == 0:
            return DEFAULT_HALF_LIFE_S
        train, contexts, targets = held
        shown_sets = [np.unique(context.history) for context in contexts]
        ts = np.asarray(train.timestamp, dtype=np.float64)
        items, weights = train.item, train.weight.astype(np.float64)
        ref = float(ts.max())
        depth = 10 + max(len(s) for s in shown_sets)
        best, best_ndcg = DEFAULT_HALF_LIFE_S, -1.0
        for half_life in sorted(self.half_life_grid):
            decayed = np.bincount(
                items, weights=weights * np.exp2(-(ref - ts) / half_life), minlength=self.n_tracks
            )
            k = min(depth, self.n_tracks)
            head = np.argpartition(-decayed, k - 1)[:k]
            head = head[np.argsort(-decayed[head], kind="stable")]
            total = 0.0
            for shown, target in zip(shown_sets, targets, strict=True):
                top = head[np.isin(head, shown, invert=True)][:10]
                total += ndcg_of_hits(np.isin(top, target), len(target))
            ndcg = total / len(targets)
            self.tuning[f"{half_life / DAY_S:g}d"] = round(ndcg, 6)
            if ndcg > best_ndcg + 1e-9:
                best, best_ndcg = half_life, ndcg
        return float(best)

    def chosen_settings(self) -> dict[str, str]:
        """What fit() chose (for the evaluation report)."""
        return {"half_life": f"{self.chosen_half_life_s / DAY_S:g}d"}

    def _scale(self, context: Context) -> float:
        if context.now is None or context.now <= self.ref_time:
            return 1.0
        return float(np.exp2(-(context.now - self.ref_time) / self.chosen_half_life_s))

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
        """Listeners' interactions or the catalogue prior, whichever carries this track.

        "Trending this week" only when the half-life is short enough for the counts to say
        what is new; with a long one they say what is popular.
        """
        scale = self._scale(context)
        recent = scale * float(self.decayed[track])
        from_prior = self.prior_strength * float(self.prior[track])
        if recent <= from_prior:
            return REASON_PRIOR
        trending = self.chosen_half_life_s <= TRENDING_MAX_HALF_LIFE_S
        return REASON_TRENDING if trending else REASON_POPULAR

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
            "half_life_grid": list(self.half_life_grid),
            "chosen_half_life_s": self.chosen_half_life_s,
            "tuning": self.tuning,
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
            half_life_s=None if meta["half_life_s"] is None else float(meta["half_life_s"]),
            half_life_grid=tuple(float(x) for x in meta.get("half_life_grid", HALF_LIFE_GRID_S)),
            chosen_half_life_s=float(meta.get("chosen_half_life_s", DEFAULT_HALF_LIFE_S)),
            tuning={str(k): float(v) for k, v in meta.get("tuning", {}).items()},
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
