"""Training: one plain function, :func:`fit`, and a cache around it, :func:`train_or_load`.

The data stay one tensor; each epoch draws a permutation from (seed, epoch) and slices batches,
so the same seed on the same machine gives bit-identical weights, and a run resumed from its last
checkpoint ends exactly where an uninterrupted run ends. Saving and loading live in
:mod:`resdyn.store`, the adaptive-depth check in :mod:`resdyn.pruning`.
"""
from __future__ import annotations

import copy
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import store
from .data import Dataset, Split, random_subset
from .model import DenseResNet, ModelConfig
from .pruning import AdaptiveDepthConfig, PruneRecord, check_depth, depth_criterion, probe_set

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. The defaults are the chosen regime's (``resdyn.experiment.REGIME``).

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
        precision: ``"fp32"``, ``"bf16"`` (bfloat16 autocast of the forward and backward pass;
            weights, optimizer and every analysis stay fp32) or ``"auto"``: bf16 where the
            processor computes it natively, fp32 elsewhere (:func:`choose_precision`). The cache
            key and the results record the precision it resolved to.
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "cosine"
    momentum: float = 0.9
    weight_decay: float = 0.0
    n_train: int | None = None
    seed: int = 0
    device: str = "cpu"
    precision: str = "auto"

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
        if self.precision not in PRECISIONS:
            raise ValueError(f'Invalid precision "{self.precision}". Must be one of {set(PRECISIONS)}.')

    def to_dict(self) -> dict:
        return asdict(self)

    def resolved(self) -> "TrainConfig":
        """This config with ``precision="auto"`` replaced by what this machine runs
        (:func:`choose_precision`): the form the cache key and the results record."""
        if self.precision != "auto":
            return self
        return replace(self, precision=choose_precision(_resolve_device(self.device))[0])


@dataclass
class EpochRecord:
    """One epoch of training. ``train_acc`` is the running accuracy over the epoch's batches;
    ``val_acc`` is measured on the validation split after the epoch (after any layer removal, on
    the net that goes on); ``val_acc_unpruned`` is the accuracy just before a removal in this epoch
    (else ``None``); ``criterion`` the adaptive-depth criterion after the epoch, before any removal."""

    epoch: int
    depth: int
    loss: float
    train_acc: float
    val_acc: float
    seconds: float
    lr: float
    criterion: float | None = None
    val_acc_unpruned: float | None = None


@dataclass
class FitResult:
    """A trained model, its per-epoch history, the layers removed on the way, and its test accuracy,
    measured once, after training. ``initial_criterion``: the adaptive-depth criterion before training."""

    model: DenseResNet
    history: list[EpochRecord]
    test_acc: float
    pruning: list[PruneRecord] = field(default_factory=list)
    config: TrainConfig = TrainConfig()
    adaptive: AdaptiveDepthConfig | None = None
    initial_criterion: float | None = None
    from_cache: bool = False

    @property
    def val_acc(self) -> float:
        return self.history[-1].val_acc

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
    plain_checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    callback: Callable[[EpochRecord], None] | None = None,
    name: str = "",
) -> FitResult:
    """Train a copy of ``model`` on ``data.train``; ``model`` itself is not changed.

    After every epoch the net is measured on ``data.val``; ``data.test`` is read once, at the end.

    Args:
        adaptive: if given, compute the paper's criterion on a fixed probe set before training and
            after every epoch, and after every epoch but the last remove the last layer while it is
            below the threshold (see :mod:`resdyn.pruning`), so the final net is trained at its depth.
        checkpoint: a file written atomically after every epoch; if it exists, training resumes
            from it and ends with the same weights as an uninterrupted run.
        plain_checkpoint: adaptive runs only. Until its first layer removal an adaptive run is,
            epoch for epoch, the plain run of the same settings (the check reads the net and draws
            no random numbers). At that epoch, before the removal (or after the last epoch, when
            no layer goes), the plain run's checkpoint is written here, unless the file exists:
            the plain run resumes from it instead of training those epochs again.
        progress: a summary line per epoch on stderr, and a tqdm bar where stderr is a terminal.
        callback: called with each epoch's record after its checkpoint is written.
        name: put before each progress line (which run it is, when several run side by side).
    """
    _check_model_fits_data(model, data)
    config = config.resolved()
    device = _resolve_device(config.device)
    train = data.train if config.n_train is None else random_subset(data.train, config.n_train, seed=config.seed)
    x, y = train.x.to(device), train.y.to(device)
    val = Split(data.val.x.to(device), data.val.y.to(device))
    probe = None if adaptive is None else probe_set(data.train, adaptive, seed=config.seed).to(device)
    model = copy.deepcopy(model).to(device)
    initial_criterion = None if adaptive is None else depth_criterion(model, probe)
    optimizer = make_optimizer(model, config)
    history, pruning = [], []
    saved = store.load(checkpoint, map_location=device) if checkpoint is not None else None
    if saved is not None:
        model, optimizer, history, pruning = _resume(saved, checkpoint, config, adaptive)

    for epoch in range(len(history), config.epochs):
        t0 = time.perf_counter()
        loss, train_acc, lr = _train_epoch(model, optimizer, x, y, config, epoch, progress=progress, name=name)
        val_acc = accuracy(model, val)
        still_plain = not pruning  # no layer removed yet: this is also the plain run's state
        before_check = (model, optimizer, val_acc)
        criterion = val_acc_unpruned = None
        if adaptive is not None and (epoch + 1 < config.epochs or adaptive.prune_after_last_epoch):
            check = check_depth(model, probe, adaptive, epoch=epoch + 1)
            criterion = check.criterion
            if check.removed:
                optimizer = _transfer_optimizer(optimizer, model, check.model, config)
                model, val_acc_unpruned, val_acc = check.model, val_acc, accuracy(check.model, val)
                pruning += check.removed
        elif adaptive is not None:  # after the last epoch the criterion is recorded, no layer removed
            criterion = depth_criterion(model, probe)
        record = EpochRecord(epoch=epoch + 1, depth=model.depth, loss=loss, train_acc=train_acc, val_acc=val_acc,
                             seconds=time.perf_counter() - t0, lr=lr, criterion=criterion,
                             val_acc_unpruned=val_acc_unpruned)
        history.append(record)
        if plain_checkpoint is not None and still_plain and (pruning or epoch + 1 == config.epochs):
            _write_plain_fork(plain_checkpoint, history, *before_check, config)
        if progress:
            _log_epoch(record, config, name)
        if checkpoint is not None:
            store.save(checkpoint, model=model, history=history, pruning=pruning, config=config, adaptive=adaptive,
                       optimizer=optimizer)
        if callback is not None:
            callback(record)
    test_acc = accuracy(model, Split(data.test.x.to(device), data.test.y.to(device)))
    return FitResult(model=model.cpu(), history=history, test_acc=test_acc, pruning=pruning, config=config,
                     adaptive=adaptive, initial_criterion=initial_criterion)


