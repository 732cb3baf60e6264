"""The library for any residual model (layer-removal criteria, streaming statistics, the zoo, MNIST-1D) and
the runs' machinery (fitting, parallel training, a run's fragments):

- ``trace``: The trajectory x(t) of any residual network, recorded with hooks on its blocks
- ``hooks``: The hooks behind :func:`resdyn.lib.trace.trace`: what one forward pass records about its blocks
- ``blocks``: Which modules of a model are its residual blocks, and what their shortcuts are
- ``embedding``: Fig. 1D's embedding: t-SNE of trajectories, reproducible across BLAS kernels, and how well
  classes separate in it
- ``mechanism``: What the sigmoid units of a dense net do, layer by layer: saturation against weight size
- ``criteria``: Layer-wise criteria on a trajectory: how much each block changes the signal
- ``surgery``: Removing blocks from a trained model, the ground truth the layer criteria try to predict
- ``streaming``: Per-layer statistics of a trace accumulated batch by batch, without keeping the trajectory
- ``zoo``: A small catalogue of residual models beyond the paper's dense nets, for the studies and the tests
- ``data1d``: MNIST-1D (Greydanus and Kobak, ICML 2024), generated offline, as a :class:`resdyn.core.data.Dataset`
- ``fitting``: Training any classifier ``nn.Module`` on tensors, until the validation loss stops improving
- ``removal``: Which blocks can go: layer criteria as predictions, block removal as the ground truth
- ``parallel``: Independent runs side by side: nets to train as jobs for worker processes, through joblib
- ``fragments``: A run's identity and its fragments: what each notebook writes, and how one run's fragments
  merge
- ``writing``: Text, records as JSON, and figures, each written whole or not at all
  (:func:`resdyn.core.files.atomic_write`)
"""
