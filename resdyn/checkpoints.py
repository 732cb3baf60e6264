"""The checkpoint bookkeeping of :func:`resdyn.train.fit`: resuming, saving after every epoch, and the fork.

Resuming. With ``checkpoint=`` a run writes its checkpoint atomically after every epoch (the net,
the optimizer state, the history, the layers removed and the settings, the data's spec among them,
see :func:`resdyn.store.save`). A run started with a checkpoint that exists resumes after its last
complete epoch and ends with the weights an uninterrupted run ends with (each epoch's shuffle
depends only on the seed and the epoch). A checkpoint written for another net (other data, model,
training or adaptive settings), or one that does not record them all, is set aside, not resumed.

The fork. Until its first layer removal an adaptive run is, epoch for epoch, the plain run
(``adaptive=None``) of the same settings: the depth check only reads the net and draws no random
numbers. So at that epoch, before the removal (or after the last epoch, where no layer goes), the
adaptive run leaves the plain run a checkpoint at ``plain_checkpoint=``: the net and optimizer as they
were before the check, the history without criteria, and the validation accuracy of the net before
any removal. It never overwrites a file there (the plain run's own checkpoint); the plain run resumes
from it instead of training those epochs again. After the first removal nothing is written: a pruned
net is no plain run. :func:`plain_twin_checkpoint` is where :func:`resdyn.train.train_or_load` puts it.

This module reads and writes files only; the optimizer and the epoch records come from
:mod:`resdyn.train` (which imports this module), passed in where they are needed.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from . import store
from .pruning import PruneRecord


def resume(path, config, adaptive, *, model_config, data_spec: dict, map_location, make_optimizer, make_record):
    """(model, optimizer, history, pruning records) from the checkpoint at ``path``, written with
    these settings; ``None`` where ``path`` is ``None``, there is no readable file there, or it was
    written with other settings or does not record them all (``model_config``, ``config``,
    ``adaptive``, ``data_spec``, :meth:`resdyn.data.Dataset.spec`: then it is set aside,
    :func:`resdyn.store.load`, and training starts over).

    ``make_optimizer(model, config)`` builds the optimizer the saved state is loaded into and
    ``make_record(**fields)`` an epoch record (:func:`resdyn.train.make_optimizer` and
    :class:`resdyn.train.EpochRecord`).
    """
    expect = store.settings(model_config, config, adaptive, data_spec)
    saved = store.load(path, map_location=map_location, expect=expect) if path is not None else None
    if saved is None:
        return None
    model = saved["model"]
    optimizer = make_optimizer(model, config)
    optimizer.load_state_dict(saved["optimizer_state"])
    return (model, optimizer, [make_record(**r) for r in saved["history"]],
            [PruneRecord.from_dict(p) for p in saved["pruning"]])


def save(path, *, model, optimizer, history, pruning, config, adaptive, data_spec: dict) -> None:
    """The checkpoint after an epoch: everything :func:`resume` needs to go on and to check."""
    store.save(path, model=model, history=history, pruning=pruning, config=config, adaptive=adaptive,
               optimizer=optimizer, data_spec=data_spec)


def at_fork(still_plain: bool, pruning: list, last: bool) -> bool:
    """Whether the epoch just trained is the fork: the run was plain before the epoch's check
    (``still_plain``) and the check removed a layer, or it is the ``last`` epoch (the budget's, or
    the one after which training to convergence stops)."""
    return still_plain and (bool(pruning) or last)


def write_plain_fork(path, history: list, model, optimizer, val_acc: float, config, data_spec: dict) -> None:
    """The plain run's checkpoint at the end of an adaptive run's last epoch without a removal
    (``model``, ``optimizer`` and ``val_acc`` as they were before that epoch's check; trained on the
    data of ``data_spec``), unless ``path`` exists."""
    path = Path(path)
    if path.exists():  # the plain run has a checkpoint of its own: leave it
        return
    plain = [replace(r, criterion=None, val_acc_unpruned=None) for r in history]
    plain[-1] = replace(plain[-1], depth=model.depth, val_acc=val_acc)
    store.save(path, model=model, history=plain, pruning=[], config=config, adaptive=None, optimizer=optimizer,
               data_spec=data_spec)


def plain_twin_checkpoint(data, model_config, config) -> Path | None:
    """Where an adaptive run cached by :func:`resdyn.train.train_or_load` leaves its fork: the plain
    twin's cache checkpoint, or ``None`` where the twin is trained already."""
    plain = store.entry_dir(data, model_config, config)
    return None if (plain / "final.pt").exists() else plain / "checkpoint.pt"
