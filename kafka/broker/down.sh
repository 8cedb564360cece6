#!/usr/bin/env bash
# Stops the test broker, if it runs (idempotent): TERM, then KILL after 30 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state="$(cd "$here/../.." && pwd)/target/kafka"
[ -f "$state/pid" ] || exit 0
pid=$(cat "$state/pid")
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
fi
rm -f "$state/pid"
echo "Kafka is down"
