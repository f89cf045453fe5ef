#!/usr/bin/env bash
# One command for the benchmarks: builds the peers' throwaway venv the first time (again
# whenever setup_peers.sh changes), then runs run.py in it with the arguments given, e.g.
#   bash benchmarks/run.sh                      # every suite
#   bash benchmarks/run.sh --suite generic --quick
set -euo pipefail
cd "$(dirname "$0")/.."
venv=benchmarks/.venv-peers
stamp="$venv/.peers-ready"
want=$(sha256sum benchmarks/setup_peers.sh | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  bash benchmarks/setup_peers.sh
  echo "$want" > "$stamp"
fi
exec "$venv/bin/python" benchmarks/run.py "$@"
