#!/usr/bin/env bash
# Schemathesis against the ringlet-http binary: no 5xx, and every response
# matches /openapi.json (status, content type, body). Bounded: a fixed seed
# and a fixed number of examples per operation.
#
#   http/tests/schemathesis/run.sh BIN SCHEMATHESIS [EXAMPLES]
set -euo pipefail
bin=$1 st=$2 examples=${3:-40}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" --listen 127.0.0.1:0 --max-wait-ms 100 > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "serving on" "$work/out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
[ -n "$url" ] || { cat "$work/out"; exit 1; }
post() { curl -sf -o /dev/null -X POST -H 'content-type: application/json' -d "$2" "$url$1"; }
# Something for the generated requests to find.
post /v3/clusters/ringlet/topics '{"topic_name": "orders", "partitions_count": 3}'
post /v3/queues '{"queue_name": "jobs", "capacity": 100}'
for i in 1 2 3; do post /v3/clusters/ringlet/topics/orders/records "{\"value\": {\"data\": $i}}"; done
post /v3/queues/jobs/messages '{"value": {"type": "STRING", "data": "job"}}'
post /consumers/billing '{"name": "c1", "format": "json", "auto.offset.reset": "earliest"}'
post /consumers/billing/instances/c1/subscription '{"topics": ["orders"]}'
cat > "$work/schemathesis.toml" <<TOML
[parameters]
cluster = "ringlet"
topic = "orders"
queue = "jobs"
group = "billing"
instance = "c1"
partition = "1"
TOML
cd "$work"
# The event stream never ends by design: it is tested by the Rust, Python
# and browser tests instead.
"$st" --config-file "$work/schemathesis.toml" run "$url/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path-regex '/events$' \
  --phases examples,coverage,fuzzing \
  -n "$examples" --seed 20261203 --request-timeout 10 --no-color
