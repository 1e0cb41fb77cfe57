"""TPE against random search, each with and without a median pruner, on one fixed budget: the best
objective found and the epochs spent, side by side from one run.

    python benchmarks/sweep_search.py [--trials 16] [--seeds 3] [--epochs 12] [--backend jax]

The study: the digits MLP (Flatten, Dense(width, relu), Dropout(rate), Dense(10, softmax)) over the
learning rate (1e-5 to 0.3, log), the width (8 to 256, log) and the dropout rate (0 to 0.6), Adam,
`--epochs` epochs a trial, maximising the best val_accuracy. Each search is a sweep run by kerastui's
own engine: its [sweep] table, its study in a journal file and one sweep worker (as `kerastui sweep
--parallel 1` runs it, here in the search's own process), each trial an ordinary run directory in a
temporary folder; with pruning, `[sweep.pruner] type = "median"` (after 4 complete trials, from
epoch 3) stops a trial worse than the median at the same epoch. The four searches repeat over
`--seeds` seeds (the sampler's and the weights'), and the table gives each one's mean and range:
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BASE = """
name = "digits-search"
dataset = "digits"
seed = {seed}
backend = "{backend}"
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
epochs = {epochs}
batch_size = 32
validation_split = 0.2
[sweep]
method = "{method}"
trials = {trials}
seed = {seed}
random_trials = 5
objective = "val_accuracy"
[sweep.parameters]
"compile.learning_rate" = {{ min = 1e-5, max = 0.3, scale = "log" }}
"layers[1].units" = {{ min = 8, max = 256, scale = "log" }}
"layers[2].rate" = {{ min = 0.0, max = 0.6 }}
"""
# From epoch 3, after 4 complete trials: a trial worse than the median at the same epoch stops.
PRUNER = """[sweep.pruner]
type = "median"
startup_trials = 4
warmup_epochs = 3
"""
SEARCHES = (("tpe", False), ("tpe", True), ("random", False), ("random", True))


def search(method: str, pruning: bool, seed: int, trials: int, epochs: int, backend: str, runs: Path) -> dict:
    """One sweep through kerastui's own engine: its [sweep] table, its journal study and one worker
    in this process, each trial an ordinary run directory (with its evaluation) under `runs`."""
    from kerastui.core.runs import load_run
    from kerastui.core.sweep import loads_sweep
    from kerastui.core.sweep_runs import create_sweep_dir
    from kerastui.core.sweep_study import load_study, trial_run_dir
    from kerastui.core.sweep_worker import SweepWorker

    text = BASE.format(seed=seed, backend=backend, epochs=epochs, method=method, trials=trials)
    base, sweep = loads_sweep(text + (PRUNER if pruning else ""))
    sweep_dir = create_sweep_dir(base, sweep, runs)
    ended = SweepWorker(sweep_dir).run()
    study = load_study(sweep_dir)
    best = study.best_trial
    return {"best_val": best.value, "test": load_run(trial_run_dir(sweep_dir, best)).test_accuracy,
            "epochs": sum(e.epochs for e in ended), "pruned": sum(e.ending == "pruned" for e in ended),
            "params": best.params}


def spread(values: list[float], digits: int = 4) -> str:
    mean = statistics.mean(values)
    return f"{mean:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def run_one(args: argparse.Namespace) -> dict:
    """One search in this process (a child of main's): the result as a dict."""
    import shutil
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    from kerastui.core.backend import select_backend

    select_backend(args.backend)  # before anything imports Keras
    import optuna

    method, pruning, seed = args.one[0], args.one[1] == "median", int(args.one[2])
    runs = Path(tempfile.mkdtemp(prefix="kerastui-sweep-search-"))
    try:
        found = search(method, pruning, seed, args.trials, args.epochs, args.backend, runs)
    finally:
        shutil.rmtree(runs, ignore_errors=True)
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
