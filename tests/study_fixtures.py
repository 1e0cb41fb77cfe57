"""Optuna studies built trial by trial, without training: complete trials with values and epoch
reports, pruned and failed ones, a log-scaled float, an integer, a categorical and a conditional
parameter (momentum only for SGD), and a study with two objectives."""

from __future__ import annotations

from pathlib import Path

LR, WIDTH, OPTIMIZER, MOMENTUM = "compile.learning_rate", "layers[1].units", "compile.optimizer", "compile.momentum"

# (learning rate, width, optimizer, momentum or None, value per epoch, state)
TRIALS = [
    (1e-3, 32, "adam", None, [0.60, 0.80, 0.86], "complete"),
    (1e-2, 64, "sgd", 0.9, [0.70, 0.88, 0.93], "complete"),
    (1e-5, 16, "adam", None, [0.10, 0.11], "pruned"),
    (3e-3, 128, "adam", None, [], "failed"),
    (5e-2, 64, "sgd", 0.5, [0.65, 0.84, 0.90], "complete"),
    (2e-4, 16, "sgd", 0.0, [0.30, 0.50, 0.62], "complete"),
    (1e-2, 128, "adam", None, [0.75, 0.90, 0.95], "complete"),
    (1e-6, 32, "sgd", 0.9, [0.09], "pruned"),
    (4e-3, 64, "adam", None, [0.72, 0.87, 0.91], "complete"),
]


def add_trials(study, trials=TRIALS) -> None:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.trial import TrialState, create_trial

    states = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}
    before = len(study.trials)
    for number, (lr, width, optimizer, momentum, reports, state) in enumerate(trials):
        params = {LR: lr, WIDTH: width, OPTIMIZER: optimizer}
        distributions = {LR: FloatDistribution(1e-6, 1e-1, log=True), WIDTH: IntDistribution(16, 128),
                         OPTIMIZER: CategoricalDistribution(["adam", "sgd"])}
        if momentum is not None:
            params[MOMENTUM] = momentum
            distributions[MOMENTUM] = FloatDistribution(0.0, 0.9)
        study.add_trial(create_trial(
            state=states[state], params=params, distributions=distributions,
            value=reports[-1] if state == "complete" else None,
            intermediate_values=dict(enumerate(reports)),
            user_attrs={"run_dir": f"trial-{before + number:03d}", "epochs": len(reports)}))
    assert len(study.trials) == before + len(trials), optuna.__version__


def sweep_study(path: Path | None = None):
    """The TRIALS study, maximising val_accuracy; in a journal file at `path` when given."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = None
    if path is not None:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(direction="maximize", storage=storage, study_name="sweep")
    _name(study, ["val_accuracy"])
    add_trials(study)
    return study


def two_objective_study():
    """Maximise val_accuracy, minimise the parameter count: trials 0, 1 and 3 are the front."""
    import optuna
    from optuna.distributions import IntDistribution
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"])
    _name(study, ["val_accuracy", "params"])
    for width, accuracy, count in ((16, 0.80, 1000), (64, 0.90, 4000), (64, 0.85, 4500), (128, 0.95, 9000),
                                   (128, 0.70, 9500)):
        study.add_trial(create_trial(params={WIDTH: width}, distributions={WIDTH: IntDistribution(16, 128)},
                                     values=[accuracy, count]))
    study.add_trial(create_trial(state=TrialState.FAIL, params={WIDTH: 32}, distributions={WIDTH: IntDistribution(16, 128)}))
    return study


def _name(study, names: list[str]) -> None:
    import warnings

    with warnings.catch_warnings():  # set_metric_names is experimental in Optuna 3 to 5
        warnings.simplefilter("ignore")
        study.set_metric_names(names)
