"""Training: one plain function, :func:`fit`, and a cache around it, :func:`train_or_load`.

The data stay one tensor; each epoch draws a permutation from (seed, epoch) and slices batches,
so the same seed on the same machine gives bit-identical weights, and a run resumed from its last
checkpoint ends exactly where an uninterrupted run ends.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import paths
from .data import Dataset, Split, balanced_subset, random_subset
from .model import DenseResNet, ModelConfig
from .pruning import AdaptiveDepthConfig, PruneRecord, depth_criterion, remove_last_layers

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")
#: Bump when a change to the training code changes what a given config produces.
CACHE_VERSION = 2


@dataclass(frozen=True)
class TrainConfig:
    """How to train. The defaults are the regime chosen in ``notebooks/00_training_regime.ipynb``.

    Args:
        epochs: passes over the training set.
        batch_size: samples per step.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (with ``momentum``).
        lr: peak learning rate.
        schedule: ``"constant"`` or ``"cosine"`` (decay to 0 over all steps).
        momentum: SGD momentum.
        weight_decay: L2 penalty (decoupled for AdamW).
        n_train: train on a seeded random subset of this many samples (``None``: all).
        seed: initialization (through :func:`train_or_load`), shuffling and subsets.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (cuda where present).
    """

    epochs: int = 8
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "cosine"
    momentum: float = 0.9
    weight_decay: float = 0.0
    n_train: int | None = None
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f'Invalid optimizer "{self.optimizer}". Must be one of {set(OPTIMIZERS)}.')
        if self.schedule not in SCHEDULES:
            raise ValueError(f'Invalid schedule "{self.schedule}". Must be one of {set(SCHEDULES)}.')
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}.")
        if self.n_train is not None and (not isinstance(self.n_train, int) or self.n_train < 1):
            raise ValueError(f"n_train must be None or an integer >= 1, got {self.n_train!r}.")
        if self.device not in ("cpu", "cuda", "auto") and not self.device.startswith("cuda:"):
            raise ValueError(f'Invalid device "{self.device}". Must be "cpu", "cuda", "cuda:N" or "auto".')

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EpochRecord:
    """One epoch of training. ``train_acc`` is the running accuracy over the epoch's batches;
    ``test_acc`` is measured after the epoch (after any layer removal, on the net that goes on);
    ``test_acc_unpruned`` is the accuracy just before a removal in this epoch (else ``None``)."""

    epoch: int
    depth: int
    loss: float
    train_acc: float
    test_acc: float
    seconds: float
    lr: float
    criterion: float | None = None
    test_acc_unpruned: float | None = None


@dataclass
class FitResult:
    """A trained model, its per-epoch history and the layers removed on the way."""

    model: DenseResNet
    history: list[EpochRecord]
    pruning: list[PruneRecord] = field(default_factory=list)
    config: TrainConfig = TrainConfig()
    adaptive: AdaptiveDepthConfig | None = None
    from_cache: bool = False

    @property
    def test_acc(self) -> float:
        return self.history[-1].test_acc

    @property
    def seconds(self) -> float:
        return float(sum(r.seconds for r in self.history))

    def history_table(self):
        """The history as a pandas DataFrame (one row per epoch)."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.history])


# ----------------------------------------------------------------------------------------------


