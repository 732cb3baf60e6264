"""The paper's claims, the rule that turns each measurement into a verdict, and the verdicts.

Each :class:`Rule` holds the claim's wording, its thresholds, the rule's wording built from them,
when it was written and how it changed since: the report and the notebooks render rules from here,
and :func:`verdicts` applies them to a record (:class:`resdyn.run.results.Results`). Verdicts are
computed once per run, by ``resdyn reproduce``, and stored in results.json.

Every figure claim is judged against its controls: the raw input x(0) and an untrained net of the
same configuration and seed. A claim holds only if the trained net beats both controls by the
rule's margin; if it meets the claim's test but not the margin, the verdict is "no evidence" (the
controls meet the claim too: no evidence of learning).

Verdicts: "holds", "partly", "borderline" (the seed interval of the measured value contains the rule's
threshold), "does not", "no evidence", "inconclusive" (the measurement cannot decide, e.g. a censored depth),
or "n/a" (nothing in the paper to compare with).

Three modules, each public name imported here: ``rules``, the ledger of every number a rule, a plot or the
report uses (nothing else in the package types a threshold); ``judge``, one run's verdicts (:func:`verdicts`);
``intervals``, verdicts over seeds and regimes, the controls' clauses, the interventions, the MNIST-1D rules.
"""
# the ledger
from resdyn.core.claims.rules import (NETS, VERDICTS, PAPER, PAPER_SCALE, ABSOLUTE_WHAT, Rule, Verdict, ERROR,
                                      MEAN_SETTLING, STD_SETTLING, DISTANCE, TSNE, ADAPTIVE, TOY, ASSOCIATION,
                                      ASSOCIATION_SIGNS, REGIME_DECISION, PRECISION_SPREADS, LESION_MARGIN,
                                      DEPTH_MATTERS, RANKS_REMOVABLE, ADAPTIVE_KEEPS, STUDY_1D_RULES, ABSOLUTE_SETTLING,
                                      CONVERGENCE_SWEEP, CONVERGENCE, REGIMES, REGIME_NAMES, REGIME_SEEDS, SHUFFLED_CONTROL, MLP_CONTROL, INTERVENTION,
                                      INTERVENTION_UNDO, SEEDS, VERDICT_RULES, RULES, SETTLING_FRACTION,
                                      SETTLING_BY_LAYER, TOY_PAPER, error_limit)
# one run's verdicts
from resdyn.core.claims.judge import (distance_control, tsne_controls, on_limit, accuracy, settling, absolute_settling,
                                      distance_ratio, tsne_clusters, adaptive_depth, toy_verdicts, verdicts)
# verdicts over seeds, controls, interventions, MNIST-1D
from resdyn.core.claims.intervals import (regime_name, in_order, in_regime_order, against, UNTRAINED_CONTROL,
                                          control_learned, bounded_interval, SEED_CLAIMS, seed_thresholds, over_seeds, shuffled_clause,
                                          mlp_distance_clause, mlp_tsne_clause, intervention, depth_matters,
                                          ranks_removable, adaptive_keeps)
from resdyn.core.claims import intervals, judge, rules

__all__ = [*rules.__all__, *judge.__all__, *intervals.__all__]
