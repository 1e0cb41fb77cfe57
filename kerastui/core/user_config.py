"""The user's own settings file: Slurm defaults and the login-node guard threshold.

Lives at $KERASTUI_CONFIG or ~/.config/kerastui/config.toml ($XDG_CONFIG_HOME honoured), e.g.

    [slurm]
    partition = "gpu"
    time_limit = "02:00:00"
    cpus = 4
    gpus = 1
    memory = "16G"
    account = "proj123"
    extra_options = ["--qos=short", "--constraint=a100"]

    [guard]
    max_local_samples = 200000   # 0 turns the login-node guard off

Plain data, read with tomllib; a missing file means "all defaults".
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kerastui.core.spec import read_toml_text

CONFIG_ENV = "KERASTUI_CONFIG"
# About a minute or two of an MLP on a login-node core; MNIST for 10 epochs is well above it.
DEFAULT_MAX_LOCAL_SAMPLES = 200_000
KNOWN_TABLES = ("slurm", "guard")
GUARD_KEYS = ("max_local_samples",)


class UserConfigError(ValueError):
    """The config file exists but cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class GuardSettings:
    """When a local run counts as too long for a login node.

    The estimate is epochs x training samples seen per epoch; 0 turns the guard off.
    """

    max_local_samples: int = DEFAULT_MAX_LOCAL_SAMPLES


@dataclass(frozen=True)
class UserConfig:
    path: Path | None = None
    slurm: Mapping[str, Any] = field(default_factory=dict)   # raw [slurm] table, validated by SlurmSettings
    guard: GuardSettings = field(default_factory=GuardSettings)


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "kerastui" / "config.toml"


def load_user_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> UserConfig:
    """Read the config file; a missing file gives the defaults, a broken one raises UserConfigError."""
    path = config_path(environ) if path is None else Path(path)
    if not path.exists() and not path.is_symlink():
        return UserConfig(path=None)
    try:
        text = read_toml_text(path)
    except ValueError as error:
        raise UserConfigError(f"{path}: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserConfigError(f"{path}: not valid TOML: {error}") from None
    for key, value in data.items():
        if key not in KNOWN_TABLES or not isinstance(value, dict):
            raise UserConfigError(f"{path}: unknown setting [{key}]; allowed tables: {', '.join(KNOWN_TABLES)}")
    return UserConfig(path=path, slurm=dict(data.get("slurm", {})), guard=_guard(data.get("guard", {}), path))


def _guard(table: dict[str, Any], path: Path) -> GuardSettings:
    for key in table:
        if key not in GUARD_KEYS:
            raise UserConfigError(f"{path}: unknown setting guard.{key}; allowed: {', '.join(GUARD_KEYS)}")
    value = table.get("max_local_samples", DEFAULT_MAX_LOCAL_SAMPLES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserConfigError(f"{path}: guard.max_local_samples = {value!r}: must be a whole number >= 0 (0 turns the guard off)")
    return GuardSettings(max_local_samples=value)
