"""Fig. 1D's embedding: t-SNE of trajectories, reproducible across BLAS kernels, and how well
classes separate in it. Tensors or arrays in, arrays and named results out; the residual
statistics themselves are in :mod:`resdyn.core.dynamics`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def tsne_embedding(x: torch.Tensor | np.ndarray, *, seed: int = 0, perplexity: float = 30.0,
                   n_jobs: int = 1, **options) -> np.ndarray:
    """A 2-D openTSNE embedding of ``x`` (n, features) -> (n, 2), reproducible for a given seed.

    ``x`` may also be (n, *shape), e.g. whole residual trajectories (n, T, *shape): each sample is
    flattened to one vector of prod(shape) features, (n, F) (as each layer's output is flattened to
    (n, T, F) in :mod:`resdyn.core.dynamics`). ``options`` go to :class:`openTSNE.TSNE` (e.g. ``n_iter``,
    ``initialization``; default :func:`pca_initialization`).

    The affinities come from exact Euclidean distances computed by torch in float64 (``metric="precomputed"``),
    and the initialization from a torch PCA: neither goes through NumPy's BLAS, so the embedding does not
    depend on which OpenBLAS kernel the processor or ``OPENBLAS_CORETYPE`` selects (through NumPy's BLAS, the
    same inputs give embeddings that differ by up to 28 embedding units between two kernels of one machine).
    """
    from openTSNE import TSNE

    data = np.asarray(x.detach().cpu().numpy() if torch.is_tensor(x) else x, dtype=np.float64)
    if data.ndim < 2 or len(data) == 0:
        raise ValueError(f"x must have shape (n, features) or (n, *shape) with n >= 1, got {data.shape}.")
    if data.ndim > 2:
        data = data.reshape(len(data), -1)
    if not 0 < perplexity < (len(data) - 1) / 3:
        raise ValueError(f"perplexity must be in (0, (n - 1) / 3) = (0, {(len(data) - 1) / 3:.1f}), got {perplexity!r}.")
    options.setdefault("initialization", pca_initialization(data, seed=seed))
    if "metric" not in options:  # exact Euclidean distances, computed here (see pca_initialization for why)
        x = torch.from_numpy(data)
        data = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist").numpy()
        options["metric"] = "precomputed"
    tsne = TSNE(n_components=2, perplexity=perplexity, random_state=seed, n_jobs=n_jobs, verbose=False, **options)
    return np.asarray(tsne.fit(data))


def pca_initialization(data: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """openTSNE's default PCA initialization of ``data`` (n, features) -> (n, 2), with the PCA computed by
    torch in float64 instead of scikit-learn: scikit-learn's goes through NumPy's OpenBLAS, whose kernel
    depends on the processor and on ``OPENBLAS_CORETYPE``, and t-SNE amplifies those last digits into
    visibly different embeddings. Signs as scikit-learn's PCA (``svd_flip`` on the components: each
    component's largest loading positive), then openTSNE's own rescaling (std 1e-4) and jitter (drawn from ``seed``)."""
    from openTSNE.initialization import jitter, rescale

    x = torch.from_numpy(np.asarray(data, dtype=np.float64))
    u, s, vh = torch.linalg.svd(x - x.mean(dim=0), full_matrices=False)
    u, s, vh = u[:, :2], s[:2], vh[:2]
    signs = torch.sign(vh.gather(1, vh.abs().argmax(dim=1, keepdim=True))).squeeze(1)
    embedding = (u * s * signs).numpy().copy()
    rescale(embedding, inplace=True)
    jitter(embedding, inplace=True, random_state=seed)
    return np.ascontiguousarray(embedding)


@dataclass(frozen=True)
class Separation:
    """How well classes separate in an embedding: kNN accuracy (k neighbours, cross-validated)
    and the silhouette score (-1..1; above about 0.5 means well-separated clusters)."""

    knn_accuracy: float
    silhouette: float
    k: int


def cluster_separation(embedding: np.ndarray, labels, *, k: int = 10, folds: int = 5, seed: int = 0) -> Separation:
    """kNN accuracy (stratified ``folds``-fold cross-validation) and silhouette of ``embedding`` (n, d)."""
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    emb = np.asarray(embedding)
    y = np.asarray(labels.cpu() if torch.is_tensor(labels) else labels)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    acc = cross_val_score(KNeighborsClassifier(n_neighbors=k), emb, y, cv=cv).mean()
    return Separation(knn_accuracy=float(acc), silhouette=float(silhouette_score(emb, y)), k=k)
