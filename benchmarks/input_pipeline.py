"""Does the input pipeline keep up with the model? The loader alone against the fit it feeds, and
the training process's peak memory, for a folder of JPEGs and an HDF5 file larger than a batch
loader should ever hold.

    python benchmarks/input_pipeline.py [--quick] [--workdir DIR] [--keep]
                                        [--backends jax,tensorflow] [--preset cnn]

Makes, in --workdir (default: a new temporary folder), and reuses there when already complete:
  * JPEG folder: 10,000 JPEGs of 64x64 RGB in 10 class subfolders (smooth colour patterns, as
    photographs are, rather than noise, which no camera produces and which decodes slower);
  * HDF5 file: 4 GiB (4.3 GB), x = (65,536, 32, 32, 16) float32 and y = (65,536,) labels: patches
    of 16 spectral bands, as multispectral satellite tiles are stored, chunked 16 samples (1 MiB) a
    chunk, uncompressed; written 256 MiB at a time. 32x32x16 rather than 64x64x1 images: the same
    bytes a sample with a quarter of the CNN's work, so that one epoch over the whole file takes
    about a minute on 2 cores instead of a quarter of an hour (and the loader has four times the
    bytes per second to deliver, the harder test).
For each, side by side from one run:
  * loader samples/s: one epoch of kerastui's own batch loader (kerastui.core.batches'
    streamed_batches, made by kerastui.core.train.streamed_fit_inputs over the training split,
    shuffled, with the training's worker threads) iterated through Keras's PyDatasetAdapter, the
    object `fit` iterates, in a process of its own that does nothing else;
  * fit samples/s: `kerastui train --preset cnn --epochs 1` in a child process, per backend,
    from the run's own batch events (the steady rate: the first tenth of the epoch, which holds
    the compilation, left out);
  * the ratio loader / fit (target: at least 2);
  * the training process's peak resident memory, measured from outside: ru_maxrss from wait4
    (what `/usr/bin/time -v` prints as "Maximum resident set size"). Target for the HDF5 file:
    under 1.5 GB (10^9 bytes) with TensorFlow. The run reads the whole file: a statistics pass
    (per-band mean and deviation, NaN count), one epoch over the training rows (64%) and the
    validation rows (16%), then the evaluation over the test rows (20%).
Then where a batch's time goes, in one thread: reading (decoding, for JPEGs) and preparing.
The files were just written, so they are read from the page cache; a cluster's parallel file
system adds its own latency, which more worker threads hide.

--quick: 500 JPEGs and a 64 MiB HDF5 file, TensorFlow only (a smoke run, under a minute).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLASSES = 10
JPEG_SIDE = 64
HDF5_SAMPLE = (32, 32, 16)  # height, width, bands
HDF5_CHUNK_ROWS = 16  # 16 x 64 KiB: 1 MiB chunks, h5py's default chunk cache size
WRITE_BLOCK_BYTES = 256 * 1024 * 1024
COMPLETE_MARK = ".complete"  # hidden: the image folder loader ignores dot files
RSS_TARGET_BYTES = 1.5e9
RATIO_TARGET = 2.0


# ---- data ---------------------------------------------------------------------------------------


def make_jpeg_folder(folder: Path, count: int, seed: int = 0) -> None:
    """`count` 64x64 RGB JPEGs in class_0 .. class_9, each a smooth random pattern tinted by its class."""
    from PIL import Image

    mark = folder / COMPLETE_MARK
    if mark.exists() and mark.read_text() == str(count):
        return
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(seed)
    tints = rng.integers(0, 256, (CLASSES, 3))
    for label in range(CLASSES):
        (folder / f"class_{label}").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        label = index % CLASSES
        coarse = rng.integers(0, 256, (8, 8, 3)).astype(np.float32) * 0.6 + tints[label] * 0.4
        image = Image.fromarray(coarse.astype(np.uint8)).resize((JPEG_SIDE, JPEG_SIDE), Image.Resampling.BICUBIC)
        grain = rng.normal(0, 6, (JPEG_SIDE, JPEG_SIDE, 3))
        pixels = np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"class_{label}" / f"{index:05d}.jpg", quality=90)
    mark.write_text(str(count))


def make_hdf5(path: Path, samples: int, seed: int = 0) -> None:
    """x (samples, 32, 32, 16) float32 and y (samples,) int64, written a block at a time; an
    attribute marks it complete, so a file cut short by an interrupted run is written again."""
    import h5py

    if path.exists():
        try:
            with h5py.File(path, "r") as f:
                if f.attrs.get("complete") and f["x"].shape == (samples, *HDF5_SAMPLE):
                    return
        except (OSError, KeyError):
            pass
        path.unlink()
    rng = np.random.default_rng(seed)
    band_means = rng.uniform(0.05, 0.5, HDF5_SAMPLE[-1]).astype(np.float32)  # reflectances per band
    rows_per_block = max(1, WRITE_BLOCK_BYTES // (int(np.prod(HDF5_SAMPLE)) * 4))
    with h5py.File(path, "w") as f:
        x = f.create_dataset("x", shape=(samples, *HDF5_SAMPLE), dtype="float32",
                             chunks=(min(HDF5_CHUNK_ROWS, samples), *HDF5_SAMPLE))
        labels = rng.integers(0, CLASSES, samples)
        f.create_dataset("y", data=labels)
        for start in range(0, samples, rows_per_block):
            rows = min(rows_per_block, samples - start)
            block = rng.standard_normal((rows, *HDF5_SAMPLE), dtype=np.float32)
            block *= np.float32(0.05)
            block += band_means
            block[:, :4, :4, :] += labels[start:start + rows, None, None, None].astype(np.float32) * 0.01  # a faint signal
            x[start:start + rows] = block
        f.attrs["complete"] = True


# ---- the loader alone, in a child process --------------------------------------------------------

LOADER_CHILD = r"""
import json, sys, time
import numpy as np
from kerastui.core.backend import select_backend
args = json.loads(sys.argv[1])
select_backend(args["backend"])
import keras
from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter  # what fit iterates
from kerastui.core import spec
from kerastui.core.data import experiment_dataset
from kerastui.core.datasets.keyed_arrays import prepare_dataset
from kerastui.core.datasets.settings import DataSettings
from kerastui.core.train import streamed_fit_inputs

