"""The data tab's [data] table for a file of named arrays or a folder of images, picked by keys.

A file's arrays are listed with their shape, dtype, value range and NaN/inf counts (what the
inspector saw on a bounded sample); on the list, x, y, X and Y make the highlighted array the
inputs, the labels, the test inputs or the test labels, and delete takes its role away. Below it:
the axis order (each order of the inputs' axes, with the shape it gives), the standardisation and
a labels file kept apart. A folder of images has its image size, colour and validation share.

The form holds no state of its own: it shows the experiment's DataSettings and what was found in
the file (a DataLook), and posts `DataSettingsForm.Edited(change)` for each accepted change; the
build screen applies it to the experiment, the data is loaded again, and the look follows.
Errors are shown at the field they concern (a missing key under the list, bad axes under the axis
order), the others in the error panel under the form.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static

from kerastui.core.datasets.settings import (
    COLORS,
    MAX_IMAGE_SIDE,
    STANDARDIZE,
    DataSettings,
    axes_problems,
)
from kerastui.tui.widgets.data_look import ARRAYS, IMAGES, DataLook
from kerastui.tui.widgets.form_fields import FORM_FIELD_CSS

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.datasets.array_files import ArrayEntry
    from kerastui.core.datasets.inspect import ArraySummary

ROLES = ("x", "y", "x_test", "y_test")
ROLE_WORDS = {"x": "inputs", "y": "labels", "x_test": "test inputs", "y_test": "test labels"}
MAX_ORDERED_AXES = 5  # every order of up to 5 axes is offered (24 with the samples first)
STANDARDIZE_HELP = {
    "auto": "pixels / 255, else per feature",
    "none": "the values as in the file",
    "per_sample": "each sample by its own stats",
    "per_feature": "by the training split's stats",
}
# "[data] x", "asked for by [data] y_test", "axes [0, 2]: ...": the field a message is about.
FIELD_IN_MESSAGE = re.compile(r"\[data\] (x_test|y_test|x|y|labels|axes|standardize|image_size|color|validation_split)\b"
                              r"|: (axes) \[|\((x|y) = \"")
LISTED_ARRAYS = "; the file holds: "  # how the core's messages list a file's arrays
TEXT_FIELDS = {"labels": "labels file", "image_size": "image size", "validation_split": "validation split"}


# ---------------------------------------------------------------- pure helpers

def shape_words(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) if shape else "one value"


def axes_options(shape: tuple[int, ...] | None, current: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """(label, axes) for each order of the inputs' axes that keeps the samples first, labelled
    with the sample shape it gives: "as stored: 2×64", "0, 2, 1: 64×2". The current order is
    offered even when it does not fit (its error says why)."""
    sample = tuple(shape[1:]) if shape else None
    options: list[tuple[str, tuple[int, ...]]] = [(f"as stored: {shape_words(sample)}" if sample is not None
                                                   else "as stored", ())]
    if shape is not None and 2 < len(shape) <= MAX_ORDERED_AXES:
        for order in itertools.permutations(range(1, len(shape))):
            axes = (0, *order)
            if list(axes) == list(range(len(shape))):
                continue
            options.append((f"{', '.join(map(str, axes))}: {shape_words(tuple(shape[a] for a in order))}", axes))
    if current and all(axes != current for _, axes in options):
        options.append((f"{', '.join(map(str, current))} (does not fit)", tuple(current)))
    return options


def parse_image_size(text: str) -> tuple[tuple[int, ...] | None, str]:
    """"64x64", "64 64", "64, 48" -> (64, 64); "" -> () (the images' own size). (None, why) when refused."""
    raw = text.strip()
    if not raw:
        return (), ""
    parts = [p for p in re.split(r"[x×,\s]+", raw.lower()) if p]
    if len(parts) == 1:
        parts = parts * 2  # "64": square
    try:
        sides = tuple(int(p) for p in parts)
    except ValueError:
        return None, "must be height x width in pixels, such as 64x64"
    if len(sides) != 2 or not all(1 <= side <= MAX_IMAGE_SIDE for side in sides):
        return None, f"must be height x width, each from 1 to {MAX_IMAGE_SIDE}, such as 64x64"
    return sides, ""


def parse_validation_split(text: str) -> tuple[float | None, str, bool]:
    """(share, why refused, accepted): "" is None (the fit's own validation split decides)."""
    raw = text.strip()
    if not raw:
        return None, "", True
    try:
        share = float(raw)
    except ValueError:
        return None, "must be a number from 0 to below 1, such as 0.2", False
    if not 0.0 <= share < 1.0:
        return None, "must be at least 0 and less than 1, such as 0.2", False
    return share, "", True


def field_of(message: str) -> str:
    """The [data] field a load or inspection error is about ("x", "axes", "labels" ...), or ""."""
    found = FIELD_IN_MESSAGE.search(message)
    if found is None:
        return ""
    return next(group for group in found.groups() if group)


def with_role(settings: DataSettings, role: str, key: str, entries: tuple[ArrayEntry, ...]) -> DataSettings:
    """`key` given `role` ("" takes its role away); a key holds one role. Other inputs with
    another number of axes drop an axis order that no longer fits."""
    changes: dict[str, object] = {r: "" for r in ROLES if getattr(settings, r) == key}
    if role:
        changes[role] = key
        if role == "x" and settings.axes:
            entry = next((e for e in entries if e.name == key), None)
            if entry is not None and axes_problems(list(settings.axes), len(entry.shape)):
                changes["axes"] = ()
    return replace(settings, **changes)


def nonfinite_text(summary: ArraySummary | None) -> Text:
    values = summary.values if summary is not None else None
    if values is None:
        return Text("")
    if not values.nan_count and not values.infinite_count:
        return Text("0", style="dim")
    words = [f"{values.nan_count:,} NaN" if values.nan_count else "", f"{values.infinite_count:,} inf"
             if values.infinite_count else ""]
    return Text(" ".join(w for w in words if w), style="bold red")


def range_text(summary: ArraySummary | None) -> Text:
    if summary is None:
        return Text("")
    if summary.values is None:
        return Text(summary.note, style="dim")
    return Text(summary.values.range_text())


# ---------------------------------------------------------------- widgets

class ArrayTable(DataTable):
    """The file's arrays; x / y / X / Y give the highlighted one its role, delete takes it away."""

    BINDINGS = [
        Binding("x", "role('x')", "Inputs x"),
        Binding("y", "role('y')", "Labels y"),
        Binding("X", "role('x_test')", "Test inputs"),
        Binding("Y", "role('y_test')", "Test labels"),
        Binding("delete,backspace", "role('')", "No role"),
    ]

    def action_role(self, role: str) -> None:
        form = next((a for a in self.ancestors if isinstance(a, DataSettingsForm)), None)
        if form is not None and self.row_count:
            form.assign_role(self.cursor_row, role)


class DataSettingsForm(Vertical):
    """Shows and edits the [data] table of an array file or image folder; see the module docstring."""

    DEFAULT_CSS = FORM_FIELD_CSS + """
    DataSettingsForm {
        height: auto;
        margin-top: 1;
    }

    DataSettingsForm #data-form-title {
        text-style: bold;
        height: auto;
    }

    DataSettingsForm #data-arrays {
        height: auto;
        max-height: 12;
        scrollbar-size-vertical: 1;
    }

    DataSettingsForm #data-arrays-note {
        height: auto;
        color: $text-muted;
    }

    DataSettingsForm .field-row {
        margin-top: 0;
    }

    DataSettingsForm .field-label {
        width: 18;
    }

    DataSettingsForm .field-row Input, DataSettingsForm .field-row Select {
        width: 26;
    }

    DataSettingsForm #data-role-error {
        padding-left: 0;
    }

    DataSettingsForm #data-error {
        height: auto;
        color: $error;
        text-style: bold;
        margin-top: 1;
    }
    """

    class Edited(Message):
        """The user changed the [data] table: `change` makes the new one from the current one
        (a change, so that two quick edits both apply)."""

        def __init__(self, change: Callable[[DataSettings], DataSettings], what: str) -> None:
            super().__init__()
            self.change = change
            self.what = what

    class FieldChecked(Message):
        """A typed field was refused, or no longer is (the build screen's status line follows)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.settings = DataSettings()
        self.look: DataLook | None = None
        self.load_error = ""
        self.form = ""
        self.errors: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="data-form-title")
        table = ArrayTable(id="data-arrays", cursor_type="row", zebra_stripes=True, classes="arrays-only")
        table.add_columns("role", "array", "shape", "dtype", "range", "NaN/inf")
        yield table
        yield Static("", id="data-arrays-note", classes="arrays-only")
        yield self._error("roles", "data-role-error", "arrays-only")
        with Horizontal(classes="field-row arrays-only"):
            yield Label("axis order", classes="field-label")
            yield Select(axes_options(None, ()), value=(), allow_blank=False, compact=True, id="data-axes",
                         tooltip="The inputs' axis order, the samples first: (N, 2, 64) as 0, 2, 1 is (N, 64, 2)")
            yield Static(Text("order of the inputs' axes", style="dim"), classes="field-help")
        yield self._error("axes", "data-axes-error")
        with Horizontal(classes="field-row arrays-only"):
            yield Label("standardize", classes="field-label")
            yield Select([(name, name) for name in STANDARDIZE], value="auto", allow_blank=False, compact=True,
                         id="data-standardize")
            yield Static(Text(STANDARDIZE_HELP["auto"], style="dim"), id="data-standardize-help", classes="field-help")
        yield self._error("standardize", "data-standardize-error")
        with Horizontal(classes="field-row images-only"):
            yield Label("image size", classes="field-label")
            yield Input(placeholder="the images' own", compact=True, id="data-image-size")
            yield Static("", id="data-image-size-help", classes="field-help")
        yield self._error("image_size", "data-image-size-error")
        with Horizontal(classes="field-row images-only"):
            yield Label("color", classes="field-label")
            yield Select([(name, name) for name in COLORS], value="rgb", allow_blank=False, compact=True,
                         id="data-color")
            yield Static(Text("rgb: 3 channels, grayscale: 1", style="dim"), classes="field-help")
        yield self._error("color", "data-color-error")
        with Horizontal(classes="field-row images-only"):
            yield Label("validation split", classes="field-label")
            yield Input(placeholder="the fit's own", compact=True, id="data-validation-split")
            yield Static(Text("share of train/; enter applies", style="dim"), classes="field-help")
        yield self._error("validation_split", "data-validation-split-error")
        with Horizontal(classes="field-row"):
            yield Label("labels file", classes="field-label")
            yield Input(placeholder="(none: in the file)", compact=True, id="data-labels")
            yield Static(Text("labels apart; enter applies", style="dim"), classes="field-help")
        yield self._error("labels", "data-labels-error")
        yield Static("", id="data-error")

    def _error(self, field: str, id: str, classes: str = "") -> Static:
        error = Static("", id=id, classes=f"field-error {classes}".strip())
        error.display = False
        self.errors[field] = error
        return error

    # ---- what is shown ------------------------------------------------------------------------

    def show(self, look: DataLook, settings: DataSettings, load_error: str = "") -> None:
        """Show what was found in the file (`look`) and the experiment's [data] table."""
        self.look, self.settings, self.load_error = look, settings, load_error
        if not self.is_mounted:
            return
        self.form = look.form
        for widget in self.query(".arrays-only"):
            widget.display = look.form == ARRAYS and widget.id not in ("data-role-error",)
        for widget in self.query(".images-only"):
            widget.display = look.form == IMAGES
        self._show_title()
        if look.form == ARRAYS:
            self._fill_arrays()
            self._show_axes()
        self._show_fields()
        self._show_errors()

    def focus_first(self) -> None:
        """Focus the list of arrays (a file) or the image size (a folder), the form at the top of
        the pane (at 80x24 the list would be half hidden under the dataset table)."""
        self.query_one("#data-form-title").scroll_visible(top=True, animate=False)
        if self.form == ARRAYS and self.look is not None and self.look.entries:
            self.query_one(ArrayTable).focus()
        elif self.form == IMAGES:
            self.query_one("#data-image-size", Input).focus()

    def set_load_error(self, message: str) -> None:
        """The app's load of the data failed (or no longer does: "")."""
        if message != self.load_error:
            self.load_error = message
            if self.is_mounted and self.look is not None:
                self._show_errors()

    def _show_title(self) -> None:
        look = self.look
        assert look is not None
        text = Text()
        if look.form == ARRAYS:
            inspection = look.inspection
            form = inspection.form_name if inspection is not None else "array file"
            text.append(f"{look.name}", style="bold")
            text.append(f"  {form}, {len(look.entries)} array{'s' if len(look.entries) != 1 else ''}", style="")
            text.append("  x / y / X / Y: a row's role", style="dim")
        else:
            folder = look.folder
            text.append(f"{look.name}", style="bold")
            if folder:
                text.append(f"  folder of {folder.get('image_count', 0):,} images, {folder.get('layout', '')}")
        self.query_one("#data-form-title", Static).update(text)

    def roles(self) -> dict[str, tuple[str, bool]]:
        """array name -> (role, named in the table); the inspector's defaults where the table names none."""
        look, settings = self.look, self.settings
        names = {e.name for e in look.entries} if look is not None else set()
        found: dict[str, tuple[str, bool]] = {}
        for role in ROLES:
            given = getattr(settings, role)
            if given and given in names:
                found[given] = (role, True)
        inspection = look.inspection if look is not None else None
        if inspection is not None:
            for role in ROLES:
                name = getattr(inspection, role)
                if name and name not in found and not getattr(settings, role):
                    found[name] = (role, False)
        return found

    def _fill_arrays(self) -> None:
        look = self.look
        assert look is not None
        table = self.query_one(ArrayTable)
        cursor = table.cursor_row
        table.clear()
        roles = self.roles()
        summaries = {a.name: a for a in look.inspection.arrays} if look.inspection is not None else {}
        for entry in look.entries:
            role, named = roles.get(entry.name, ("", False))
            role_cell = Text(role, style="bold cyan") if named else Text(f"{role} auto" if role else "", style="cyan")
            summary = summaries.get(entry.name)
            dims = f" ({', '.join(entry.dimensions)})" if entry.dimensions else ""
            table.add_row(role_cell, Text(entry.name, overflow="ellipsis", no_wrap=True),
                          shape_words(tuple(entry.shape)) + dims, entry.dtype, range_text(summary),
                          nonfinite_text(summary), key=entry.name)
        if look.entries:
            table.move_cursor(row=min(cursor, len(look.entries) - 1))
        note = ""
        sampled = [a.values for a in summaries.values() if a.values is not None and not a.values.whole]
        if sampled:
            note = f"ranges and NaN/inf counts {sampled[0].extent_text()} (start, middle and end)"
        self.query_one("#data-arrays-note", Static).update(Text(note))
        self.query_one("#data-arrays-note", Static).display = bool(note)

    def x_entry(self) -> ArrayEntry | None:
        look = self.look
        if look is None:
            return None
        x = self.settings.x or (look.inspection.x if look.inspection is not None else "")
        return next((e for e in look.entries if e.name == x), None)

    def _show_axes(self) -> None:
        entry = self.x_entry()
        select = self.query_one("#data-axes", Select)
        options = axes_options(tuple(entry.shape) if entry is not None else None, tuple(self.settings.axes))
        with select.prevent(Select.Changed):
            select.set_options(options)
            select.value = tuple(self.settings.axes)

    def _show_fields(self) -> None:
        settings = self.settings
        standardize = self.query_one("#data-standardize", Select)
        with standardize.prevent(Select.Changed):
            if settings.standardize in STANDARDIZE:
                standardize.value = settings.standardize
        self.query_one("#data-standardize-help", Static).update(
            Text(STANDARDIZE_HELP.get(settings.standardize, ""), style="dim"))
        color = self.query_one("#data-color", Select)
        with color.prevent(Select.Changed):
            if settings.color in COLORS:
                color.value = settings.color
        self._set_text("#data-labels", settings.labels)
        self._set_text("#data-image-size", "x".join(map(str, settings.image_size)))
        self._set_text("#data-validation-split", "" if settings.validation_split is None
                       else f"{settings.validation_split:g}")
        folder = self.look.folder if self.look is not None else {}
        own = folder.get("image_size") if folder else None
        help_text = "H x W; enter applies"
        if own and not settings.image_size:
            help_text = f"now {own[0]}x{own[1]}; enter applies"
        self.query_one("#data-image-size-help", Static).update(Text(help_text, style="dim"))

    def _set_text(self, selector: str, value: str) -> None:
        field = self.query_one(selector, Input)
        if field.value != value and not field.has_focus:
            with field.prevent(Input.Changed):
                field.value = value
        if field.value == value:
            self._mark(field, "")

    def _show_errors(self) -> None:
        """Each message at the field it concerns, the others in the panel."""
        look = self.look
        messages = [m for m in dict.fromkeys([self.load_error, look.error if look is not None else ""]) if m]
        by_field: dict[str, list[str]] = {}
        panel: list[str] = []
        for message in messages:
            field = field_of(message)
            field = "roles" if field in ROLES else field
            if field in self.errors and self.errors[field].parent is not None and self._field_shown(field):
                by_field.setdefault(field, []).append(message)
            else:
                panel.append(message)
        for field, error in self.errors.items():
            if field in TEXT_FIELDS:
                continue  # typed fields show their own refusal (and the loader's, below, in the panel)
            shown = by_field.get(field, [])
            if field == "roles":  # the arrays the message lists are the list just above it
                shown = [m.split(LISTED_ARRAYS)[0] + (" (the arrays are listed above)" if LISTED_ARRAYS in m else "")
                         for m in shown]
            error.update(Text("\n".join(f"✗ {m}" for m in shown)))
            error.display = bool(shown)
        for field in TEXT_FIELDS:
            if by_field.get(field):
                panel.extend(by_field[field])
        text = Text("\n".join(f"✗ {m}" for m in panel))
        self.query_one("#data-error", Static).update(text)
        self.query_one("#data-error", Static).display = bool(panel)

    def _field_shown(self, field: str) -> bool:
        if field in ("roles", "axes", "standardize"):
            return self.form == ARRAYS
        if field in ("image_size", "color", "validation_split"):
            return self.form == IMAGES
        return True

    @property
    def shown_errors(self) -> str:
        """Every error the form shows, as plain text (tests, the screenshot's reader)."""
        parts = [str(error.render()) for error in self.errors.values() if error.display]
        panel = self.query_one("#data-error", Static)
        if panel.display:
            parts.append(str(panel.render()))
        return "\n".join(parts)

    # ---- edits --------------------------------------------------------------------------------

    def assign_role(self, row: int, role: str) -> None:
        look = self.look
        if look is None or not 0 <= row < len(look.entries):
            return
        key = look.entries[row].name
        entries = look.entries
        changed = with_role(self.settings, role, key, entries)
        if changed == self.settings:
            if role:
                self.notify(f"{key} already holds the {ROLE_WORDS[role]}", title="Data")
            return
        what = f"{key}: the {ROLE_WORDS[role]}" if role else f"{key}: no role"
        self._post(lambda settings: with_role(settings, role, key, entries), what)

    def _post(self, change: Callable[[DataSettings], DataSettings], what: str) -> None:
        self.settings = change(self.settings)
        self.post_message(self.Edited(change, what))

    def on_select_changed(self, event: Select.Changed) -> None:
        select = event.select
        if select.id not in ("data-axes", "data-standardize", "data-color") or event.value is Select.NULL:
            return
        event.stop()
        value = event.value
        if select.id == "data-axes":
            axes = tuple(value)  # type: ignore[arg-type]
            if axes != tuple(self.settings.axes):
                self._post(lambda settings: replace(settings, axes=axes), f"axes {list(axes) or 'as stored'}")
        elif select.id == "data-standardize":
            if value != self.settings.standardize:
                self.query_one("#data-standardize-help", Static).update(Text(STANDARDIZE_HELP.get(str(value), ""),
                                                                            style="dim"))
                self._post(lambda settings: replace(settings, standardize=str(value)), f"standardize {value}")
        elif value != self.settings.color:
            self._post(lambda settings: replace(settings, color=str(value)), f"color {value}")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id not in ("data-labels", "data-image-size", "data-validation-split"):
            return
        event.stop()
        self._mark(event.input, self._problem(event.input.id, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        field_id = event.input.id
        if field_id not in ("data-labels", "data-image-size", "data-validation-split"):
            return
        event.stop()
        problem = self._problem(field_id, event.value)
        self._mark(event.input, problem)
        if problem:
            return
        text = event.value.strip()
        if field_id == "data-labels":
            if text != self.settings.labels:
                self._post(lambda settings: replace(settings, labels=text), f"labels {text or '(none)'}")
        elif field_id == "data-image-size":
            size, _ = parse_image_size(text)
            if size is not None and tuple(size) != tuple(self.settings.image_size):
                self._post(lambda settings: replace(settings, image_size=tuple(size)), f"image size {text or 'own'}")
        else:
            share, _, _ = parse_validation_split(text)
            if share != self.settings.validation_split:
                self._post(lambda settings: replace(settings, validation_split=share), f"validation split {text or 'fit'}")

    @staticmethod
    def _problem(field_id: str | None, text: str) -> str:
        if field_id == "data-image-size":
            return parse_image_size(text)[1]
        if field_id == "data-validation-split":
            return parse_validation_split(text)[1]
        return ""

    def _mark(self, field: Input, problem: str) -> None:
        name = {"data-labels": "labels", "data-image-size": "image_size",
                "data-validation-split": "validation_split"}[str(field.id)]
        error = self.errors[name]
        if field.has_class("-invalid") != bool(problem):
            self.post_message(self.FieldChecked())
        field.set_class(bool(problem), "-invalid")
        error.update(Text(f"✗ {problem}") if problem else "")
        error.display = bool(problem)

    def invalid_fields(self) -> list[str]:
        """A typed field refused, or typed and not yet applied with enter: training now would
        use a value the user does not see."""
        if not self.display or self.look is None:
            return []
        found = []
        applied = {"data-labels": self.settings.labels,
                   "data-image-size": "x".join(map(str, self.settings.image_size)),
                   "data-validation-split": "" if self.settings.validation_split is None
                   else f"{self.settings.validation_split:g}"}
        words = {"data-labels": "labels file", "data-image-size": "image size", "data-validation-split": "validation split"}
        for field_id, value in applied.items():
            field = self.query_one(f"#{field_id}", Input)
            if not field.display or (field.parent is not None and not field.parent.display):
                continue
            problem = self._problem(field_id, field.value)
            if problem:
                found.append(f'{words[field_id]} "{field.value}": {problem}')
            elif field.value.strip() != value and not _same_number(field.value, value):
                found.append(f'{words[field_id]} "{field.value}": press enter to apply it')
        return found


def _same_number(text: str, applied: str) -> bool:
    """ "0.20" and "0.2", "64 x 64" and "64x64" mean what is applied."""
    size, problem = parse_image_size(text)
    if not problem and size and "x".join(map(str, size)) == applied:
        return True
    try:
        return bool(applied) and float(text) == float(applied)
    except ValueError:
        return False
