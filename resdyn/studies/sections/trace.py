"""Any residual model (notebook 11): the paper's statistics and the field's layer criteria, side by side.

The paper's statistics (Fig. 1A-1C: class means, across-sample std, their settling layers, trajectory
distances) on any model's residuals (:func:`resdyn.lib.trace.trace`, each layer flattened by
:mod:`resdyn.core.dynamics`), beside every criterion of :mod:`resdyn.lib.criteria` per layer and the ground
truth the criteria try to predict: the accuracy with one block skipped (:func:`resdyn.lib.surgery.lesion`).
A model with transitions is measured stage by stage; what compares two layers across a transition
(the class means' change, c(t)) is None there. Core: :func:`measure` on models and samples; :func:`run`
on a Setup: the paper's two trained 15-layer nets and a 1-D conv ResNet (:class:`resdyn.lib.zoo.ConvResNet1d`,
each image read as a signal along its columns with its rows as channels) trained here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

import torch
from torch import nn

from resdyn.lib import criteria
from resdyn.lib.blocks import resolve_blocks
from resdyn.core.claims import LESION_MARGIN, SETTLING_FRACTION
from resdyn.core.data import Dataset, random_subset
from resdyn.core.dynamics import class_residual_stats, settling_layer, trajectory_distances
from resdyn.studies.markdown import never, num, pct, table
from resdyn.core.model import DenseResNet
from resdyn.lib.fitting import FitConfig, fit_classifier
from resdyn.lib.surgery import lesion
from resdyn.lib.trace import trace
from resdyn.lib.zoo import ConvResNet1d
from resdyn.studies.sections import common

#: The criteria per layer (:mod:`resdyn.lib.criteria`), by record key: what each entry t-1 measures at layer t.
CRITERIA = {"convergence": "c(t) = mean |y(t) - y(t-1)|", "block_influence": "Block Influence 1 - cos(x(t-1), x(t))",
            "angular_distance": "angular distance of x(t-1), x(t)", "cka": "linear CKA of x(t-1), x(t)",
            "relative_residual": "|y(t)| / |x(t-1)|"}


@dataclass(frozen=True)
class ConvSpec:
    """The conv net of :func:`run` and its training (``n_train`` None: all): at most ``epochs`` epochs, the
    net of the best validation epoch kept (:func:`resdyn.lib.fitting.fit_classifier` with ``patience``);
    a ``patience`` of None (records before 2026-12-07) trained exactly ``epochs`` epochs."""

    channels: list[int]
    blocks_per_stage: int
    n_train: int | None
    epochs: int
    batch_size: int
    lr: float
    patience: int | None = None


#: Per mode: a 3-stage conv ResNet of 6 blocks on 10,000 training images (quick: all 1,000 digits), its
#: budget chosen on validation under a cap of 30 epochs (written on 2026-12-07, before its first run).
CONV = {"full": ConvSpec([16, 32, 64], 2, n_train=10000, epochs=30, batch_size=64, lr=3e-3, patience=3),
        "quick": ConvSpec([16, 32, 64], 2, n_train=None, epochs=10, batch_size=64, lr=3e-3, patience=3)}


@dataclass(frozen=True)
class ConvTraining:
    """How :func:`run` trained the conv net: its spec, the training samples, seed, seconds, the test
    accuracy (whole test split), the input's reading (``in_channels`` rows of ``length``; records before
    2026-12-03: the flattened image, 1 and None), the epochs trained, the one kept and whether the run
    stopped at its cap (records before 2026-12-07: None, a fixed budget)."""

    spec: ConvSpec
    n_train: int
    seed: int
    train_seconds: float
    test_acc: float
    in_channels: int = 1
    length: int | None = None
    epochs_trained: int | None = None
    kept_epoch: int | None = None
    capped: bool | None = None

    def budget(self) -> str:
        """The training budget in words: "kept epoch 9 of 12 (cap 30)", or the fixed "3 epochs"."""
        cap = "stopped at its cap" if self.capped else f"cap {self.spec.epochs}"
        return f"{self.spec.epochs} epochs" if self.kept_epoch is None else \
            f"kept epoch {self.kept_epoch} of {self.epochs_trained} ({cap})"


@dataclass(frozen=True)
class LesionRow:
    """Block ``block`` (1-based, in :mod:`resdyn.lib.blocks` order; ``name``: its module path, or
    "layer t" for a DenseResNet) skipped alone: the accuracy on the samples."""

    block: int
    name: str
    accuracy: float


@dataclass(frozen=True)
class TracedModel:
    """One model traced on the samples. Per-layer lists are (T,), entry t-1 for layer t (block call t),
    but ``change_profile`` (T-1,): entry t-1 is the change from layer t to t+1 (Fig. 1A). None: not
    defined (across a transition; c(t) of a stage's first layer; a criterion that is nan or inf).

    kind: the model's class; depth: T; stages: layers per stage; shapes: each stage's block output
    shape; accuracy: on the samples, unlesioned; std_layer, mean_layer: settling layers at
    :data:`resdyn.core.claims.SETTLING_FRACTION` of the peak (None: never); ratio: within/between-class
    distance of whole trajectories per class (Fig. 1C); criteria: :data:`CRITERIA` per layer."""

    kind: str
    parameters: int
    depth: int
    names: list[str]
    stages: list[int]
    shapes: list[list[int]]
    accuracy: float
    std_profile: list[float]
    change_profile: list[float | None]
    std_layer: int | None
    mean_layer: int | None
    ratio: list[float]
    criteria: dict[str, list[float | None]]
    lesion: list[LesionRow]

    @property
    def mean_ratio(self) -> float:
        return sum(self.ratio) / len(self.ratio)

    @property
    def worst_lesion(self) -> LesionRow:
        """The block whose lesion costs most accuracy (ties: the first)."""
        return min(self.lesion, key=lambda r: r.accuracy)

    def frame(self):
        """Per layer (index: layer t, 1..T): the block, the std, the change to t+1, every criterion
        and, where the lesions cover every block, the accuracy with that block skipped; a DataFrame."""
        import pandas as pd

        frame = pd.DataFrame({"block": self.names, "std": self.std_profile, "change to t+1": [*self.change_profile, None],
                              **self.criteria}, index=pd.RangeIndex(1, self.depth + 1, name="layer t"))
        if len(self.lesion) == self.depth:
            frame["accuracy, block skipped"] = [r.accuracy for r in self.lesion]
        return frame


@dataclass(frozen=True)
class TraceStudy:
    """Section ``trace``: models traced on ``n_samples`` samples of ``classes``; ``conv``: how
    :func:`run` trained the conv net (None where :func:`measure` was given the models)."""

    n_samples: int
    classes: list[int]
    models: dict[str, TracedModel]
    conv: ConvTraining | None = None

    SECTION: ClassVar[str] = "trace"

    def frame(self):
        """Every model's :meth:`TracedModel.frame`, one above the other (index: model, layer t)."""
        import pandas as pd

        return pd.concat({name: m.frame() for name, m in self.models.items()}, names=["model"])


def _floats(values) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in torch.as_tensor(values).double().tolist()]


