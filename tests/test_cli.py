"""The ``zquery`` command through a subprocess: every command and every exit code
(0 success, 1 invalid request, 2 usage error, 3 database error), ``python -m zquery`` and the
console script alike, and ``serve`` answering HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ZQUERY = Path(sys.executable).with_name("zquery")
VALID = "zstack/v1/vm-instances?q=vmNics.ip=1.2.3.4&limit=10"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose default demo database is a fresh file (never the user's)."""
    home = tmp_path_factory.mktemp("cli")
    return {**os.environ, "ZQUERY_DEMO_DB": str(home / "demo.sqlite"), "COLUMNS": "120",
            "NO_COLOR": "1"}


def zquery(env: dict[str, str], *args: str, module: bool = True,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "zquery"] if module else [str(ZQUERY)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def demo(env: dict[str, str]) -> str:
    done = zquery(env, "demo", "--scale", "30")
    assert done.returncode == 0, done.stderr
    assert "built" in done.stdout and Path(env["ZQUERY_DEMO_DB"]).exists()
    return f"sqlite:///{env['ZQUERY_DEMO_DB']}"


# -- check ---------------------------------------------------------------------------------

CHECK_CASES = [
    (VALID, [], 0, "valid: QueryVmInstance"),
    ("GET " + VALID, [], 0, "valid"),
    ("GET http://localhost:8080/" + VALID, [], 0, "valid"),
    ("/" + VALID, [], 0, "valid"),
    ("vm-instances?q=name=vm1", [], 0, "valid"),
    ("zstack/v1/vm-instances/abc?fields=name", [], 0, "valid"),
    ("zstack/v1/vm-instances?q=vmNics.vmInstance.name=x", [], 0, "note: cycle q[0]"),
    ("zstack/v1/vm-instances?q=name = vm1", [], 1, "remove the spaces around '='"),
    ("zstack/v1/vm-instances?q=name = vm1", ["--compat"], 0, "valid"),
    ("zstack/v1/vm-instances?q=name = vm1", ["--strict"], 1, "error:"),
    ("zstack/v1/vm-instances?q=vmNics.ipp=1", [], 1, "did you mean 'ip'?"),
    ("zstack/v1/vm-instances?limt=1", [], 1, "did you mean 'limit'?"),
    ("zstack/v1/no-such-api?q=a=b", [], 1, "no query API at /no-such-api"),
]


@pytest.mark.parametrize(("request_line", "options", "code", "expected"), CHECK_CASES)
def test_check_exit_codes_and_messages(env: dict[str, str], request_line: str,
                                       options: list[str], code: int, expected: str) -> None:
    done = zquery(env, "check", *options, request_line)
    assert done.returncode == code, done.stdout + done.stderr
    assert expected in done.stdout


def test_check_puts_a_caret_under_the_bad_span(env: dict[str, str]) -> None:
    done = zquery(env, "check", "zstack/v1/vm-instances?q=name=vm1&q=vmNics.ipp=1")
    lines = done.stdout.splitlines()
    value = next(line for line in lines if "vmNics.ipp=1" in line)
    caret = lines[lines.index(value) + 1]
    assert value[caret.index("^"):caret.rindex("^") + 1] == "ipp"


def test_check_json_gives_the_plan_or_the_error(env: dict[str, str]) -> None:
    plan = json.loads(zquery(env, "check", "--json", VALID).stdout)
    assert plan["api"] == "QueryVmInstance" and plan["limit"] == 10
    assert plan["conditions"][0]["hops"][0] == {"relation": "vmNics", "from": "VmInstance",
                                                "to": "VmNic", "cardinality": "many"}
    done = zquery(env, "check", "--json", "zstack/v1/vm-instances?q=nmae=x")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["opaque"]["zquery"]["code"] == \
        "resolve.unknown_field"


USAGE_CASES = [["check"], ["check", "--bogus", VALID], ["sql", "--dialect", "oracle", VALID],
               ["paths", "QueryZone", "--depth", "99"], ["no-such-command"], []]


@pytest.mark.parametrize("args", USAGE_CASES)
def test_usage_errors_exit_2(env: dict[str, str], args: list[str]) -> None:
    done = zquery(env, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Usage" in done.stdout + done.stderr


# -- sql and explain -----------------------------------------------------------------------

SQL_CASES = [("sqlite", '"VmNicVO_1".ip = \'1.2.3.4\''),
             ("postgresql", 'COLLATE "C"'), ("mysql", "`VmNicVO_1`.ip = '1.2.3.4'")]


@pytest.mark.parametrize(("dialect", "expected"), SQL_CASES)
def test_sql_prints_the_statement_with_values(env: dict[str, str], dialect: str,
                                              expected: str) -> None:
    done = zquery(env, "sql", "--dialect", dialect, VALID + "&replyWithCount=true")
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    assert "-- rows" in done.stdout and "-- count" in done.stdout


def test_sql_and_explain_refuse_an_invalid_request(env: dict[str, str]) -> None:
    for command in ("sql", "explain"):
        done = zquery(env, command, "zstack/v1/vm-instances?q=vmNics=1")
        assert done.returncode == 1
        assert "error:" in done.stderr and "^" in done.stderr


def test_explain_shows_hops_cycles_and_warnings(env: dict[str, str]) -> None:
    done = zquery(env, "explain", "zstack/v1/vm-instances?q=vmNics.ip=1.2.3.4"
                  "&q=vmNics.vmInstance.name=x&q=zone.vmInstance.name=y&limit=5")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "VmInstance -vmNics (many)-> VmNic . ip" in out
    assert "q[1]: VmInstance → VmNic → VmInstance (simplified)" in out
    assert "q[2]: VmInstance → Zone → VmInstance (kept)" in out
    assert "warnings:" in out and "primary key breaks ties" in out
    data = json.loads(zquery(env, "explain", "--json", "--dialect", "postgresql",
                             VALID).stdout)
    assert data["sql_shapes"] and data["paged"] is True


# -- browsing the catalogue ----------------------------------------------------------------

COMPLETE_CASES = [("QueryVmInstance", "vmNics.", "vmNics.l3Network."),
                  ("QueryVmInstance", "vmNics.i", "vmNics.ip="),
                  ("vm-instances", "", "__systemTag__="), ("QueryZone", "na", "name=")]


@pytest.mark.parametrize(("api", "prefix", "expected"), COMPLETE_CASES)
def test_complete_lists_what_may_follow(env: dict[str, str], api: str, prefix: str,
                                        expected: str) -> None:
    done = zquery(env, "complete", api, prefix, module=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert expected in lines and all(line.startswith(prefix) for line in lines)


def test_complete_points_at_a_bad_prefix(env: dict[str, str]) -> None:
    done = zquery(env, "complete", "QueryVmInstance", "vmNicz.")
    assert done.returncode == 1 and "did you mean 'vmNics'?" in done.stderr
    assert zquery(env, "complete", "QueryNothing", "").returncode == 1


def test_fields_shows_fields_and_relations(env: dict[str, str]) -> None:
    done = zquery(env, "fields", "QueryVmInstance")
    assert done.returncode == 0
    assert "cpuNum" in done.stdout and "vmNics" in done.stdout
    data = json.loads(zquery(env, "fields", "QueryVmInstance", "vmNics", "--json").stdout)
    assert "ip" in {f["name"] for f in data["fields"]}
    assert zquery(env, "fields", "QueryVmInstance", "vmNicz").returncode == 1


def test_paths_lists_and_counts(env: dict[str, str]) -> None:
    listed = zquery(env, "paths", "QueryZone", "--depth", "1").stdout.splitlines()
    counted = zquery(env, "paths", "QueryZone", "--depth", "1", "--count").stdout.strip()
    assert int(counted) == len(listed) and "cluster.name" in listed
    deeper = zquery(env, "paths", "QueryVmInstance", "--depth", "3", "--count").stdout
    assert int(deeper) > int(counted)


# -- demo, run, serve ----------------------------------------------------------------------


def test_demo_keeps_an_existing_database_unless_forced(env: dict[str, str], demo: str,
                                                       tmp_path: Path) -> None:
    again = zquery(env, "demo", "--scale", "30")
    assert again.returncode == 0 and "already built" in again.stdout
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    first = zquery(env, "demo", "--db", other, "--scale", "5", "--seed", "3")
    forced = zquery(env, "demo", "--db", other, "--scale", "5", "--force")
    assert first.returncode == forced.returncode == 0
    assert "built" in forced.stdout
    assert zquery(env, "demo", "--scale", "0").returncode == 2


RUN_CASES = [
    ("zstack/v1/vm-instances?q=name=vm1&fields=name", [], 0, {"inventories": [{"name": "vm1"}]}),
    ("GET /zstack/v1/zones?count=true", [], 0, {"total": 2}),
    ("zstack/v1/vm-instances?q=nmae=vm1", [], 1, None),
    ("zstack/v1/nope", [], 1, None),
    ("zstack/v1/zones?limit=10", ["--max-limit", "5"], 1, None),
    ("zstack/v1/zones?limit=5&count=true", ["--max-limit", "5", "--statement-timeout", "5000"],
     0, {"total": 2}),
    # compat trims the path; the value stays verbatim (' TestZone' would match nothing)
    ("zstack/v1/zones?q=name =TestZone&fields=name", ["--compat"], 0,
     {"inventories": [{"name": "TestZone"}]}),
    ("zstack/v1/zones?q=name =TestZone&fields=name", [], 1, None),
]


@pytest.mark.parametrize(("request_line", "options", "code", "expected"), RUN_CASES)
def test_run_prints_the_reply(env: dict[str, str], demo: str, request_line: str,
                              options: list[str], code: int, expected: object) -> None:
    done = zquery(env, "run", "--db", demo, *options, request_line)
    assert done.returncode == code, done.stderr
    reply = json.loads(done.stdout)
    assert reply == expected if expected is not None else "error" in reply


def test_run_scopes_to_an_account_and_reports_a_broken_database(env: dict[str, str],
                                                               demo: str) -> None:
    everything = json.loads(zquery(env, "run", "zstack/v1/vm-instances?count=true").stdout)
    alice = json.loads(zquery(env, "run", "--account", "a11ce0000000400080000000000a11ce",
                              "zstack/v1/vm-instances?count=true").stdout)
    assert 0 < alice["total"] < everything["total"]
    broken = zquery(env, "run", "--db", "sqlite:////nonexistent-dir/x.sqlite",
                    "zstack/v1/zones")
    assert broken.returncode == 3 and "error" in json.loads(broken.stdout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_http(env: dict[str, str], demo: str) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "zquery", "serve", "--port", str(port), "--log-level",
         "warning"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as health:
                    assert json.load(health)["status"] == "ok"
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the server did not come up")
        with urllib.request.urlopen(f"{base}/zstack/v1/vm-instances?q=name=vm1&fields=name"
                                    ) as reply:
            assert json.load(reply) == {"inventories": [{"name": "vm1"}]}
        request = urllib.request.Request(f"{base}/zstack/v1/zones?count=true",
                                         headers={"Authorization": "OAuth nobody"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        assert caught.value.code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
