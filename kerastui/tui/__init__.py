"""The Textual terminal app. Imports Textual, never Keras at import time."""