def fit(
    model: DenseResNet,
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    *,
    adaptive: AdaptiveDepthConfig | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    callback: Callable[[EpochRecord], None] | None = None,
) -> FitResult:
    """Train a copy of ``model`` on ``data.train``; ``model`` itself is not changed.

    Args:
        adaptive: if given, after every epoch compute the paper's criterion on a fixed probe set
            and remove the last layer when it is below the threshold (see :mod:`resdyn.pruning`).
        checkpoint: a file written atomically after every epoch; if it exists, training resumes
            from it and ends with the same weights as an uninterrupted run.
        progress: show a tqdm bar per epoch and a summary line per epoch (on stderr).
        callback: called with each epoch's record after its checkpoint is written.
    """
    if model.config.width != data.n_features:
        raise ValueError(
            f"The model's width ({model.config.width}) does not match the data's {data.n_features} "
            f"features; use ModelConfig(width={data.n_features}) for {data.name}."
        )
    if model.config.n_classes < data.n_classes:
        raise ValueError(f"n_classes={model.config.n_classes} but {data.name} has {data.n_classes} classes.")
    device = _resolve_device(config.device)
    model = copy.deepcopy(model).to(device)
    train = data.train if config.n_train is None else random_subset(data.train, config.n_train, seed=config.seed)
    x, y = train.x.to(device), train.y.to(device)
    test_x, test_y = data.test.x.to(device), data.test.y.to(device)
    probe = None
    if adaptive is not None:
        per_class = max(1, adaptive.probe_size // data.n_classes)
        probe = balanced_subset(data.train, per_class, seed=config.seed).x.to(device)

    optimizer = make_optimizer(model, config)
    history: list[EpochRecord] = []
    pruning: list[PruneRecord] = []
    start_epoch = 0
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    if checkpoint is not None and checkpoint.exists():
        model, optimizer, history, pruning = _load_checkpoint(checkpoint, config, adaptive, device)
        start_epoch = len(history)

    n, B = len(y), config.batch_size
    steps_per_epoch = math.ceil(n / B)
    total_steps = config.epochs * steps_per_epoch
    for epoch in range(start_epoch, config.epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=_generator(config.seed, epoch)).to(device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        bar = tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{config.epochs} (depth {model.depth})",
                   disable=not progress, leave=False, mininterval=1.0, file=sys.stderr)
        for i in range(steps_per_epoch):
            lr = _lr_at(config, epoch * steps_per_epoch + i, total_steps)
            idx = perm[i * B : (i + 1) * B]
            loss, logits = train_step(model, optimizer, x[idx], y[idx], lr=lr)
            loss_sum += loss * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum()
            bar.update()
        bar.close()

        criterion, acc_unpruned = None, None
        test_acc = accuracy(model, Split(test_x, test_y))
        if adaptive is not None:
            criterion = depth_criterion(model, probe)
            removed, c = 0, criterion
            while c < adaptive.threshold and model.depth > adaptive.min_depth and removed < adaptive.max_removals_per_check:
                new, record = remove_last_layers(
                    model, 1, fold_probe=probe if adaptive.fold_bias else None, criterion=c, epoch=epoch + 1
                )
                optimizer = _transfer_optimizer(optimizer, model, new, config)
                model, removed = new, removed + 1
                pruning.append(record)
                c = depth_criterion(model, probe) if model.depth >= 2 else float("inf")
            if removed:
                acc_unpruned, test_acc = test_acc, accuracy(model, Split(test_x, test_y))
        record = EpochRecord(
            epoch=epoch + 1,
            depth=model.depth,
            loss=float(loss_sum) / n,
            train_acc=float(correct) / n,
            test_acc=test_acc,
            seconds=time.perf_counter() - t0,
            lr=lr,
            criterion=criterion,
            test_acc_unpruned=acc_unpruned,
        )
        history.append(record)
        if progress:
            crit = "" if criterion is None else f" criterion {criterion:.4f}"
            tqdm.write(
                f"epoch {record.epoch}/{config.epochs}: depth {record.depth} loss {record.loss:.4f} "
                f"train {record.train_acc:.4f} test {record.test_acc:.4f}{crit} ({record.seconds:.1f} s)",
                file=sys.stderr,
            )
        if checkpoint is not None:
            _save_checkpoint(checkpoint, model, optimizer, history, pruning, config, adaptive)
        if callback is not None:
            callback(record)
    return FitResult(model=model.cpu(), history=history, pruning=pruning, config=config, adaptive=adaptive)


def train_step(model: DenseResNet, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
               lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on the batch ``x`` (B, N), ``y`` (B,) at learning rate ``lr``.

    Returns the batch's mean cross-entropy (0-d) and logits (B, n_classes), both detached.
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), logits.detach()


@torch.no_grad()
def accuracy(model: DenseResNet, split: Split, *, batch_size: int = 2000) -> float:
    """Fraction of ``split`` classified correctly."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(split), batch_size):
        xb, yb = split.x[i : i + batch_size].to(device), split.y[i : i + batch_size].to(device)
        correct += int((model(xb).argmax(1) == yb).sum())
    model.train(was_training)
    return correct / len(split)


def train_or_load(
    data: Dataset,
    model_config: ModelConfig,
    config: TrainConfig = TrainConfig(),
    *,
    adaptive: AdaptiveDepthConfig | None = None,
    cache: bool = True,
    progress: bool = True,
) -> FitResult:
    """Train ``DenseResNet(model_config, seed=config.seed)`` on ``data``, or load it from the cache.

    The cache (``$RESDYN_CACHE`` or ``<repo>/.cache``) is keyed by a hash of every setting that
    changes the result, so notebooks that need the same net train it once. An interrupted run
    resumes from its last complete epoch.
    """
    folder = cache_dir_for(data, model_config, config, adaptive)
    final = folder / "final.pt"
    if cache and final.exists():
        state = torch.load(final, map_location="cpu", weights_only=True)
        model = DenseResNet(ModelConfig(**state["model_config"]))
        model.load_state_dict(state["model_state"])
        return FitResult(
            model=model,
            history=[EpochRecord(**r) for r in state["history"]],
            pruning=[_prune_record(r) for r in state["pruning"]],
            config=config,
            adaptive=adaptive,
            from_cache=True,
        )
    model = DenseResNet(model_config, seed=config.seed)
    checkpoint = folder / "checkpoint.pt" if cache else None
    result = fit(model, data, config, adaptive=adaptive, checkpoint=checkpoint, progress=progress)
    if cache:
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_save(
            {
                "model_config": result.model.config.to_dict(),
                "model_state": result.model.state_dict(),
                "history": [asdict(r) for r in result.history],
                "pruning": [p.to_dict() for p in result.pruning],
            },
            final,
        )
        checkpoint.unlink(missing_ok=True)
    return result


def make_optimizer(params: torch.nn.Module | Iterable[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer :func:`fit` uses for ``config`` (the learning rate is set per step by ``fit``).

    ``params``: a model (all its parameters) or the parameters to optimize.
    """
    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    # fused: one pass over each parameter per step; with separate weights at batch 128 the
    # default (one kernel per operation) Adam takes about a third of the step (see BENCHMARKS.md)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def cache_key(data: Dataset, model_config: ModelConfig, config: TrainConfig,
              adaptive: AdaptiveDepthConfig | None = None) -> str:
    """A hash of everything that determines a trained net."""
    spec = {
        "version": CACHE_VERSION,
        "data": {"name": data.name, "scaling": data.scaling, "n_train": len(data.train), "n_test": len(data.test)},
        "model": model_config.to_dict(),
        "train": config.to_dict(),
        "adaptive": None if adaptive is None else adaptive.to_dict(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def cache_dir_for(data, model_config, config, adaptive=None) -> Path:
    return paths.cache_dir() / "models" / cache_key(data, model_config, config, adaptive)


# ----------------------------------------------------------------------------------------------
# internals


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f'device="{device}" but CUDA is not available here; use device="cpu" or "auto".')
    return torch.device(device)


def _generator(seed: int, epoch: int) -> torch.Generator:
    # one independent stream per (seed, epoch), so an epoch's shuffle does not depend on the past
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))


