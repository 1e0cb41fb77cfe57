"""TPE against random search, each with and without a median pruner, on one fixed budget: the best
objective found and the epochs spent, side by side from one run.

    python benchmarks/sweep_search.py [--trials 16] [--seeds 3] [--epochs 12] [--backend jax]

The study: the digits MLP (Flatten, Dense(width, relu), Dropout(rate), Dense(10, softmax)) over the
learning rate (1e-5 to 0.3, log), the width (8 to 256, log) and the dropout rate (0 to 0.6), Adam,
`--epochs` epochs a trial, maximising the best val_accuracy. Each trial is trained by kerastui's own
Trainer in the search's own process (a process per trial would spend more time importing Keras than
training on 1,437 images; a process per search keeps memory flat), reporting val_accuracy every epoch; with pruning, Optuna's MedianPruner (after
4 complete trials, from epoch 3) stops a trial worse than the median at the same epoch, as a
sweep's `[sweep.pruner] type = "median"` does. The four searches repeat over `--seeds` seeds
(the sampler's and the trials' weights), and the table gives each one's mean and range:
- best val: the best trial's val_accuracy (what the search optimised);
- its test: that trial's test accuracy on the held-out 360 images (what it is worth);
- epochs: epochs trained over the whole budget, and how many trials were pruned.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LR, WIDTH, DROPOUT = "compile.learning_rate", "layers[1].units", "layers[2].rate"
BASE = """
name = "digits-search"
dataset = "digits"
[[layers]]
type = "Flatten"
[[layers]]
type = "Dense"
units = 64
activation = "relu"
[[layers]]
type = "Dropout"
rate = 0.2
[[layers]]
type = "Dense"
units = 10
activation = "softmax"
[compile]
optimizer = "adam"
learning_rate = 0.001
[fit]
epochs = 12
batch_size = 32
validation_split = 0.2
"""
SEARCHES = (("tpe", False), ("tpe", True), ("random", False), ("random", True))


def trial_experiment(base, params: dict, seed: int):
    layers = list(base.layers)
    layers[1] = layers[1].with_params(units=params[WIDTH])
    layers[2] = layers[2].with_params(rate=params[DROPOUT])
    return replace(base, layers=tuple(layers), seed=seed,
                   compile=replace(base.compile, learning_rate=params[LR]))


def search(method: str, pruning: bool, seed: int, trials: int, base, data) -> dict:
    import numpy as np
    import optuna

    from kerastui.core.events import EpochEnded
    from kerastui.core.train import Trainer

    sampler = (optuna.samplers.TPESampler(seed=seed, n_startup_trials=5) if method == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2) if pruning
              else optuna.pruners.NopPruner())
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    epochs = {"spent": 0}

    def objective(trial: optuna.Trial) -> float:
        import keras

        params = {LR: trial.suggest_float(LR, 1e-5, 0.3, log=True),
                  WIDTH: trial.suggest_int(WIDTH, 8, 256, log=True),
                  DROPOUT: trial.suggest_float(DROPOUT, 0.0, 0.6)}
        keras.backend.clear_session()  # one process trains them all: free the last trial's graph
        best = {"value": 0.0, "pruned": False}
        trainer: Trainer | None = None

        def on_event(event) -> None:
            if not isinstance(event, EpochEnded):
                return
            epochs["spent"] += 1
            value = float(event.metrics.get("val_accuracy", 0.0))
            best["value"] = max(best["value"], value)
            trial.report(best["value"], event.epoch)
            if trial.should_prune():
                best["pruned"] = True
                trainer.request_stop()  # after this batch, as a sweep's trial stops

        trainer = Trainer(trial_experiment(base, params, seed * 1000 + trial.number), data, [on_event])
        result = trainer.run()
        if best["pruned"]:
            raise optuna.TrialPruned()
        if result.status != "finished":
            raise RuntimeError(f"trial {trial.number}: {result.status}: {result.reason}")
        predicted = np.argmax(result.model.predict(data.x_test, verbose=0), axis=1)
        trial.set_user_attr("test_accuracy", float(np.mean(predicted == data.y_test)))
        return best["value"]

    study.optimize(objective, n_trials=trials)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    best = max(complete, key=lambda t: t.value)
    return {"best_val": best.value, "test": best.user_attrs["test_accuracy"], "epochs": epochs["spent"],
            "pruned": sum(t.state.name == "PRUNED" for t in study.trials), "params": best.params}


def spread(values: list[float], digits: int = 4) -> str:
    mean = statistics.mean(values)
    return f"{mean:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def run_one(args: argparse.Namespace) -> dict:
    """One search in this process (a child of main's): the result as a dict."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    from kerastui.core.backend import select_backend

    select_backend(args.backend)  # before anything imports Keras
    import optuna

    from kerastui.core.data import load_dataset
    from kerastui.core.spec import loads

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = loads(BASE)
    base = replace(base, backend=args.backend, fit=replace(base.fit, epochs=args.epochs))
    method, pruning, seed = args.one[0], args.one[1] == "median", int(args.one[2])
    found = search(method, pruning, seed, args.trials, base, load_dataset("digits"))
    import keras

    return {**found, "keras": keras.__version__, "backend": keras.backend.backend(), "optuna": optuna.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--backend", default="jax", help="Keras backend (jax trains the digits MLP fastest on CPUs)")
    parser.add_argument("--one", nargs=3, metavar=("METHOD", "PRUNER", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(run_one(args)), flush=True)
        return 0

    results: dict[tuple[str, bool], list[dict]] = {key: [] for key in SEARCHES}
    started = time.perf_counter()
    for seed in range(args.seeds):
        for method, pruning in SEARCHES:
            # Each search in its own process: a fresh Keras, and no compiled functions piling up.
            at = time.perf_counter()
            command = [sys.executable, __file__, "--trials", str(args.trials), "--epochs", str(args.epochs),
                       "--backend", args.backend, "--one", method, "median" if pruning else "none", str(seed)]
            child = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line for line in child.stdout.splitlines() if line.startswith("RESULT ")]
            if child.returncode != 0 or not lines:
                print(f"{method} seed {seed} failed (exit {child.returncode}):\n{child.stderr[-2000:]}", file=sys.stderr)
                return 1
            found = json.loads(lines[-1][len("RESULT "):])
            results[(method, pruning)].append(found)
            print(f"seed {seed} {method:6} {'median pruner' if pruning else 'no pruning':13} best val {found['best_val']:.4f} "
                  f"test {found['test']:.4f} epochs {found['epochs']:3d} pruned {found['pruned']:2d} "
                  f"({time.perf_counter() - at:.0f} s)", flush=True)

    any_found = results[SEARCHES[0]][0]
    budget = args.trials * args.epochs
    print(f"\n{args.trials} trials x {args.epochs} epochs ({budget} epochs at most) of the digits MLP, {args.seeds} seeds, "
          f"keras {any_found['keras']} on {any_found['backend']}, optuna {any_found['optuna']}, "
          f"{os.cpu_count()} CPU(s), {time.perf_counter() - started:.0f} s in all; mean (min-max) over seeds")
    header = f"{'search':<22} {'best val_accuracy':>24} {'its test accuracy':>24} {'epochs':>16} {'pruned':>7}"
    print(header)
    print("-" * len(header))
    for method, pruning in SEARCHES:
        rows = results[(method, pruning)]
        spent = [r["epochs"] for r in rows]
        epochs_text = f"{statistics.mean(spent):.0f} ({min(spent)}-{max(spent)})"
        print(f"{method + (' + median pruner' if pruning else ''):<22} {spread([r['best_val'] for r in rows]):>24} "
              f"{spread([r['test'] for r in rows]):>24} {epochs_text:>16} {statistics.mean(r['pruned'] for r in rows):>7.1f}")
    for method in ("tpe", "random"):
        saved = 1 - statistics.mean(r["epochs"] for r in results[(method, True)]) / statistics.mean(
            r["epochs"] for r in results[(method, False)])
        print(f"{method}: the median pruner saved {100 * saved:.0f}% of the epochs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
