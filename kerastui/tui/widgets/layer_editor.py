"""Edit the layer stack by keys: a list of layers (add, delete, move) and a form for the highlighted one.

A value the spec rejects is shown at its field with the spec's reason and never reaches the
experiment, so the experiment the rest of the app sees is always made of valid layers. Shape
problems (a kernel larger than what reaches it) are allowed while editing but flagged at the layer.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Label, Select, Static

from kerastui.core.layers import LAYERS, ParamRule
from kerastui.core.spec import LayerSpec, shape_problems
from kerastui.tui.widgets.form_fields import FORM_FIELD_CSS

NEW_LAYER = LayerSpec("Dense", {"units": 64, "activation": "relu"})


def parse_param(rule: ParamRule, text: str) -> tuple[Any, str | None]:
    """(value, None) when `text` is acceptable for `rule`, else (None, why not): the rule's own
    reading, so true/false fields (return_sequences, crop_to_aspect_ratio) read as the TOML does."""
    return rule.from_text(text)


def retyped(layer: LayerSpec, new_type: str) -> LayerSpec:
    """`layer` as `new_type`, keeping the parameters both types share (e.g. activation)."""
    rules = LAYERS[new_type].params
    kept = {name: value for name, value in layer.params.items() if name in rules and rules[name].problem(value) is None}
    return LayerSpec(new_type, kept)


class ParamInput(Input):
    """An Input that knows which layer parameter it edits."""

    def __init__(self, value: str, param_name: str, **kwargs: Any) -> None:
        super().__init__(value, **kwargs)
        self.param_name = param_name


class ParamSelect(Select):
    """A Select for a parameter with fixed choices (activation, padding) or for the layer type."""

    def __init__(self, options: list[tuple[str, str]], value: str, param_name: str, **kwargs: Any) -> None:
        super().__init__(options, value=value, allow_blank=False, compact=True, **kwargs)
        self.param_name = param_name


class LayerTable(DataTable):
    """The layer list. Keys act on the highlighted layer."""

    BINDINGS = [
        Binding("a", "add_layer", "Add layer"),
        Binding("d,delete", "delete_layer", "Delete layer"),
        Binding("K,shift+up", "move_layer(-1)", "Move up"),
        Binding("J,shift+down", "move_layer(1)", "Move down"),
        Binding("enter", "edit_layer", "Edit layer"),
    ]

    @property
    def editor(self) -> LayerEditor:
        return next(a for a in self.ancestors if isinstance(a, LayerEditor))

    def action_add_layer(self) -> None:
        self.editor.add_layer(self.cursor_row + 1 if self.row_count else 0)

    def action_delete_layer(self) -> None:
        if self.row_count:
            self.editor.delete_layer(self.cursor_row)

    def action_move_layer(self, offset: int) -> None:
        if self.row_count:
            self.editor.move_layer(self.cursor_row, offset)

    def action_edit_layer(self) -> None:
        if self.row_count:
            # The cursor may have moved a moment ago with its highlight message still queued.
            self.editor.show_in_form(self.cursor_row)
            self.editor.form.focus_first_field()


class LayerForm(VerticalScroll):
    """Fields for one layer: its type and each parameter, each with room for its error."""

    BINDINGS = [Binding("escape", "back_to_list", "Back to layers")]

    # (index, type, generation): the form is rebuilt only when this changes, never while typing.
    key: reactive[tuple[int, str, int] | None] = reactive(None, recompose=True)

    def __init__(self, editor: LayerEditor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.editor = editor
        self.inputs: dict[str, Input | Select] = {}
        self.errors: dict[str, Static] = {}
        self._composed_key: tuple[int, str, int] | None = None
        self._focus_wanted = False
        self._refused: dict[str, str] = {}  # parameter -> why its typed value was refused

    def compose(self) -> ComposeResult:
        if any(self._refused.values()):
            self.post_message(self.editor.FieldChecked())  # the refused text goes with the old fields
        self.inputs, self.errors, self._refused = {}, {}, {}
        self._composed_key = self.key
        if self.key is None:
            yield Static(Text("No layers. Press a to add one, or m / c for a preset.", style="dim"))
            return
        index, _, _ = self.key
        layer = self.editor.layer_specs[index]
        yield Static(Text(f"Layer {index}: {layer.describe()}", style="bold"), classes="form-title")
        types = [(name, name) for name in LAYERS]
        yield from self._row("type", ParamSelect(types, layer.type, "type", classes="layer-type"))
        for name, rule in LAYERS[layer.type].params.items():
            if rule.choices:
                field: Input | Select = ParamSelect([(c, c) for c in rule.choices], layer.param(name), name)
            else:
                field = ParamInput(rule.to_text(layer.param(name)), name, compact=True)
            yield from self._row(name, field)
        if not LAYERS[layer.type].params:
            yield Static(Text("(no parameters)", style="dim"))

    def _row(self, name: str, field: Input | Select) -> ComposeResult:
        self.inputs[name] = field
        error = Static("", classes="field-error")
        error.display = False
        self.errors[name] = error
        with Horizontal(classes="field-row"):
            yield Label(name, classes="field-label")
            yield field
        yield error

    def on_mount(self) -> None:
        self.show_problems()

    def focus_first_field(self) -> None:
        """Focus the type field, now or, if the form is about to be rebuilt (keys typed fast), after that."""
        if self._composed_key != self.key:
            self._focus_wanted = True
        elif self.inputs:
            next(iter(self.inputs.values())).focus()

    async def recompose(self) -> None:
        await super().recompose()
        if self._focus_wanted:
            self._focus_wanted = False
            self.focus_first_field()

    def action_back_to_list(self) -> None:
        self.editor.table.focus()

    def invalid_fields(self) -> list[tuple[str, str, str]]:
        """[(parameter, text typed, why it is refused)] for the fields showing a rejected value."""
        found = []
        for name, field in self.inputs.items():
            reason = self._refused.get(name)
            if reason and field.has_class("-invalid"):
                found.append((name, str(field.value), reason))
        return found

    def set_error(self, name: str, message: str | None, *, warning: bool = False) -> None:
        field, error = self.inputs.get(name), self.errors.get(name)
        if field is None or error is None:
            return
        if not warning and (self._refused.get(name) or "") != (message or ""):
            self._refused[name] = message or ""
            self.post_message(self.editor.FieldChecked())
        field.set_class(bool(message) and not warning, "-invalid")
        error.set_class(warning, "-warning")
        error.update(Text(f"{'⚠' if warning else '✗'} {message}") if message else "")
        error.display = bool(message)

    def show_problems(self) -> None:
        """Show the stack's shape problem (if it is at this layer) as a warning at its field."""
        if self.key is None:
            return
        index = self.key[0]
        for name in self.inputs:
            if not self.inputs[name].has_class("-invalid"):
                self.set_error(name, None)
        for field, message in self.editor.layer_problems(index):
            self.set_error(field if field in self.inputs else "type", message, warning=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        if not isinstance(event.input, ParamInput) or self.key is None:
            return
        event.stop()
        index, layer_type, _ = self.key
        rule = LAYERS[layer_type].params[event.input.param_name]
        value, problem = parse_param(rule, event.value)
        self.set_error(event.input.param_name, problem)
        # Filling the form also sends Changed; only a different value is an edit.
        if problem is None and value != self.editor.layer_specs[index].param(event.input.param_name):
            self.editor.set_param(index, event.input.param_name, value)
        elif problem is None:
            self.show_problems()

    def on_select_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.select, ParamSelect) or self.key is None or event.value is Select.NULL:
            return
        event.stop()
        index = self.key[0]
        layer = self.editor.layer_specs[index]
        if event.select.param_name == "type":
            if event.value != layer.type:
                self.editor.set_type(index, str(event.value))
                self.call_after_refresh(self._refocus_type)
        elif event.value != layer.param(event.select.param_name):
            self.editor.set_param(index, event.select.param_name, event.value)

    def _refocus_type(self) -> None:
        field = self.inputs.get("type")
        if field is not None:
            field.focus()


