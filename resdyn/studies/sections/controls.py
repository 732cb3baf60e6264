"""Controls that can meet the tests, per regime and seed, for :mod:`.by_regime`.

- **Shuffled labels** (:data:`resdyn.core.claims.SHUFFLED_CONTROL`): the same net, regime and seed trained
  on one fixed permutation of the training labels. If it settles too, settling says nothing about
  class information.
- **Non-residual net** (:data:`resdyn.core.claims.MLP_CONTROL`): x(t+1) = sigmoid(W(t) x(t) + b(t)) of
  the same width, depth, regime and seed, trained. If its state trajectory and its x(T) separate the
  classes as well, Fig. 1C/1D say nothing about residual nets.
- **The within/between ratio layer by layer**, of the residual net's y(t) and x(t) and of the
  non-residual net's x(t): whether class information sits in the transient or only accumulates.

Core: :func:`measure` takes models and samples; :func:`run` trains (or loads) the control nets of a
:class:`resdyn.studies.experiment.Setup` (:func:`jobs`) and measures them; :func:`judge` applies the controls'
clauses to one seed's verdicts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Split
from resdyn.core.dynamics import class_residual_stats, trajectory_distances
from resdyn.lib.embedding import cluster_separation, tsne_embedding
from resdyn.studies.regimes import Variant
from resdyn.lib.trace import trace
from resdyn.studies.sections.fig1ab import BATCH, residual_profile
from resdyn.studies.sections.seeds import SeedRun

#: The non-residual control as a change of the regime's net (its cache entries are its own).
MLP = Variant("mlp", "non-residual control (MLP)", model={"residual": False})
#: The initializations the non-residual control is chosen from (:data:`resdyn.core.claims.MLP_CONTROL`):
#: the regime's, and PyTorch's default (nn.Linear's uniform weights and biases).
MLP_INITS = {"regime": {}, "pytorch": {"init_scale": None, "init_bias": 0.0}}


def mlp_candidates(lr: float) -> list[Variant]:
    """The non-residual controls chosen from on validation for a regime training at ``lr``: each
    initialization of :data:`MLP_INITS` at each learning rate of :data:`resdyn.core.claims.MLP_CONTROL`'s
    ``lr_factors`` (times ``lr``); the first is :data:`MLP` itself (the control as it was before the choice)."""
    return [MLP if (init, f) == ("regime", 1.0) else
            Variant(f"mlp_{init}_lr{f:g}", f"non-residual control, {init} init, lr x{f:g}",
                    model={"residual": False, **MLP_INITS[init]}, train={"lr": round(lr * f, 12)})
            for init in MLP_INITS for f in claims.MLP_CONTROL.thresholds["lr_factors"]]


def choose(val_accs: list[float]) -> int:
    """The index of the best validation accuracy in ``val_accs`` (the first on a tie)."""
    return max(range(len(val_accs)), key=lambda i: (val_accs[i], -i))
#: The keys of :attr:`ControlRun.layer_ratio`, per net: what each curve is.
CURVES = {"residual_y": "residual net, y(t)", "residual_x": "residual net, x(t)", "mlp_x": "non-residual net, x(t)"}


@dataclass(frozen=True)
class ShuffledNet:
    """A net trained on shuffled labels: its validation accuracy (on the true labels) and its settling
    layers (None: never), on the rules' relative scale and on the paper's absolute one."""

    val_acc: float
    mean_layer: int | None
    std_layer: int | None
    mean_layer_absolute: int | None
    std_layer_absolute: int | None


@dataclass(frozen=True)
class MlpNet:
    """The trained non-residual net: test accuracy; Fig. 1C's mean within/between ratio of its state
    trajectory x(1..T); Fig. 1D's kNN accuracy and silhouette of the t-SNE of its x(T). None where
    undefined: a net that maps every sample to (nearly) one point has no distance ratio (0 / 0) and
    no embedding (t-SNE's neighbour distances are all 0), so it cannot meet a test. ``val_acc``: its
    validation accuracy; ``learned``: whether it learned (:func:`resdyn.core.claims.control_learned`);
    ``chosen``: the key of the candidate chosen on validation (:func:`mlp_candidates`) and ``candidates``
    each candidate's validation accuracy (all three None in records written before the choice)."""

    test_acc: float
    mean_ratio: float | None
    knn_accuracy: float | None
    silhouette: float | None
    val_acc: float | None = None
    learned: bool | None = None
    chosen: str | None = None
    candidates: dict[str, float] | None = None


@dataclass(frozen=True)
class ControlRun:
    """One seed's controls. ``layer_ratio``: key ``<curve>/<net>`` (curves: :data:`CURVES`) -> (T,)
    within/between ratio of each layer's vectors, mean over classes (index t-1 is layer t; None where
    a collapsed net's layer has no distances);
    ``changed``: verdict key -> "before -> after" where a control's clause changed a verdict;
    ``unopposed``: the verdict keys that hold and that the non-residual control, which did not learn,
    could not judge (:data:`resdyn.core.claims.MLP_CONTROL`'s learning clause)."""

    seed: int
    shuffled: dict[str, ShuffledNet]
    mlp: dict[str, MlpNet]
    layer_ratio: dict[str, list[float | None]]
    changed: dict[str, str]
    unopposed: list[str] = field(default_factory=list)


def layer_ratios(trajectory: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The within/between distance ratio of each layer on its own (Fig. 1C layer by layer), mean over
    classes: ``out[t] == trajectory_distances(trajectory[:, t:t + 1], labels).ratio.mean()``.

    Args:
        trajectory: (n, T, N), e.g. the residuals y(1..T) or the states x(1..T); labels: (n,).
    Returns: (T,) float32.
    """
    if not isinstance(trajectory, torch.Tensor) or trajectory.ndim < 3:  # a layer's slice would pass as (n, 1)
        raise ValueError(f"residuals must have shape (n, T, N), got {tuple(getattr(trajectory, 'shape', ()))}.")
    return torch.stack([trajectory_distances(trajectory[:, t:t + 1], labels).ratio.double().mean()
                        for t in range(trajectory.shape[1])]).float()


def shuffled_net(model: torch.nn.Module, samples: Split, *, val_acc: float) -> ShuffledNet:
    """The settling layers of a net trained on shuffled labels, on ``samples``."""
    p = residual_profile(class_residual_stats(trace(model, samples.x, batch_size=BATCH).residuals, samples.y))
    return ShuffledNet(val_acc=val_acc, mean_layer=p.mean_layer, std_layer=p.std_layer,
                       mean_layer_absolute=p.sensitivity.mean_layer_absolute,
                       std_layer_absolute=p.sensitivity.std_layer_absolute)


def mlp_net(model: torch.nn.Module, samples: Split, *, test_acc: float, seed: int, val_acc: float | None = None) -> MlpNet:
    """Fig. 1C and 1D's numbers for a trained non-residual net, on ``samples``, with its accuracies and
    whether it learned (its validation accuracy against chance, 1 / its number of classes)."""
    import numpy as np

    n_classes = model.config.n_classes if hasattr(model, "config") else int(samples.y.max()) + 1
    accs = {"test_acc": test_acc, "val_acc": val_acc, "learned": claims.control_learned(val_acc, n_classes)}

    states = trace(model, samples.x, batch_size=BATCH).states
    ratio = trajectory_distances(states[:, 1:], samples.y).ratio.double().mean().item()
    emb = tsne_embedding(states[:, -1].clone(), seed=seed, n_jobs=1)
    if not np.isfinite(emb).all():  # collapsed: every sample at (nearly) one point
        return MlpNet(**accs, mean_ratio=ratio if np.isfinite(ratio) else None, knn_accuracy=None, silhouette=None)
    sep = cluster_separation(emb, samples.y, k=10, seed=seed)
    return MlpNet(**accs, mean_ratio=ratio if np.isfinite(ratio) else None, knn_accuracy=sep.knn_accuracy,
                  silhouette=sep.silhouette)


def measure(residual: dict[str, torch.nn.Module], shuffled: dict[str, tuple[torch.nn.Module, float]],
            mlp: dict[str, tuple], samples: Split, *, seed: int) -> ControlRun:
    """The controls of one seed: ``residual`` (net -> trained residual model), ``shuffled`` (net ->
    (model trained on shuffled labels, its validation accuracy)), ``mlp`` (net -> (trained
    non-residual model, its test accuracy[, its validation accuracy])), all measured on ``samples``. ``changed`` is empty
    (see :func:`judge`)."""
    ratios = {}
    for net in residual:
        r, m = trace(residual[net], samples.x, batch_size=BATCH), trace(mlp[net][0], samples.x, batch_size=BATCH)
        for key, traj in (("residual_y", r.residuals), ("residual_x", r.states[:, 1:]), ("mlp_x", m.states[:, 1:])):
            ratios[f"{key}/{net}"] = [r if math.isfinite(r) else None for r in layer_ratios(traj, samples.y).tolist()]
    return ControlRun(seed=seed, shuffled={n: shuffled_net(m, samples, val_acc=a) for n, (m, a) in shuffled.items()},
                      mlp={n: mlp_net(m[0], samples, test_acc=m[1], val_acc=(m + (None,))[2], seed=seed)
                           for n, m in mlp.items()},
                      layer_ratio=ratios, changed={})


def jobs(exp) -> list:
    """The control nets of ``exp``'s regime and seed, both kinds of weights: on shuffled labels, and
    the non-residual candidates (:func:`mlp_candidates`)."""
    return [j for net in NETS for j in (exp.job(shared=(net == "shared"), shuffle_labels=True),
                                        *(exp.job(shared=(net == "shared"), variant=v)
                                          for v in mlp_candidates(exp.train_config.lr)))]


def run(exp, residual: dict[str, torch.nn.Module]) -> ControlRun:
    """Train (or load) the control nets of ``exp``, choose each net's non-residual control on validation
    (:func:`choose`) and :func:`measure` them beside the ``residual`` models."""
    candidates = mlp_candidates(exp.train_config.lr)
    results, per = exp.train(*jobs(exp)), 1 + len(candidates)
    shuffled = {n: results[i * per] for i, n in enumerate(NETS)}
    mlps = {n: results[i * per + 1:(i + 1) * per] for i, n in enumerate(NETS)}
    best = {n: choose([r.val_acc for r in mlps[n]]) for n in NETS}
    c = measure(residual, {n: (shuffled[n].model, shuffled[n].val_acc) for n in NETS},
                {n: (mlps[n][best[n]].model, mlps[n][best[n]].test_acc, mlps[n][best[n]].val_acc) for n in NETS},
                exp.samples(), seed=exp.seed)
    return replace(c, mlp={n: replace(m, chosen=candidates[best[n]].key,
                                      candidates={v.key: r.val_acc for v, r in zip(candidates, mlps[n])})
                           for n, m in c.mlp.items()})


def judge(run_: SeedRun, c: ControlRun) -> tuple[SeedRun, ControlRun]:
    """One seed's verdicts with the controls' clauses applied (:func:`resdyn.core.claims.shuffled_clause`,
    :func:`resdyn.core.claims.mlp_distance_clause`, :func:`resdyn.core.claims.mlp_tsne_clause`), and ``c`` with
    the verdicts they changed. A non-residual control that did not learn judges nothing: the verdicts it
    would have judged that hold are listed in ``unopposed``."""
    v, n, unopposed = dict(run_.verdicts), run_.numbers, []
    for net in NETS:
        s = c.shuffled[net]
        for key, layer in (("mean_layer", s.mean_layer), ("std_layer", s.std_layer),
                           ("mean_absolute", s.mean_layer_absolute), ("std_absolute", s.std_layer_absolute)):
            if f"{key}_{net}" in v:
                v[f"{key}_{net}"] = claims.shuffled_clause(v[f"{key}_{net}"], layer)
        m = c.mlp[net]  # an undefined number (a collapsed net) cannot meet the test
        if m.learned is False:
            unopposed += [k for k in (f"distance_{net}", f"tsne_{net}") if v.get(k) == "holds"]
            continue
        if m.mean_ratio is not None:
            v[f"distance_{net}"] = claims.mlp_distance_clause(
                v[f"distance_{net}"], m.mean_ratio, n[f"distance_ratio_{net}"] + n[f"distance_margin_{net}"])
        if m.silhouette is not None:
            v[f"tsne_{net}"] = claims.mlp_tsne_clause(
                v[f"tsne_{net}"], m.silhouette, n[f"silhouette_{net}"] - n[f"silhouette_margin_{net}"])
    changed = {k: f"{run_.verdicts[k]} -> {x}" for k, x in v.items() if x != run_.verdicts[k]}
    return replace(run_, verdicts=v), replace(c, changed=changed, unopposed=unopposed)
