"""The confidence-weighted ensemble that turns predictors' scores into recommendations.

For one listener every predictor scores every track and says how confident it is. Each
predictor's scores are standardised (z-scores over the catalogue; predictors whose raw scores
are heavy-tailed shares return log-scores) so they are comparable, and blended with weights ``confidence x quality`` (``quality`` is an offline factor per predictor,
refreshed by the evaluation; 1 by default). A predictor with confidence 0 drops out, which
gives the fallback chain model -> demographic -> popularity; if every predictor is silent the
catalogue prior (FMA popularity) answers, so the list is never empty while tracks remain.

Tracks already in the history are excluded and a per-artist cap is applied while walking the
ranking. Each :class:`Recommendation` carries the blended score, a confidence in [0, 1], a
reason taken from the predictor with the largest share, and every predictor's share.

Confidence: ``raw = mean predictor confidence x sigmoid((z - z0) / tau)`` where ``z`` is the
blended score, so it is monotone in the blended score for a given listener; a
:class:`Calibrator` fitted offline (binned + isotonic, against observed hits) maps ``raw`` to
a probability. The default calibrator is the identity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommend.engine._common import history_of, prior_distribution
from apps.recommend.engine.base import Predictor
from apps.recommend.engine.dataset import Context, Scores, TrackFeatures

PRIOR = "prior"
REASON_PRIOR = "Popular on FMA"
DEFAULT_MAX_PER_ARTIST = 2
Z_CLIP = 6.0  # a single predictor's z counted toward shares is capped here


@dataclass(frozen=True)
class Recommendation:
    """One recommended track (a position in the dataset's track arrays)."""

    track: int
    score: float
    confidence: float
    reason: str
    shares: dict[str, float]
    because: int | None = None  # the history track behind "Because you added ..."


@dataclass
class Calibrator:
    """A monotone map from raw confidence to calibrated confidence (identity by default)."""

    x: list[float] = field(default_factory=lambda: [0.0, 1.0])
    y: list[float] = field(default_factory=lambda: [0.0, 1.0])

    def __call__(self, raw: np.ndarray | float) -> np.ndarray:
        return np.clip(np.interp(raw, self.x, self.y), 0.0, 1.0)

    @classmethod
    def fit(cls, raw: np.ndarray, hit: np.ndarray, n_bins: int = 10) -> Calibrator:
        """Equal-count bins of ``raw``, their hit rates made monotone (pool adjacent violators)."""
        raw = np.asarray(raw, dtype=np.float64)
        hit = np.asarray(hit, dtype=np.float64)
        if len(raw) == 0:
            return cls()
        order = np.argsort(raw, kind="stable")
        bins = np.array_split(order, min(n_bins, len(raw)))
        xs = [float(raw[b].mean()) for b in bins if len(b)]
        ys = [float(hit[b].mean()) for b in bins if len(b)]
        ws = [float(len(b)) for b in bins if len(b)]
        # pool adjacent violators
        blocks: list[list[float]] = []  # [y, weight, n_points]
        for y, w in zip(ys, ws, strict=True):
            blocks.append([y, w, 1])
            while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
                y2, w2, n2 = blocks.pop()
                y1, w1, n1 = blocks.pop()
                blocks.append([(y1 * w1 + y2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
        fitted: list[float] = []
        for y, _, n in blocks:
            fitted.extend([y] * int(n))
        return cls(x=[0.0, *xs, 1.0], y=[fitted[0], *fitted, fitted[-1]])


@dataclass
class Catalog:
    """What the ensemble needs to know about tracks: artists, labels and the prior."""

    artist: np.ndarray  # int64, -1 unknown
    prior: np.ndarray  # float32 distribution over tracks
    titles: list[str] = field(default_factory=list)
    artist_names: list[str] = field(default_factory=list)

    @classmethod
    def from_tracks(cls, tracks: TrackFeatures | None, n_tracks: int) -> Catalog:
        tf = tracks if tracks is not None else TrackFeatures.empty(n_tracks)
        return cls(
            artist=np.asarray(tf.artist, dtype=np.int64),
            prior=prior_distribution(tf.popularity, n_tracks).astype(np.float32),
            titles=list(tf.titles),
            artist_names=list(tf.artist_names),
        )

    def label(self, track: int) -> str:
        title = self.titles[track] if track < len(self.titles) and self.titles[track] else ""
        a = int(self.artist[track]) if track < len(self.artist) else -1
        artist = self.artist_names[a] if 0 <= a < len(self.artist_names) else ""
        if title and artist:
            return f"{title} by {artist}"
        return title or artist or f"track {track}"


def _moments(scores: np.ndarray) -> tuple[float, float, bool]:
    """Mean, standard deviation and whether every score is finite, in two passes."""
    total = float(scores.sum(dtype=np.float64))
    if not math.isfinite(total):
        return 0.0, 0.0, False
    n = max(1, len(scores))
    mean = total / n
    s32 = np.asarray(scores, dtype=np.float32)
    var = max(0.0, float(np.dot(s32, s32)) / n - mean * mean)
    sd = math.sqrt(var)
    return mean, (sd if sd > 1e-6 * max(1.0, abs(mean)) else 0.0), True


def _zscore(scores: np.ndarray) -> np.ndarray:
    """Z-scores of a vector with non-finite entries (rare path: these sink to the bottom)."""
    s = np.asarray(scores, dtype=np.float32)
    finite = np.isfinite(s)
    if not finite.all():
        s = np.where(finite, s, np.float32(np.nan))
        mean, std = float(np.nanmean(s)), float(np.nanstd(s))
        s = np.nan_to_num(s, nan=float(mean - 10 * (std or 1.0)))
    else:
        mean, std = float(s.mean()), float(s.std())
    if std <= 1e-12:
        return np.zeros_like(s)
    z = (s - np.float32(mean)) * np.float32(1.0 / std)
    return np.clip(z, -Z_CLIP, Z_CLIP, out=z)


@dataclass
class Ensemble:
    """Blends predictors into ranked, explained, artist-capped recommendations."""

    predictors: Sequence[Predictor]
    catalog: Catalog
    quality: dict[str, float] = field(default_factory=dict)
    max_per_artist: int | None = DEFAULT_MAX_PER_ARTIST
    calibrator: Calibrator = field(default_factory=Calibrator)
    z0: float = 2.0  # blended z at which the raw confidence is half the predictors' confidence
    tau: float = 1.0

    @property
    def n_tracks(self) -> int:
        return len(self.catalog.prior)

    def set_quality(self, name: str, factor: float) -> None:
        """Set a predictor's offline-quality factor (>= 0; 0 switches it off)."""
        self.quality[name] = max(0.0, float(factor))

    def recommend(self, context: Context, n: int = 10) -> list[Recommendation]:
        answers = [(p, p.score(context)) for p in self.predictors]
        return self._rank(context, answers, n)

    def recommend_many(
        self, contexts: Sequence[Context], n: int = 10
    ) -> list[list[Recommendation]]:
        """Several contexts at once; predictors with ``score_many`` score them in one pass."""
        per_predictor: list[list[Scores]] = []
        for p in self.predictors:
            many = getattr(p, "score_many", None)
            per_predictor.append(
                many(list(contexts)) if many is not None else [p.score(c) for c in contexts]
            )
        return [
            self._rank(c, [(p, per_predictor[k][j]) for k, p in enumerate(self.predictors)], n)
            for j, c in enumerate(contexts)
        ]

    def _rank(
        self, context: Context, answers: list[tuple[Predictor, Scores]], n: int
    ) -> list[Recommendation]:
        names: list[str] = []
        vectors: list[np.ndarray] = []
        weights: list[float] = []
        confs: list[float] = []
        used: list[Predictor | None] = []
        for p, ans in answers:
            w = float(ans.confidence) * self.quality.get(p.name, 1.0)
            if w <= 0 or len(ans.scores) != self.n_tracks:
                continue
            names.append(p.name)
            vectors.append(ans.scores)
            weights.append(w)
            confs.append(float(ans.confidence))
            used.append(p)
        if not vectors:  # nobody speaks: the catalogue prior
            names, vectors, used = [PRIOR], [self.catalog.prior], [None]
            weights, confs = [1.0], [0.0]
        wn = np.asarray(weights, dtype=np.float64) / sum(weights)
        # blended z = sum_p w_p (s_p - mu_p) / sd_p: accumulated as sum_p (w_p / sd_p) s_p and
        # the constant subtracted at the end, so each vector is read about four times in all
        stats = [_moments(v) for v in vectors]
        vectors = [v if st[2] else _zscore(v) for v, st in zip(vectors, stats, strict=True)]
        stats = [st if st[2] else (0.0, 1.0, True) for st in stats]
        blended = np.zeros(self.n_tracks, dtype=np.float32)
        tmp = np.empty(self.n_tracks, dtype=np.float32)
        offset = 0.0
        for w, v, (mu, sd, _) in zip(wn, vectors, stats, strict=True):
            if sd <= 0:
                continue
            np.multiply(v, np.float32(w / sd), out=tmp)
            blended += tmp
            offset += w * mu / sd
        hist = history_of(context)
        hist = hist[(hist >= 0) & (hist < self.n_tracks)]
        blended[hist] = -np.inf
        top = self._top(blended, n, excluded=len(np.unique(hist)))
        mean_conf = float(np.dot(wn, confs))
        recs: list[Recommendation] = []
        for i in top:
            zs = [
                min(Z_CLIP, (float(v[i]) - mu) / sd) if sd > 0 else 0.0
                for v, (mu, sd, _) in zip(vectors, stats, strict=True)
            ]
            contrib = np.array([w * max(z, 0.0) for w, z in zip(wn, zs, strict=True)])
            shares = contrib / contrib.sum() if contrib.sum() > 0 else wn
            lead = int(np.argmax(shares))
            reason, because = self._explain(used[lead], context, int(i))
            z_i = float(blended[i]) - offset
            raw = mean_conf / (1.0 + math.exp(-(z_i - self.z0) / self.tau))
            recs.append(
                Recommendation(
                    track=int(i),
                    score=z_i,
                    confidence=float(self.calibrator(raw)),
                    reason=reason,
                    shares={nm: round(float(s), 4) for nm, s in zip(names, shares, strict=True)},
                    because=because,
                )
            )
        return recs

    def _top(self, blended: np.ndarray, n: int, excluded: int) -> list[int]:
        """The best ``n`` tracks under the per-artist cap (``-inf`` = excluded)."""
        available = self.n_tracks - excluded
        if n <= 0 or available <= 0:
            return []
        cap = self.max_per_artist
        k = min(available, n if cap is None else 4 * n + 20)
        while True:
            if k < self.n_tracks:
                cand = np.argpartition(blended, self.n_tracks - k)[self.n_tracks - k :]
            else:
                cand = np.arange(self.n_tracks)
            cand = cand[np.argsort(-blended[cand], kind="stable")]
            cand = cand[np.isfinite(blended[cand])]
            if cap is None:
                return [int(i) for i in cand[:n]]
            chosen: list[int] = []
            per_artist: dict[int, int] = {}
            for i in cand:
                a = int(self.catalog.artist[i])
                if a >= 0 and per_artist.get(a, 0) >= cap:
                    continue
                per_artist[a] = per_artist.get(a, 0) + 1
                chosen.append(int(i))
                if len(chosen) == n:
                    return chosen
            if k >= available:
                # the cap cannot be met (a tiny catalogue): a capped list, never an empty one
                return chosen or [int(i) for i in cand[:n]]
            k = min(available, 4 * k)

    def _explain(self, p: Predictor | None, context: Context, track: int) -> tuple[str, int | None]:
        if p is None:
            return REASON_PRIOR, None
        because_fn = getattr(p, "because", None)
        if because_fn is not None:
            b = because_fn(context, track)
            if b is not None:
                return f"Because you added {self.catalog.label(b)}", b
        explain = getattr(p, "explain", None)
        if explain is not None:
            return str(explain(context, track)), None
        return REASON_PRIOR, None

    # --- persistence ----------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {
            "quality": self.quality,
            "max_per_artist": self.max_per_artist,
            "calibrator": {"x": self.calibrator.x, "y": self.calibrator.y},
            "z0": self.z0,
            "tau": self.tau,
            "order": [p.name for p in self.predictors],
        }
