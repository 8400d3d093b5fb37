"""Read the ZStack Cloud 4.1.3 API manual (PDF converted to text): headings and Query API sections.

The conversion keeps the running text in order but moves every code box (URLs, curl examples,
JSON replies, SDK snippets) to the end of its page, so a section's code can sit after the next
section's heading. Helpers here take that into account: they look a little past a section's end
for its code and check what they find against the section (its API name, its REST path).

>>> lines = ["5.1.8 查询云主机(QueryVmInstance) ", "", "5.1.9 启动云主机(StartVmInstance) "]
>>> [s.api for s in find_query_sections(lines)]
['QueryVmInstance']
>>> find_query_sections(lines)[0].title
'查询云主机'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CODE_SPILL",
    "Heading",
    "QuerySection",
    "curl_queries",
    "find_headings",
    "find_query_sections",
    "load_lines",
    "rest_paths",
]

#: How many lines past a section's end its page's code boxes may still appear.
CODE_SPILL = 400

_HEADING = re.compile(r"^\s*(\d+(?:\.\d+)+)\s+(\S.*?)\s*$")
_API_IN_TITLE = re.compile(r"^(?P<title>.*?)\s*[(（]\s*(?P<api>Query[A-Za-z0-9]+)\s*[)）]$")
_GET_LINE = re.compile(r"^\s*GET\s+(?:/?zstack)?/?v1(?P<path>/\S*)\s*$")
_CURL_GET = re.compile(r"-X GET http://[^/\s]+/zstack/v1(?P<path>/\S*)")
_CODE_STARTS = ("curl", "-H", "-X", "{", "}", "[", "]", '"', "GET", "POST", "PUT", "DELETE",
                "Authorization")


@dataclass(frozen=True)
class Heading:
    """A numbered heading; ``line`` is 0-based, ``title`` has its wrapped lines joined."""

    line: int
    number: str
    title: str

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.number.split("."))


@dataclass(frozen=True)
class QuerySection:
    """One ``查询…(QueryXxx)`` section: lines ``start`` (the heading) up to ``end`` (exclusive)."""

    api: str
    number: str
    title: str
    start: int
    end: int


def load_lines(path: Path) -> list[str]:
    """The manual's lines, without line ends."""
    return path.read_text(encoding="utf-8").split("\n")


def find_headings(lines: list[str]) -> list[Heading]:
    """Every numbered heading, in order (the manual's numbers only ever increase).

    A title wrapped over two or three lines (``…云主机列`` / ``表(QueryAutoScalingGroupInstance)``)
    is joined while it has an opening parenthesis without its closing one, or no parenthesis
    yet and the next line ends with one.
    """
    headings: list[Heading] = []
    last: tuple[int, ...] = ()
    for index, line in enumerate(lines):
        match = _HEADING.match(line)
        if match is None:
            continue
        number = match.group(1)
        key = tuple(int(part) for part in number.split("."))
        if key <= last:
            continue  # a number inside running text, not a heading
        last = key
        headings.append(Heading(index, number, _joined_title(lines, index, match.group(2))))
    return headings


def _joined_title(lines: list[str], index: int, title: str) -> str:
    text = title.strip()
    follow = index + 1
    while follow < min(len(lines), index + 5) and not re.search(r"[)）]$", text):
        nxt = lines[follow].strip()
        follow += 1
        if not nxt:
            continue  # the wrapped part may follow a blank line
        if _HEADING.match(lines[follow - 1]):
            break
        if not re.search(r"[(（]", text) and not re.search(r"[)）]$", nxt):
            break
        text += nxt
    return text


def find_query_sections(lines: list[str]) -> list[QuerySection]:
    """The Query API sections, each ending where the next heading starts."""
    headings = find_headings(lines)
    sections: list[QuerySection] = []
    for position, heading in enumerate(headings):
        match = _API_IN_TITLE.match(heading.title)
        if match is None:
            continue
        end = headings[position + 1].line if position + 1 < len(headings) else len(lines)
        sections.append(QuerySection(match.group("api"), heading.number,
                                     match.group("title").strip(), heading.line, end))
    return sections


def rest_paths(lines: list[str], section: QuerySection) -> tuple[list[str], list[str]]:
    """The section's REST base path(s) and the raw ``GET`` lines they came from.

    The URL box is the first run of ``GET …/v1/…`` lines after the heading whose base path is
    also the one the curl example calls; a ``{uuid}`` form contributes only its base.
    """
    stop = min(len(lines), section.end + CODE_SPILL)
    curl_paths = {_base(m.group("path")) for m in _iter_curl(lines, section.start, stop)}
    raw: list[str] = []
    bases: list[str] = []
    for index in range(section.start, stop):
        match = _GET_LINE.match(lines[index])
        if match is None:
            if raw and index > section.end:
                break
            continue
        path = match.group("path")
        base = _base(path)
        if curl_paths and base not in curl_paths and not raw:
            continue  # a previous section's URL box that spilled onto this page
        if raw and base not in bases and "{" not in path and base not in curl_paths:
            break  # the next section's URL box
        raw.append(path)
        if base not in bases and not _ends_in_parameter(path):
            bases.append(base)
    return bases, raw


def _base(path: str) -> str:
    """``/vm-instances/{uuid}`` → ``/vm-instances``; query strings and trailing ``/`` go."""
    text = path.split("?", 1)[0].rstrip("/")
    text = re.sub(r"/?\{?(uuid|id)\}$", "", text)
    if _ends_in_parameter(text):
        text = text.rsplit("/", 1)[0]
    return text or "/"


def _ends_in_parameter(path: str) -> bool:
    """``/a/{uuid}``, ``/a/uuid}`` (a misprint) → True; ``/a/{vmUuid}/b`` → False."""
    last = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return last.endswith("}") or last.startswith("{")


def _iter_curl(lines: list[str], start: int, stop: int) -> list[re.Match[str]]:
    found = []
    for index in range(start, stop):
        match = _CURL_GET.search(lines[index])
        if match is not None:
            found.append(match)
    return found


def curl_queries(lines: list[str], section: QuerySection) -> list[tuple[int, str, list[str]]]:
    """The curl examples of a section: ``(line, base path, [q values])``.

    A URL the conversion wrapped (``…/vm-instances?`` / ``q=name=vm1&q=…``, or ``…q=name=Test-``
    / ``Router``) is joined with its next line when that line has no space and starts no other
    code. Only examples calling one of the section's own REST paths count.
    """
    own = set(rest_paths(lines, section)[0])
    stop = min(len(lines), section.end + CODE_SPILL)
    found: list[tuple[int, str, list[str]]] = []
    for index in range(section.start, stop):
        match = _CURL_GET.search(lines[index])
        if match is None:
            continue
        url = lines[index][match.start("path"):].strip()
        follow = index + 1
        while follow < len(lines) and not lines[follow].strip():
            follow += 1
        nxt = lines[follow].strip() if follow < len(lines) else ""
        if nxt and nxt.isascii() and " " not in nxt and not nxt.startswith(_CODE_STARTS) \
                and "?" in url + nxt:
            url += nxt
        path, _, query = url.partition("?")
        if _base(path) not in own:
            continue
        values = [part.split("=", 1)[1] for part in query.split("&")
                  if part.startswith(("q=", "condition=")) and "=" in part]
        found.append((index + 1, _base(path), values))
    return found
