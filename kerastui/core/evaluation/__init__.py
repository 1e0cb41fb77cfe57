"""Each task's evaluation of test scores, one module per task (kerastui.core.tasks names them)."""
