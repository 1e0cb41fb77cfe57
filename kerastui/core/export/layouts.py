"""The steps laid out as a Python script (cells marked `# %%`, as editors and jupytext read them)
and as a Jupyter notebook (nbformat: a markdown heading and sentence, then the code, per step)."""

from __future__ import annotations

import textwrap
from typing import Any

from kerastui.core.export.steps import Plan, headline


def _title(plan: Plan) -> str:
    return f"{plan.experiment.name}: kerastui run {plan.source.run_dir.name}, as plain Keras"


def _score_line(plan: Plan) -> str:
    score = headline(plan.source)
    return f"The run's test score: {score[0]} {score[1]:.4f}." if score else "The run has no saved test score."


def _comment(text: str) -> str:
    return "\n".join(f"# {line}" for line in textwrap.wrap(text.replace("`", ""), 96))


def script_text(plan: Plan, file_name: str = "script.py") -> str:
    """One Python file that reproduces the run: `python FILE` trains, evaluates and prints the scores."""
    header = (f'"""{_title(plan)}.\n\n'
              f"{textwrap.fill(plan.data.about.replace('`', ''), 96)}\n"
              f"{_score_line(plan)} Run it as it is, on any Keras backend: python {file_name}\n"
              '"""\n\n')
    parts = [header + plan.steps[0].code]
    for step in plan.steps[1:]:
        parts.append(f"# %% {step.title}\n{_comment(step.text)}\n{step.code}")
    # One blank line after the imports (as isort leaves it), two between the steps.
    return parts[0].rstrip("\n") + "\n\n" + "\n\n".join(part.rstrip("\n") + "\n" for part in parts[1:])


def notebook(plan: Plan) -> Any:
    """The same steps as notebook cells (an nbformat v4 NotebookNode)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [new_markdown_cell(f"# {_title(plan)}\n\n{plan.data.about} {_score_line(plan)}")]
    for step in plan.steps:
        cells.append(new_markdown_cell(f"## {step.title}\n\n{step.text}"))
        cells.append(new_code_cell(step.code.rstrip("\n")))
    book = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(book)
    return book


def notebook_text(plan: Plan) -> str:
    import nbformat

    return nbformat.writes(notebook(plan))
