#!/usr/bin/env bash
# The test command: installs what it needs (the venv; wrk for the load-section test), starts
# PostgreSQL and MariaDB, runs lint, types and tests.
source "$(dirname "$0")/env.sh"
ensure_venv dev,bench
ensure_databases
ensure_wrk
.venv/bin/ruff check zquery tests tools benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
