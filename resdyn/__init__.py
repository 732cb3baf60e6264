"""resdyn: residual networks as dynamical systems, after Lagzi, 'Compact representations and
pruning in residual networks' (NIPS 2018 submission; arXiv 2101.03009).

The face the notebooks use::

    import resdyn
    from resdyn.core import claims
    from resdyn.studies import plots, sections

    exp = resdyn.setup(quick=False, seed=0)      # the run: regime, data, nets (cached), output folders
    fig1c = sections.fig1c.run(exp)              # one section of results.json, as a typed record
    exp.save_figure(plots.fig1c(fig1c), "fig1c_trajectory_distances")
    exp.save(fig1c)                              # the notebook's fragment of results.json
    sections.verdict_table(exp, fig1c)           # its verdicts in words, by the rules in resdyn.core.claims

- ``setup``: :func:`resdyn.studies.experiment.setup`.
- ``sections``: one module per figure or study (record, core ``measure`` on models and samples,
  ``run`` on a Setup, report part) and the registry ``sections.SECTIONS``.
- ``claims``: the rule ledger (every threshold, the paper's numbers, the verdict rules).
- ``plots``: one figure per section record; plots compute nothing.

Below them (import what you need from the module): ``resdyn.core.model`` (``DenseResNet``,
``ModelConfig``, ``Trajectory``), ``resdyn.core.data`` (``load_dataset``, ``balanced_subset``),
``resdyn.core.train`` (``fit``, ``train_or_load``, ``TrainConfig``), ``resdyn.core.pruning`` (the adaptive
rule), ``resdyn.core.dynamics`` (the statistics), ``resdyn.run.results`` (the schema), ``resdyn.run.report``,
``resdyn.run.reproduce``. The layers and their order are in ``pyproject.toml`` (import-linter).
"""
from resdyn.studies.experiment import setup
from resdyn.studies.machine import package_version

__all__ = ["setup"]
#: pyproject.toml's version (through the installed package's metadata; CITATION.cff cites it).
__version__ = package_version()
