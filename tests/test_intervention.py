"""The mechanism by intervention: resdyn.lib.surgery.intervene against exact
identities, the rule claims.INTERVENTION on known layers, the section's table and figure."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from records import intervention_study

from resdyn.core import claims
from resdyn.studies import plots
from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.studies.sections import intervention as section
from resdyn.lib.surgery import INTERVENTIONS, intervene


def _net(shared=False, seed=0):
    return DenseResNet(ModelConfig(width=6, depth=5, n_classes=3, shared_weights=shared), seed=seed)


def _x():
    return torch.randn(40, 6, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("kind", list(INTERVENTIONS))
def test_intervene_keeps_the_layers_before_from_layer_and_the_model_passed_in(kind):
    net, x = _net(), _x()
    before = [p.clone() for p in net.parameters()]
    new = intervene(net, x, kind, from_layer=3)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    with torch.no_grad():
        a, b = net.trajectory(x), new.trajectory(x)
    assert torch.equal(a.states[:, :3], b.states[:, :3]) and not torch.equal(a.states[:, 3], b.states[:, 3])


def test_halved_halves_the_deep_weights_and_keeps_their_biases():
    net = _net()
    new = intervene(net, _x(), "halved", from_layer=4)
    for t in range(5):
        factor = 0.5 if t >= 3 else 1.0
        assert torch.equal(new.layer(t).weight, factor * net.layer(t).weight)
        assert torch.equal(new.layer(t).bias, net.layer(t).bias)


def test_layer1_norm_gives_every_deep_layer_layer_1_s_norm():
    net = _net()
    new = intervene(net, _x(), "layer1_norm", from_layer=2)
    norm1 = net.layer(0).weight.norm()
    for t in range(1, 5):
        assert new.layer(t).weight.norm().item() == pytest.approx(norm1.item(), rel=1e-6)
        assert torch.allclose(new.layer(t).weight / new.layer(t).weight.norm(), net.layer(t).weight / net.layer(t).weight.norm())


def test_centred_gives_each_deep_unit_a_pre_activation_of_mean_zero_on_the_inputs():
    net, x = _net(shared=True), _x()
    new = intervene(net, x, "centred", from_layer=2)
    assert not new.config.shared_weights and len(new.blocks) == 5 and net.config.shared_weights
    with torch.no_grad():
        states = new.trajectory(x).states
        for t in range(5):
            z = states[:, t] @ new.layer(t).weight.T + new.layer(t).bias
            if t >= 1:
                assert z.mean(0).abs().max() < 1e-5
            assert torch.equal(new.layer(t).weight, net.layer(0).weight)  # weights kept
    with torch.no_grad():  # the shared net's copy computes what the shared net does where nothing changed
        assert torch.equal(new.trajectory(x).states[:, :2], net.trajectory(x).states[:, :2])


def test_intervene_rejects_what_it_cannot_change():
    with pytest.raises(ValueError, match="kind must be one of centred, layer1_norm, halved, got 'slope'"):
        intervene(_net(), _x(), "slope", from_layer=2)
    with pytest.raises(ValueError, match=r"from_layer must be a layer in \[1, 5\], got 0"):
        intervene(_net(), _x(), "halved", from_layer=0)
    with pytest.raises(ValueError, match="intervene changes a DenseResNet's layers, got Linear"):
        intervene(torch.nn.Linear(2, 2), _x(), "halved", from_layer=1)


def test_the_rule_counts_the_seeds_whose_settling_moves_by_the_margin():
    m = claims.INTERVENTION.thresholds["margin"]
    assert claims.intervention("saturation", "separate", "chosen", [6, 6], [None, 6 + m]).verdict == "holds"
    assert claims.intervention("saturation", "separate", "chosen", [6, 6], [None, 6 + m - 1]).verdict == "partly"
    v = claims.intervention("weights", "separate", "baseline", [6, None], [7, None])
    assert (v.verdict, v.key) == ("does not", "intervention_weights_baseline_separate")
    assert v.ours.endswith("removed in 0 of 1 settling seeds") and v.controls == "as trained: settling layer 6, never"
    assert claims.intervention("saturation", "shared", "chosen", [None, None], [None, 3]).verdict == "inconclusive"
    assert claims.intervention("saturation", "shared", "paper_like", [5], [None]).claim.endswith(
        "(shared, paper-like regime)")  # the regime in words
    with pytest.raises(ValueError, match="the same seeds, got 2 and 1"):
        claims.intervention("saturation", "shared", "chosen", [1, 2], [1])


def test_the_section_s_verdicts_and_sentence_follow_from_its_points():
    rec = intervention_study()
    v = {x.key: x.verdict for x in section.verdicts(rec)}
    assert len(v) == len(claims.REGIMES) * 3  # saturation on both nets, weights on separate weights only
    assert v["intervention_saturation_baseline_shared"] == "holds" and v["intervention_weights_chosen_separate"] == "does not"
    text = section.summary(rec)
    assert "Undoing saturation (each unit's pre-activation z centred" in text and "holds in 6" in text
    assert "Undoing weights (each W(t) rescaled to layer 1's Frobenius norm, biases kept): does not in 3" in text
    head, rows = section.rows(rec)
    assert rows[0] == ["chosen regime", "separate", "trained", "5, 6", "0.500", "0.400"] and rows[1][3] == "never, never"


def test_the_figure_draws_every_point_on_both_panels():
    rec = intervention_study()
    fig = plots.intervention(rec)
    assert len(fig.axes) == 2 and [t.get_text() for t in fig.axes[0].get_yticklabels()][-1] == "never"
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == len(rec.points)


def test_the_report_carries_the_intervention_sentence(tmp_path):
    from records import complete_record

    from resdyn.run.report import render

    text = render(complete_record(), report_dir=tmp_path / "paper", figures_dir=tmp_path / "figures")
    assert "By intervention, in the chosen regime, separate weights, settling goes with saturation" in text
    assert "Notebook: [`16_intervention`](notebooks/16_intervention.ipynb)." in text


def test_the_conclusion_names_what_settling_goes_with_and_where_nothing_settles():
    from dataclasses import replace

    rec = intervention_study()
    text = section.conclusion(rec)
    # centring removes settling (holds), the layer-1 norm delays it by one layer only (does not)
    assert text.startswith("By intervention, in the chosen regime, separate weights, settling goes with saturation of "
                           "the deep sigmoid units, not with the shrinking of the deep weights; in the chosen regime, "
                           "shared weights, settling goes with saturation of the deep sigmoid units;")
    assert "Where no seed" not in text
    quiet = replace(rec, points=[replace(p, std_layer=None) if p.regime == "baseline" else p for p in rec.points])
    assert section.conclusion(quiet).endswith(
        "Where no seed's net settles (baseline regime, separate weights; baseline regime, shared weights), undoing a "
        "factor has no settling to remove: inconclusive.")
    none = replace(rec, points=[replace(p, std_layer=None) for p in rec.points])
    assert section.conclusion(none).startswith("By intervention, nothing is decided")
    assert section.summary(rec).startswith(text)


def _data_lines(ax):
    """The lines drawn in data coordinates (not the axhlines, which span the axes)."""
    return [line for line in ax.lines if line.get_transform() == ax.transData]


def test_the_figure_joins_a_trained_net_only_to_interventions_that_settle_too():
    from resdyn.studies.experiment import DEPTH

    rec = intervention_study()
    fig = plots.intervention(rec)
    settle = {(p.regime, p.net, p.seed, p.kind) for p in rec.points if p.std_layer is not None}
    expected = sum(1 for r, n, s, k in settle if k != "trained" and (r, n, s, "trained") in settle)
    for ax in fig.axes:
        lines = _data_lines(ax)
        assert len(lines) == expected  # the centred nets never settle: no line to them
        points = {tuple(np.round(xy, 9)) for c in ax.collections for xy in c.get_offsets()}
        for line in lines:
            xy = line.get_xydata()
            assert len(xy) == 2 and (xy[:, 1] < DEPTH + 1).all()  # both ends on a layer, none on "never"
            assert {tuple(np.round(p, 9)) for p in xy} <= points  # each end is a drawn point
    plt.close(fig)


def test_the_figure_offsets_kinds_on_the_never_row_and_marks_the_paper_s_layer():
    from dataclasses import replace

    from resdyn.studies.experiment import DEPTH

    rec = intervention_study()
    # halved nets that never settle, with the centred nets' saturation: the same spot but for the offset
    rec = replace(rec, points=[replace(p, std_layer=None, saturation=0.1) if p.kind == "halved" else p
                               for p in rec.points])
    fig = plots.intervention(rec)
    ax = fig.axes[0]
    never = [(p, xy) for p, xy in zip(rec.points, ax.collections) if p.std_layer is None]
    ys = {(p.kind, p.net): float(c.get_offsets()[0][1]) for p, c in never}
    assert len(set(ys.values())) == len(ys) == 4  # centred and halved, both kinds of weights: four rows
    assert all(y > DEPTH + 1 for y in ys.values())
    ticks = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks()))
    assert all(abs(y - ticks["never"]) < 1 for y in ys.values())
    assert any(list(line.get_ydata()) == [claims.PAPER["settling_layer"]] * 2 for line in ax.lines)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"the paper's settling layer, about {claims.PAPER['settling_layer']}" in legend
    plt.close(fig)