def _lr_at(config: TrainConfig, step: int, total: int) -> float:
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * step / total))
    return config.lr


def _transfer_optimizer(old_opt, old_model, new_model, config):
    """A new optimizer for ``new_model`` that keeps the state (moments, steps) of kept parameters."""
    new_opt = make_optimizer(new_model, config)
    old_params = dict(old_model.named_parameters())
    for name, p in new_model.named_parameters():
        state = old_opt.state.get(old_params[name])
        if state:
            new_opt.state[p] = {k: v.clone() if torch.is_tensor(v) else v for k, v in state.items()}
    return new_opt


def _prune_record(d: dict) -> PruneRecord:
    return PruneRecord(**{**d, "removed_layers": tuple(d["removed_layers"])})


def _atomic_save(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)  # atomic on POSIX: a reader sees the old file or the new, never half


def _save_checkpoint(path, model, optimizer, history, pruning, config, adaptive) -> None:
    _atomic_save(
        {
            "model_config": model.config.to_dict(),
            "model_state": model.state_dict(),
            "optimizer_state": optimizer.state_dict(),
            "history": [asdict(r) for r in history],
            "pruning": [p.to_dict() for p in pruning],
            "train_config": config.to_dict(),
            "adaptive": None if adaptive is None else adaptive.to_dict(),
        },
        path,
    )


def _load_checkpoint(path, config, adaptive, device):
    state = torch.load(path, map_location=device, weights_only=True)
    saved = (state["train_config"], state["adaptive"])
    if saved != (config.to_dict(), None if adaptive is None else adaptive.to_dict()):
        raise ValueError(
            f"checkpoint {path} was written with other settings ({saved}); delete it or pass another checkpoint path."
        )
    model = DenseResNet(ModelConfig(**state["model_config"])).to(device)
    model.load_state_dict(state["model_state"])
    optimizer = make_optimizer(model, config)
    optimizer.load_state_dict(state["optimizer_state"])
    history = [EpochRecord(**r) for r in state["history"]]
    pruning = [_prune_record(r) for r in state["pruning"]]
    return model, optimizer, history, pruning
