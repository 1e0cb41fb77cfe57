"""kerastui: design, train and evaluate Keras models from the terminal."""

__version__ = "0.1.0"
