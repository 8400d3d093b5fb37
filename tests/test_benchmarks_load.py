"""The harness's server-load section, on a tiny scale: a real server, real wrk, real replies.

* the section runs end to end through ``python -m benchmarks --sections load`` on SQLite
  (PostgreSQL runs the same code on another URL; leaving it out keeps the test short) and
  reports one row per database, request kind and client count, every request a 2xx;
* without wrk the section is skipped with a note, and the harness still writes its report;
* the doctests of ``benchmarks.load`` pass.

wrk is a system tool (``apt-get install wrk``): the end-to-end test is skipped without it,
also in CI. No time or rate is asserted: the machine is shared and noisy.
"""

from __future__ import annotations

import doctest
import importlib
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.__main__ import main
from benchmarks.load import wrk as wrk_module
from benchmarks.load.wrk import parse_output

_TINY = "150"
_ROW = re.compile(r"^\| (sqlite|postgresql) \| (uuid|two_hops|count_page) \| (\d+) \| "
                  r"([\d,.]+) \| [\d,.]+ \| [\d,.]+ \| ([\d,]+) \| (\d+) \| (\d+) \|$", re.M)


def _run(tmp_path: Path, databases: str) -> str:
    code = main(["--sections", "load", "--scale", _TINY, "--load-seconds", "1",
                 "--load-clients", "4", "--databases", databases, "--out", str(tmp_path),
                 "--quiet"])
    assert code == 0
    return (tmp_path / "latest.md").read_text(encoding="utf-8")


@pytest.mark.skipif(wrk_module.wrk_path() is None, reason="wrk is not installed")
def test_the_load_section_serves_every_request_kind_without_errors(tmp_path: Path) -> None:
    databases = ["sqlite"]  # PostgreSQL goes through the same code, at twice the time
    text = _run(tmp_path, ",".join(databases))
    assert "## 4. Server load" in text
    rows = _ROW.findall(text)
    assert sorted((db, kind) for db, kind, *_ in rows) == sorted(
        (db, kind) for db in databases for kind in ("uuid", "two_hops", "count_page"))
    for _, _, clients, per_second, requests, non_2xx, socket_errors in rows:
        assert clients == "4"
        assert float(per_second.replace(",", "")) > 0
        assert int(requests.replace(",", "")) > 0
        assert (non_2xx, socket_errors) == ("0", "0")
    assert "load skipped" not in text


def test_without_wrk_the_section_is_skipped_with_a_note(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)  # how wrk_path looks wrk up
    text = _run(tmp_path, "sqlite")
    assert "load skipped: wrk is not installed" in text
    assert "## 4. Server load" not in text


def test_wrk_output_without_a_latency_distribution_is_refused() -> None:
    with pytest.raises(ValueError, match="latency distribution"):
        parse_output("Running 1s test\n  10 requests in 1.00s\nRequests/sec: 10.00\n")


@pytest.mark.parametrize("name", ["benchmarks.load", "benchmarks.load.wrk",
                                  "benchmarks.load.section", "benchmarks.load.panel"])
def test_the_doctests_of_the_load_section_pass(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
