"""Named, independent random streams and block samplers.

Every source of randomness in a run draws from its own stream, named by purpose and
function (``duration/checkout``, ``init/checkout``, ``arrivals/checkout/0/0``, ...). A stream
is a PCG64 generator seeded with ``SeedSequence(seed, spawn_key=(replication, crc32(name)))``,
so:

* the same seed gives the same numbers, in any process, whatever else the scenario contains;
* adding a stream never shifts the others, so two variants of a scenario (1024 MB vs 2048 MB)
  see the same arrivals and the same handler draws -- common random numbers;
* replications are independent because the replication index is part of the spawn key.

Names are hashed with CRC-32, never with ``hash()`` (which is salted per process).

Draws happen in NumPy blocks copied into an ``array('d')`` and popped one at a time: one
vectorised call per block, and an array ``pop`` per event, which is several times cheaper than
a NumPy scalar draw. Blocks are sized to the stream's traffic: the first holds
:data:`FIRST_BLOCK` values and each refill doubles it, up to :data:`BLOCK_SIZE` (4,096). A
rarely used stream (the Init of a function with a few cold starts, one of a thousand quiet
functions) holds a few dozen values instead of 4,096 (about 130 kB as Python floats); a busy
one reaches full blocks after eight refills. The values do not depend on the block sizes:
NumPy's generators draw a block of ``a + b`` values as a block of ``a`` then one of ``b``
(``tests/test_hot_path.py`` checks it for every distribution).
"""
from __future__ import annotations

import zlib
from array import array
from functools import partial
from typing import Callable

import numpy as np

__all__ = ["BLOCK_SIZE", "FIRST_BLOCK", "Streams", "BlockSampler", "LazyDraw"]

#: The largest block a stream draws at once.
BLOCK_SIZE = 4096
#: The first block of a stream; each refill doubles the block, up to BLOCK_SIZE.
FIRST_BLOCK = 16


class Streams:
    """Factory of named random generators for one replication of one seed."""

    __slots__ = ("seed", "replication")

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = int(seed)
        self.replication = int(replication)

    def generator(self, name: str) -> np.random.Generator:
        """Return the generator of the stream called ``name`` (a fresh one each call)."""
        sequence = np.random.SeedSequence(
            self.seed, spawn_key=(self.replication, zlib.crc32(name.encode("utf-8")))
        )
        return np.random.Generator(np.random.PCG64(sequence))


class LazyDraw:
    """``draw(size)`` from the stream ``name`` of ``streams``, its generator made on the first
    draw: a function has about ten streams, and a thousand functions' unused ones (errors
    without an error share, provisioned Init without provisioned concurrency, retries
    without retries) would cost a generator each. The values are the same either way: a
    stream's generator depends only on the seed, the replication and the name.

    ``sample(generator, size)`` draws the values; None draws uniform numbers in [0, 1).
    """

    __slots__ = ("_streams", "_name", "_sample", "_draw")

    def __init__(self, streams: Streams, name: str,
                 sample: Callable[[np.random.Generator, int], np.ndarray] | None = None) -> None:
        self._streams = streams
        self._name = name
        self._sample = sample
        self._draw: Callable[[int], np.ndarray] | None = None

    def __call__(self, size: int) -> np.ndarray:
        draw = self._draw
        if draw is None:
            generator = self._streams.generator(self._name)
            draw = self._draw = (generator.random if self._sample is None
                                 else partial(self._sample, generator))
        return draw(size)


class BlockSampler:
    """Calling it returns the next value of a stream drawn in blocks.

    Parameters
    ----------
    draw : callable
        ``draw(size) -> numpy.ndarray``, a vectorised draw of ``size`` values.
    scale : float
        Multiplies every value (the memory-to-duration factor, for instance), applied
        once per block.
    block : int
        The largest number of values drawn per refill; the first refill draws
        ``min(block, FIRST_BLOCK)`` and each refill doubles it.

    On the hottest paths, callers skip the Python-level call: ``pop`` is the bound ``pop``
    of the one buffer (refilled in place, so the binding stays valid), and an empty
    buffer raises ``IndexError``, answered by :meth:`refill_pop`::

        try:
            value = sampler.pop()
        except IndexError:
            value = sampler.refill_pop()
    """

    __slots__ = ("_buffer", "_draw", "_scale", "_block", "_next_block", "pop")

    def __init__(self, draw: Callable[[int], np.ndarray], scale: float = 1.0,
                 block: int = BLOCK_SIZE) -> None:
        # Values in an array('d'): 8 bytes each, contiguous, no float object until popped
        # (a thousand functions' buffers stay few cache lines; a refill is one copy).
        self._buffer = array("d")
        self._draw = draw
        self._scale = float(scale)
        self._block = int(block)
        self._next_block = min(self._block, FIRST_BLOCK)
        self.pop = self._buffer.pop

    def __call__(self) -> float:
        try:
            return self.pop()
        except IndexError:
            return self.refill_pop()

    def refill_pop(self) -> float:
        """Draw the next block into the (empty) buffer and return its first value."""
        size = self._next_block
        self._next_block = min(self._block, 2 * size)
        values = np.asarray(self._draw(size), dtype=np.float64)
        if self._scale != 1.0:
            values = values * self._scale
        # Reversed so that pop() hands out the block in the order it was drawn.
        self._buffer.frombytes(np.ascontiguousarray(values[::-1]).tobytes())
        return self.pop()
