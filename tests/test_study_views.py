"""The study views as data (kerastui.core.study_views) and as drawn by `kerastui sweep --show`
(kerastui.cli.sweep_views), from Optuna studies built trial by trial: no training."""

from __future__ import annotations

import math
import warnings

import pytest
from study_fixtures import LR, MOMENTUM, OPTIMIZER, WIDTH, add_trials, sweep_study, two_objective_study

from kerastui.core.study_views import (
    FANOVA,
    MIN_TRIALS_FOR_IMPORTANCE,
    PED_ANOVA,
    study_views,
)

optuna = pytest.importorskip("optuna")
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(scope="module")
def views():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return study_views(sweep_study())


def test_history_is_in_trial_order_with_the_best_so_far_and_pruned_trials_never_best(views):
    assert [p.number for p in views.history] == [0, 1, 2, 4, 5, 6, 7, 8]  # the failed trial 3 has no value
    assert [p.best for p in views.history] == [0.86, 0.93, 0.93, 0.93, 0.93, 0.95, 0.95, 0.95]
    pruned = [p for p in views.history if p.state == "pruned"]
    assert [(p.number, p.value) for p in pruned] == [(2, 0.11), (7, 0.09)]  # their last report
    assert views.best_text() == "best val_accuracy 0.95 (trial 6)"


def test_a_minimised_objective_keeps_the_lowest_as_best():
    study = optuna.create_study(direction="minimize")
    for value in (0.5, 0.7, 0.2, 0.4):
        study.add_trial(optuna.trial.create_trial(params={"x": value}, value=value,
                                                  distributions={"x": optuna.distributions.FloatDistribution(0, 1)}))
    history = study_views(study, objectives=["val_loss"], importance_evaluators=()).history
    assert [p.best for p in history] == [0.5, 0.5, 0.2, 0.2]


def test_counts_and_states_mark_pruned_and_failed_trials(views):
    assert (views.counts.complete, views.counts.pruned, views.counts.failed) == (6, 2, 1)
    assert views.counts.text() == "6 complete, 2 pruned, 1 failed"
    assert views.counts_text() == "6 complete, 2 pruned, 1 failed, 21 epochs"  # the trials' "epochs" attributes
    assert views.states[2] == views.states[7] == "pruned" and views.states[3] == "failed"


def test_both_evaluators_rank_the_parameters_and_fanova_says_which_it_leaves_out(views):
    by_name = {i.evaluator: i for i in views.importances}
    ped, fanova = by_name[PED_ANOVA], by_name[FANOVA]
    assert set(ped.values) == {LR, WIDTH, OPTIMIZER, MOMENTUM}  # PED-ANOVA weighs conditional ones
    assert set(fanova.values) == {LR, WIDTH, OPTIMIZER} and MOMENTUM in fanova.left_out
    for found in (ped, fanova):
        assert math.isclose(sum(found.values.values()), 1.0) and not found.reason
        assert list(found.values.values()) == sorted(found.values.values(), reverse=True)


def test_too_few_trials_or_one_parameter_give_a_stated_reason():
    study = optuna.create_study(direction="maximize")
    add_trials(study, [(1e-3, 32, "adam", None, [0.8], "complete"), (1e-2, 64, "sgd", 0.9, [0.9], "complete")])
    (few,) = study_views(study, importance_evaluators=(FANOVA,)).importances
    assert few.values == {} and f"at least {MIN_TRIALS_FOR_IMPORTANCE} complete trials (2 so far)" in few.reason
    assert study_views(optuna.create_study()).history == []  # an empty study: nothing, no error

    one = optuna.create_study()
    for x in range(6):
        one.add_trial(optuna.trial.create_trial(params={"x": float(x)}, value=float(x * x),
                                                distributions={"x": optuna.distributions.FloatDistribution(0, 9)}))
    (single,) = study_views(one, importance_evaluators=(FANOVA,)).importances
    assert single.values == {"x": 1.0} and "only x varies" in single.note