out = {}
for item in args["datasets"]:
    experiment = spec.Experiment(name="bench", dataset=item["path"], data=DataSettings(**item["data"]))
    started = time.perf_counter()
    data = experiment_dataset(experiment)
    loaded = time.perf_counter()
    data = prepare_dataset(data.for_task(""))  # the statistics and NaN pass the trainer makes
    prepared = time.perf_counter()
    fit = experiment.fit
    inputs = streamed_fit_inputs(data.x_train, data.y_train, None, fit.batch_size, fit.validation_split, experiment.seed)
    loader = inputs["x"]
    adapter = PyDatasetAdapter(loader, shuffle=False)
    samples = 0
    adapter.on_epoch_begin()
    t0 = time.perf_counter()
    for batch in adapter.get_numpy_iterator():
        samples += len(batch[0])
    seconds = time.perf_counter() - t0
    adapter.on_epoch_end()
    # Where one batch's time goes, in this thread alone: the file's rows (decoded, for images),
    # then the preprocessing (float32, scale, standardisation).
    x, batch_size = loader.x, loader.batch_size
    reads, preps = [], []
    batches = min(len(loader), args["profile_batches"])
    for index in range(batches):
        rows = loader.order[index * batch_size:(index + 1) * batch_size]
        t = time.perf_counter(); raw = x.raw(rows); reads.append(time.perf_counter() - t)
        t = time.perf_counter(); x.preprocessing.apply(raw); preps.append(time.perf_counter() - t)
    out[item["label"]] = {
        "train_samples": inputs["train_samples"], "samples": samples, "seconds": seconds,
        "workers": loader.workers, "queue": loader.max_queue_size, "batch_size": batch_size,
        "load_s": loaded - started, "statistics_s": prepared - loaded,
        "standardize": x.preprocessing.standardize, "input_shape": list(data.input_shape),
        "read_ms": 1000 * float(np.median(reads)), "prepare_ms": 1000 * float(np.median(preps)),
    }
