"""The engine under the UI: specs, data, model building, training, evaluation, run storage.

Nothing here imports Textual, and Keras/TensorFlow are imported only inside the functions that
need them (see `kerastui.core.backend`), so importing this package is instant.
"""
