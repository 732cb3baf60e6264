"""Command line: ``resdyn train``, ``resdyn prune``, ``resdyn reproduce``, ``resdyn compare``, ``resdyn report``
and the other run commands (also ``python -m resdyn``)."""
from __future__ import annotations

import argparse
import json
import sys

from resdyn.core import paths
from resdyn.studies import switches


DATA_ROOT_HELP = "folder holding MNIST/raw/ (torchvision's layout). Default: $RESDYN_DATA, else ../shared/data, else <repo>/data."


def _add_data_args(p):
    from resdyn.studies.experiment import REGIME

    p.add_argument("--dataset", default="mnist", choices=["mnist", "digits"],
                   help="mnist (784 features) or digits (scikit-learn's 8x8 digits, no download). Default: mnist.")
    p.add_argument("--data-root", default=None, help=DATA_ROOT_HELP)
    p.add_argument("--scaling", default=REGIME.scaling, choices=["unit", "centered", "standard"],
                   help="input scaling: unit = pixels in [0, 1] as the paper; centered = [-0.5, 0.5]; "
                        f"standard = zero mean, unit variance. Default: the chosen regime's ({REGIME.scaling}).")


def _add_model_train_args(p):
    from resdyn.studies.experiment import DEPTH, REGIME

    t = REGIME.train
    p.add_argument("--depth", type=int, default=DEPTH, help=f"residual layers T (default {DEPTH}).")
    p.add_argument("--shared", action="store_true", help="share W, b across all layers (default: separate).")
    p.add_argument("--activation", default="sigmoid", choices=["sigmoid", "tanh", "relu"], help="default sigmoid.")
    p.add_argument("--init-scale", type=float, default=REGIME.init_scale,
                   help=f"W ~ Normal(0, s^2/N); a negative value keeps PyTorch's default. Default {REGIME.init_scale}.")
    p.add_argument("--init-bias", type=float, default=REGIME.init_bias,
                   help=f"initial bias of the residual layers (with --init-scale). Default {REGIME.init_bias}.")
    p.add_argument("--epochs", type=int, default=t.epochs, help=f"default {t.epochs}.")
    p.add_argument("--batch-size", type=int, default=t.batch_size, help=f"default {t.batch_size}.")
    p.add_argument("--optimizer", default=t.optimizer, choices=["adam", "adamw", "sgd"], help=f"default {t.optimizer}.")
    p.add_argument("--lr", type=float, default=t.lr, help=f"peak learning rate, default {t.lr}.")
    p.add_argument("--schedule", default=t.schedule, choices=["constant", "cosine"], help=f"default {t.schedule}.")
    p.add_argument("--seed", type=_seed, default=0, help="initialization and shuffling seed (default 0).")
    p.add_argument("--device", default="cpu", help='"cpu" (default), "cuda" or "auto".')
    p.add_argument("--precision", default=t.precision, choices=["auto", "fp32", "bf16"],
                   help="training precision: bf16 autocast, fp32, or auto (default): bf16 where the processor "
                        "computes it natively, fp32 elsewhere. Analyses always run in fp32.")
    p.add_argument("--no-cache", action="store_true", help="train even if the cache holds this net; do not store it.")
    p.add_argument("--quiet", action="store_true", help="no progress bars.")


