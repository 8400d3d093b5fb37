#!/usr/bin/env bash
# The long fuzz run: the library property of tests/test_fuzz_library.py with many examples
# (default 100,000), then the server property of tests/test_fuzz_server.py (default 20,000).
# Usage: fuzz/long_run.sh [LIBRARY_EXAMPLES] [SERVER_EXAMPLES]
# Prints Hypothesis's statistics (examples run, time) and ends non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
LIBRARY="${1:-100000}"
SERVER="${2:-20000}"
run() {  # run EXAMPLES TEST
  ZQUERY_FUZZ_EXAMPLES="$1" .venv/bin/python -m pytest -q -p no:randomly \
    --hypothesis-show-statistics "$2"
}
run "$LIBRARY" tests/test_fuzz_library.py::test_library_raises_only_zquery_errors
if [ "$SERVER" -gt 0 ]; then
  run "$SERVER" tests/test_fuzz_server.py::test_server_answers_only_expected_statuses
fi
