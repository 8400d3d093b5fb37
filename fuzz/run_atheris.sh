#!/usr/bin/env bash
# Coverage-guided fuzzing with atheris for SECONDS (default 600); the corpus grows in
# fuzz/.corpus (seeded from the hostile-value corpus on first use). Installs atheris.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-600}"
.venv/bin/python -c "import atheris" 2>/dev/null || .venv/bin/pip install -q atheris
[ -d fuzz/.corpus ] || .venv/bin/python fuzz/atheris_harness.py --seed fuzz/.corpus
exec .venv/bin/python fuzz/atheris_harness.py -max_total_time="$SECONDS_TO_RUN" \
  -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=fuzz/ fuzz/.corpus
