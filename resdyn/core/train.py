"""Training: one plain function, :func:`fit`, and a cache around it, :func:`train_or_load`.

The data stay one tensor; each epoch draws a permutation from (seed, epoch) and slices batches,
so the same seed on the same machine gives bit-identical weights, and a run resumed from its last
checkpoint ends exactly where an uninterrupted run ends. Saving and loading live in
:mod:`resdyn.core.store`, the adaptive-depth check in :mod:`resdyn.core.pruning`.
"""
from __future__ import annotations

import copy
import math
import os
import sys
import time
import warnings
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
warnings.filterwarnings("ignore", message="IProgress not found")  # without ipywidgets tqdm.auto is a text bar: fine
from tqdm.auto import tqdm  # noqa: E402

from resdyn.core import checkpoints, store
from resdyn.core.data import Dataset, Split, random_subset
from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.core.pruning import AdaptiveDepthConfig, PruneRecord, check_depth, depth_criterion, probe_set
from resdyn.core.trainconfig import EpochRecord, FitResult, TrainConfig, converged, resolve_device, signal

def fit(model: DenseResNet, data: Dataset, config: TrainConfig = TrainConfig(), *,
        adaptive: AdaptiveDepthConfig | None = None, checkpoint: str | os.PathLike | None = None, progress: bool = True,
        callback: Callable[[EpochRecord], None] | None = None, name: str = "") -> FitResult:
    """Train a copy of ``model`` (inputs (batch, N) -> logits (batch, C)) on ``data.train`` (x (n, N),
    y (n,)); ``model`` itself is not changed.

    After every epoch the net is measured on ``data.val``; ``data.test`` is read once, at the end, on the
    net kept: the last epoch's, or with ``config.patience`` the best epoch's (:func:`_keep_best`).

    Args:
        adaptive: if given, compute the paper's criterion on a fixed probe set before training and
            after every epoch, and after every epoch but the last remove the last layer while it is
            below the threshold (see :mod:`resdyn.core.pruning`), so the final net is trained at its depth.
        checkpoint: a file written atomically after every epoch; if it exists, training resumes
            from it and ends with the same weights as an uninterrupted run (it holds the best net so far
            too; a file written for other data or settings is set aside and training starts over).
        progress: one bar over the epochs (:func:`_bar`), and a summary line per epoch where stderr is a terminal.
        callback: called with each epoch's record after its checkpoint is written.
        name: put before each progress line (which run it is, when several run side by side)."""
    _check_model_fits_data(model, data)
    config = config.resolved()
    device = resolve_device(config.device)
    x, y, val, probe = _training_tensors(data, config, adaptive, device)
    model = copy.deepcopy(model).to(device)
    initial_criterion = None if adaptive is None else depth_criterion(model, probe)
    data_spec = data.spec()  # what each checkpoint records, and what one must record to be resumed
    model, optimizer, history, pruning, best = _resume_or_start(model, checkpoint, config, adaptive, data_spec, device)
    bar = _bar(config, len(history), progress, name)
    for epoch in range(len(history), config.epochs):
        if converged(history, config.patience, config.stop_on):
            break
        t0 = time.perf_counter()
        loss, train_acc, lr = _train_epoch(model, optimizer, x, y, config, epoch)
        val_acc = accuracy(model, val)
        val_loss = None if config.patience is None else loss_on(model, val)
        model, optimizer, removed, scores = _adapt_depth(model, optimizer, val_acc, val, probe, adaptive, config, epoch)
        pruning += removed
        record = EpochRecord(epoch=epoch + 1, depth=model.depth, loss=loss, train_acc=train_acc,
                             seconds=time.perf_counter() - t0, lr=lr, val_loss=val_loss, **scores)
        history.append(record)
        if config.patience is not None:
            best = _keep_best(best, model, record, config.stop_on, val, removed=bool(removed))
        _log_epoch(record, config, name, bar)
        if checkpoint is not None:
            checkpoints.save(checkpoint, model=model, optimizer=optimizer, history=history, pruning=pruning,
                             config=config, adaptive=adaptive, data_spec=data_spec, best=best)
        if callback is not None:
            callback(record)
    bar.close()
    if best is not None and best["epoch"] != len(history):
        model.load_state_dict(best["state"])
    test_acc = accuracy(model, Split(data.test.x.to(device), data.test.y.to(device)))
    return FitResult(model=model.cpu(), history=history, test_acc=test_acc, pruning=pruning, config=config, adaptive=adaptive,
                     initial_criterion=initial_criterion, best_epoch=len(history) if best is None else best["epoch"])


def _keep_best(best: dict | None, model: DenseResNet, record: EpochRecord, stop_on: str, val: Split, *, removed: bool):
    """The best net so far of a run to convergence after ``record``'s epoch: its epoch, its value of the signal
    ``stop_on`` (lower is better) and a copy of its weights. It is this epoch's net where it betters ``best``
    (the first of equals stays), or where a layer went in it: then the best starts again at the new depth,
    valued on ``val`` as it goes on."""
    value = signal(record, stop_on)
    if removed and stop_on == "val_loss":  # the record's loss is the net's before the removal
        value = loss_on(model, val)
    elif not removed and best is not None and value >= best["value"]:
        return best
    return {"epoch": record.epoch, "value": value, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}


