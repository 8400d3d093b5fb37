# Sourced by the scripts: a project venv with every extra, and the databases up.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

ensure_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  # Re-install when pyproject.toml changed since the last install (cheap otherwise).
  local stamp=".venv/.zquery-installed-$extras"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]"
    touch "$stamp"
  fi
}

wait_for() {  # wait_for NAME COMMAND... : up to 60 s
  local name="$1"; shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "$name did not come up" >&2
  return 1
}

ensure_databases() {
  if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if command -v mysqladmin >/dev/null && ! mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  fi
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
  wait_for MariaDB mysqladmin -uroot -h127.0.0.1 ping
  export ZQUERY_PG_URL="${ZQUERY_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
  export ZQUERY_MYSQL_URL="${ZQUERY_MYSQL_URL:-mysql+pymysql://root@127.0.0.1:3306/test}"
}

ensure_wrk() {  # the HTTP load generator of the benchmarks' load section (Debian's package)
  if ! command -v wrk >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q wrk >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; }) \
      || echo "wrk could not be installed: the load-section test will skip" >&2
  fi
}
