#!/usr/bin/env bash
# The test command: installs what it needs, starts PostgreSQL and MariaDB, runs lint, types and tests.
source "$(dirname "$0")/env.sh"
ensure_venv dev,bench
ensure_databases
.venv/bin/ruff check zquery tests tools benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
