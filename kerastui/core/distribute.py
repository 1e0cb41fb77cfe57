"""Distribution strategies: plain, one-machine mirrored, and multi-worker (Slurm-aware).

`experiment.strategy` chooses:
- "default":     no strategy (Keras's default device placement);
- "mirrored":    tf.distribute.MirroredStrategy over the local GPUs (one replica on a CPU-only machine);
- "multiworker": tf.distribute.MultiWorkerMirroredStrategy; under Slurm with several tasks the cluster
                 comes from SlurmClusterResolver, otherwise from TF_CONFIG (or a single worker).

`fit.batch_size` is the batch per replica; `global_batch_size` is what goes to `model.fit`, so the
work per device stays the same when replicas are added. TensorFlow is imported only when a
strategy other than "default" is asked for.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ContextManager

from kerastui.core.spec import Experiment

log = logging.getLogger(__name__)


class StrategyError(RuntimeError):
    """The requested strategy cannot be used here (e.g. a non-TensorFlow backend)."""


def slurm_task_count() -> int:
    """Tasks in this Slurm job step (1 outside Slurm)."""
    for name in ("SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def is_chief() -> bool:
    """Whether this process should write run files (only one worker of a multi-worker job does)."""
    tf_config = os.environ.get("TF_CONFIG")
    if tf_config:
        try:
            config = json.loads(tf_config)
            task = config.get("task", {})
            kind, index = task.get("type", "worker"), int(task.get("index", 0))
        except (ValueError, TypeError, AttributeError):
            return True
        if "chief" in config.get("cluster", {}):
            return kind == "chief"
        return kind == "worker" and index == 0
    if slurm_task_count() > 1:
        return os.environ.get("SLURM_PROCID", "0") == "0"
    return True


def get_strategy(experiment: Experiment) -> Any | None:
    """The tf.distribute strategy for `experiment`, or None for "default"."""
    if experiment.strategy == "default":
        return None
    if experiment.backend != "tensorflow":
        raise StrategyError(
            f"strategy {experiment.strategy!r} uses tf.distribute and needs the tensorflow backend, "
            f"not {experiment.backend}; choose strategy 'default' or the tensorflow backend"
        )
    if experiment.strategy == "mirrored":
        return _mirrored()
    if experiment.strategy == "multiworker":
        return _multiworker(slurm_task_count() > 1)
    raise StrategyError(f"unknown strategy {experiment.strategy!r}; choose default, mirrored or multiworker")


# TensorFlow allows one multi-worker strategy per process (it starts the collective runtime), and
# a new MirroredStrategy per build would re-enumerate devices; so each is created once and reused.
@functools.lru_cache(maxsize=1)
def _mirrored() -> Any:
    import tensorflow as tf

    return tf.distribute.MirroredStrategy()


@functools.lru_cache(maxsize=1)
def _multiworker(under_slurm: bool) -> Any:
    import tensorflow as tf

    resolver = slurm_cluster_resolver() if under_slurm else None
    # RING (gRPC) works everywhere, CPUs over loopback included; NCCL would need GPUs on every worker.
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING
    )
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver, communication_options=options)


# ---- Slurm -> cluster spec -------------------------------------------------------------------

PORT_BASE_ENV = "KERASTUI_PORT_BASE"
# Ports per job: tasks on one node use port_base + 0, 1, ...; jobs on the same node step by this.
PORTS_PER_JOB = 16


def job_port_base(environ: Mapping[str, str] | None = None) -> int:
    """The first gRPC port of this job's workers, the same in every task of the job.

    SlurmClusterResolver's fixed default (8888) makes two multi-worker jobs sharing a node
    collide, so the base is spread by the job id over 20000-35999 (below Linux's ephemeral
    range, 32768+ only for the last ids' upper ports); $KERASTUI_PORT_BASE overrides it.
    """
    env = os.environ if environ is None else environ
    given = env.get(PORT_BASE_ENV, "")
    if given:
        if not given.isdigit() or not 1024 <= int(given) <= 65535 - PORTS_PER_JOB:
            raise StrategyError(f"{PORT_BASE_ENV}={given!r} must be a port number between 1024 and {65535 - PORTS_PER_JOB}")
        return int(given)
    job_id = env.get("SLURM_JOB_ID", "")
    return 20000 + (int(job_id) % 1000) * PORTS_PER_JOB if job_id.isdigit() else 20000


def visible_gpu_count(environ: Mapping[str, str] | None = None, which: Callable[[str], str | None] = shutil.which) -> int:
    """GPUs this node gives the job, as SlurmClusterResolver counts them, but 0 (not a crash) without nvidia-smi.

    Counted without initialising TensorFlow: the resolver may still set CUDA_VISIBLE_DEVICES.
    """
    env = os.environ if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in env:
        devices = [d for d in env["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"]
        return len(devices)
    nvidia_smi = which("nvidia-smi")
    if nvidia_smi is None:
        return 0
    try:
        output = subprocess.run([nvidia_smi, "--list-gpus"], check=False, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in output.splitlines())


def slurm_task_layout(environ: Mapping[str, str] | None = None) -> tuple[int, dict[str, int]]:
    """(this task's rank, {host: tasks on it}) for the current job step, from Slurm's variables."""
    from tensorflow.python.distribute.cluster_resolver.slurm_cluster_resolver import (
        expand_hostlist,
        expand_tasks_per_node,
    )

    env = os.environ if environ is None else environ
    missing = [name for name in ("SLURM_PROCID", "SLURM_STEP_NODELIST", "SLURM_STEP_TASKS_PER_NODE") if name not in env]
    if missing:
        raise StrategyError(
            f"multiworker under Slurm needs a job step started by srun ({', '.join(missing)} not set); "
            "launch the workers with `srun` (kerastui's job script does)"
        )
    hosts = expand_hostlist(env["SLURM_STEP_NODELIST"])
    counts = expand_tasks_per_node(env["SLURM_STEP_TASKS_PER_NODE"])
    return int(env["SLURM_PROCID"]), dict(zip(hosts, counts))


def slurm_cluster_resolver(environ: Mapping[str, str] | None = None) -> Any:
    """tf.distribute's SlurmClusterResolver, made to work on CPU-only nodes and shared nodes.

    Stock SlurmClusterResolver (TF 2.x) fails on a CPU node: it runs nvidia-smi (FileNotFoundError
    when absent) and, given gpus_per_node=0, computes range(0, 0, 0) (ValueError) while pairing
    tasks with GPUs, so no task gets an address (tensorflow/tensorflow#56894). Here GPUs are
    counted without crashing, the port base comes from the job id, and with no GPUs the cluster
    spec is built from the same Slurm task layout, one address per task.
    """
    import tensorflow as tf

    SlurmClusterResolver = tf.distribute.cluster_resolver.SlurmClusterResolver
    ClusterSpec = tf.train.ClusterSpec

    env = os.environ if environ is None else environ
    rank, layout = slurm_task_layout(env)
    gpus = visible_gpu_count(env)
    port_base = job_port_base(env)
    tasks = sum(layout.values())

    class CpuSafeSlurmClusterResolver(SlurmClusterResolver):
        def cluster_spec(self) -> Any:
            if gpus:
                return super().cluster_spec()
            # Slurm's default (block) distribution numbers tasks host by host in nodelist order.
            addresses = [f"{host}:{port_base + offset}" for host, count in layout.items() for offset in range(count)]
            self.task_type, self.task_id = "worker", rank
            return ClusterSpec({"worker": addresses})

    return CpuSafeSlurmClusterResolver(
        jobs={"worker": tasks},
        port_base=port_base,
        gpus_per_node=gpus,
        gpus_per_task=gpus // max(layout.values()) if gpus else 0,
        tasks_per_node=layout,
        auto_set_gpu=bool(gpus),
    )


# The upstream bug the multi-worker workarounds below are for, and the Keras they were written
# and checked against: a newer Keras may have fixed it (the internals are then checked anyway).
KERAS_MULTIWORKER_ISSUE = "keras-team/keras#20585"
KERAS_CHECKED = (3, 15)


def keras_version(keras_module: Any) -> tuple[int, int]:
    """(major, minor) of a Keras module: "3.15.1" -> (3, 15), "3.16.0.dev2026" -> (3, 16)."""
    parts = str(keras_module.__version__).split(".") + ["0"]
    minor = "".join(itertools.takewhile(str.isdigit, parts[1]))
    return int(parts[0]), int(minor or 0)


def check_keras_for_workarounds(keras_module: Any) -> None:
    """Refuse a Keras other than 3.x, whose internals the workarounds patch; a 3.x newer than the
    one checked is logged (the internals are checked when patched)."""
    version = keras_version(keras_module)
    if version[0] != 3:
        raise StrategyError(
            f"multiworker training works around {KERAS_MULTIWORKER_ISSUE} in Keras 3's TensorFlow "
            f"trainer; this is Keras {keras_module.__version__}: use Keras 3, or check whether the issue is fixed"
        )
    if version > KERAS_CHECKED:
        log.info("the %s workarounds were checked with Keras %d.%d; this is Keras %s",
                 KERAS_MULTIWORKER_ISSUE, *KERAS_CHECKED, keras_module.__version__)


def _missing_internals(what: str) -> StrategyError:
    return StrategyError(
        f"multiworker training cannot work around {KERAS_MULTIWORKER_ISSUE}: this Keras has no {what}, "
        "which the workaround replaces. Check whether the issue is fixed in this Keras, and update "
        "kerastui.core.distribute."
    )


def adapt_model(model: Any, experiment: Experiment) -> Any:
    """Make a compiled model trainable under the experiment's strategy; returns the model.

    Keras 3's TensorFlow trainer, before fit/evaluate, takes one batch and reduces it with
    strategy.reduce("MEAN", (x, y, sample_weight)) only to learn its shapes; with several
    workers TensorFlow cannot reduce a tuple (ValueError: "Attempt to convert a value
    (PerReplica...)"), so multi-worker fit fails at once (keras-team/keras#20585). The batch
    is only needed for its shapes, so this worker's own part of it serves, without talking to
    the others. This model alone is changed (its own method), for multi-worker models only; a
    Keras without that step fails here, naming the issue.
    """
    if experiment.strategy != "multiworker":
        return model
    import keras
    import tensorflow as tf

    check_keras_for_workarounds(keras)
    keras_build = getattr(model, "_maybe_symbolic_build", None)
    if not callable(keras_build):
        raise _missing_internals("Model._maybe_symbolic_build")

    def local_part(value: Any) -> Any:
        if isinstance(value, tf.distribute.DistributedValues):
            return model.distribute_strategy.experimental_local_results(value)[0]
        return value

    def symbolic_build(iterator: Any = None, data_batch: Any = None) -> Any:
        if iterator is not None:
            for _, _, batches in iterator:  # the same first batch Keras would take
                data_batch = tf.nest.map_structure(local_part, next(batches))
                break
        return keras_build(data_batch=data_batch)

    model._maybe_symbolic_build = symbolic_build
    return model


@contextlib.contextmanager
def multiworker_patches(experiment: Experiment) -> Iterator[None]:
    """While a multi-worker model trains or is evaluated: Keras 3 averages each step's logs across
    workers with strategy.reduce("MEAN", v, axis=0), which fails for the scalar loss and metrics
    ("Invalid reduction dimension 0 for input with 0 dimensions"); scalars are averaged over
    replicas instead (axis=None). Only the multi-worker "mean" case changes. Keras looks the
    function up when it traces a step, so it is replaced in its module for the duration of the
    block and put back after; nothing is patched for other strategies. Part of the same upstream
    problem (keras-team/keras#20585); a Keras without these internals fails here, naming it.
    """
    if experiment.strategy != "multiworker":
        yield
        return
    import keras
    import tensorflow as tf

    check_keras_for_workarounds(keras)
    try:
        from keras.src.backend.tensorflow import trainer as tf_trainer
    except ImportError:
        raise _missing_internals("keras.src.backend.tensorflow.trainer module") from None
    keras_reduce = getattr(tf_trainer, "reduce_per_replica", None)
    is_multi_worker = getattr(tf_trainer, "_collective_all_reduce_multi_worker", None)
    if keras_reduce is None or is_multi_worker is None:
        raise _missing_internals("reduce_per_replica or _collective_all_reduce_multi_worker in its TensorFlow trainer")

    def rank(value: Any) -> int | None:
        first = value.values[0] if isinstance(value, tf.distribute.DistributedValues) else value
        return getattr(getattr(first, "shape", None), "rank", None)

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        if reduction in ("auto", "mean") and is_multi_worker(strategy):
            return tf.nest.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=0 if rank(v) else None), values
            )
        return keras_reduce(values, strategy, reduction)

    tf_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        tf_trainer.reduce_per_replica = keras_reduce


def strategy_scope(experiment: Experiment) -> ContextManager:
    """Context in which to create and compile the model (a no-op for "default")."""
    strategy = get_strategy(experiment)
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def replicas(experiment: Experiment) -> int:
    """Model replicas kept in sync: devices per worker times workers (1 without a strategy)."""
    strategy = get_strategy(experiment)
    return 1 if strategy is None else int(strategy.num_replicas_in_sync)


def workers(experiment: Experiment) -> int:
    """Processes training together: the multi-worker cluster's size, else 1."""
    strategy = get_strategy(experiment)
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    cluster = resolver.cluster_spec().as_dict()
    return max(1, sum(len(cluster.get(kind, [])) for kind in ("chief", "worker")))


def global_batch_size(experiment: Experiment) -> int:
    """The batch size to pass to fit: per-replica batch size times replicas in sync."""
    return experiment.fit.batch_size * replicas(experiment)
