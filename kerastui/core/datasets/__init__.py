"""Dataset loaders behind `kerastui.core.data` (one module per source: embedded, Keras cache, files).

Import the public API from `kerastui.core.data`; these modules are its parts.
"""
