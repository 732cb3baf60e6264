"""The answer first: what came out of the record, in at most five sentences.

:func:`bottom_line` reads each regime's verdicts over its seeds (the keys ``<claim>/<regime>``) and says,
for each group of the paper's claims, where it holds and where it does not, in plain words
(:data:`PLAIN`); where a regime splits a group, it counts the tests. The README, the report's summary
and the book's index all show these sentences, so they say the same thing.
"""
from __future__ import annotations

from . import claims
from .claims import NETS


#: Each verdict word as a reader takes it, for sentences (the record keeps the words themselves):
#: one claim's verdict, and how a count of tests with that verdict reads.
PLAIN = {"holds": "holds", "partly": "holds in part", "borderline": "is borderline (on its threshold)",
         "does not": "does not hold", "no evidence": "is met by a control too (no evidence)",
         "inconclusive": "cannot be decided", "n/a": "is not judged"}
PLAIN_COUNT = {"holds": ("holds", "hold"), "partly": ("holds in part", "hold in part"),
               "borderline": ("is borderline", "are borderline"), "does not": ("does not hold", "do not hold"),
               "no evidence": ("is met by a control too", "are met by a control too"),
               "inconclusive": ("cannot be decided", "cannot be decided"), "n/a": ("is not judged", "are not judged")}

#: The paper's claims the bottom line speaks of: one sentence per entry, each a list of
#: (subject, verdict keys without the regime).
BOTTOM_LINE_GROUPS = (
    [("The paper's test error (about 1.8 % separate, 1.4 % shared weights)", ("error_separate", "error_shared"))],
    [("Residuals that settle after about layer 6 (Fig. 1A/1B)",
      tuple(f"{c}_{n}" for c in ("mean_layer", "std_layer", "mean_absolute", "std_absolute") for n in NETS))],
    [("Class separation (Fig. 1C/1D) with separate weights",
      ("distance_separate", "tsne_separate")), ("with shared weights", ("distance_shared", "tsne_shared"))],
    [("Adaptive depth down to the paper's 5 layers (shared weights)", ("adaptive_shared",))],
)


def regime_verdicts(r) -> dict[str, dict[str, claims.Verdict]]:
    """regime -> claim key -> its :class:`resdyn.claims.Verdict` over that regime's seeds (the record's
    keys ``<claim>/<regime>``), in the rules' regime order."""
    out: dict[str, dict[str, claims.Verdict]] = {}
    for v in r.verdicts:
        if "/" in v.key and not v.key.endswith("/seeds"):
            key, regime = v.key.rsplit("/", 1)
            out.setdefault(regime, {})[key] = v
    return {k: out[k] for k in claims.in_order(out, claims.REGIMES)}


def by_verdict(found: dict[str, str]) -> str:
    """Names grouped by their verdict, in words: ``{"conv": "does not", "dense": "borderline"}`` ->
    "does not hold for conv; is borderline (on its threshold) for dense"."""
    by_word: dict[str, list[str]] = {}
    for name, verdict in found.items():
        by_word.setdefault(verdict, []).append(name)
    return "; ".join(f"{PLAIN[w]} for {and_list(names)}" for w, names in by_word.items())


def _regimes(names: list[str]) -> str:
    """``["chosen", "baseline"]`` -> "the chosen and baseline regimes"; all of them -> "every regime"."""
    if len(names) > 1 and set(names) == set(claims.REGIMES):
        return "every regime"
    words = [claims.regime_name(n).removesuffix(" regime") for n in names]
    return f"the {and_list(words)} regime{'s' if len(words) > 1 else ''}"