@torch.no_grad()
def loss_on(model: DenseResNet, split: Split, *, batch_size: int = 2000) -> float:
    """Mean cross-entropy of ``model`` on ``split`` (x (n, N), y (n,)), fp32, eval mode."""
    model.eval()
    total = sum(float(F.cross_entropy(model(split.x[i:i + batch_size]), split.y[i:i + batch_size], reduction="sum"))
                for i in range(0, len(split.y), batch_size))
    return total / len(split.y)


def train_step(model: DenseResNet, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
               lr: float, precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on the batch ``x`` (B, N), ``y`` (B,) at learning rate ``lr``; with
    ``precision="bf16"`` the forward pass and the loss run under bfloat16 autocast (the weights,
    their gradients and the optimizer stay fp32).

    Returns the batch's mean cross-entropy (0-d) and logits (B, n_classes), both detached."""
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
    """Fraction of ``split`` (x (n, N), y (n,)) classified correctly."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(split), batch_size):
        xb, yb = split.x[i : i + batch_size].to(device), split.y[i : i + batch_size].to(device)
        correct += int((model(xb).argmax(1) == yb).sum())
    model.train(was_training)
    return correct / len(split)


def train_or_load(data: Dataset, model_config: ModelConfig, config: TrainConfig = TrainConfig(), *,
                  adaptive: AdaptiveDepthConfig | None = None, cache: bool = True, progress: bool = True,
                  name: str = "") -> FitResult:
    """Train ``DenseResNet(model_config, seed=config.seed)`` on ``data`` (splits x (n, N), y (n,)), or
    load it from the cache.

    The cache (``$RESDYN_CACHE`` or ``<repo>/.cache``, see :mod:`resdyn.core.store`) is keyed by every
    setting that changes the result, so notebooks that need the same net train it once. An
    interrupted run resumes from its last complete epoch; an unreadable entry is set aside and the
    net trained again."""
    config = config.resolved()
    folder = store.entry_dir(data, model_config, config, adaptive)
    expect = store.settings(model_config, config, adaptive, data.spec())
    saved = store.load(folder / "final.pt", expect=expect) if cache else None
    if saved is not None:
        return FitResult(model=saved["model"], history=[EpochRecord(**r) for r in saved["history"]],
                         test_acc=saved["test_acc"], pruning=[PruneRecord.from_dict(p) for p in saved["pruning"]],
                         config=config, adaptive=adaptive, initial_criterion=saved["initial_criterion"],
                         from_cache=True, best_epoch=saved.get("best_epoch") or len(saved["history"]))
    checkpoint = folder / "checkpoint.pt" if cache else None
    result = fit(DenseResNet(model_config, seed=config.seed), data, config, adaptive=adaptive,
                 checkpoint=checkpoint, progress=progress, name=name)
    if cache:
        store.save(folder / "final.pt", model=result.model, history=result.history, pruning=result.pruning,
                   config=config, adaptive=adaptive, test_acc=result.test_acc,
                   initial_criterion=result.initial_criterion, data_spec=data.spec(), best_epoch=result.best_epoch)
        checkpoint.unlink(missing_ok=True)
    return result


def make_optimizer(params: torch.nn.Module | Iterable[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer :func:`fit` uses for ``config`` (the learning rate is set per step by ``fit``) on
    ``params``: a model (all its parameters) or the parameters to optimize (tensors of any shape)."""
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


def _train_epoch(model, optimizer, x, y, config: TrainConfig, epoch: int):
    """One pass over (x, y) in the epoch's seeded order. Returns mean loss, running accuracy and
    the last step's learning rate."""
    model.train()
    n, B = len(y), config.batch_size
    steps = math.ceil(n / B)
    perm = torch.randperm(n, generator=_generator(config.seed, epoch)).to(x.device)
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for i in range(steps):
        lr = lr_at(config, epoch * steps + i, config.epochs * steps)
        idx = perm[i * B : (i + 1) * B]
        loss, logits = train_step(model, optimizer, x[idx], y[idx], lr=lr, precision=config.precision)
        loss_sum += loss * len(idx)
        correct += (logits.argmax(1) == y[idx]).sum()
    return float(loss_sum) / n, float(correct) / n, lr


def _training_tensors(data: Dataset, config: TrainConfig, adaptive: AdaptiveDepthConfig | None, device):
    """The training inputs and labels (a seeded subset with ``config.n_train``), the validation split
    and the adaptive-depth probe set (``None`` without ``adaptive``), on ``device``."""
    train = data.train if config.n_train is None else random_subset(data.train, config.n_train, seed=config.seed)
    x, y = train.x.to(device), train.y.to(device)
    if config.shuffle_labels:
        y = shuffled(y, seed=config.seed)
    val = Split(data.val.x.to(device), data.val.y.to(device))
    probe = None if adaptive is None else probe_set(data.train, adaptive, seed=config.seed).to(device)
    return x, y, val, probe


def shuffled(labels: torch.Tensor, *, seed: int) -> torch.Tensor:
    """``labels`` (n,) under one fixed permutation drawn from ``seed``: the labels of the
    shuffled-label control (the same multiset of classes, no relation to the inputs)."""
    perm = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    return labels[perm.to(labels.device)]


def _resume_or_start(model: DenseResNet, checkpoint, config: TrainConfig, adaptive, data_spec: dict, device):
    """(model, optimizer, history, pruning records, best net so far) after the last epoch of ``checkpoint``
    where it exists and was written for this net and data (see :mod:`resdyn.core.checkpoints`), else
    ``model`` with a new optimizer, no history and no best."""
    resumed = checkpoints.resume(checkpoint, config, adaptive, model_config=model.config, data_spec=data_spec,
                                 map_location=device, make_optimizer=make_optimizer, make_record=EpochRecord)
    return resumed if resumed is not None else (model, make_optimizer(model, config), [], [], None)


def _adapt_depth(model, optimizer, val_acc: float, val: Split, probe, adaptive: AdaptiveDepthConfig | None,
                 config: TrainConfig, epoch: int):
    """The adaptive-depth check after epoch ``epoch`` (0-based), on the net validated at ``val_acc``.

    Returns the net and optimizer that go on, the layers removed, and the epoch record's
    ``val_acc``, ``criterion`` and ``val_acc_unpruned``. After the last epoch the criterion is
    recorded and no layer removed, unless ``adaptive.prune_after_last_epoch``."""
    scores = {"val_acc": val_acc, "criterion": None, "val_acc_unpruned": None}
    if adaptive is None:
        return model, optimizer, [], scores
    if not (epoch + 1 < config.epochs or adaptive.prune_after_last_epoch):
        return model, optimizer, [], {**scores, "criterion": depth_criterion(model, probe)}
    check = check_depth(model, probe, adaptive, epoch=epoch + 1)
    scores["criterion"] = check.criterion
    if not check.removed:
        return model, optimizer, [], scores
    optimizer = _transfer_optimizer(optimizer, model, check.model, config)
    scores.update(val_acc=accuracy(check.model, val), val_acc_unpruned=val_acc)
    return check.model, optimizer, check.removed, scores


def _bar(config: TrainConfig, done: int, progress: bool, name: str):
    """One bar per run over its epochs, cleared at its end, in a notebook's kernel (tqdm.auto) or on a terminal; none elsewhere."""
    return tqdm(total=config.epochs, initial=done, desc=name.rstrip(": ") or "training", unit="epoch", leave=False,
                disable=not (progress and ("ipykernel" in sys.modules or sys.stderr.isatty())), file=sys.stderr)


def _log_epoch(r: EpochRecord, config: TrainConfig, name: str, bar) -> None:
    """Epoch ``r`` in the run's bar and, where stderr is a terminal, as a summary line above it."""
    crit = "" if r.criterion is None else f" criterion {r.criterion:.4f}"
    bar.set_postfix_str(f"depth {r.depth}, loss {r.loss:.4f}, val {r.val_acc:.4f}{crit}", refresh=False)
    bar.update()
    if not bar.disable and sys.stderr.isatty():  # one write with its newline: workers' lines do not interleave
        tqdm.write(f"{name}epoch {r.epoch}/{config.epochs}: depth {r.depth} loss {r.loss:.4f} train {r.train_acc:.4f} "
                   f"val {r.val_acc:.4f}{crit} ({r.seconds:.1f} s, {config.precision})\n", file=sys.stderr, end="")


def _check_model_fits_data(model: DenseResNet, data: Dataset) -> None:
    if model.config.width != data.n_features:
        raise ValueError(f"The model's width ({model.config.width}) does not match the data's {data.n_features} "
                         f"features; use ModelConfig(width={data.n_features}) for {data.name}.")
    if model.config.n_classes < data.n_classes:
        raise ValueError(f"n_classes={model.config.n_classes} but {data.name} has {data.n_classes} classes.")


def _generator(seed: int, epoch: int) -> torch.Generator:
    # one independent stream per (seed, epoch), so an epoch's shuffle does not depend on the past
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))


def _transfer_optimizer(old_opt, old_model, new_model, config):
    """A new optimizer for ``new_model`` that keeps the state (moments, steps) of kept parameters."""
    new_opt = make_optimizer(new_model, config)
    old_params = dict(old_model.named_parameters())
    for name, p in new_model.named_parameters():
        state = old_opt.state.get(old_params[name])
        if state:
            new_opt.state[p] = {k: v.clone() if torch.is_tensor(v) else v for k, v in state.items()}
    return new_opt
