"""The checkpoint bookkeeping of :func:`resdyn.core.train.fit`: resuming, and saving after every epoch.

Resuming. With ``checkpoint=`` a run writes its checkpoint atomically after every epoch (the net,
the optimizer state, the history, the layers removed and the settings, the data's spec among them,
see :func:`resdyn.core.store.save`). A run started with a checkpoint that exists resumes after its last
complete epoch and ends with the weights an uninterrupted run ends with (each epoch's shuffle
depends only on the seed and the epoch). A checkpoint written for another net (other data, model,
training or adaptive settings), or one that does not record them all, is set aside, not resumed.

This module reads and writes files only; the optimizer and the epoch records come from
:mod:`resdyn.core.train` (which imports this module), passed in where they are needed.
"""
from __future__ import annotations

from resdyn.core import store
from resdyn.core.pruning import PruneRecord


def resume(path, config, adaptive, *, model_config, data_spec: dict, map_location, make_optimizer, make_record):
    """(model, optimizer, history, pruning records, best net so far or None) from the checkpoint at ``path``, written with
    these settings; ``None`` where ``path`` is ``None``, there is no readable file there, or it was
    written with other settings or does not record them all (``model_config``, ``config``,
    ``adaptive``, ``data_spec``, :meth:`resdyn.core.data.Dataset.spec`: then it is set aside,
    :func:`resdyn.core.store.load`, and training starts over).

    ``make_optimizer(model, config)`` builds the optimizer the saved state is loaded into and
    ``make_record(**fields)`` an epoch record (:func:`resdyn.core.train.make_optimizer` and
    :class:`resdyn.core.train.EpochRecord`)."""
    expect = store.settings(model_config, config, adaptive, data_spec)
    saved = store.load(path, map_location=map_location, expect=expect) if path is not None else None
    if saved is None:
        return None
    model = saved["model"]
    optimizer = make_optimizer(model, config)
    optimizer.load_state_dict(saved["optimizer_state"])
    return (model, optimizer, [make_record(**r) for r in saved["history"]],
            [PruneRecord.from_dict(p) for p in saved["pruning"]], saved.get("best"))


def save(path, *, model, optimizer, history, pruning, config, adaptive, data_spec: dict, best=None) -> None:
    """The checkpoint after an epoch: everything :func:`resume` needs to go on and to check, with the
    best net so far of a run to convergence (``best``: its epoch, value and weights), so that a resumed
    run keeps the net an uninterrupted one keeps."""
    store.save(path, model=model, history=history, pruning=pruning, config=config, adaptive=adaptive,
               optimizer=optimizer, data_spec=data_spec, best=best)
