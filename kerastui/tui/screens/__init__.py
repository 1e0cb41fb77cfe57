"""One Screen per step: build, train, evaluate."""
