"""A quicker ``__init__`` for the frozen dataclasses every request builds.

A frozen dataclass's generated ``__init__`` stores each field with
``object.__setattr__(self, name, value)``, because its own ``__setattr__`` refuses. With
``slots=True`` each field is a slot descriptor whose ``__set__`` stores the value
directly, at about half the cost (13 fields: 1.1 rather than 2.0 µs, measured on
Python 3.11). :func:`quick_init` swaps in an ``__init__`` written that way, with the same
parameters and defaults; everything else stays the dataclass's own (assignment still
raises ``FrozenInstanceError``; ``==``, ``hash``, ``repr`` and ``replace`` are unchanged).

>>> from dataclasses import FrozenInstanceError, dataclass
>>> @quick_init
... @dataclass(frozen=True, slots=True)
... class Point:
...     x: int
...     y: int = 0
>>> Point(1), Point(1, y=2) == Point(x=1, y=2)
(Point(x=1, y=0), True)
>>> try:
...     Point(1).x = 3
... except FrozenInstanceError:
...     print("frozen")
frozen
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["quick_init"]

T = TypeVar("T", bound=type)


def quick_init(cls: T) -> T:
    """Give the frozen, slotted dataclass *cls* an ``__init__`` that sets its slots directly."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__; its __init__ must stay generated")
    namespace: dict[str, Any] = {}
    arguments: list[str] = []
    body: list[str] = []
    for field in dataclasses.fields(cls):
        if not field.init or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: only plain defaults are supported")
        namespace[f"_set_{field.name}"] = cls.__dict__[field.name].__set__
        if field.default is dataclasses.MISSING:
            arguments.append(field.name)
        else:
            namespace[f"_default_{field.name}"] = field.default
            arguments.append(f"{field.name}=_default_{field.name}")
        body.append(f"    _set_{field.name}(self, {field.name})")
    source = f"def __init__(self, {', '.join(arguments)}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)  # as dataclasses itself builds __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = dict(cls.__init__.__annotations__)  # type: ignore[misc]
    cls.__init__ = init  # type: ignore[misc]
    return cls
