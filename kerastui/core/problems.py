"""What is wrong with an input, in one shape for every check: the experiment, its layers, the
Slurm settings, a sweep. Each problem names its field, its value and what is allowed; however
many there are, people are shown the first 20 and a count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an experiment: where, what value, and what is allowed."""

    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}: {self.message}"


# Problems shown at once: a file with 700,000 unknown keys gets these and a count, not a flood.
MAX_PROBLEMS_SHOWN = 20
# A dialog or a notification of the app has room for fewer; the count says how many more there are.
MAX_PROBLEMS_IN_DIALOG = 6


def bounded(lines: Iterable[str], limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
    """The first `limit` problem lines, then one line counting the rest."""
    lines = list(lines)
    if len(lines) <= limit:
        return lines
    more = len(lines) - limit
    return [*lines[:limit], f"... and {more} more problem{'s' if more != 1 else ''}"]


class SpecError(ValueError):
    """An experiment (or its TOML file) is invalid; carries every problem at once."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(bounded(str(p) for p in problems)))
