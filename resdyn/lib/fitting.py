"""Training any classifier ``nn.Module`` on tensors, until the validation loss stops improving.

The paper's own nets train through :mod:`resdyn.core.train` (its regime, checkpoints per epoch, the
paper's adaptive loop on a DenseResNet). This module is the plain counterpart for the zoo's models
(:mod:`resdyn.lib.zoo`, the MNIST-1D study): Adam with a fixed learning rate and minibatches drawn from
``seed``, the validation loss after every epoch, and early stopping with a patience. The net
returned is the one of the best validation loss (its weights restored).

With ``adaptive`` the paper's rule runs after every epoch (:func:`resdyn.core.pruning.check_depth` with
:data:`resdyn.lib.surgery.ANY`: while the criterion on the probe is below the threshold, the last
block goes); a removal starts the patience and the best-so-far again, at the new depth, and a
fresh Adam on the remaining weights (the paper says nothing of the optimizer across a removal).

:class:`NetJob` names one such run; :func:`train_job` trains it once and keeps the result in
the cache (``<cache>/fitting/<key>/final.pt``, written atomically), so a second call, from this
process or a worker, reads it. A file there that cannot be read or holds another job's net is set
aside with a :class:`resdyn.core.store.CacheWarning` (:func:`resdyn.core.store.discard`) and the net trained again.
"""
from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from resdyn.core import paths, store
from resdyn.lib import zoo
from resdyn.core.data import Dataset, Split
from resdyn.lib.data1d import Mnist1dSpec
from resdyn.core.model import check_seed
from resdyn.core.pruning import AdaptiveDepthConfig, check_depth
from resdyn.lib.surgery import ANY, stage_length

#: Bump when the training code changes what a cached net would be.
CACHE_VERSION = 1


@dataclass(frozen=True)
class FitConfig:
    """Adam at ``lr`` on minibatches of ``batch_size``; at most ``max_epochs`` epochs; stop when the
    validation loss has not improved for ``patience`` epochs (improved: lower by more than ``min_delta``)."""

    lr: float = 1e-3
    batch_size: int = 128
    max_epochs: int = 100
    patience: int = 10
    min_delta: float = 1e-4
    weight_decay: float = 0.0

    def __post_init__(self):
        for name in ("batch_size", "max_epochs", "patience"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}.")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}.")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FitRecord:
    """A finished run: the net (best validation loss), one dict per epoch in ``history`` (epoch,
    train_loss, val_loss, val_acc, depth, criterion where the adaptive rule ran), the epoch whose
    weights were kept, the layers removed (epoch, depth after, criterion) and the wall time."""

    model: nn.Module
    history: list[dict]
    best_epoch: int
    removed: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def depth(self) -> int:
        return stage_length(self.model)

    @property
    def capped(self) -> bool:
        """Whether the run stopped at its epoch cap rather than by its patience (:func:`at_cap`)."""
        return at_cap(self.history)


def at_cap(history: list[dict]) -> bool:
    """Whether a run whose epochs are ``history`` stopped at its epoch cap rather than by its patience: the
    last epoch carries no ``stopped`` flag (:func:`fit_classifier` sets it where patience ran out)."""
    return not history[-1].get("stopped", False)


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, *, batch_size: int = 2000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on ``split``, in eval mode (flags restored)."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        loss, correct = 0.0, 0
        for i in range(0, len(split), batch_size):
            logits = model(split.x[i:i + batch_size])
            loss += float(F.cross_entropy(logits, split.y[i:i + batch_size], reduction="sum"))
            correct += int((logits.argmax(1) == split.y[i:i + batch_size]).sum())
    finally:
        for m, flag in flags:
            m.train(flag)
    return loss / len(split), correct / len(split)


