"""The Realtime simulator: a protocol-faithful test server (``rtscope serve --simulate``).

:mod:`.core` is the sans-I/O session; :mod:`.session` the session config rules; :mod:`.audio`
VAD energy and synthetic tones; :mod:`.scenarios` the named faults. :func:`simulator_factory`
plugs the core into :func:`rtscope.replay.wsserver.start_server`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

from ..wsserver import Handshake, SessionLike, dialect_of
from .core import Close, Send, SimAction, Simulator
from .scenarios import SCENARIOS, SimOptions

__all__ = [
    "SCENARIOS",
    "Close",
    "Send",
    "SimAction",
    "SimOptions",
    "Simulator",
    "simulator_factory",
]


def simulator_factory(options: SimOptions) -> Callable[[Handshake, float], SessionLike]:
    """A session factory for :func:`~rtscope.replay.wsserver.start_server`: one
    :class:`Simulator` per connection, beta or GA after the handshake. With ``options.seed`` set,
    connection N uses seed ``seed + N`` (reproducible and still distinct ids)."""
    counter = itertools.count()

    def factory(handshake: Handshake, now: float) -> SessionLike:
        rng = None if options.seed is None else random.Random(options.seed + next(counter))
        if dialect_of(handshake) == "beta":
            return Simulator("beta", options, now, rng)
        return Simulator("ga", options, now, rng)

    return factory
