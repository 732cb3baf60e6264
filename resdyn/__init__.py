"""resdyn: residual networks as dynamical systems, after Lagzi, 'Compact representations and
pruning in residual networks' (NIPS 2018 submission; arXiv 2101.03009).

Public API (see each module's docstring):

- data:      ``load_dataset``, ``balanced_subset``, ``Dataset``, ``Split``, ``DataError``
- model:     ``DenseResNet``, ``ModelConfig``, ``Trajectory``
- training:  ``fit``, ``train_or_load``, ``TrainConfig``, ``accuracy``
- pruning:   ``AdaptiveDepthConfig``, ``convergence_criterion``, ``depth_criterion``, ``remove_last_layers``
- dynamics:  ``collect_trajectory``, ``class_residual_stats``, ``settling_layer``,
             ``trajectory_distances``, ``tsne_embedding``, ``cluster_separation``
- experiment: ``setup`` (one run of the paper's experiment: regime, data, nets, output folders)
- ``resdyn.paper`` (one function per figure: its results.json section as a typed record),
  ``resdyn.results`` (the schema, fragments, merging), ``resdyn.claims`` (verdict rules),
  ``resdyn.plots`` (figures), ``resdyn.store`` (the model cache), ``resdyn.reproduce``.
"""
from .experiment import setup
from .data import DataError, Dataset, Split, balanced_subset, load_dataset
from .dynamics import (
    class_residual_stats,
    cluster_separation,
    collect_trajectory,
    settling_layer,
    trajectory_distances,
    tsne_embedding,
)
from .model import DenseResNet, ModelConfig, Trajectory
from .pruning import AdaptiveDepthConfig, convergence_criterion, depth_criterion, remove_last_layers
from .train import TrainConfig, accuracy, fit, train_or_load

__all__ = [
    "setup",
    "DataError", "Dataset", "Split", "balanced_subset", "load_dataset",
    "DenseResNet", "ModelConfig", "Trajectory",
    "TrainConfig", "accuracy", "fit", "train_or_load",
    "AdaptiveDepthConfig", "convergence_criterion", "depth_criterion", "remove_last_layers",
    "class_residual_stats", "cluster_separation", "collect_trajectory", "settling_layer",
    "trajectory_distances", "tsne_embedding",
]
__version__ = "0.1.0"