def group_sentence(subject: str, keys: tuple, regimes: dict[str, dict[str, str]]) -> str | None:
    """A group of claims in words: by regime where each regime gives all of them one verdict, else
    as counts of tests over the regimes."""
    found = {regime: [got[k].verdict for k in keys if k in got] for regime, got in regimes.items()}
    found = {regime: v for regime, v in found.items() if v}
    if not found:
        return None
    if all(len(set(v)) == 1 for v in found.values()):
        by_word: dict[str, list[str]] = {}
        for regime, v in found.items():
            by_word.setdefault(v[0], []).append(regime)
        return f"{subject}: " + "; ".join(f"{PLAIN[w]} in {_regimes(names)}" for w, names in by_word.items())
    every = [w for v in found.values() for w in v]
    counts = ", ".join(f"{every.count(w)} {PLAIN_COUNT[w][every.count(w) != 1]}" for w in claims.VERDICTS
                       if w in every and w != "holds")
    over = f"the {len(found)} regimes" if len(found) > 1 and set(found) == set(claims.REGIMES) else _regimes(list(found))
    return (f"{subject}: {every.count('holds')} of {len(every)} tests over {over} hold"
            + (f" ({counts})" if counts else ""))


def _mechanism_clause(r) -> str:
    """Where nets settle, what the interventions say settling goes with ('' where none settles)."""
    verdicts = {v.key: v.verdict for v in r.verdicts if v.key.startswith("intervention_")}
    settles = [k.removeprefix("intervention_saturation_") for k, w in verdicts.items()
               if k.startswith("intervention_saturation_") and w == "holds"]
    if not settles:
        return ""
    where = and_list([f"{claims.regime_name(s.rsplit('_', 1)[0])} with {s.rsplit('_', 1)[1]} weights" for s in settles])
    weights_not = all(verdicts.get(f"intervention_weights_{s}") == "does not" for s in settles)
    return (f"Where nets do settle ({where}), undoing the saturation of their deep units removes the settling"
            + (" and rescaling their deep weights does not" if weights_not else "") + ".")


#: Test accuracy under which a control net is taken not to have learned (chance is 10 % on MNIST's ten
#: classes): a test it meets then proves nothing, and the bottom line says so.
CHANCE_ACCURACY = 0.2


def untrained_controls(r) -> dict[str, list[str]]:
    """Where the trained net without shortcuts (the control that can meet Fig. 1C/1D) stayed near chance
    in every seed of a regime: regime -> the weights, from the regimes' controls."""
    out: dict[str, list[str]] = {}
    controls = getattr(getattr(r, "by_regime", None), "controls", None) or {}
    for regime in claims.in_order(controls, claims.REGIMES):
        for net in NETS:
            accs = [run.mlp[net].test_acc for run in controls[regime] if net in run.mlp]
            if accs and all(a is not None and a < CHANCE_ACCURACY for a in accs):
                out.setdefault(regime, []).append(net)
    return out


def _untrained_control_clause(r) -> str:
    """The class-separation sentence's caveat: where the net without shortcuts never learned."""
    by_net: dict[str, list[str]] = {}
    for regime, nets in untrained_controls(r).items():
        for net in nets:
            by_net.setdefault(net, []).append(regime)
    if not by_net:
        return ""
    said = and_list([f"{net} weights in {_regimes(regimes)}" for net, regimes in by_net.items()])
    return f"; the control without shortcuts never learned for {said}, so there it proves nothing"


def bottom_line(r) -> list[str]:
    """What came out, in at most five sentences, from each regime's verdicts over its seeds: the
    test error, settling, what the interventions say settling goes with, class separation, and adaptive
    depth with the MNIST-1D criteria where that study ran (:data:`BOTTOM_LINE_GROUPS`). Empty where the
    record has no regimes."""
    regimes = regime_verdicts(r)
    if not regimes:
        return []
    out = []
    for i, group in enumerate(BOTTOM_LINE_GROUPS):
        parts = [p for p in (group_sentence(subject, keys, regimes) for subject, keys in group) if p]
        if parts:
            out.append("; ".join(parts) + (_untrained_control_clause(r) if i == 2 else "") + ".")
        if i == 1 and _mechanism_clause(r):
            out.append(_mechanism_clause(r))
    ranks = {v.key.removeprefix("ranks_removable_"): v.verdict for v in r.verdicts if v.key.startswith("ranks_removable_")}
    if ranks and out:
        out[-1] = (out[-1].removesuffix(".") + "; on MNIST-1D, the paper's criterion, as a ranking of removable "
                   f"blocks against the best peer criterion, {by_verdict(ranks)}.")
    return out


def and_list(items: list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
