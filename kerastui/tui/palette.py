"""The command palette's own commands (ctrl+p): every app action, each preset and each task.

(title, help, the action it runs, as the key bindings name it). The presets and tasks come from
their registries, so a new one appears here too.
"""

from __future__ import annotations

from kerastui.core.presets import PRESET_DESCRIPTIONS, PRESETS
from kerastui.core.tasks import TASK_NAMES
from kerastui.tui.screens.build import preset_title


PALETTE = (
    ("Train", "Validate the experiment and start training it", "start_training"),
    ("Save experiment", "Write the experiment as TOML (ctrl+s)", "save_experiment"),
    ("Open experiment", "Load an experiment TOML file (ctrl+o)", "load_experiment"),
    ("Build screen", "Dataset, layers and hyperparameters (b)", "switch_to('build')"),
    ("Train screen", "Charts and progress of the current run (t)", "switch_to('train')"),
    ("Evaluate screen", "Test accuracy, confusion matrix, mistakes (e)", "switch_to('evaluate')"),
    ("Runs screen", "All runs: open, compare, clone, delete (r)", "switch_to('runs')"),
    ("Submit to Slurm", "Send the experiment to the cluster as a batch job (ctrl+b)", "submit_to_slurm"),
    ("Sweep", "Vary fields of this experiment over a grid or at random (ctrl+g)", "sweep"),
    ("Presets", "Pick a preset from the list, with what each is (p on the build screen)", "choose_preset"),
    *(
        (f"{preset_title(name)} preset",
         f"Replace the layers with the {name} preset: {PRESET_DESCRIPTIONS.get(name, '')}", f"preset('{name}')")
        for name in PRESETS
    ),
    ("Task: as the labels say", "Train the data as the task its labels suggest (T cycles the tasks)", "choose_task('')"),
    *(
        (f"Task: {name}", f"Train the data as a {name} task: the last layer, loss and monitor follow", f"choose_task('{name}')")
        for name in TASK_NAMES
    ),
    ("Help", "All keys of all screens (F1)", "help"),
    ("Quit", "Quit kerastui (ctrl+q; asks while training)", "request_quit"),
)