def _joined(parts: list[list], gap: list) -> list:
    """The stages' lists joined, ``gap`` between two stages."""
    out = list(parts[0])
    for p in parts[1:]:
        out += gap + list(p)
    return out


def _change_settling(stats) -> int | None:
    """Fig. 1A's settling layer on the stages' change profiles: the paper's rule for one stage; with
    several, the peak over all stages and the layer from which the last stage's changes stay below."""
    if len(stats) == 1:
        return settling_layer(stats[0].change_profile, fraction=SETTLING_FRACTION)
    tail = stats[-1].change_profile
    peak = max(float(s.change_profile.max()) for s in stats if len(s.change_profile))
    if len(tail) == 0 or not peak > 0:
        return None
    t = settling_layer(tail, absolute=SETTLING_FRACTION * peak)
    return None if t is None else t + sum(len(s.std_profile) for s in stats[:-1])


def _stage_criteria(stage) -> dict[str, list[float | None]]:
    s, r = stage.states, stage.residuals
    conv = [None] + (_floats(criteria.convergence_profile(r)) if r.shape[1] > 1 else [])
    return {"convergence": conv, "block_influence": _floats(criteria.block_influence(s)),
            "angular_distance": _floats(criteria.angular_distance(s)), "cka": _floats(criteria.cka_profile(s)),
            "relative_residual": _floats(criteria.relative_residual(s, r))}


@torch.no_grad()
def _accuracy(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, *, batch_size: int = 1000) -> float:
    flag = model.training
    model.eval()
    hits = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch_size), labels.split(batch_size)))
    model.train(flag)
    return hits / len(labels)


def lesion_table(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, blocks=None) -> list[LesionRow]:
    """The accuracy on ``x`` with each block (each layer of a DenseResNet) skipped alone."""
    if isinstance(model, DenseResNet):
        names = [f"layer {t + 1}" for t in range(model.depth)]
    else:
        names = [name for name, _ in resolve_blocks(model, blocks)]
    return [LesionRow(t + 1, name, _accuracy(lesion(model, blocks, t), x, labels)) for t, name in enumerate(names)]


