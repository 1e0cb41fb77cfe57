"""Batches of a streamed data set for Keras: a keras.utils.PyDataset over a StreamedArray.

Each batch reads its rows from the file (kerastui.core.datasets.streamed) in a worker thread, a
few batches ahead of the model (Keras's queue), and the order is reshuffled by index every epoch
with the run's seed (in runs of neighbouring rows: see BLOCKS_PER_BATCH). Nothing here holds more than the queued batches. Keras is imported only
when a loader is made, in the process that trains or evaluates.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Any

import numpy as np

# Threads that read and prepare batches. Decoding JPEGs and h5py's reads release the GIL for
# most of their time, so a few threads keep ahead of the model on a small node.
DEFAULT_WORKERS = max(2, min(8, (os.cpu_count() or 2)))
QUEUED_BATCHES = 8


# A shuffled batch is made of this many runs of neighbouring rows rather than of single rows spread
# over the file: HDF5 reads whole chunks, so rows one by one would read (and decompress) a chunk
# per row; runs keep that near one chunk per run while each batch still mixes distant parts.
BLOCKS_PER_BATCH = 8


def block_shuffled(positions: np.ndarray, random: np.random.Generator, block: int) -> np.ndarray:
    """The positions in a new random order of runs of `block` neighbours, each run shuffled inside."""
    if block <= 1 or len(positions) <= block:
        return random.permutation(positions)
    starts = random.permutation(np.arange(0, len(positions), block))
    runs = [random.permutation(positions[start:start + block]) for start in starts]
    return np.concatenate(runs)


@lru_cache(maxsize=1)
def _batches_class() -> type:
    import keras

    class StreamedBatches(keras.utils.PyDataset):
        """Batches of rows `positions` of a StreamedArray, with their targets (and weights)."""

        def __init__(self, x: Any, y: np.ndarray | None, positions: np.ndarray, batch_size: int, *,
                     shuffle: bool, seed: int, workers: int, sample_weight: np.ndarray | None = None):
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=QUEUED_BATCHES)
            self.x, self.y, self.batch_size = x, y, int(batch_size)
            self.positions = np.asarray(positions, dtype=np.int64)
            self.sample_weight = sample_weight
            self.shuffle = shuffle
            self.random = np.random.default_rng(seed)
            self.order = self._new_order()

        def _new_order(self) -> np.ndarray:
            if not self.shuffle:
                return self.positions
            return block_shuffled(self.positions, self.random, max(1, self.batch_size // BLOCKS_PER_BATCH))

        def __len__(self) -> int:
            return max(1, math.ceil(len(self.positions) / self.batch_size))

        def __getitem__(self, index: int) -> Any:
            rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
            x = self.x.take(rows)
            if self.y is None:
                return (x,)
            if self.sample_weight is not None:
                return x, self.y[rows], self.sample_weight[rows]
            return x, self.y[rows]

        def on_epoch_end(self) -> None:
            self.x.source.check_unchanged()  # a file rewritten mid-run is named, not read as garbage
            self.order = self._new_order()

    return StreamedBatches


def streamed_batches(x: Any, y: np.ndarray | None, positions: np.ndarray, batch_size: int, *, shuffle: bool = False,
                     seed: int = 0, workers: int = DEFAULT_WORKERS, sample_weight: np.ndarray | None = None) -> Any:
    """A PyDataset of (x, y) batches over rows `positions` of `x` (all rows, in order, for predict)."""
    return _batches_class()(x, y, positions, batch_size, shuffle=shuffle, seed=seed, workers=workers,
                            sample_weight=sample_weight)


def validation_positions(count: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) positions of a streamed training split: as many as Keras's
    validation_split would keep, but a seeded random share rather than the last rows (files are
    often sorted by class or time, and these rows are in file order)."""
    train = int(math.floor(count * (1.0 - validation_split))) if validation_split > 0 else count
    shuffled = np.random.default_rng(seed).permutation(count)
    return np.sort(shuffled[:train]), np.sort(shuffled[train:])