def train_step(model: DenseResNet, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
               lr: float, precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on the batch ``x`` (B, N), ``y`` (B,) at learning rate ``lr``; with
    ``precision="bf16"`` the forward pass and the loss run under bfloat16 autocast (the weights,
    their gradients and the optimizer stay fp32).

    Returns the batch's mean cross-entropy (0-d) and logits (B, n_classes), both detached.
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
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
    name: str = "",
) -> FitResult:
    """Train ``DenseResNet(model_config, seed=config.seed)`` on ``data``, or load it from the cache.

    The cache (``$RESDYN_CACHE`` or ``<repo>/.cache``, see :mod:`resdyn.store`) is keyed by every
    setting that changes the result, so notebooks that need the same net train it once. An
    interrupted run resumes from its last complete epoch; an unreadable entry is set aside and the
    net trained again. An adaptive run leaves its plain twin (``adaptive=None``) a checkpoint at
    its first layer removal (see ``plain_checkpoint`` of :func:`fit`), so training the adaptive
    run first saves the twin those epochs: all of them where no layer goes.
    """
    config = config.resolved()
    folder = store.entry_dir(data, model_config, config, adaptive)
    saved = store.load(folder / "final.pt") if cache else None
    if saved is not None:
        return FitResult(model=saved["model"], history=[EpochRecord(**r) for r in saved["history"]],
                         test_acc=saved["test_acc"], pruning=[PruneRecord.from_dict(p) for p in saved["pruning"]],
                         config=config, adaptive=adaptive, initial_criterion=saved["initial_criterion"],
                         from_cache=True)
    checkpoint = folder / "checkpoint.pt" if cache else None
    plain_checkpoint = None
    if cache and adaptive is not None:  # the plain twin, unless it is trained already, starts from this run's fork
        plain = store.entry_dir(data, model_config, config)
        plain_checkpoint = None if (plain / "final.pt").exists() else plain / "checkpoint.pt"
    result = fit(DenseResNet(model_config, seed=config.seed), data, config, adaptive=adaptive,
                 checkpoint=checkpoint, plain_checkpoint=plain_checkpoint, progress=progress, name=name)
    if cache:
        store.save(folder / "final.pt", model=result.model, history=result.history, pruning=result.pruning,
                   config=config, adaptive=adaptive, test_acc=result.test_acc,
                   initial_criterion=result.initial_criterion)
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


def lr_at(config: TrainConfig, step: int, total: int) -> float:
    """The learning rate of step ``step`` (0-based) of ``total``: constant, or cosine from
    ``config.lr`` at step 0 towards 0 at step ``total``."""
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * step / total))
    return config.lr


# ----------------------------------------------------------------------------------------------
# internals


