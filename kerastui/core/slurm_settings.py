"""What a Slurm job asks for: partition, time, CPUs, GPUs, memory, account, extra sbatch options.

Values come, later ones winning, from: built-in defaults < the user config file's [slurm] table
< the environment (the SBATCH_* variables sbatch itself reads) < explicit choices (CLI flags,
the build screen's fields). Empty text means "leave it to the site's default".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from kerastui.core.spec import Problem, SpecError

# Every form sbatch accepts for --time: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
_TIME = re.compile(r"^(?:\d+-\d{1,2}(?::\d{1,2}){0,2}|\d+(?::\d{1,2}){0,2})$")
_MEMORY = re.compile(r"^[1-9]\d*[KMGT]?$")
# Any control character (newline above all) could end a #SBATCH line and start a command.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# sbatch input variables for our fields. sbatch lets them override #SBATCH lines, so `submit`
# removes them from sbatch's environment once their values are written into the script.
ENV_VARIABLES: dict[str, str] = {
    "partition": "SBATCH_PARTITION",
    "account": "SBATCH_ACCOUNT",
    "time_limit": "SBATCH_TIMELIMIT",
    "memory": "SBATCH_MEM_PER_NODE",
    "gpus": "SBATCH_GPUS",
}


@dataclass(frozen=True)
class SlurmSettings:
    partition: str = ""
    time_limit: str = "01:00:00"
    cpus: int = 1                       # --cpus-per-task
    tasks: int = 1                      # --ntasks: workers of a multiworker experiment, started by srun
    gpus: int = 0                       # --gres=gpu:N (understood by every select plugin)
    memory: str = ""                    # --mem, e.g. 4G; Slurm reads a bare number as megabytes
    account: str = ""
    extra_options: tuple[str, ...] = ()  # whole sbatch options, one per item: "--qos=short"
    # Seconds before the time limit Slurm warns the job (SIGUSR1): the run saves its state and
    # requeues its job, which resumes it when it starts again. 0: no warning, no requeue.
    requeue_warning: int = 300

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        for item in fields(self):
            value = getattr(self, item.name)
            texts = value if isinstance(value, tuple) else (value,)
            if any(isinstance(text, str) and _CONTROL.search(text) for text in texts):
                found.append(Problem(f"slurm.{item.name}", value, "must not contain newlines or other control characters"))
        if self.time_limit and not _TIME.match(self.time_limit):
            found.append(Problem("slurm.time_limit", self.time_limit, "use HH:MM:SS or D-HH:MM:SS, e.g. 02:00:00 or 1-12:00:00"))
        if self.memory and not _MEMORY.match(self.memory):
            found.append(Problem("slurm.memory", self.memory, "use a whole number with an optional unit K, M, G or T, e.g. 4G"))
        for name, minimum in (("cpus", 1), ("tasks", 1), ("gpus", 0), ("requeue_warning", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                found.append(Problem(f"slurm.{name}", value, f"must be a whole number of at least {minimum}"))
        for name in ("partition", "account"):
            value = getattr(self, name)
            if not isinstance(value, str) or value != value.strip():
                found.append(Problem(f"slurm.{name}", value, "must be text without leading or trailing spaces"))
        for option in self.extra_options:
            if not isinstance(option, str) or not option.startswith("-") or option.strip() != option:
                found.append(Problem("slurm.extra_options", option, "each must be one sbatch option starting with '-', e.g. --qos=short"))
        return found

    @property
    def warning_seconds(self) -> int:
        """The requeue warning as sent: at most a quarter of the time limit, so that a short job is
        not warned (and requeued) the moment it starts."""
        limit = time_limit_seconds(self.time_limit)
        return self.requeue_warning if limit is None else min(self.requeue_warning, limit // 4)

    def validated(self) -> SlurmSettings:
        found = self.problems()
        if found:
            raise SpecError(found)
        return self


def time_limit_seconds(text: str) -> int | None:
    """sbatch's --time in seconds (M, M:S, H:M:S, D-H, D-H:M, D-H:M:S), or None (empty or unreadable)."""
    if not text or not _TIME.match(text):
        return None
    days, _, rest = text.rpartition("-") if "-" in text else ("0", "", text)
    parts = [int(p) for p in rest.split(":")]
    if "-" in text:  # D-H, D-H:M, D-H:M:S
        hours, minutes, seconds = (parts + [0, 0])[:3]
    elif len(parts) == 1:  # M
        hours, minutes, seconds = 0, parts[0], 0
    elif len(parts) == 2:  # M:S
        hours, minutes, seconds = 0, parts[0], parts[1]
    else:
        hours, minutes, seconds = parts
    return ((int(days) * 24 + hours) * 60 + minutes) * 60 + seconds


def slurm_settings(
    config_table: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> SlurmSettings:
    """Combine defaults, the config file's [slurm] table, the environment and explicit overrides.

    Overrides that are None are ignored, so CLI flags can be passed straight through.
    Raises SpecError naming every bad value and where it came from.
    """
    env = os.environ if environ is None else environ
    allowed = {f.name for f in fields(SlurmSettings)}
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in (config_table or {}).items():
        if key not in allowed:
            problems.append(Problem(f"slurm.{key}", value, f"unknown setting; allowed: {', '.join(sorted(allowed))}"))
        else:
            values[key] = value
    for name, variable in ENV_VARIABLES.items():
        if env.get(variable):
            values[name] = env[variable]
    for key, value in overrides.items():
        if key not in allowed:
            raise TypeError(f"unknown Slurm setting {key!r}")
        if value is not None:
            values[key] = value
    if "gpus" in values:
        values["gpus"] = _gpu_count(values["gpus"])
    if isinstance(values.get("memory"), str) and re.fullmatch(r"\d+[kmgt]?", values["memory"], re.IGNORECASE):
        values["memory"] = values["memory"].upper()  # only a valid size: a bad value is shown as typed
    if isinstance(values.get("extra_options"), (list, tuple)):
        values["extra_options"] = tuple(values["extra_options"])
    elif "extra_options" in values:
        problems.append(Problem("slurm.extra_options", values.pop("extra_options"), "must be a list of sbatch options"))
    if problems:
        raise SpecError(problems)
    return replace(SlurmSettings(), **values).validated()


def _gpu_count(value: Any) -> Any:
    """SBATCH_GPUS may be 'type:count' (e.g. a100:2); keep only the count, or the value as given."""
    if isinstance(value, str):
        count = value.rsplit(":", 1)[-1]
        return int(count) if count.isdigit() else value
    return value