def fit_classifier(model: nn.Module, data: Dataset, config: FitConfig = FitConfig(), *, seed: int = 0,
                   adaptive: AdaptiveDepthConfig | None = None, probe: torch.Tensor | None = None,
                   copy_model: bool = True) -> FitRecord:
    """Train ``model`` on ``data.train``, early-stopped on ``data.val``; see the module docstring.

    Args:
        seed: draws the minibatches (the weights come with the model).
        adaptive: run the paper's depth rule after every epoch on ``probe`` (inputs, e.g. a subset
            of the training set; required with ``adaptive``).
        copy_model: train a copy (default; the model passed in is untouched) or the model itself.
    """
    check_seed(seed)
    if adaptive is not None and probe is None:
        raise ValueError("adaptive needs probe= (the inputs the criterion is measured on).")
    model = copy.deepcopy(model) if copy_model else model
    generator = torch.Generator().manual_seed(seed)
    optimizer = _adam(model, config)
    best = (float("inf"), copy.deepcopy(model.state_dict()), 0)
    history, removed, waited, start = [], [], 0, time.perf_counter()
    for epoch in range(1, config.max_epochs + 1):
        train_loss = _epoch(model, optimizer, data.train, config, generator)
        val_loss, val_acc = evaluate(model, data.val)
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc,
               "depth": stage_length(model)}
        if val_loss < best[0] - config.min_delta:
            best, waited = (val_loss, copy.deepcopy(model.state_dict()), epoch), 0
        else:
            waited += 1
        if adaptive is not None:
            check = check_depth(model, probe, adaptive, epoch=epoch, rule=ANY)
            row["criterion"] = check.criterion
            if check.removed:
                model = check.model
                removed += [{"epoch": epoch, "depth_after": r.depth_after, "criterion": r.criterion}
                            for r in check.removed]
                optimizer = _adam(model, config)
                val_loss, _ = evaluate(model, data.val)
                best, waited = (val_loss, copy.deepcopy(model.state_dict()), epoch), 0
        history.append(row)
        if waited >= config.patience:
            row["stopped"] = True
            break
    model.load_state_dict(best[1])
    return FitRecord(model, history, best[2], removed, time.perf_counter() - start)


@dataclass(frozen=True)
class HealConfig:
    """The healing fine-tune after a removal, the same for every strategy: ``steps`` Adam steps at
    ``lr`` on minibatches of ``batch_size`` training samples, every remaining weight trainable
    (``steps=0``: no healing)."""

    steps: int = 50
    lr: float = 1e-3
    batch_size: int = 128


def heal(model: nn.Module, data: Dataset, *, steps: int, lr: float, batch_size: int = 128, seed: int = 0) -> nn.Module:
    """A short healing fine-tune: ``steps`` Adam steps at ``lr`` on minibatches of ``data.train``
    (drawn from ``seed``), every weight trainable; returns a fine-tuned copy (``model`` untouched)."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}.")
    model = copy.deepcopy(model)
    if steps == 0:
        return model
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    n = len(data.train)
    for _ in range(steps):
        idx = torch.randint(n, (batch_size,), generator=generator)
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(data.train.x[idx]), data.train.y[idx]).backward()
        optimizer.step()
    return model.eval()


def _adam(model: nn.Module, config: FitConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _epoch(model: nn.Module, optimizer, split: Split, config: FitConfig, generator: torch.Generator) -> float:
    model.train()
    order = torch.randperm(len(split), generator=generator)
    total = 0.0
    for i in range(0, len(split), config.batch_size):
        idx = order[i:i + config.batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(split.x[idx]), split.y[idx])
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(idx)
    return total / len(split)


# -- one run, cached ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NetJob:
    """One net of the MNIST-1D study: a zoo ``family`` at ``depth`` blocks with weights from
    ``seed``, trained with ``fit`` on ``data`` (optionally under the adaptive rule, with a probe of
    ``adaptive.probe_size`` training inputs drawn from ``seed``); ``init``: ``"default"`` (the family's
    own) or, for a dense family, ``"scaled"`` (:func:`resdyn.lib.zoo.scaled_init`)."""

    family: str
    depth: int
    seed: int
    data: Mnist1dSpec
    fit: FitConfig
    adaptive: AdaptiveDepthConfig | None = None
    init: str = "default"

    def __post_init__(self):
        zoo.family(self.family)
        check_seed(self.seed)
        if self.init not in zoo.init_candidates(self.family):
            raise ValueError(f"init must be one of {zoo.init_candidates(self.family)} for {self.family}, got {self.init!r}.")
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {self.depth!r}.")

    @property
    def name(self) -> str:
        rule = "" if self.adaptive is None else f" adaptive {self.adaptive.threshold:g}"
        init = "" if self.init == "default" else f" {self.init} init"
        return f"{self.family} depth {self.depth} seed {self.seed}{init}{rule}"

    def settings(self) -> dict:
        return {"family": self.family, "depth": self.depth, "seed": self.seed, "data": self.data.to_dict(),
                "fit": self.fit.to_dict(), "adaptive": None if self.adaptive is None else self.adaptive.to_dict(), "cache": CACHE_VERSION,
                **({} if self.init == "default" else {"init": self.init})}  # the default's keys as before

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.settings(), sort_keys=True).encode()).hexdigest()[:16]

    def path(self):
        return paths.cache_dir() / "fitting" / self.key() / "final.pt"

    def build(self, depth: int | None = None) -> nn.Module:
        """The untrained net (at ``depth`` blocks, default the job's), weights from the job's seed."""
        n = self.data.arguments()["final_seq_length"]
        model = zoo.family(self.family).make(n, self.depth if depth is None else depth, self.seed)
        return model if self.init == "default" else zoo.scaled_init(model, self.seed)

    def probe(self, data: Dataset) -> torch.Tensor:
        """The adaptive rule's probe: ``adaptive.probe_size`` training inputs drawn with the seed."""
        idx = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(self.seed))[:self.adaptive.probe_size]
        return data.train.x[idx]


