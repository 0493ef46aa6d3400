"""A small synthetic dataset with a planted structure, shared by the evaluation tests."""

from __future__ import annotations

import numpy as np

from apps.recommend.engine.dataset import Dataset, ListenerFeatures, TrackFeatures

N_CLUSTERS = 8
ITEMS_PER_CLUSTER = 20
USERS = 320
ITEMS_PER_USER = 10


def planted_dataset(seed: int = 0) -> Dataset:
    """Each listener likes one cluster of items; the cluster follows their gender and age.

    Items inside a cluster are equally popular and clusters are the same size, so global
    popularity knows next to nothing, item-item models know the cluster from the history, and
    a demographic model knows it from gender x age.
    """
    rng = np.random.default_rng(seed)
    n_items = N_CLUSTERS * ITEMS_PER_CLUSTER
    users, items, stamps = [], [], []
    gender = np.empty(USERS, dtype=object)
    age = np.empty(USERS, dtype=np.float32)
    for u in range(USERS):
        cluster = u % N_CLUSTERS
        gender[u] = "m" if cluster % 2 == 0 else "f"
        age[u] = (20.0, 30.0, 40.0, 50.0)[cluster // 2] + rng.integers(0, 4)
        chosen = rng.choice(ITEMS_PER_CLUSTER, ITEMS_PER_USER, replace=False)
        for j, c in enumerate(chosen):
            users.append(u)
            items.append(cluster * ITEMS_PER_CLUSTER + int(c))
            stamps.append(1_000_000.0 + 60.0 * j)
    listeners = ListenerFeatures.empty(USERS)
    listeners.gender = gender
    listeners.age = age
    tracks = TrackFeatures.empty(n_items)
    tracks.genres = [[i // ITEMS_PER_CLUSTER] for i in range(n_items)]
    tracks.artist = np.arange(n_items, dtype=np.int64) // 5
    return Dataset(
        listener_ids=np.array([f"u{u}" for u in range(USERS)], dtype=object),
        track_ids=np.array([f"t{i}" for i in range(n_items)], dtype=object),
        user=np.asarray(users, dtype=np.int64),
        item=np.asarray(items, dtype=np.int64),
        weight=np.ones(len(users), dtype=np.float32),
        timestamp=np.asarray(stamps, dtype=np.float64),
        listeners=listeners,
        tracks=tracks,
    )
