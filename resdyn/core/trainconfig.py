"""How to train and what a training run gives: :class:`TrainConfig`, :class:`EpochRecord`,
:class:`FitResult`, and what ``precision="auto"`` means on this machine. :mod:`resdyn.core.train` trains.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar

import torch

from resdyn.core.model import DenseResNet, check_seed, without_later_defaults
from resdyn.core.pruning import AdaptiveDepthConfig, PruneRecord


OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")
PRECISIONS = ("auto", "fp32", "bf16")
#: What training to convergence watches on the validation split: its loss (lower is better) or accuracy.
STOP_SIGNALS = ("val_loss", "val_acc")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. The defaults are the chosen regime's (``resdyn.studies.experiment.REGIME``).

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
        shuffle_labels: train on the training labels shuffled by one fixed permutation (seeded by
            ``seed``): the control that learns no class information. Validation and test keep
            their labels.
        patience: ``None``: train ``epochs`` epochs and keep the last. An integer: train until the
            ``stop_on`` signal has not improved for this many epochs, ``epochs`` at most, and keep the
            net of its best epoch (convergence on validation).
        stop_on: the signal of ``patience``: ``"val_loss"`` (validation loss) or ``"val_acc"``."""

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
    shuffle_labels: bool = False
    patience: int | None = None
    stop_on: str = "val_loss"

    #: Options added after the first records, left out of :meth:`to_dict` at their defaults (see
    #: :data:`resdyn.core.model.ModelConfig.LATER_DEFAULTS`).
    LATER_DEFAULTS: ClassVar[dict] = {"shuffle_labels": False, "patience": None, "stop_on": "val_loss"}

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
        check_seed(self.seed, "seed")
        if self.precision not in PRECISIONS:
            raise ValueError(f'Invalid precision "{self.precision}". Must be one of {set(PRECISIONS)}.')
        if not isinstance(self.shuffle_labels, bool):
            raise ValueError(f"shuffle_labels must be True or False, got {self.shuffle_labels!r}.")
        if self.patience is not None and (not isinstance(self.patience, int) or isinstance(self.patience, bool)
                                          or self.patience < 1):
            raise ValueError(f"patience must be None (train all epochs) or an integer >= 1, got {self.patience!r}.")
        if self.stop_on not in STOP_SIGNALS:
            raise ValueError(f'Invalid stop_on "{self.stop_on}". Must be one of {set(STOP_SIGNALS)}.')

    def to_dict(self) -> dict:
        return without_later_defaults(asdict(self), self.LATER_DEFAULTS)

    def resolved(self) -> "TrainConfig":
        """This config with ``precision="auto"`` replaced by what this machine runs
        (:func:`choose_precision`): the form the cache key and the results record."""
        if self.precision != "auto":
            return self
        return replace(self, precision=choose_precision(resolve_device(self.device))[0])


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
    val_loss: float | None = None

    def to_dict(self) -> dict:
        """The record as a dict; ``val_loss`` (measured only when training to convergence, before
        the epoch's depth check) only where measured, so earlier records keep their form."""
        return without_later_defaults(asdict(self), {"val_loss": None})


@dataclass
class FitResult:
    """A trained model, its per-epoch history, the layers removed on the way, and its test accuracy,
    measured once, after training. ``initial_criterion``: the adaptive-depth criterion before training.
    ``best_epoch``: the epoch whose net this is (1-based; the last one unless trained to convergence)."""

    model: DenseResNet
    history: list[EpochRecord]
    test_acc: float
    pruning: list[PruneRecord] = field(default_factory=list)
    config: TrainConfig = TrainConfig()
    adaptive: AdaptiveDepthConfig | None = None
    initial_criterion: float | None = None
    from_cache: bool = False
    best_epoch: int | None = None

    @property
    def val_acc(self) -> float:
        """The validation accuracy of the net kept (its epoch's)."""
        return self.history[(self.best_epoch or len(self.history)) - 1].val_acc

    @property
    def seconds(self) -> float:
        return float(sum(r.seconds for r in self.history))


def signal(record: EpochRecord, stop_on: str) -> float:
    """``record``'s value of the stopping signal ``stop_on``, lower is better (the accuracy negated)."""
    return -record.val_acc if stop_on == "val_acc" else record.val_loss


def converged(history: list[EpochRecord], patience: int | None, stop_on: str = "val_loss") -> bool:
    """Whether training to convergence stops after ``history``: the signal ``stop_on`` has not improved
    (bettered its best so far) for ``patience`` epochs. Never with ``patience=None``."""
    if patience is None or len(history) <= patience:
        return False
    values = [signal(r, stop_on) for r in history]
    return min(values[-patience:]) >= min(values[:-patience])


# ----------------------------------------------------------------------------------------------


#: bf16 is what ``precision="auto"`` picks where the processor runs it natively, because it trains
#: about twice as fast there and changed no conclusion (notebooks/10_precision.ipynb, BENCHMARKS.md).
AUTO_BF16 = True


def choose_precision(device: torch.device) -> tuple[str, str]:
    """What ``precision="auto"`` means on ``device``: ("bf16" or "fp32", the reason in words)."""
    if not AUTO_BF16:
        return "fp32", "bf16 is switched off (resdyn.core.trainconfig.AUTO_BF16)"
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return "bf16", "this GPU computes bf16 natively"
        return "fp32", "this GPU has no native bf16"
    native = [f for f, ok in (("avx512_bf16", getattr(torch.cpu, "_is_avx512_bf16_supported", None)),
                              ("amx_bf16", getattr(torch.cpu, "_is_amx_tile_supported", None))) if ok and ok()]
    if native:
        return "bf16", f"this CPU computes bf16 natively ({', '.join(native)})"
    return "fp32", "this CPU has no native bf16 (avx512_bf16 or amx): emulated bf16 would be slower than fp32"


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f'device="{device}" but CUDA is not available here; use device="cpu" or "auto".')
    return torch.device(device)
