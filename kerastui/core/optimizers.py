"""The optimizer registry: each optimizer an experiment may name, described once (its Keras class,
whether it takes a momentum). Validation, building, the export, the training form and the CLI
read it; nothing here imports Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OptimizerType:
    name: str
    keras_class: str  # the class in keras.optimizers
    # Keras's SGD and RMSprop take momentum=; the others have their own form of it, or none.
    takes_momentum: bool = False
    # For one that does not: what plays that part, for the message refusing a momentum.
    momentum_instead: str = ""


OPTIMIZER_TYPES: dict[str, OptimizerType] = {
    optimizer.name: optimizer
    for optimizer in (
        OptimizerType("adam", "Adam", momentum_instead="its beta_1 plays that part"),
        OptimizerType("sgd", "SGD", takes_momentum=True),
        OptimizerType("rmsprop", "RMSprop", takes_momentum=True),
        OptimizerType("adamw", "AdamW", momentum_instead="its beta_1 plays that part"),
        OptimizerType("adagrad", "Adagrad", momentum_instead="it adapts each weight's step instead"),
        OptimizerType("nadam", "Nadam", momentum_instead="its beta_1 is a Nesterov momentum already"),
    )
}
OPTIMIZERS = tuple(OPTIMIZER_TYPES)
MOMENTUM_OPTIMIZERS = tuple(name for name, optimizer in OPTIMIZER_TYPES.items() if optimizer.takes_momentum)


def takes_momentum(name: str) -> bool:
    optimizer = OPTIMIZER_TYPES.get(name)
    return optimizer is not None and optimizer.takes_momentum


def momentum_refusal(name: str) -> str:
    """Why a non-zero momentum is refused for optimizer `name` (one that takes none)."""
    optimizer = OPTIMIZER_TYPES[name]
    instead = f" ({optimizer.momentum_instead})" if optimizer.momentum_instead else ""
    return (f"momentum applies to {' and '.join(MOMENTUM_OPTIMIZERS)}; {name} has none{instead}; "
            f"set it to 0, or choose {' or '.join(MOMENTUM_OPTIMIZERS)}")


def optimizer_arguments(settings: Any) -> dict[str, Any]:
    """The keyword arguments of the optimizer's Keras class for compile settings `settings`
    (learning_rate; momentum where it takes one and it is not 0, Keras's default)."""
    arguments: dict[str, Any] = {"learning_rate": float(settings.learning_rate)}
    if takes_momentum(settings.optimizer) and settings.momentum:
        arguments["momentum"] = float(settings.momentum)
    return arguments