print("RESULT " + json.dumps(out), flush=True)
"""


def child_env(backend: str) -> dict[str, str]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2",
           "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def measure_loaders(datasets: list[dict], backend: str, profile_batches: int) -> dict:
    payload = json.dumps({"datasets": datasets, "backend": backend, "profile_batches": profile_batches})
    result = subprocess.run([sys.executable, "-c", LOADER_CHILD, payload], capture_output=True, text=True,
                            env=child_env(backend), check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"the loader measurement failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# ---- the fit, as a user runs it -----------------------------------------------------------------


@dataclass
class FitRun:
    backend: str
    samples_per_s: float = 0.0
    epoch_s: float = 0.0  # the whole epoch, compilation and validation included
    wall_s: float = 0.0  # the process, start to end (imports, statistics pass, evaluation, saving)
    peak_rss: int = 0  # bytes, ru_maxrss of the finished process
    peak_polled: int = 0  # bytes, the last VmHWM read while it ran (a cross-check)
    train_samples: int = 0
    notes: list[str] = field(default_factory=list)


def poll_high_water(pid: int, found: list[int], done: threading.Event) -> None:
    while not done.is_set():
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        found[0] = max(found[0], int(line.split()[1]) * 1024)
        except OSError:
            return
        done.wait(0.2)


def steady_rate(events: list) -> tuple[float, int, float]:
    """(samples/s over the epoch's batches after its first tenth, training samples, epoch seconds)."""
    from kerastui.core.events import BatchEnded, EpochEnded, TrainingStarted

    started = next(e for e in events if isinstance(e, TrainingStarted))
    batches = [e for e in events if isinstance(e, BatchEnded) and e.epoch == 0]
    epoch = next((e for e in events if isinstance(e, EpochEnded)), None)
    if epoch is None or len(batches) < 2:
        raise RuntimeError("the run recorded no finished epoch")
    skip = max(1, started.steps_per_epoch // 10)
    steady = [e for e in batches if e.step > skip] or batches
    first = next((e for e in reversed(batches) if e.step <= skip), steady[0])
    last = batches[-1]
    samples = min(last.step * started.batch_size, started.train_samples) - first.step * started.batch_size
    rate = samples / (last.time - first.time) if last.time > first.time else 0.0
    return rate, started.train_samples, epoch.seconds


def measure_fit(dataset: dict, backend: str, preset: str, work: Path) -> FitRun:
    from kerastui.core.runs import load_run

    runs = work / "runs" / f"{dataset['label']}-{backend}"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    command = [sys.executable, "-m", "kerastui", "train", "--preset", preset, "--dataset", dataset["path"],
               "--epochs", "1", "--backend", backend, "--plain", "--runs-dir", str(runs), "--name", "bench"]
    for option, value in dataset["data"].items():
        command += [f"--{option.replace('_', '-')}", str(value)]
    log = runs / "train.log"
    run = FitRun(backend)
    with open(log, "w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=child_env(backend), cwd=work)
        polled, done = [0], threading.Event()
        poller = threading.Thread(target=poll_high_water, args=(process.pid, polled, done), daemon=True)
        poller.start()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        run.wall_s = time.perf_counter() - started
        done.set()
        poller.join()
    run.peak_rss, run.peak_polled = usage.ru_maxrss * 1024, polled[0]
    if process.returncode != 0:
        raise SystemExit(f"kerastui train on {dataset['label']} ({backend}) failed (exit {process.returncode}):\n"
                         + log.read_text()[-3000:])
    run_dirs = [p for p in runs.iterdir() if p.is_dir()]
    run.samples_per_s, run.train_samples, run.epoch_s = steady_rate(load_run(run_dirs[0]).events)
    return run


# ---- the table ----------------------------------------------------------------------------------


def gb(value: float) -> str:
    return f"{value / 1e9:.2f} GB"


def keras_version() -> str:
    spec = importlib.util.find_spec("keras")
    if spec is None or not spec.origin:
        return "?"
    version_file = Path(spec.origin).parent / "src" / "version.py"
    try:
        for line in version_file.read_text().splitlines():
            if line.startswith("__version__"):
                return line.split("=")[1].strip().strip("\"'")
    except OSError:
        pass
    return "?"


def print_table(datasets: list[dict], loaders: dict, fits: dict[str, list[FitRun]], preset: str) -> list[str]:
    """Prints the figures; returns the targets missed (empty when every target is met)."""
    any_loader = next(iter(loaders.values()))
    print(f"\ninput pipeline, {datetime.date.today().isoformat()}, {os.cpu_count()} CPU core(s), keras {keras_version()}, "
          f"preset {preset}, batch {any_loader['batch_size']}, loader: {any_loader['workers']} worker threads, "
          f"{any_loader['queue']} batches queued")
    header = (f"{'data':<34} {'train':>7} {'loader/s':>9} {'backend':<11} {'fit/s':>7} {'ratio':>6} "
              f"{'epoch s':>8} {'run s':>6} {'peak RSS':>9}")
    print(header)
    print("-" * len(header))
    missed = []
    for dataset in datasets:
        loader = loaders[dataset["label"]]
        loader_rate = loader["samples"] / loader["seconds"]
        for index, run in enumerate(fits[dataset["label"]]):
            ratio = loader_rate / run.samples_per_s if run.samples_per_s else float("inf")
            first = index == 0
            print(f"{dataset['title'] if first else '':<34} {loader['train_samples'] if first else '':>7} "
                  f"{f'{loader_rate:,.0f}' if first else '':>9} {run.backend:<11} {run.samples_per_s:>7,.0f} "
                  f"{ratio:>6.1f} {run.epoch_s:>8.1f} {run.wall_s:>6.0f} {gb(run.peak_rss):>9}")
            if ratio < RATIO_TARGET:
                missed.append(f"{dataset['label']}: loader only {ratio:.1f}x the {run.backend} fit (target {RATIO_TARGET:g}x)")
            if dataset["kind"] == "hdf5" and run.backend == "tensorflow" and run.peak_rss >= RSS_TARGET_BYTES:
                missed.append(f"{dataset['label']}: peak RSS {gb(run.peak_rss)} with tensorflow (target under 1.5 GB)")
    print("\nwhere a batch's time goes, one thread (median of the profiled batches):")
    for dataset in datasets:
        loader = loaders[dataset["label"]]
        per_sample = (loader["read_ms"] + loader["prepare_ms"]) / loader["batch_size"]
        reading = "decoding (open, decode, RGB)" if dataset["kind"] == "jpeg" else "reading (h5py)"
        print(f"  {dataset['label']:<6} {reading} {loader['read_ms']:.2f} ms a batch ({loader['read_ms'] / loader['batch_size']:.3f} ms "
              f"a sample), preparing (float32, scale, standardize={loader['standardize']}) {loader['prepare_ms']:.2f} ms: "
              f"{1000 / per_sample:,.0f} samples/s a thread; listing and headers {loader['load_s']:.1f} s, "
              f"statistics pass {loader['statistics_s']:.1f} s")
    fastest = {d["label"]: max(fits[d["label"]], key=lambda r: r.samples_per_s) for d in datasets}
    print("\ntargets:")
    for dataset in datasets:
        loader = loaders[dataset["label"]]
        ratio = loader["samples"] / loader["seconds"] / fastest[dataset["label"]].samples_per_s
        verdict = "met" if ratio >= RATIO_TARGET else "MISSED"
        print(f"  {dataset['label']}: loader {ratio:.1f}x the fastest fit ({fastest[dataset['label']].backend}), "
              f"target {RATIO_TARGET:g}x: {verdict}")
    for dataset in datasets:
        tf_run = next((r for r in fits[dataset["label"]] if r.backend == "tensorflow"), None)
        if dataset["kind"] == "hdf5" and tf_run is not None:
            verdict = "met" if tf_run.peak_rss < RSS_TARGET_BYTES else "MISSED"
            print(f"  {dataset['label']}: peak RSS with tensorflow {gb(tf_run.peak_rss)} while reading the whole "
                  f"{gb(dataset['bytes'])} file, target under 1.5 GB: {verdict}")
    return missed


# ---- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, tensorflow only: a smoke run")
    parser.add_argument("--workdir", type=Path, help="where the data is made (and reused); default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="leave the generated data (and runs) in place")
    parser.add_argument("--backends", help="comma-separated Keras backends for the fit (default jax,tensorflow; "
                                           "--quick: tensorflow); those not installed are skipped")
    parser.add_argument("--preset", default="cnn")
    parser.add_argument("--images", type=int, help="JPEG count (default 10,000; --quick 500)")
    parser.add_argument("--hdf5-mib", type=int, help="HDF5 size in MiB (default 4,096; --quick 64)")
    args = parser.parse_args(argv)

    images = args.images or (500 if args.quick else 10_000)
    hdf5_mib = args.hdf5_mib or (64 if args.quick else 4096)
    wanted = [b.strip() for b in (args.backends or ("tensorflow" if args.quick else "jax,tensorflow")).split(",") if b.strip()]
    backends = [b for b in wanted if importlib.util.find_spec(b) is not None]
    for name in wanted:
        if name not in backends:
            print(f"skipping {name}: not installed")
    if not backends:
        return 1

    work = (args.workdir or Path(tempfile.mkdtemp(prefix="kerastui-input-pipeline-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sample_bytes = int(np.prod(HDF5_SAMPLE)) * 4
    hdf5_samples = hdf5_mib * 1024 * 1024 // sample_bytes
    folder, h5 = work / f"jpeg-{images}", work / f"bands-{hdf5_samples}.h5"
    datasets = [
        {"label": "JPEG", "kind": "jpeg", "path": str(folder), "data": {},
         "title": f"JPEG folder {images:,} x {JPEG_SIDE}x{JPEG_SIDE}x3"},
        {"label": "HDF5", "kind": "hdf5", "path": str(h5), "data": {"x": "x", "y": "y"},
         "title": f"HDF5 {hdf5_mib / 1024:.2f} GiB {hdf5_samples:,}x{'x'.join(map(str, HDF5_SAMPLE))} f32"},
    ]
    try:
        t = time.perf_counter()
        print(f"data in {work}", flush=True)
        make_jpeg_folder(folder, images)
        print(f"  {images:,} JPEGs ready in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        make_hdf5(h5, hdf5_samples)
        datasets[1]["bytes"] = h5.stat().st_size
        print(f"  HDF5 file ({gb(h5.stat().st_size)}) ready in {time.perf_counter() - t:.1f} s", flush=True)

        loader_backend = "jax" if importlib.util.find_spec("jax") is not None else backends[0]
        print("measuring the loaders ...", flush=True)
        loaders = measure_loaders(datasets, loader_backend, profile_batches=10 if args.quick else 40)
        fits: dict[str, list[FitRun]] = {}
        for dataset in datasets:
            for backend in backends:
                print(f"training {dataset['label']} on {backend} ...", flush=True)
                fits.setdefault(dataset["label"], []).append(measure_fit(dataset, backend, args.preset, work))
        missed = print_table(datasets, loaders, fits, args.preset)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if not missed else 3


if __name__ == "__main__":
    raise SystemExit(main())
