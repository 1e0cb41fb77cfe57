"""The training tab's momentum field, by keys: shown for sgd and rmsprop only, checked at the
field, and set back to none when the optimizer becomes one without a momentum (its field then
hidden, it must not stay as the experiment's unseen problem)."""

from __future__ import annotations

from fakes import error_at, type_into, wait_until

from kerastui.tui.widgets.hyperparameters import HyperparameterForm


def shown(form: HyperparameterForm, name: str) -> bool:
    return bool(form.rows[name].display)


async def test_momentum_is_offered_for_sgd_checked_and_dropped_for_adam(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="keras and dataset")
        await pilot.press("f4")
        form = app.screen.query_one(HyperparameterForm)
        assert app.experiment.compile.optimizer == "adam" and not shown(form, "compile.momentum")

        form.fields["compile.optimizer"].value = "sgd"
        await pilot.pause()
        assert app.experiment.compile.optimizer == "sgd" and shown(form, "compile.momentum")
        momentum = form.fields["compile.momentum"]
        await type_into(pilot, momentum, "1.2")
        assert "less than 1" in error_at(form, "compile.momentum")
        assert app.experiment.compile.momentum == 0.0
        await type_into(pilot, momentum, "0.9")
        assert error_at(form, "compile.momentum") == "" and app.experiment.compile.momentum == 0.9

        form.fields["compile.optimizer"].value = "rmsprop"  # takes one too: kept
        await pilot.pause()
        assert app.experiment.compile.momentum == 0.9 and shown(form, "compile.momentum")

        form.fields["compile.optimizer"].value = "adam"
        await wait_until(pilot, lambda: app.experiment.compile.momentum == 0.0, what="the momentum dropped")
        assert app.experiment.compile.optimizer == "adam" and not shown(form, "compile.momentum")
        assert app.experiment.problems() == [] and app.screen.invalid_fields() == []
        assert momentum.value == "0"