class LayerEditor(Vertical):
    """Holds the layer tuple being edited; posts `LayerEditor.Edited` with every accepted change."""

    DEFAULT_CSS = FORM_FIELD_CSS + """
    .form-title {
        text-style: bold;
        height: auto;
    }

    #layer-table {
        height: auto;
        max-height: 12;
    }

    #layer-form {
        height: 1fr;
        border-top: solid $primary-background;
    }

    #layer-form .field-row {
        margin-top: 0;
    }

    #layer-form .field-label {
        width: 14;
    }

    #layer-form .field-error {
        padding-left: 14;
    }

    #layer-form .field-row Input, #layer-form .field-row Select {
        width: 1fr;
        max-width: 24;
    }
    """

    class Edited(Message):
        def __init__(self, layers: tuple[LayerSpec, ...]) -> None:
            super().__init__()
            self.layers = layers

    class FieldChecked(Message):
        """A parameter field's typed text was refused, or no longer is (see `invalid_fields`)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.layer_specs: tuple[LayerSpec, ...] = ()
        self.input_shape: tuple[int, ...] | None = None
        self.keras_problem: tuple[int | None, str] | None = None
        self._generation = 0

    def compose(self) -> ComposeResult:
        table = LayerTable(id="layer-table", cursor_type="row")
        table.add_column("#", key="index")
        table.add_column("layer", key="layer")
        # Width 1 from the start: a ✗ set later by update_cell would otherwise land in a 0-wide column.
        table.add_column("", key="status", width=1)
        yield table
        yield LayerForm(self, id="layer-form")

    @property
    def table(self) -> LayerTable:
        return self.query_one(LayerTable)

    @property
    def form(self) -> LayerForm:
        return self.query_one(LayerForm)

    # ---- from the app --------------------------------------------------------------------------

    def set_layers(self, layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...] | None) -> None:
        """Show `layers` (from a preset, a file, another dataset); keeps the cursor where it can."""
        if layers == self.layer_specs and input_shape == self.input_shape:
            return
        changed = layers != self.layer_specs
        self.layer_specs, self.input_shape = tuple(layers), input_shape
        if changed:
            self._generation += 1  # the form's values came from elsewhere: rebuild it
        self._refresh(self.table.cursor_row)

    def reload(self) -> None:
        """Rebuild the form from the layers as they are, dropping any refused text typed into it."""
        self._generation += 1
        self._refresh(self.table.cursor_row)

    def invalid_fields(self) -> list[str]:
        """'layer 1 units = "abc": must be a whole number' for each field showing a refused value."""
        key = self.form.key
        if key is None:
            return []
        return [f'layer {key[0]} {name} "{text}": {reason}' for name, text, reason in self.form.invalid_fields()]

    def set_keras_problem(self, index: int | None, message: str | None) -> None:
        """Keras's verdict from the model preview: which layer does not fit, and why."""
        self.keras_problem = (index, message) if message else None
        self._refresh_table(self.table.cursor_row)
        self.form.show_problems()

    def layer_problems(self, index: int) -> list[tuple[str, str]]:
        """[(field name, message)] for layer `index` from the shape check and the Keras preview."""
        found = []
        if self.input_shape is not None:
            for problem in shape_problems(self.layer_specs, self.input_shape):
                prefix = f"layers[{index}]."
                if problem.field.startswith(prefix):
                    found.append((problem.field[len(prefix):], problem.message))
        if not found and self.keras_problem is not None and self.keras_problem[0] == index:
            found.append(("type", self.keras_problem[1]))
        return found

    # ---- edits ------------------------------------------------------------------------------

    def _commit(self, layers: tuple[LayerSpec, ...], cursor: int, rebuild_form: bool) -> None:
        self.layer_specs = layers
        if rebuild_form:
            self._generation += 1
        self._refresh(cursor)
        self.post_message(self.Edited(layers))

    def add_layer(self, position: int) -> None:
        position = max(0, min(position, len(self.layer_specs)))
        self._commit(self.layer_specs[:position] + (NEW_LAYER,) + self.layer_specs[position:], position, True)

    def delete_layer(self, index: int) -> None:
        layers = self.layer_specs[:index] + self.layer_specs[index + 1 :]
        self._commit(layers, min(index, len(layers) - 1), True)

    def move_layer(self, index: int, offset: int) -> None:
        target = index + offset
        if not 0 <= target < len(self.layer_specs):
            return
        layers = list(self.layer_specs)
        layers[index], layers[target] = layers[target], layers[index]
        self._commit(tuple(layers), target, True)

    def set_param(self, index: int, name: str, value: Any) -> None:
        layers = list(self.layer_specs)
        layers[index] = layers[index].with_params(**{name: value})
        self._commit(tuple(layers), index, False)

    def set_type(self, index: int, new_type: str) -> None:
        layers = list(self.layer_specs)
        layers[index] = retyped(layers[index], new_type)
        self._commit(tuple(layers), index, True)

    # ---- drawing ----------------------------------------------------------------------------

    def _refresh(self, cursor: int) -> None:
        cursor = max(0, min(cursor, len(self.layer_specs) - 1))
        self._refresh_table(cursor)
        form = self.form
        key = (cursor, self.layer_specs[cursor].type, self._generation) if self.layer_specs else None
        if key != form.key:
            form.key = key
        else:
            form.show_problems()
            self._update_form_title(cursor)

    def _update_form_title(self, index: int) -> None:
        titles = self.form.query(".form-title")
        if titles and index < len(self.layer_specs):
            titles.first(Static).update(Text(f"Layer {index}: {self.layer_specs[index].describe()}", style="bold"))

    def _refresh_table(self, cursor: int) -> None:
        table = self.table
        flagged = {index for index in range(len(self.layer_specs)) if self.layer_problems(index)}
        rows = [
            (str(index), layer.describe(), Text("✗", style="bold red") if index in flagged else Text(""))
            for index, layer in enumerate(self.layer_specs)
        ]
        if table.row_count == len(rows):
            # Same rows: update in place, so the cursor (and the form being typed in) stay put.
            for index, cells in enumerate(rows):
                for column, value in zip(("index", "layer", "status"), cells):
                    # Grow the column: "Dense 1000000 relu" must not be cut to the old width.
                    table.update_cell(str(index), column, value, update_width=True)
        else:
            table.clear()
            for index, cells in enumerate(rows):
                table.add_row(*cells, key=str(index))
        if self.layer_specs and table.cursor_row != cursor:
            table.move_cursor(row=max(0, min(cursor, len(self.layer_specs) - 1)), animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is not self.table:
            return
        event.stop()
        self.show_in_form(event.cursor_row)

    def show_in_form(self, row: int) -> None:
        """Make the form show layer `row` (rebuilt only if it shows another layer)."""
        if 0 <= row < len(self.layer_specs):
            key = (row, self.layer_specs[row].type, self._generation)
            if key != self.form.key:
                self.form.key = key

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