def trace_model(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, *, blocks=None,
                batch_size: int | None = None) -> TracedModel:
    """The paper's statistics, the criteria and the lesion table of one classifier (output: logits
    (n, classes)) on ``x`` (n, ...) with class ``labels`` (n,)."""
    tr = trace(model, x, blocks, batch_size=batch_size)
    stats = [class_residual_stats(s.residuals, labels) for s in tr.stages]
    std = torch.cat([s.std_profile for s in stats])
    whole = torch.cat([s.residuals.reshape(len(x), -1) for s in tr.stages], 1)  # every stage's residuals, flat
    distances = trajectory_distances(whole[:, None], labels)
    per_stage = [_stage_criteria(s) for s in tr.stages]
    return TracedModel(
        kind=type(model).__name__, parameters=sum(p.numel() for p in model.parameters()), depth=len(tr.names),
        names=list(tr.names), stages=[len(s.layers) for s in tr.stages],
        shapes=[list(s.states.shape[2:]) for s in tr.stages],
        accuracy=float((tr.output.argmax(1) == labels).double().mean()), std_profile=std.tolist(),
        change_profile=_joined([s.change_profile.tolist() for s in stats], [None]),
        std_layer=settling_layer(std, fraction=SETTLING_FRACTION), mean_layer=_change_settling(stats),
        ratio=distances.ratio.tolist(),
        criteria={k: _joined([c[k] for c in per_stage], []) for k in CRITERIA},
        lesion=lesion_table(model, x, labels, blocks))


def measure(models: dict[str, nn.Module], samples_x: torch.Tensor, labels: torch.Tensor, *,
            blocks: dict | None = None, batch_size: int | None = None) -> TraceStudy:
    """:func:`trace_model` of every model (by name) on the samples ``samples_x`` (n, ...) with class
    ``labels`` (n,) (at least 2 samples per class). ``blocks``: per model name, its blocks
    (:mod:`resdyn.lib.blocks`; absent: found). ``batch_size``: trace in batches."""
    blocks = blocks or {}
    done = {name: trace_model(m, samples_x, labels, blocks=blocks.get(name), batch_size=batch_size)
            for name, m in models.items()}
    return TraceStudy(n_samples=len(labels), classes=torch.unique(labels).tolist(), models=done)


def train_conv(data: Dataset, spec: ConvSpec, *, seed: int) -> tuple[ConvResNet1d, ConvTraining]:
    """A :class:`resdyn.lib.zoo.ConvResNet1d` trained on ``data``'s images read as signals along their
    columns, one channel per row (MNIST: 28 channels of length 28; a 1-D conv on the flattened image
    with global pooling would lose where the rows lie). Adam, cross-entropy, early-stopped on
    ``data.val`` with the best validation epoch's net kept (``spec``); initialization, subset and
    shuffling from ``seed``. The test split is read once, by the kept net."""
    if spec.patience is None:
        raise ValueError("spec.patience is None (a fixed budget); give a patience, e.g. CONV['full'] has 3.")
    rows, cols = data.image_shape
    model = ConvResNet1d(channels=tuple(spec.channels), blocks_per_stage=spec.blocks_per_stage,
                         n_classes=data.n_classes, seed=seed, in_channels=rows)
    train = data.train if spec.n_train is None else random_subset(data.train, spec.n_train, seed=seed)
    fit = fit_classifier(model, replace(data, train=train), seed=seed, copy_model=False, config=FitConfig(
        lr=spec.lr, batch_size=spec.batch_size, max_epochs=spec.epochs, patience=spec.patience))
    fit.model.eval()
    return fit.model, ConvTraining(
        spec=spec, in_channels=rows, length=cols, n_train=len(train), seed=seed, train_seconds=fit.seconds,
        test_acc=_accuracy(fit.model, data.test.x, data.test.y), epochs_trained=len(fit.history),
        kept_epoch=fit.best_epoch, capped=fit.capped)


def run(exp, *, quick: bool | None = None) -> TraceStudy:
    """The paper's two trained 15-layer nets and a conv ResNet trained here (:data:`CONV`, quick's
    budget where ``quick``, default ``exp.quick``), traced on ``exp.samples()``."""
    quick = exp.quick if quick is None else quick
    conv, info = train_conv(exp.data, CONV["quick" if quick else "full"], seed=exp.seed)
    samples = exp.samples()
    nets = {**common.models(common.trained_nets(exp)), "conv": conv}
    return replace(measure(nets, samples.x, samples.y), conv=info)


#: No claim of the paper is tested here: the registry's verdict rule is None.
verdicts = None


def essential(m: TracedModel) -> list[LesionRow]:
    """The essential blocks, worst first: those whose lesion leaves the accuracy at least
    :data:`resdyn.core.claims.LESION_MARGIN` below the median block's lesion (closer, float noise could
    reorder them). Empty with fewer than two lesions (nothing to compare with)."""
    if len(m.lesion) < 2:
        return []
    accs = sorted(r.accuracy for r in m.lesion)
    mid = len(accs) // 2
    median = accs[mid] if len(accs) % 2 else (accs[mid - 1] + accs[mid]) / 2
    return sorted((r for r in m.lesion if round(median - r.accuracy, 9) >= LESION_MARGIN), key=lambda r: (r.accuracy, r.block))