def _train_epoch(model, optimizer, x, y, config: TrainConfig, epoch: int, *, progress: bool, name: str = ""):
    """One pass over (x, y) in the epoch's seeded order. Returns mean loss, running accuracy and
    the last step's learning rate."""
    model.train()
    n, B = len(y), config.batch_size
    steps = math.ceil(n / B)
    perm = torch.randperm(n, generator=_generator(config.seed, epoch)).to(x.device)
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    # the bar only on a terminal (not in notebooks, logs or worker processes writing to a file)
    bar = tqdm(total=steps, desc=f"{name}epoch {epoch + 1}/{config.epochs} (depth {model.depth})",
               disable=None if progress else True, leave=False, mininterval=1.0, file=sys.stderr)
    for i in range(steps):
        lr = lr_at(config, epoch * steps + i, config.epochs * steps)
        idx = perm[i * B : (i + 1) * B]
        loss, logits = train_step(model, optimizer, x[idx], y[idx], lr=lr, precision=config.precision)
        loss_sum += loss * len(idx)
        correct += (logits.argmax(1) == y[idx]).sum()
        bar.update()
    bar.close()
    return float(loss_sum) / n, float(correct) / n, lr


def _log_epoch(r: EpochRecord, config: TrainConfig, name: str = "") -> None:
    crit = "" if r.criterion is None else f" criterion {r.criterion:.4f}"
    # one write with its newline, so that the lines of workers sharing a terminal do not interleave
    tqdm.write(f"{name}epoch {r.epoch}/{config.epochs}: depth {r.depth} loss {r.loss:.4f} train {r.train_acc:.4f} "
               f"val {r.val_acc:.4f}{crit} ({r.seconds:.1f} s, {config.precision})\n", file=sys.stderr, end="")


def _check_model_fits_data(model: DenseResNet, data: Dataset) -> None:
    if model.config.width != data.n_features:
        raise ValueError(
            f"The model's width ({model.config.width}) does not match the data's {data.n_features} "
            f"features; use ModelConfig(width={data.n_features}) for {data.name}."
        )
    if model.config.n_classes < data.n_classes:
        raise ValueError(f"n_classes={model.config.n_classes} but {data.name} has {data.n_classes} classes.")


#: bf16 is what ``precision="auto"`` picks where the processor runs it natively, because it trains
#: about twice as fast there and changed no conclusion (notebooks/10_precision.ipynb, BENCHMARKS.md).
AUTO_BF16 = True


def choose_precision(device: torch.device) -> tuple[str, str]:
    """What ``precision="auto"`` means on ``device``: ("bf16" or "fp32", the reason in words)."""
    if not AUTO_BF16:
        return "fp32", "bf16 is switched off (resdyn.train.AUTO_BF16)"
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return "bf16", "this GPU computes bf16 natively"
        return "fp32", "this GPU has no native bf16"
    native = [f for f, ok in (("avx512_bf16", getattr(torch.cpu, "_is_avx512_bf16_supported", None)),
                              ("amx_bf16", getattr(torch.cpu, "_is_amx_tile_supported", None))) if ok and ok()]
    if native:
        return "bf16", f"this CPU computes bf16 natively ({', '.join(native)})"
    return "fp32", "this CPU has no native bf16 (avx512_bf16 or amx): emulated bf16 would be slower than fp32"


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f'device="{device}" but CUDA is not available here; use device="cpu" or "auto".')
    return torch.device(device)


def _generator(seed: int, epoch: int) -> torch.Generator:
    # one independent stream per (seed, epoch), so an epoch's shuffle does not depend on the past
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))


def _write_plain_fork(path, history: list[EpochRecord], model, optimizer, val_acc: float, config: TrainConfig) -> None:
    """The plain run's checkpoint at the end of an adaptive run's last epoch without a removal
    (``model`` and ``optimizer`` as they were before that epoch's check)."""
    path = Path(path)
    if path.exists():  # the plain run has a checkpoint of its own: leave it
        return
    plain = [replace(r, criterion=None, val_acc_unpruned=None) for r in history]
    plain[-1] = replace(plain[-1], depth=model.depth, val_acc=val_acc)
    store.save(path, model=model, history=plain, pruning=[], config=config, adaptive=None, optimizer=optimizer)


def _transfer_optimizer(old_opt, old_model, new_model, config):
    """A new optimizer for ``new_model`` that keeps the state (moments, steps) of kept parameters."""
    new_opt = make_optimizer(new_model, config)
    old_params = dict(old_model.named_parameters())
    for name, p in new_model.named_parameters():
        state = old_opt.state.get(old_params[name])
        if state:
            new_opt.state[p] = {k: v.clone() if torch.is_tensor(v) else v for k, v in state.items()}
    return new_opt


def _resume(saved: dict, path, config: TrainConfig, adaptive: AdaptiveDepthConfig | None):
    """Model, optimizer, history and pruning records from a checkpoint written with these settings."""
    if (saved["train_config"], saved["adaptive"]) != (config.to_dict(), None if adaptive is None else adaptive.to_dict()):
        raise ValueError(f"checkpoint {path} was written with other settings "
                         f"({saved['train_config']}, {saved['adaptive']}); delete it or pass another checkpoint path.")
    model = saved["model"]
    optimizer = make_optimizer(model, config)
    optimizer.load_state_dict(saved["optimizer_state"])
    return (model, optimizer, [EpochRecord(**r) for r in saved["history"]],
            [PruneRecord.from_dict(p) for p in saved["pruning"]])
