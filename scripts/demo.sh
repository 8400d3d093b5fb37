#!/usr/bin/env bash
# One command from a fresh clone to a running demo server:
#   1. create .venv (Python >= 3.10) and install zquery with the server, CLI and driver extras;
#   2. build the demo SQLite database once (default 10,000 VMs, under a minute);
#   3. serve it: GET http://127.0.0.1:8080/zstack/v1/vm-instances?q=name=vm1
# Settings (environment): PYTHON, ZQUERY_HOST, ZQUERY_PORT, ZQUERY_SCALE, ZQUERY_DEMO_DB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
HOST="${ZQUERY_HOST:-127.0.0.1}"
PORT="${ZQUERY_PORT:-8080}"
SCALE="${ZQUERY_SCALE:-10000}"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "zquery needs Python >= 3.10 (set PYTHON=/path/to/python3.x)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $("$PY" --version)"
  "$PY" -m venv .venv
fi
STAMP=".venv/.zquery-demo-installed"
if [ ! -x .venv/bin/zquery ] || [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "installing zquery[server,cli,postgresql,mysql] into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[server,cli,postgresql,mysql]"
  touch "$STAMP"
fi
# Builds only when the database is missing ("already built" otherwise).
.venv/bin/zquery demo --scale "$SCALE"
exec .venv/bin/zquery serve --host "$HOST" --port "$PORT"