def test_value_against_each_parameter_numeric_categorical_and_conditional(views):
    by_name = {p.name: p for p in views.parameters}
    assert list(by_name) == [LR, WIDTH, OPTIMIZER, MOMENTUM]
    lr = by_name[LR]
    assert lr.numeric and lr.log and lr.numbers == [0, 1, 4, 5, 6, 8] and lr.values[lr.numbers.index(6)] == 0.95
    assert sorted(lr.pruned_xs) == [1e-6, 1e-5]
    optimizer = by_name[OPTIMIZER]
    assert not optimizer.numeric and optimizer.choices == ("adam", "sgd")
    assert [optimizer.choices[int(x)] for x in optimizer.xs] == ["adam", "sgd", "sgd", "sgd", "adam", "adam"]
    assert by_name[MOMENTUM].numbers == [1, 4, 5]  # only the SGD trials set it


def test_two_objectives_give_the_pareto_front():
    views = study_views(two_objective_study())
    assert views.multi_objective and views.directions == ("max", "min")
    assert views.objectives == ("val_accuracy", "params")
    assert [p.number for p in views.pareto if p.on_front] == [0, 1, 3]
    assert len(views.pareto) == 5 and views.counts.failed == 1  # the failed trial is no point
    assert views.best_text() == "3 trials on the Pareto front"


def test_a_journal_file_study_reads_back_the_same(tmp_path):
    journal = tmp_path / "study.journal"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sweep_study(journal)
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    again = optuna.load_study(study_name="sweep", storage=JournalStorage(JournalFileBackend(str(journal))))
    views = study_views(again, importance_evaluators=())
    assert views.objectives == ("val_accuracy",) and views.history[-1].best == 0.95 and views.counts.pruned == 2


def _journal_loader(monkeypatch, journal):
    """kerastui.core.sweep_study.load_study opening `journal` (the engine's own, when it is there,
    is replaced for the test: these tests are about the drawing)."""
    import sys
    import types

    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    def load_study(sweep_dir):
        if not journal.is_file():
            raise FileNotFoundError(f"no study in {sweep_dir}")
        return optuna.load_study(study_name="sweep", storage=JournalStorage(JournalFileBackend(str(journal))))

    monkeypatch.setitem(sys.modules, "kerastui.core.sweep_study", types.SimpleNamespace(load_study=load_study))


def test_sweep_show_prints_the_views_below_the_leaderboard_in_plain_text(tmp_path, monkeypatch, capsys):
    from kerastui.cli.sweep_views import print_study_views

    sweep_study(tmp_path / "study.journal")
    _journal_loader(monkeypatch, tmp_path / "study.journal")
    monkeypatch.setenv("COLUMNS", "90")
    print_study_views(tmp_path, plain=True)
    out = capsys.readouterr().out
    assert "study: 6 complete, 2 pruned, 1 failed, 21 epochs; best val_accuracy 0.95 (trial 6)" in out
    assert "val_accuracy (max) by trial" in out and "x pruned" in out
    assert "parameter importances (PED-ANOVA)" in out and "parameter importances (fANOVA)" in out
    assert "compile.momentum: left out, not set in every complete trial" in out
    charts = [line for line in out.splitlines() if "val_accuracy against" in line]
    assert len(charts) == 4 and "layers[1].units" in charts[0]  # the most important first
    assert "\x1b[" not in out and max(len(line) for line in out.splitlines()) <= 90


def test_sweep_show_of_two_objectives_prints_the_front(monkeypatch, capsys, tmp_path):
    import sys
    import types

    from kerastui.cli.sweep_views import print_study_views

    study = two_objective_study()
    monkeypatch.setitem(sys.modules, "kerastui.core.sweep_study", types.SimpleNamespace(load_study=lambda d: study))
    print_study_views(tmp_path, plain=True)
    out = capsys.readouterr().out
    assert "3 trials on the Pareto front" in out and "Pareto front: 3 of 5 complete trials" in out
    assert "params (min) against val_accuracy (max)" in out


def test_a_sweep_without_a_readable_study_costs_one_line(tmp_path, monkeypatch, capsys):
    from kerastui.cli.sweep_views import print_study_views

    _journal_loader(monkeypatch, tmp_path / "missing.journal")
    print_study_views(tmp_path, plain=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "no study views for" in captured.err and "Traceback" not in captured.err
