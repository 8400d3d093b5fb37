"""Coverage-guided fuzzing of the whole library with atheris (libFuzzer for Python).

Each input is split into a resource name, an account and a raw query string, and goes
through the same property as ``tests/test_fuzz_library.py``: parse → resolve → compile for
SQLite, PostgreSQL and MariaDB → execute on a SQLite estate must raise nothing but the
zquery error family. zquery's own modules are instrumented, so libFuzzer steers towards
new branches of the grammar, the resolver and the compiler.

Run (``pip install atheris`` first), or use ``fuzz/run_atheris.sh SECONDS``::

    .venv/bin/python fuzz/atheris_harness.py --seed fuzz/.corpus
    .venv/bin/python fuzz/atheris_harness.py -max_total_time=600 fuzz/.corpus

A crash writes ``crash-<sha1>`` with the input; replay it with the same command and the
file name as the only argument.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

with atheris.instrument_imports(include=["zquery"]):
    import sqlalchemy as sa
    from estate import ACCOUNTS, generate, load
    from test_fuzz_library import RESOURCE_NAMES, run_one

__all__ = ["main", "test_one_input"]

ENGINE = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
load(ENGINE, generate(seed=11, size=1))
_ACCOUNTS = (None, None, *ACCOUNTS, "")


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    resource = RESOURCE_NAMES[provider.ConsumeIntInRange(0, len(RESOURCE_NAMES) - 1)]
    account = _ACCOUNTS[provider.ConsumeIntInRange(0, len(_ACCOUNTS) - 1)]
    as_pairs = provider.ConsumeBool()
    text = provider.ConsumeUnicode(provider.remaining_bytes())  # lone surrogates too
    if as_pairs:  # one pair per line: name, a tab, the value (lets values hold '&' and '%')
        query: object = [tuple(line.split("\t", 1)) if "\t" in line else ("q", line)
                         for line in text.split("\n")]
    else:
        query = text
    run_one(ENGINE, resource, query, account)


def write_seed_corpus(directory: Path) -> int:
    """Seed inputs: manual-style requests and every hostile value as a condition."""
    from hostile_values import CORPUS

    directory.mkdir(parents=True, exist_ok=True)
    requests = ["q=name=vm1&q=vmNics.ip=192.168.0.100&limit=100&sort=-createDate"
                "&replyWithCount=true", "q=vmNics.l3Network.__userTag__?=a,b&fields=uuid,name",
                "q=zone.cluster.host.name~=%25x&groupBy=state&count=true",
                *(f"q=name={value}" for value in CORPUS)]
    for number, request in enumerate(requests):
        # Five zero bytes: resource 0, account 0, raw-string form (FuzzedDataProvider
        # takes its integers from the end, so the prefix stays the query's own text).
        data = request.encode("utf-8", "surrogatepass") + bytes(5)
        (directory / f"seed-{number:04d}").write_bytes(data)
    return len(requests)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed":
        print(write_seed_corpus(Path(sys.argv[2])), "seed inputs written")
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
