"""The answer first: what came out of the record, in at most five sentences, and in one table.

:func:`bottom_line` reads each regime's verdicts over its seeds (the keys ``<claim>/<regime>``) and says,
for each group of the paper's claims, where it holds and where it does not, in plain words
(:data:`PLAIN`); where a regime splits a group, it counts the tests. The README, the report's summary
and the book's index all show these sentences, so they say the same thing. :func:`headline` is the
report's summary table: each paper claim's number, verdict (its plain :data:`LABEL`) and what decided it,
in the paper-like and the chosen regime.
"""
from __future__ import annotations

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.studies.sections import by_regime
from resdyn.studies.verdict_text import LABEL, MEANING, and_list, label_split


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
    """regime -> claim key -> its :class:`resdyn.core.claims.Verdict` over that regime's seeds (the record's
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


#: The regimes of the summary's table, in its column order: the one closest to the paper, then ours.
HEADLINE_REGIMES = ("paper_like", "chosen")
#: How the summary's table names the number(s) each claim's rule reads (keys of the seeds' summary,
#: without the net): a word before the number, and its unit.
HEADLINE_NUMBERS = {"error": ("", " %"), "mean_layer": ("layer ", ""), "std_layer": ("layer ", ""),
                    "mean_layer_absolute": ("layer ", ""), "std_layer_absolute": ("layer ", ""),
                    "distance_ratio": ("ratio ", ""), "knn": ("kNN ", ""), "silhouette": ("silhouette ", ""),
                    "adaptive_depth": ("depth ", ""), "adaptive_change": ("", " points")}


def _number(metric: str, iv) -> str:
    """One number over a regime's seeds: mean [95 % interval], with how many seeds define it."""
    name = metric.rsplit("_", 1)[0]
    word, unit = HEADLINE_NUMBERS.get(name, ("", ""))
    if iv.mean is None:
        return "never settles" if word == "layer " else f"{word}undefined"
    fmt = "{:+.2f}" if name == "adaptive_change" else "{:.3g}"
    ci = "" if iv.low is None else f" [{fmt.format(iv.low)}, {fmt.format(iv.high)}]"
    seeds = "" if iv.n == len(iv.values) else f" (in {iv.n} of {len(iv.values)} seeds)"
    return f"{word}{fmt.format(iv.mean)}{unit}{ci}{seeds}"


def _headline_metrics(key: str) -> list[str]:
    """The numbers the summary's table shows for claim ``key``: the ones its rule compares, margins left out."""
    metrics = list(dict.fromkeys(m for m, _ in claims.seed_thresholds(key)))
    return [m for m in metrics if "margin" not in m][::-1 if key.startswith("adaptive") else 1]


def decided(r, key: str, regime: str) -> str:
    """What decided claim ``key``'s verdict in ``regime``, in a few words, from the record."""
    v = regime_verdicts(r).get(regime, {}).get(key)
    if v is None:
        return ""
    rec = r.by_regime
    runs = rec.runs[regime] if rec is not None and regime in rec.runs else None
    n = len(runs.seeds) if runs is not None else 0
    word, net = v.verdict, key.rsplit("_", 1)[1]
    if word == "no evidence":
        by_control = [c.seed for c in (rec.controls.get(regime, []) if rec is not None else []) if key in c.changed]
        if by_control:
            control = ("the net trained on shuffled labels" if key.split("_")[0] in ("mean", "std")
                       else "the net without shortcuts")
            return f"{control} also met it ({len(by_control)} of {n} seeds)"
        return "the untrained net also met it"
    if word == "holds" and key.split("_")[0] in ("distance", "tsne") and net in untrained_controls(r).get(regime, []):
        return "the net without shortcuts never learned, so it proves nothing"
    if word == "borderline" and runs is not None:
        at = [t for m, t in claims.seed_thresholds(key) if (iv := runs.summary.get(m)) is not None
              and iv.low is not None and iv.low <= t <= iv.high]
        return ("the seeds' interval contains the threshold" + "s" * (len(at) > 1)
                + (" " + and_list([f"{t:g}" for t in dict.fromkeys(at)]) if at else ""))
    if word == "inconclusive":
        if key.startswith("adaptive") and runs is not None:
            censored = sum(s.verdicts.get(key) == "inconclusive" for s in runs.runs)
            if censored:
                return f"depth censored in {censored} of {n} seeds"
        return f"the seeds disagree ({label_split(v.ours)})"
    if word == "n/a":
        return "the paper gives no number"
    if runs is None:
        return v.ours
    if word == "does not" and key.startswith("error"):
        return f"test error above {claims.seed_thresholds(key)[-1][1]:g} % in every seed"
    if word == "does not" and (iv := runs.summary.get(claims.seed_thresholds(key)[0][0])) is not None and iv.mean is None:
        return "never settles in any seed"
    return f"{LABEL[word]} in {sum(s.verdicts.get(key) == word for s in runs.runs)} of {n} seeds"


def headline(r) -> tuple[list[str], list[list[str]]]:
    """The summary's table: one row per paper claim (a claim per weights), its paper value, our number in
    the paper-like and the chosen regime (mean [95 % interval] over the regime's seeds), the verdict in
    each (its plain label, :data:`resdyn.studies.verdict_text.LABEL`) and what decided it. Empty where the record has
    no regimes."""
    regimes = regime_verdicts(r)
    shown = [g for g in HEADLINE_REGIMES if g in regimes]
    if not shown or r.by_regime is None:
        return [], []
    paper = {v.key: v.paper for v in r.verdicts if "/" not in v.key}
    head = ["claim", "paper"]
    head += [f"ours, {claims.regime_name(g)} ({len(r.by_regime.runs[g].seeds)} seeds)" for g in shown]
    head += ["verdict (" + " / ".join(claims.regime_name(g).removesuffix(" regime") for g in shown) + ")",
             "what decided it"]
    rows = []
    names = by_regime.claim_names(r.by_regime)
    for key in (k for k in names if "/" not in k):
        cells = [names[key], paper.get(key, "")]
        for g in shown:
            s = r.by_regime.runs[g].summary
            cells.append("; ".join(_number(m, s[m]) for m in _headline_metrics(key) if m in s))
        cells.append(" / ".join(f"**{LABEL[regimes[g][key].verdict]}**" if key in regimes[g] else "–"
                                for g in shown))
        why = {g: decided(r, key, g) for g in shown}
        cells.append(why[shown[0]] if len(set(why.values())) == 1 else
                     "; ".join(f"{claims.regime_name(g).removesuffix(' regime')}: {w}" for g, w in why.items() if w))
        rows.append(cells)
    return head, rows
