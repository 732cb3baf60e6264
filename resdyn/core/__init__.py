"""The paper's core: the model, its data and training, the residual dynamics, the adaptive depth rule and the
rule ledger. Read top to bottom:

- ``model``: The paper's dense residual network, written so that the equations can be read off the code
- ``data``: Data: MNIST (through torchvision) and a tiny embedded dataset for fast tests
- ``trainconfig``: How to train and what a training run gives: :class:`TrainConfig`, :class:`EpochRecord`,
  :class:`FitResult`, and what ``precision="auto"`` means on this machine
- ``train``: Training: one plain function, :func:`fit`, and a cache around it, :func:`train_or_load`
- ``store``: Persistence of trained nets: the cache key, one save format for checkpoints and finished nets,
  atomic writes, and loading that survives a damaged file
- ``checkpoints``: The checkpoint bookkeeping of :func:`resdyn.core.train.fit`: resuming, and saving after every
  epoch
- ``dynamics``: Statistics of the residual dynamics (Fig. 1A-1C; the embedding of Fig. 1D is
  :mod:`resdyn.lib.embedding`)
- ``pruning``: Adaptive depth (the paper's algorithm) and layer removal
- ``claims``: The paper's claims, the rule that turns each measurement into a verdict, and the verdicts
- ``paths``: Where resdyn reads its data and keeps its trained nets; the run's outputs and switches are in
  :mod:`resdyn.studies.switches`
- ``files``: Writing files whole or not at all
"""
