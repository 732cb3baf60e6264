"""The experiment's settings, one section per figure or study, and their figures:

- ``experiment``: The paper's experiment in one place: the regime, the data, the nets, where a run's outputs
  go
- ``regimes``: Training regimes: what a regime is, the regime sweep's variants and the studies' candidates
- ``switches``: The run's switches and scratch folder: quick mode, output folders (paths to data and cache:
  :mod:`resdyn.core.paths`)
- ``sections``: The sections of results.json, one module per figure or study, and the registry that names them
- ``plots``: Plot helpers: each takes computed results and an optional ``ax``, and computes nothing
- ``style``: The figures' look, set once per process by :func:`resdyn.setup` (and by :mod:`resdyn.studies.plots`)
- ``markdown``: Small Markdown helpers for the report's sections (each section renders its own part)
- ``verdict_text``: The verdicts as a reader meets them at the end of a notebook: the claims table in the claims'
  own wording and the paragraph on what they show
- ``machine``: What this machine is: CPU, cores, package versions, peak memory
"""
