"""PyTorch side of the hybrid two-tower model: the module, the training loop and the export.

Only :meth:`HybridPredictor.fit` imports this module; serving runs on the NumPy export.

Training samples are "leave-K-out": each listener's interactions are shuffled every epoch and
cut into chunks of ``targets_per_sample``; a chunk is the set of targets and the rest of the
history (at most ``max_history`` items) is the input. Every interaction is a target once per
epoch. The loss is a sampled softmax over all targets in the batch (in-batch negatives), with
the log of each item's sampling probability subtracted from its logit (logQ correction) so
that popular items are not over-penalised for appearing as negatives more often.

The listener tower pools the *input embeddings* of the history items (id + artist + main
genre rows of the shared table) rather than running the track tower on each of them: this is
what keeps an epoch over 2.4 M interactions within seconds on two CPU cores.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from apps.recommend.engine.hybrid_features import (
    N_AUDIO,
    N_POP_BUCKETS,
    N_YEAR_BUCKETS,
    DemographicVocab,
    TrackEncoding,
)

if TYPE_CHECKING:
    from apps.recommend.engine.model import HybridConfig

logger = logging.getLogger(__name__)


class TwoTower(nn.Module):
    """The shared embedding table, the track tower and the listener tower."""

    def __init__(self, n_rows: int, demo_sizes: tuple[int, int, int, int], cfg: HybridConfig):
        super().__init__()
        d = cfg.dim
        self.table = nn.Parameter(torch.randn(n_rows, d) * cfg.init_std)
        self.year = nn.Embedding(N_YEAR_BUCKETS, cfg.small_dim)
        self.pop = nn.Embedding(N_POP_BUCKETS, cfg.small_dim)
        nn.init.normal_(self.year.weight, std=cfg.init_std)
        nn.init.normal_(self.pop.weight, std=cfg.init_std)
        self.track_mlp = nn.Sequential(
            nn.Linear(d + 2 * cfg.small_dim + 2 * N_AUDIO, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.out_dim),
        )
        self.demo = nn.ModuleList([nn.Embedding(n, cfg.demo_dim) for n in demo_sizes])
        for emb in self.demo:
            nn.init.normal_(emb.weight, std=cfg.init_std)
        self.listener_mlp = nn.Sequential(
            nn.Linear(d + 4 * cfg.demo_dim + 1, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.out_dim),
        )

    def zero_padding_row(self) -> None:
        with torch.no_grad():
            self.table[0].zero_()

    def tracks(
        self,
        idx: torch.Tensor,
        w: torch.Tensor,
        year: torch.Tensor,
        pop: torch.Tensor,
        audio: torch.Tensor,
    ) -> torch.Tensor:
        bag = F.embedding_bag(
            idx, self.table, per_sample_weights=w, mode="sum", sparse=True, padding_idx=0
        )
        x = torch.cat([bag, self.year(year), self.pop(pop), audio], dim=1)
        return F.normalize(self.track_mlp(x), dim=1)

    def listeners(
        self,
        hist_idx: torch.Tensor,
        hist_offsets: torch.Tensor,
        hist_w: torch.Tensor,
        hist_len: torch.Tensor,
        demo: torch.Tensor,
    ) -> torch.Tensor:
        pooled = F.embedding_bag(
            hist_idx,
            self.table,
            hist_offsets,
            per_sample_weights=hist_w,
            mode="sum",
            sparse=True,
            padding_idx=0,
        )
        parts = [pooled] + [emb(demo[:, j]) for j, emb in enumerate(self.demo)]
        parts.append(torch.log1p(hist_len.to(pooled.dtype)).unsqueeze(1) / 4.0)
        return F.normalize(self.listener_mlp(torch.cat(parts, dim=1)), dim=1)


@dataclass
class Exported:
    """Everything serving needs, as NumPy arrays."""

    track_vectors: np.ndarray  # float32 (n_tracks, out_dim), unit rows
    hist_table: np.ndarray  # float32 (n_tracks, dim): pooled input vector of each track
    demo_tables: list[np.ndarray]  # age, gender, country, occupation embeddings
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    losses: list[float]
    seconds: float
    module: TwoTower | None = None  # the trained module, only when ``cfg.keep_module``


def _ragged_arange(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For lengths [2, 3] -> positions [0, 1, 0, 1, 2] and owners [0, 0, 1, 1, 1]."""
    total = int(lengths.sum())
    owners = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    return np.arange(total) - np.repeat(starts, lengths), owners


