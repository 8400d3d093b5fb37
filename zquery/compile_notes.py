"""What the compiler says about each condition's SQL shape (``explain``'s ``sql_shapes``).

:class:`Built` is one condition's predicate with what its shape is made of;
:class:`ShapeNotes` keeps the raw notes of one compile and writes the lines only when
somebody reads them: ``explain`` does, a server answering a query never does, and the
text cost a few microseconds per condition on every compile.

>>> notes = ShapeNotes("VmInstance", [(1, "q[1]", None, ""),
...                                   (0, "q[0]", Built(None, "JOIN", ("Host",)),
...                                    (("q[0]",), "SQLite, selective"))])
>>> for line in notes:
...     print(line)
q[0]: inner JOIN over VmInstance→Host (to-one; SQLite, selective)
q[1]: column test on VmInstance
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any, NamedTuple, overload

__all__ = ["Built", "Note", "ShapeNotes"]

#: (condition index, label, the built test or None for a plain column test, why): *why*
#: is the reason text, or for conditions sharing a to-one path (their params, the reason).
Note = tuple[int, str, "Built | None", "str | tuple[tuple[str, ...], str]"]


class Built(NamedTuple):
    """One test as SQL, and what its shape is made of (for its note). A named tuple: one
    is built per condition, at a third of a frozen dataclass's cost."""

    predicate: Any
    kind: str                      # "column", "IN", "EXISTS", "NOT EXISTS", "JOIN"
    path: tuple[str, ...]          # resources walked after the root
    tables: tuple[str, ...] = ()   # extra tables (mapping, tag)
    guards: tuple[str, ...] = ()   # relations that must have a target (simplified cycles)

    def describe(self, root: str, why: str) -> str:
        if self.kind == "column":
            text = f"column test on {root}"
        elif self.kind == "NOT EXISTS":
            text = f"NOT EXISTS on {', '.join(self.tables)}"
        elif self.kind == "JOIN":
            text = f"inner JOIN over {'→'.join((root, *self.path))}"
        else:
            over = f" over {'→'.join((root, *self.path))}" if self.path else ""
            joined = (f" joining {', '.join(self.tables)}" if self.path
                      else f" on {', '.join(self.tables)}") if self.tables else ""
            text = f"{self.kind} semi-join{over}{joined}"
        if self.guards:
            text += ", with at least one " + ", ".join(self.guards)
        return f"{text} ({why})" if why else text


class ShapeNotes(Sequence[str]):
    """One line per test, in condition order, written when first read."""

    __slots__ = ("_lines", "_notes", "_root")

    def __init__(self, root: str, notes: list[Note]) -> None:
        self._root = root
        self._notes = notes
        self._lines: tuple[str, ...] | None = None

    def _written(self) -> tuple[str, ...]:
        if self._lines is None:
            self._lines = tuple(self._line(*note[1:])
                                for note in sorted(self._notes, key=itemgetter(0)))
        return self._lines

    def _line(self, label: str, built: Built | None, why: str | tuple[tuple[str, ...], str]
              ) -> str:
        if built is None:
            return f"{label}: column test on {self._root}"
        if isinstance(why, tuple):
            params, reason = why
            shared = "to-one" if len(params) == 1 else "to-one, shared by " + ", ".join(params)
            why = f"{shared}; {reason}" if reason else shared
        return f"{label}: {built.describe(self._root, why)}"

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self._written()[index]

    def __len__(self) -> int:
        return len(self._notes)

    def __iter__(self) -> Iterator[str]:
        return iter(self._written())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ShapeNotes):
            return self._written() == other._written()
        return isinstance(other, tuple) and self._written() == other

    def __hash__(self) -> int:
        return hash(self._written())

    def __repr__(self) -> str:
        return repr(self._written())
