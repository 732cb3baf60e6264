"""The command line, the runner, the record and its report:

- ``cli``: Command line: ``resdyn train``, ``resdyn prune``, ``resdyn reproduce``, ``resdyn compare``,
  ``resdyn report`` and the other run commands (also ``python -m resdyn``)
- ``reproduce``: Run a target's numbered notebooks headless with papermill, merge their results, write the
  record
- ``kernels``: The notebooks' kernels, as :mod:`resdyn.run.reproduce` starts them through papermill: over local
  IPC sockets, each kernel's own stdout and stderr in a file of its own
- ``failures``: What a failure tells the user, and what a run checks before it deletes or makes anything
- ``executed``: The executed notebooks: cleaned for readers, their checked outputs for nbval, and the
  comparisons CI makes between a run and the committed record (verdicts, numbers, figures)
- ``checked``: The notebooks' checked cells (``# NBVAL_CHECK_OUTPUT``, what ``nbval --nbval-lax`` compares)
  and nbval's comparison of them between two executed copies of a notebook, without executing either
- ``publish``: Publishing a run's record as one unit: results.json, its schema, REPORT.md and the figures
- ``results``: results.json: the schema that gathers the sections' records, and how a target's run enters it
- ``report``: The reproduction report, generated from results.json: never edit paper/REPORT.md by hand
- ``summary``: The answer first: what came out of the record, in at most five sentences, and in one table
- ``staleness``: Which committed sections were computed by code that has changed since: a record says so until
  re-run
- ``compare``: Two records' numbers, field by field: every leaf of two results.json records paired by its path
  (``fig1c.trained.shared.ratio[2]``) and compared exactly or within the tolerance of its kind
- ``book``: The readers' book: a static HTML site of the full run (Jupyter Book 1.x, Sphinx), nothing
  re-executed
"""