@dataclass
class TrainedNet:
    """A cached run: the net (eval mode), its history, the epoch kept, the layers removed, seconds."""

    job: NetJob
    model: nn.Module
    history: list[dict]
    best_epoch: int
    removed: list[dict]
    seconds: float


def train_job(job: NetJob, data: Dataset | None = None) -> TrainedNet:
    """``job``'s net from the cache, or trained now (and cached). ``data``: the job's data set, if
    already loaded (else loaded from its spec)."""
    cached = _read(job)
    if cached is not None:
        return cached
    data = job.data.load() if data is None else data
    model = job.build()
    fit = fit_classifier(model, data, job.fit, seed=job.seed, adaptive=job.adaptive,
                         probe=job.probe(data) if job.adaptive is not None else None, copy_model=False)
    store.atomic_save({"settings": job.settings(), "state": fit.model.state_dict(), "depth": fit.depth,
                       "history": fit.history, "best_epoch": fit.best_epoch, "removed": fit.removed,
                       "seconds": fit.seconds}, job.path())
    return TrainedNet(job, fit.model.eval(), fit.history, fit.best_epoch, fit.removed, fit.seconds)


#: What a cached run holds (written by :func:`train_job`).
_KEYS = ("settings", "state", "depth", "history", "best_epoch", "removed", "seconds")


def _read(job: NetJob) -> TrainedNet | None:
    """``job``'s cached run, or None where there is none, or the file cannot be read or holds another
    job's net (then it is set aside with a warning, :func:`resdyn.core.store.discard`)."""
    path = job.path()
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        missing = [k for k in _KEYS if not isinstance(saved, dict) or k not in saved]
        if missing:
            raise ValueError(f"not a cached net of the MNIST-1D study (missing {', '.join(missing)})")
    except Exception as exc:  # truncated, overwritten, another program's file
        return store.discard(path, f"could not be read ({store.read_error(exc)})")
    if saved["settings"] != job.settings():
        return store.discard(path, f"holds another net than this entry is for (settings {saved['settings']} where "
                                   f"{job.settings()} was asked for)")
    try:
        model = job.build(saved["depth"])
        model.load_state_dict(saved["state"])
    except Exception as exc:  # weights of other shapes than the job's net at that depth
        return store.discard(path, f"could not be read ({store.read_error(exc)})")
    return TrainedNet(job, model.eval(), saved["history"], saved["best_epoch"], saved["removed"], saved["seconds"])
