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
import json
import os
from typing import Any, ContextManager

from kerastui.core.spec import Experiment


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

    resolver = tf.distribute.cluster_resolver.SlurmClusterResolver() if under_slurm else None
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


def strategy_scope(experiment: Experiment) -> ContextManager:
    """Context in which to create and compile the model (a no-op for "default")."""
    strategy = get_strategy(experiment)
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def replicas(experiment: Experiment) -> int:
    strategy = get_strategy(experiment)
    return 1 if strategy is None else int(strategy.num_replicas_in_sync)


def global_batch_size(experiment: Experiment) -> int:
    """The batch size to pass to fit: per-replica batch size times replicas in sync."""
    return experiment.fit.batch_size * replicas(experiment)