def _seconds(text: str) -> int:
    """argparse type of ``--cell-timeout``: whole seconds >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"--cell-timeout must be whole seconds >= 0 (0: no limit), got {text!r}")
    return int(text)


def _seed(text: str) -> int:
    """argparse type of ``--seed``: an integer in [0, 2**31 - 1]."""
    from resdyn.core.model import check_seed

    try:
        return check_seed(int(text), "--seed")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if "must be" in str(exc) else
                                         f"--seed must be an integer, got {text!r}") from None


def _build(args):
    from resdyn.core.data import load_dataset
    from resdyn.core.model import ModelConfig
    from resdyn.core.train import TrainConfig

    data = load_dataset(args.dataset, root=args.data_root, scaling=args.scaling)
    model = ModelConfig(
        width=data.n_features, depth=args.depth, n_classes=data.n_classes, activation=args.activation,
        shared_weights=args.shared, init_scale=None if args.init_scale < 0 else args.init_scale,
        init_bias=args.init_bias,
    )
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                        schedule=args.schedule, seed=args.seed, device=args.device, precision=args.precision)
    return data, model, train


def _print_result(result, as_json: bool):
    summary = {"depth": result.model.depth, "test_acc": result.test_acc, "val_acc": result.val_acc,
               "precision": result.config.precision, "seconds": result.seconds, "from_cache": result.from_cache,
               "history": [h.to_dict() for h in result.history], "pruning": [p.to_dict() for p in result.pruning]}
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"depth {summary['depth']}, test accuracy {summary['test_acc']:.4f} (validation {summary['val_acc']:.4f}), "
              f"{summary['seconds']:.0f} s of training in {summary['precision']}{' (from cache)' if result.from_cache else ''}")
        for p in result.pruning:
            print(f"  epoch {p.epoch}: removed layer {p.removed_layers} (criterion {p.criterion:.4f})")


def cmd_train(args):
    from resdyn.core.train import train_or_load

    data, model, train = _build(args)
    result = train_or_load(data, model, train, cache=not args.no_cache, progress=not args.quiet)
    _print_result(result, args.json)


def cmd_prune(args):
    from resdyn.core.pruning import AdaptiveDepthConfig
    from resdyn.core.train import train_or_load

    data, model, train = _build(args)
    if args.min_depth > model.depth:
        raise ValueError(f"--min-depth {args.min_depth} is above the net's depth {model.depth}; pass --min-depth "
                         f"{min(2, model.depth)} (the default is 2) or a larger --depth.")
    adaptive = AdaptiveDepthConfig(threshold=args.threshold, min_depth=args.min_depth,
                                   max_removals_per_check=args.max_removals, probe_size=args.probe_size,
                                   fold_bias=args.fold_bias)
    result = train_or_load(data, model, train, adaptive=adaptive, cache=not args.no_cache, progress=not args.quiet)
    _print_result(result, args.json)


#: The last line of a quick ``resdyn reproduce`` (``make setup`` runs one): its verdicts sit beside the paper's
#: MNIST numbers, and a reader must not take them for the result.
QUICK_NOTE = ("These verdicts are quick mode's, on scikit-learn's 8x8 digits (a check that the pipeline runs), "
              "not the paper's result: that is in paper/REPORT.md, and `make book` builds the book of the full run.")


def cmd_reproduce(args):
    from resdyn.run import executed, reproduce, results

    before = results.load_whole(args.check, "--check") if args.check else None
    record = reproduce.run(target=args.target, quick=args.quick, seed=args.seed, data_root=args.data_root,
                           out_dir=args.out, only=args.only, kernel_name=args.kernel, timeout=args.cell_timeout)
    if args.update_notebooks:
        from resdyn.studies.experiment import run_dirs

        done = run_dirs(args.quick, args.out, seed=args.seed).scratch / "notebooks"
        for nb in executed.refresh_checked_outputs(done, args.target):
            print(f"updated checked outputs of {nb.relative_to(paths.REPO_ROOT)}")
    if record is None:
        if before is not None:
            sys.exit("resdyn reproduce: error: --check needs a whole run; this run made no whole record.")
        return
    for v in record.verdicts:
        print(f"{v.verdict:>12}  {v.key}: {v.ours} (controls: {v.controls}; paper: {v.paper})")
    if before is not None:
        changed = executed.compare_verdicts(before, record)
        if record.stale:
            changed.append(f"sections of {', '.join(record.stale)} are stale (another experiment spec): "
                           "re-run make seeds / make study and commit them")
        numbers, line = executed.compare_numbers(before, record, args.target, exact=args.exact)
        print(line)
        if changed:
            print("Verdicts changed against " + args.check + ":\n  " + "\n  ".join(changed), file=sys.stderr)
        if numbers is not None and not numbers.ok:
            print(f"Numbers that left their tolerance against {args.check}:\n  " + "\n  ".join(numbers.lines()),
                  file=sys.stderr)
        if changed or (numbers is not None and not numbers.ok):
            sys.exit(1)
        print(f"All {len(record.verdicts)} verdicts match {args.check}.")
    if switches.quick_mode(args.quick):
        print(QUICK_NOTE)


def cmd_report(args):
    from resdyn.run import publish

    print(f"wrote {publish.rerender(args.results, args.figures, rejudge=args.rejudge, force=args.force)}")


def cmd_check_figures(args):
    from resdyn.run import executed, results
    from resdyn.studies import sections

    if args.expected_results:
        before, now = results.load(args.expected_results), results.load(args.results)
        p0, p1 = (r.run.identity.get("precision") if r.run else None for r in (before, now))
        if p0 != p1:
            print(f"figures not compared: the committed ones were trained in {p0} ({before.run.machine}), this run in "
                  f"{p1} ({now.run.machine}); a figure check needs the same precision. Verdicts and executed "
                  "notebooks are still checked.")
            return
    problems = executed.compare_figures(args.expected, args.actual)
    if problems:
        print("Figures differ from the committed ones:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"All {len(sections.figure_tolerances())} figures match {args.expected} within their tolerance.")


def cmd_check_executed(args):
    from resdyn.run.checked import compare_checked

    problems = compare_checked(args.expected, args.actual)
    if problems:
        print("Executed notebooks differ from the committed ones:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"The checked cells of {args.actual} match {args.expected} (nbval's comparison, nothing executed).")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resdyn",
        description="Reproduce 'Compact representations and pruning in residual networks': "
                    "train dense residual nets, prune them adaptively, and regenerate the paper's figures.",
    )
    parser.add_argument("--debug", action="store_true", help="show a failure's traceback (also RESDYN_DEBUG=1).")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_training_commands(sub)
    _add_run_commands(sub)
    return parser


def _add_training_commands(sub) -> None:
    """``train`` and ``prune``."""
    from resdyn.core.pruning import PAPER_THRESHOLD, AdaptiveDepthConfig

    p = sub.add_parser("train", help="train a dense ResNet (cached by its full config) and print its accuracy.",
                       description="Train x(t+1) = x(t) + f(W x(t) + b) with a linear read-out; "
                                   "trained nets are cached under $RESDYN_CACHE (default <repo>/.cache).")
    _add_data_args(p)
    _add_model_train_args(p)
    p.add_argument("--json", action="store_true", help="print the history as JSON.")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("prune", help="train with the paper's adaptive-depth algorithm.",
                       description="After every epoch, remove the last layer if mean |y(T) - y(T-1)| over a "
                                   "probe set is below --threshold.")
    _add_data_args(p)
    _add_model_train_args(p)
    p.add_argument("--threshold", type=float, default=PAPER_THRESHOLD,
                   help=f"criterion threshold (paper: {PAPER_THRESHOLD}).")
    p.add_argument("--min-depth", type=int, default=2, help="never prune below this depth (>= 2; default 2).")
    p.add_argument("--max-removals", type=int, default=1, help="layers removed at most per check (default 1).")
    p.add_argument("--probe-size", type=int, default=AdaptiveDepthConfig.probe_size,
                   help=f"training samples for the criterion (default {AdaptiveDepthConfig.probe_size}).")
    p.add_argument("--fold-bias", action="store_true",
                   help="fold each removed layer's mean residual into the read-out bias (not the paper's algorithm).")
    p.add_argument("--json", action="store_true", help="print the history as JSON.")
    p.set_defaults(func=cmd_prune)


def _add_reproduce(sub) -> None:
    from resdyn.studies.sections import TARGETS

    p = sub.add_parser("reproduce", help="run all notebooks with papermill; write figures, results.json, the report.",
                       description="Full mode (default): MNIST; writes figures/, paper/results.json and "
                                   "paper/REPORT.md. --quick: digits, a few minutes, writes under build/quick.")
    p.add_argument("--target", default="paper", choices=list(TARGETS),
                   help="paper: notebooks 00-04 (default; CI); seeds: 05, five seeds; study: 06-11.")
    p.add_argument("--quick", action="store_true", help="digits instead of MNIST; minutes; for tests and set-up.")
    p.add_argument("--seed", type=_seed, default=0, help="seed passed to every notebook (default 0).")
    p.add_argument("--data-root", default=None, help=DATA_ROOT_HELP)
    p.add_argument("--out", default=None, help="write figures, paper/ and scratch here instead of the defaults.")
    p.add_argument("--only", nargs="+", default=None, metavar="NN",
                   help="run only notebooks whose names start with these prefixes, e.g. --only 01 02.")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3: this environment).")
    p.add_argument("--cell-timeout", type=_seconds, default=None, metavar="SECONDS", help="most seconds per notebook "
                   "cell, 0: none (default: 3600 in quick mode and for the paper target, else none: cells train for hours).")
    p.add_argument("--check", default=None, metavar="RESULTS_JSON",
                   help="fail (exit 1) if any verdict differs from this earlier results.json, or any number of the "
                        "target's sections leaves its tolerance (resdyn.run.compare; one line per field).")
    p.add_argument("--exact", action="store_true",
                   help="with --check: the numbers bit for bit (the same processor type and precision give them so).")
    p.add_argument("--update-notebooks", action="store_true",
                   help="copy the checked cells' outputs of this run into notebooks/ (what nbval compares "
                        "against) and clear all other outputs. Use with --quick.")
    p.set_defaults(func=cmd_reproduce)


def _add_run_commands(sub) -> None:
    """``reproduce``, ``check-figures``, ``check-executed``, ``compare``, ``report``, ``units`` and ``book``."""
    _add_reproduce(sub)
    p = sub.add_parser("check-figures", help="compare regenerated figures with committed copies (image RMS).",
                       description="Fail (exit 1), naming each figure, where a regenerated PNG differs from the "
                                   "committed copy by more than its RMS tolerance (resdyn.studies.sections.SECTIONS).")
    p.add_argument("--expected", required=True, help="folder with the committed figures (copied before the run).")
    p.add_argument("--actual", default=str(paths.FIGURES_DIR), help="folder with the regenerated figures (default figures/).")
    p.add_argument("--expected-results", default=None,
                   help="the committed results.json: figures are compared only if its precision is this run's.")
    p.add_argument("--results", default=str(paths.PAPER_DIR / "results.json"), help="this run's results.json.")
    p.set_defaults(func=cmd_check_figures)

    p = sub.add_parser("check-executed", help="compare the checked cells of two sets of executed paper notebooks.",
                       description="Fail (exit 1), naming each cell, where a checked cell (# NBVAL_CHECK_OUTPUT) of "
                                   "an executed notebook 00-04 differs from the committed copy, as nbval compares it "
                                   "(nbval-sanitize.cfg); nothing is executed. Needs the [test] extra (nbval).")
    p.add_argument("--expected", required=True, help="folder with the committed executed notebooks (copied before the run).")
    p.add_argument("--actual", default=str(paths.EXECUTED_DIR), help="folder with this run's (default paper/notebooks/).")
    p.set_defaults(func=cmd_check_executed)

    from resdyn.run.compare import add_command

    add_command(sub)

    p = sub.add_parser("report", help="re-render REPORT.md from an existing results.json (no re-run).",
                       description="Write REPORT.md next to RESULTS_JSON from its numbers.")
    p.add_argument("--results", default=str(paths.PAPER_DIR / "results.json"),
                   help="results.json to render (default: paper/results.json); REPORT.md is written beside it.")
    p.add_argument("--figures", default=None, help="figures folder to link (default: ../figures from the results).")
    p.add_argument("--force", action="store_true", help="write the report even if it has fewer sections than the old one.")
    p.add_argument("--rejudge", action="store_true",
                   help="first recompute the verdicts with today's rules (resdyn/core/claims/rules.py) and store them in results.json; "
                        "the sections' numbers are kept as they are.")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("units", help="compute the regimes study's missing units (notebooks 15-16), no notebook run.",
                       description="Train and measure the units of the regimes study (resdyn.studies.sections.regime_units) that "
                                   "paper/units/regimes/ lacks, one after another, each written when done.")
    p.add_argument("--minutes", type=float, default=None, help="start no unit after this many minutes (default: no limit).")
    p.add_argument("--progress", action="store_true", help="print each unit's state (done, or its nets in the cache) and stop.")
    p.add_argument("--data-root", default=None, help=DATA_ROOT_HELP)
    p.set_defaults(func=cmd_units)

    p = sub.add_parser("book", help="build the readers' book (static HTML) from paper/ and figures/, nothing re-executed.",
                       description="Lay out the book's sources from the executed notebooks, the report and the figures, "
                                   "build them with Jupyter Book (warnings as errors) and check every internal link and "
                                   "image. Needs the [book] extra: pip install -e '.[book]'.")
    p.add_argument("--out", default=None, help="output folder (default: build/book); the site is in OUT/_build/html.")
    p.add_argument("--gallery", action="store_true", help="print the README's gallery (from the registry) and stop.")
    p.add_argument("--readme", action="store_true", help="rewrite README.md's generated blocks from paper/results.json.")
    p.set_defaults(func=cmd_book)


def cmd_units(args):
    from resdyn.studies import experiment
    from resdyn.studies.sections import regime_units

    exp = experiment.setup(data_root=args.data_root, verbose=False)
    if args.progress:
        return print(*regime_units.progress(exp), sep="\n")
    print(f"units computed: {', '.join(regime_units.compute(exp, minutes=args.minutes)) or 'none (all done)'}")


def cmd_book(args):
    from resdyn.run import book

    if args.gallery or args.readme:  # the README's generated blocks: print the gallery, or rewrite them all
        return print(book.gallery() if args.gallery else f"wrote {book.update_readme()}")
    sys.exit(book.main(args.out))


def main(argv=None):
    """Every failure ends in one line, a traceback only with --debug (:mod:`resdyn.run.failures`)."""
    args = build_parser().parse_args(argv)
    from resdyn.run.failures import debug, explain

    show = args.debug
    try:
        show = show or debug()
        args.func(args)
    except Exception as exc:  # KeyboardInterrupt and SystemExit pass as they are
        if show:
            raise
        message, code = explain(exc)
        print(f"resdyn {args.command}: error: {message}", file=sys.stderr)
        sys.exit(code)


if __name__ == "__main__":
    main()
