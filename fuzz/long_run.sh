#!/usr/bin/env bash
# The long fuzz run: the library property of tests/test_fuzz_library.py with many examples
# (default 100,000), then the server property of tests/test_fuzz_server.py (default 20,000).
# Usage: fuzz/long_run.sh [LIBRARY_EXAMPLES] [SERVER_EXAMPLES] [SEED]
# Prints Hypothesis's statistics (examples run, time) and ends non-zero on any failure.
# SEED fixes Hypothesis's random seed, so a long run can be split into chunks with distinct
# seeds that run one after another or side by side (e.g. 4 × 25,000 with seeds 1, 2, 3, 5).
set -euo pipefail
cd "$(dirname "$0")/.."
LIBRARY="${1:-100000}"
SERVER="${2:-20000}"
SEED=()
if [ -n "${3:-}" ]; then SEED=(--hypothesis-seed="$3"); fi
run() {  # run EXAMPLES TEST
  ZQUERY_FUZZ_EXAMPLES="$1" .venv/bin/python -m pytest -q -p no:randomly \
    --hypothesis-show-statistics "${SEED[@]}" "$2"
}
if [ "$LIBRARY" -gt 0 ]; then
  run "$LIBRARY" tests/test_fuzz_library.py::test_library_raises_only_zquery_errors
fi
if [ "$SERVER" -gt 0 ]; then
  run "$SERVER" tests/test_fuzz_server.py::test_server_answers_only_expected_statuses
fi
