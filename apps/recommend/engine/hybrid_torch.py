"""PyTorch side of the hybrid two-tower model: the module, the training loop and the export.

Only :meth:`HybridPredictor.fit` imports this module; serving runs on the NumPy export.

Training samples are "leave-K-out": each listener's interactions are shuffled every epoch and
cut into chunks of ``targets_per_sample``; a chunk is the set of targets and the rest of the
history is the input. Every interaction is a target once per epoch (listeners with more than
``max_user_items`` contribute a random subset). A batch holds whole listeners, so each
history is summed once and every sample's input is that sum minus its own chunk.

The loss is a sampled softmax over all targets in the batch (in-batch negatives), with the
log of each item's sampling probability subtracted from its logit (logQ correction) so that
popular items are not over-penalised for appearing as negatives more often.

The listener tower mean-pools the *input embeddings* of the history items (id + artist + main
genre rows of the shared table) rather than running the track tower on each of them: this is
what keeps an epoch over 2.4 M interactions at about 40 s on two CPU cores.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

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
            nn.init.normal_(cast(nn.Embedding, emb).weight, std=cfg.init_std)
        self.listener_mlp = nn.Sequential(
            nn.Linear(d + 4 * cfg.demo_dim + 1, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.out_dim),
        )

    def zero_padding_row(self) -> None:
        with torch.no_grad():
            self.table[0].zero_()

    def track_head(
        self, bag: torch.Tensor, year: torch.Tensor, pop: torch.Tensor, audio: torch.Tensor
    ) -> torch.Tensor:
        """Unit track vectors from the summed table rows of each track and its dense features."""
        x = torch.cat([bag, self.year(year), self.pop(pop), audio], dim=1)
        return F.normalize(self.track_mlp(x), dim=1)

    def listener_head(
        self, pooled: torch.Tensor, demo: torch.Tensor, hist_len: torch.Tensor
    ) -> torch.Tensor:
        """Unit listener vectors from the mean history input vector and demographics."""
        parts = [pooled] + [emb(demo[:, j]) for j, emb in enumerate(self.demo)]
        parts.append(torch.log1p(hist_len.to(pooled.dtype)).unsqueeze(1) / 4.0)
        return F.normalize(self.listener_mlp(torch.cat(parts, dim=1)), dim=1)

    def listener_forward(self, hist_rows: torch.Tensor, demo: torch.Tensor) -> torch.Tensor:
        """One listener from its history's table rows (L, HIST_WIDTH): the reference forward."""
        if len(hist_rows):
            pooled = self.table[hist_rows].sum(1).mean(0, keepdim=True)
        else:
            pooled = torch.zeros(1, self.table.shape[1])
        return self.listener_head(pooled, demo.view(1, -1), torch.tensor([len(hist_rows)]))


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