def train(
    *,
    user: np.ndarray,
    item: np.ndarray,
    weight: np.ndarray,
    n_listeners: int,
    enc: TrackEncoding,
    demo: np.ndarray,
    vocab: DemographicVocab,
    cfg: HybridConfig,
) -> Exported:
    """Train the two towers and export them to NumPy."""
    started = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = torch.device("cuda" if torch.cuda.is_available() and cfg.use_gpu else "cpu")
    threads_before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    try:
        model = TwoTower(enc.n_rows, vocab.sizes, cfg).to(device)
        model.zero_padding_row()
        sparse_opt = torch.optim.SparseAdam([model.table], lr=cfg.lr_sparse)
        dense_params = [p for n, p in model.named_parameters() if n != "table"]
        dense_opt = torch.optim.Adam(dense_params, lr=cfg.lr)

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(device)

        tower_idx, tower_w = t(enc.tower_idx), t(enc.tower_w)
        year_b, pop_b, audio = t(enc.year_bucket), t(enc.pop_bucket), t(enc.audio)
        hist_rows = enc.hist_idx
        demo_t = t(demo)
        counts = np.bincount(item, minlength=len(enc.has_id)).astype(np.float64)
        log_q = t(np.log(np.maximum(counts, 1.0) / max(1.0, counts.sum())).astype(np.float32))

        order0 = np.argsort(user, kind="stable")
        user_s, item_s, weight_s = user[order0], item[order0], weight[order0]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(user_s, minlength=n_listeners))])
        lengths = np.diff(indptr)
        k = cfg.targets_per_sample
        losses: list[float] = []
        for epoch in range(cfg.epochs):
            # shuffle each listener's items (stable sort on user keeps the groups together)
            perm = np.lexsort((rng.random(len(user_s)), user_s))
            items_p, w_p = item_s[perm], weight_s[perm]
            pos = np.arange(len(user_s)) - indptr[user_s]
            is_start = pos % k == 0
            s_first = np.flatnonzero(is_start)
            s_user = user_s[s_first]
            s_chunk = pos[s_first] // k
            s_k = np.minimum(k, lengths[s_user] - s_chunk * k)
            sample_order = rng.permutation(len(s_first))
            total, n_batches = 0.0, 0
            model.train()
            for b0 in range(0, len(sample_order), cfg.batch_samples):
                sel = sample_order[b0 : b0 + cfg.batch_samples]
                bu, bc, bk, bfirst = s_user[sel], s_chunk[sel], s_k[sel], s_first[sel]
                # targets
                tj, towner = _ragged_arange(bk)
                tgt_rows = bfirst[towner] + tj
                tgt_items = items_p[tgt_rows]
                tgt_w = w_p[tgt_rows]
                # histories: the listener's other items, skipping the target chunk
                h_len = np.minimum(lengths[bu] - bk, cfg.max_history)
                hj, howner = _ragged_arange(h_len)
                skip = hj >= bc[howner] * k
                hpos = hj + skip * bk[howner]
                h_items = items_p[indptr[bu][howner] + hpos]
                h_idx = hist_rows[h_items].reshape(-1)
                per_item = (1.0 / np.maximum(h_len, 1))[howner].astype(np.float32)
                h_w = np.repeat(per_item, hist_rows.shape[1])
                offsets = np.concatenate([[0], np.cumsum(h_len * hist_rows.shape[1])[:-1]])

                tgt = t(tgt_items)
                u_vec = model.listeners(t(h_idx), t(offsets), t(h_w), t(h_len), demo_t[t(bu)])
                v_vec = model.tracks(tower_idx[tgt], tower_w[tgt], year_b[tgt], pop_b[tgt], audio[tgt])
                logits = (u_vec @ v_vec.T) / cfg.temperature - log_q[tgt].unsqueeze(0)
                owner_t = t(towner)
                same = owner_t.unsqueeze(0) == torch.arange(len(bu), device=device).unsqueeze(1)
                # each listener's other targets are not negatives for it
                neg_lse = torch.logsumexp(logits.masked_fill(same, -math.inf), dim=1)
                pos_logit = logits[owner_t, torch.arange(len(tgt_items), device=device)]
                lse = torch.logaddexp(neg_lse[owner_t], pos_logit)
                w_t = t(tgt_w)
                loss = ((lse - pos_logit) * w_t).sum() / w_t.sum()

                sparse_opt.zero_grad()
                dense_opt.zero_grad()
                loss.backward()
                sparse_opt.step()
                dense_opt.step()
                model.zero_padding_row()
                total += float(loss.detach())
                n_batches += 1
            losses.append(total / max(1, n_batches))
            logger.info("hybrid epoch %d/%d loss %.4f", epoch + 1, cfg.epochs, losses[-1])
            if cfg.progress is not None:
                cfg.progress(epoch + 1, cfg.epochs, losses[-1])
        exported = _export(model, enc, losses, time.perf_counter() - started, device)
        if cfg.keep_module:
            exported.module = model.cpu()
        return exported
    finally:
        torch.set_num_threads(threads_before)


@torch.no_grad()
def _export(
    model: TwoTower, enc: TrackEncoding, losses: list[float], seconds: float, device: torch.device
) -> Exported:
    model.eval()
    n = len(enc.has_id)
    vecs = []
    for s in range(0, n, 16384):
        sl = slice(s, min(n, s + 16384))

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a[sl])).to(device)

        vecs.append(
            model.tracks(t(enc.tower_idx), t(enc.tower_w), t(enc.year_bucket),
                         t(enc.pop_bucket), t(enc.audio)).cpu().numpy()  # fmt: skip
        )
    table = model.table.detach().cpu().numpy()
    hist_table = table[enc.hist_idx].sum(axis=1).astype(np.float32)
    lin1, lin2 = model.listener_mlp[0], model.listener_mlp[2]
    assert isinstance(lin1, nn.Linear) and isinstance(lin2, nn.Linear)
    return Exported(
        track_vectors=np.concatenate(vecs).astype(np.float32),
        hist_table=hist_table,
        demo_tables=[e.weight.detach().cpu().numpy().astype(np.float32) for e in model.demo],  # type: ignore[union-attr]
        w1=lin1.weight.detach().cpu().numpy().astype(np.float32),
        b1=lin1.bias.detach().cpu().numpy().astype(np.float32),
        w2=lin2.weight.detach().cpu().numpy().astype(np.float32),
        b2=lin2.bias.detach().cpu().numpy().astype(np.float32),
        losses=losses,
        seconds=seconds,
    )