def standout(m: TracedModel) -> LesionRow | None:
    """The worst lesion where it costs at least :data:`resdyn.core.claims.LESION_MARGIN` more accuracy
    than the median block's (the worst of :func:`essential`); the only one of a one-block model; None
    where none does."""
    if len(m.lesion) == 1:
        return m.lesion[0]
    rows = essential(m)
    return rows[0] if rows else None


def describe(rec: TraceStudy) -> str:
    """One line per model: its layers and stages, its accuracy, the lesion that stands out against the median
    block's and the essential blocks (:func:`essential`; the checked output)."""
    lines = []
    for name, m in rec.models.items():
        w, needed = standout(m), essential(m)
        worst = (f"block {w.block} ({w.name}), accuracy {w.accuracy:.2f}" if w else
                 f"none stands out (none by {LESION_MARGIN:.2f} or more)")
        worst += f"; essential blocks: {', '.join(str(r.block) for r in needed) or 'none'}"
        lines.append(f"{name}: {m.kind}, {m.depth} layers in {len(m.stages)} stage{'s' * (len(m.stages) > 1)} "
                     f"{m.stages}; accuracy {m.accuracy:.2f}; the worst single-block lesion: {worst}")
    return "\n".join(lines)


def what_this_shows(rec: TraceStudy) -> str:
    """Which blocks each traced model needs, in words (notebook 11's closing paragraph): the blocks whose lesion
    alone costs at least :data:`resdyn.core.claims.LESION_MARGIN` more accuracy than the median block's."""
    out = []
    for name, m in rec.models.items():
        needed = [str(r.block) for r in essential(m)]
        out.append(f"In the {name} net ({m.kind}, {m.depth} blocks), "
                   + (f"skipping block {' or '.join(needed)} alone costs at least {LESION_MARGIN:g} more accuracy "
                      "than skipping the median block" if needed else
                      f"no block's lesion alone costs {LESION_MARGIN:g} more accuracy than the median block's") + ".")
    out.append("A criterion that calls a block removable is right where that block's lesion costs little.")
    return " ".join(out)


def _layer_rows(m: TracedModel) -> list[list[str]]:
    aligned = len(m.lesion) == m.depth
    change = m.change_profile + [None]
    return [[str(t + 1), m.names[t], num(m.std_profile[t]), num(change[t], "{:.4f}")]
            + [num(m.criteria[k][t], "{:.4f}") for k in CRITERIA]
            + [pct(m.lesion[t].accuracy) if aligned else ""] for t in range(m.depth)]


def render(rec: TraceStudy, link: str) -> str:
    """The report's section: a summary of the models (the tables layer by layer are in the notebook)."""
    out = ["## Any residual model: the paper's statistics and the field's criteria", "", f"Notebook: {link}. "
           f"Each model traced on {rec.n_samples} test samples ({len(rec.classes)} classes); residuals flattened per "
           f"layer. Settling: below {100 * SETTLING_FRACTION:g} % of the profile's peak from that layer on."]
    if rec.conv is not None:
        c, spec = rec.conv, rec.conv.spec
        reading = ("the flattened image read as one signal" if c.length is None else
                   f"each image read as {c.in_channels} channels (its rows) of length {c.length} (its columns)")
        out[-1] += (f" The conv net: {reading}; channels {spec.channels}, {spec.blocks_per_stage} blocks per stage, "
                    f"Adam (lr {spec.lr:g}), {c.budget()} on {c.n_train} samples (seed {c.seed}, "
                    f"{c.train_seconds:.0f} s), test accuracy {pct(c.test_acc)}.")
    out.append("")
    out.append(table(["model", "kind", "parameters", "layers (stages)", "accuracy", "std settles from",
                      "means settle after", "within/between", "worst lesion"],
                     [(n, m.kind, m.parameters, f"{m.depth} ({', '.join(map(str, m.stages))})", pct(m.accuracy),
                       never(m.std_layer), never(m.mean_layer), f"{m.mean_ratio:.3f}",
                       f"block {m.worst_lesion.block}: {pct(m.worst_lesion.accuracy)}")
                      for n, m in rec.models.items()]))
    out += ["", "Criteria: " + "; ".join(f"{k}: {v}" for k, v in CRITERIA.items()) + ". The notebook gives each "
            "model's statistics and criteria layer by layer, and the accuracy with each block skipped.", ""]
    return "\n".join(out)
