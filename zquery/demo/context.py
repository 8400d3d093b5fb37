"""What every part of the demo generator shares: the sink, ids, owners, sizes, the seed.

>>> from zquery.demo.values import Ids
>>> ctx = Ctx(sink=None, ids=Ids(1), owners=None, sizes=None, seed=1)  # type: ignore[arg-type]
>>> ctx.rng("zones").random() == ctx.rng("zones").random()
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from zquery.demo.owners import Owners
from zquery.demo.sink import Sink
from zquery.demo.sizes import Sizes
from zquery.demo.values import Clock, Ids, rng_for

__all__ = ["Ctx"]


@dataclass(frozen=True)
class Ctx:
    """The generator's shared state; each part draws from its own named random stream."""

    sink: Sink
    ids: Ids
    owners: Owners
    sizes: Sizes
    seed: int

    def rng(self, stream: str) -> random.Random:
        return rng_for(self.seed, stream)

    def clock(self, stream: str) -> Clock:
        return Clock(rng_for(self.seed, f"clock:{stream}"))
