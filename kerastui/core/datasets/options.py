"""Options of a built-in dataset, written after its name: `imdb:maxlen=100,num_words=5000`.

The name alone takes the defaults. Each option is `key=value`, options separated by commas, in any
order; an unknown key or a bad value is a DatasetError that lists what the set takes. The dataset
is then named canonically: its base name and the options given, in the set's order
("IMDB:num_words=5000,maxlen=100" -> "imdb:maxlen=100,num_words=5000").
"""

from __future__ import annotations

from dataclasses import dataclass

from kerastui.core.datasets.base import DatasetError


@dataclass(frozen=True)
class DatasetOption:
    """One option a built-in takes: a whole number in a range, or one of some words."""

    name: str
    default: int | str
    help: str
    choices: tuple[str, ...] = ()
    minimum: int = 1
    maximum: int = 1_000_000

    def parse(self, text: str, dataset: str) -> int | str:
        text = text.strip()
        if self.choices:
            if text not in self.choices:
                raise DatasetError(
                    f"{dataset}: {self.name} must be one of {', '.join(self.choices)}, got {text!r}"
                )
            return text
        try:
            value = int(text)
        except ValueError:
            raise DatasetError(f"{dataset}: {self.name} must be a whole number, got {text!r}") from None
        if not self.minimum <= value <= self.maximum:
            raise DatasetError(
                f"{dataset}: {self.name} must be from {self.minimum} to {self.maximum}, got {value}"
            )
        return value

    def describe(self) -> str:
        allowed = "|".join(self.choices) if self.choices else f"{self.minimum}..{self.maximum}"
        return f"{self.name} ({self.help}, {allowed}, default {self.default})"


def split_options(name: str) -> tuple[str, str | None]:
    """("imdb", "maxlen=100") from "imdb:maxlen=100"; (name, None) without a colon."""
    base, colon, rest = name.partition(":")
    return (base, rest) if colon else (name, None)


def usage(dataset: str, options: tuple[DatasetOption, ...]) -> str:
    """How to write the set's options, for messages."""
    if not options:
        return f"{dataset} takes no options"
    example = ",".join(f"{o.name}={o.default}" for o in options)
    return f"{dataset} takes {'; '.join(o.describe() for o in options)}: write {dataset}:{example}"


def parse_options(dataset: str, text: str | None, options: tuple[DatasetOption, ...]) -> dict[str, int | str]:
    """The options given in `text` ("maxlen=100,num_words=5000"), checked against `options`."""
    if text is None:
        return {}
    known = {o.name: o for o in options}
    given: dict[str, int | str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, equals, value = part.partition("=")
        key = key.strip().lower()
        if not equals or key not in known:
            what = f"unknown option {key!r}" if equals else f"{part!r} is not key=value"
            raise DatasetError(f"{dataset}: {what}; {usage(dataset, options)}")
        if key in given:
            raise DatasetError(f"{dataset}: option {key} is given twice")
        given[key] = known[key].parse(value, dataset)
    return given


def with_defaults(given: dict[str, int | str], options: tuple[DatasetOption, ...]) -> dict[str, int | str]:
    return {o.name: given.get(o.name, o.default) for o in options}


def canonical_name(dataset: str, given: dict[str, int | str], options: tuple[DatasetOption, ...]) -> str:
    """The name that loads the same data: the base and the options given, in the set's order."""
    parts = [f"{o.name}={given[o.name]}" for o in options if o.name in given]
    return f"{dataset}:{','.join(parts)}" if parts else dataset