def epochs_for(targets_per_epoch: int, cfg: HybridConfig) -> int:
    """Epochs that fit ``cfg.target_budget`` targets, between 1 and ``cfg.max_epochs``."""
    wanted = round(cfg.target_budget / max(targets_per_epoch, 1))
    return int(min(max(wanted, 1), max(cfg.max_epochs, 1)))


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
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    if device.type == "cpu":
        torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    # The same data and seed must give the same model: with several threads some reductions
    # otherwise sum in a varying order, and the drift flips marginal blend weights from one
    # training to the next. About 15% slower on 2 cores; warn_only because a GPU may lack a
    # deterministic kernel for an op, and a warning beats a failed training there.
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        model = TwoTower(enc.n_rows, vocab.sizes, cfg).to(device)
        model.zero_padding_row()
        sparse_opt = torch.optim.SparseAdam([model.table], lr=cfg.lr_sparse)
        dense_params = [p for n, p in model.named_parameters() if n != "table"]
        dense_opt = torch.optim.Adam(dense_params, lr=cfg.lr)

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(device)

        year_b, pop_b, audio = t(enc.year_bucket), t(enc.pop_bucket), t(enc.audio)
        tower_w = t(enc.tower_w)
        hw, tw = enc.hist_idx.shape[1], enc.tower_idx.shape[1]
        demo_t = t(demo)
        counts = np.bincount(item, minlength=len(enc.has_id)).astype(np.float64)
        log_q = t(np.log(np.maximum(counts, 1.0) / max(1.0, counts.sum())).astype(np.float32))

        order0 = np.argsort(user, kind="stable")
        user_s, item_s, weight_s = user[order0], item[order0], weight[order0]
        lengths = np.bincount(user_s, minlength=n_listeners)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        active = np.flatnonzero(lengths > 0)
        # very long histories contribute a fresh random subset each epoch
        eff = np.minimum(lengths, cfg.max_user_items)
        k = cfg.targets_per_sample
        epochs = cfg.epochs or epochs_for(int(eff.sum()), cfg)
        losses: list[float] = []
        for epoch in range(epochs):
            # shuffle each listener's items (the sort on user keeps the groups together)
            perm = np.lexsort((rng.random(len(user_s)), user_s))
            items_p, w_p = item_s[perm], weight_s[perm]
            users_order = rng.permutation(active)
            total, n_batches = 0.0, 0
            model.train()
            # batches of whole listeners, each holding about batch_samples * k targets
            per_batch = max(1, int(cfg.batch_samples * k / max(1.0, eff[active].mean())))
            for b0 in range(0, len(users_order), per_batch):
                bu = users_order[b0 : b0 + per_batch]
                n_b = len(bu)
                pos, owner = _ragged_arange(eff[bu])
                rows = indptr[bu][owner] + pos
                items_b, w_b = items_p[rows], w_p[rows]
                chunk = pos // k
                # sample = (listener, chunk): consecutive ids in this ordering
                new = np.ones(len(rows), dtype=bool)
                new[1:] = (owner[1:] != owner[:-1]) | (chunk[1:] != chunk[:-1])
                sample_of = np.cumsum(new) - 1
                n_s = int(sample_of[-1]) + 1
                s_user = owner[new]
                s_k = np.bincount(sample_of, minlength=n_s)
                s_hist = eff[bu][s_user] - s_k

                # one gather of every table row this batch touches, so the sparse gradient
                # has one row per distinct table row
                all_rows = np.concatenate(
                    [enc.hist_idx[items_b].reshape(-1), enc.tower_idx[items_b].reshape(-1)]
                )
                uniq, inv = np.unique(all_rows, return_inverse=True)
                sub = F.embedding(t(uniq), model.table, sparse=True)
                inv_t = t(inv)
                m = len(items_b)
                # F.embedding rather than sub[...]: its backward is a fast sorted scatter
                hist_vec = F.embedding(inv_t[: m * hw], sub).view(m, hw, -1).sum(1)
                tgt = t(items_b)
                bag = torch.bmm(
                    tower_w[tgt].unsqueeze(1), F.embedding(inv_t[m * hw :], sub).view(m, tw, -1)
                ).squeeze(1)

                owner_t, sample_t = t(owner), t(sample_of)
                user_sum = torch.zeros(n_b, hist_vec.shape[1], device=device).index_add(
                    0, owner_t, hist_vec
                )
                chunk_sum = torch.zeros(n_s, hist_vec.shape[1], device=device).index_add(
                    0, sample_t, hist_vec
                )
                s_user_t = t(s_user)
                s_hist_t = t(s_hist)
                pooled = (user_sum[s_user_t] - chunk_sum) / s_hist_t.clamp(min=1).unsqueeze(1)
                u_vec = model.listener_head(pooled, demo_t[t(bu)][s_user_t], s_hist_t)
                v_vec = model.track_head(bag, year_b[tgt], pop_b[tgt], audio[tgt])
                logits = (u_vec @ v_vec.T) / cfg.temperature - log_q[tgt].unsqueeze(0)
                # a listener's own other items are not negatives for it
                same = s_user_t.unsqueeze(1) == owner_t.unsqueeze(0)
                neg_lse = torch.logsumexp(logits.masked_fill(same, -math.inf), dim=1)
                pos_logit = logits[sample_t, torch.arange(m, device=device)]
                lse = torch.logaddexp(neg_lse[sample_t], pos_logit)
                w_t = t(w_b)
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
            logger.info("hybrid epoch %d/%d loss %.4f", epoch + 1, epochs, losses[-1])
            if cfg.progress is not None:
                cfg.progress(epoch + 1, epochs, losses[-1])
        exported = _export(model, enc, losses, time.perf_counter() - started, device)
        if cfg.keep_module:
            exported.module = model.cpu()
        return exported
    finally:
        torch.set_num_threads(threads_before)
        torch.use_deterministic_algorithms(deterministic_before)


@torch.no_grad()
def _export(
    model: TwoTower, enc: TrackEncoding, losses: list[float], seconds: float, device: torch.device
) -> Exported:
    model.eval()
    n = len(enc.has_id)
    vecs = []
    for s in range(0, n, 16384):
        sl = slice(s, min(n, s + 16384))

        def t(a: np.ndarray, sl: slice = sl) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a[sl])).to(device)

        bag = (model.table[t(enc.tower_idx)] * t(enc.tower_w).unsqueeze(2)).sum(1)
        head = model.track_head(bag, t(enc.year_bucket), t(enc.pop_bucket), t(enc.audio))
        vecs.append(head.cpu().numpy())
    table = model.table.detach().cpu().numpy()
    hist_table = table[enc.hist_idx].sum(axis=1).astype(np.float32)
    lin1, lin2 = model.listener_mlp[0], model.listener_mlp[2]
    assert isinstance(lin1, nn.Linear) and isinstance(lin2, nn.Linear)
    return Exported(
        track_vectors=np.concatenate(vecs).astype(np.float32),
        hist_table=hist_table,
        demo_tables=[
            cast(nn.Embedding, e).weight.detach().cpu().numpy().astype(np.float32)
            for e in model.demo
        ],
        w1=lin1.weight.detach().cpu().numpy().astype(np.float32),
        b1=lin1.bias.detach().cpu().numpy().astype(np.float32),
        w2=lin2.weight.detach().cpu().numpy().astype(np.float32),
        b2=lin2.bias.detach().cpu().numpy().astype(np.float32),
        losses=losses,
        seconds=seconds,
    )
