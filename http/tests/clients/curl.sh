#!/usr/bin/env bash
# The README's curl session against the ringlet-http binary: produce, consume
# as a v2 consumer, follow the event stream, use a queue. Fails on the first
# answer that differs from what is expected.
#
#   http/tests/clients/curl.sh BIN
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" --listen 127.0.0.1:0 > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "serving on" "$work/out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
fail() { echo "curl.sh: $*" >&2; exit 1; }
expect() { # expect WHAT GOT PATTERN
  grep -qE "$3" <<<"$2" || fail "$1: expected /$3/, got: $2"
}
json=(-H 'Content-Type: application/json')
v2=(-H 'Content-Type: application/vnd.kafka.v2+json')

got=$(curl -s "$url/v3/clusters")
expect clusters "$got" '"cluster_id":"ringlet"'

got=$(curl -s -X POST "${json[@]}" "$url/v3/clusters/ringlet/topics" \
  -d '{"topic_name": "orders", "partitions_count": 3}')
expect "create topic" "$got" '"partitions_count":3'

got=$(curl -s -X POST "${json[@]}" "$url/v3/clusters/ringlet/topics/orders/records" \
  -d '{"key": {"type": "STRING", "data": "customer-42"}, "value": {"type": "JSON", "data": {"id": 1, "total": 30}}}')
expect produce "$got" '"error_code":200.*"offset":0'

# Streaming mode: two records in one body, answered one per line.
got=$(printf '%s\n%s\n' '{"value": {"data": {"id": 2}}}' '{"value": {"data": {"id": 3}}}' |
  curl -s -X POST "${json[@]}" --data-binary @- "$url/v3/clusters/ringlet/topics/orders/records")
[ "$(grep -c '"error_code":200' <<<"$got")" = 2 ] || fail "streaming produce: $got"

got=$(curl -s -X POST "${v2[@]}" "$url/consumers/billing" \
  -d '{"name": "c1", "format": "json", "auto.offset.reset": "earliest"}')
expect "create consumer" "$got" '"base_uri":"http://127.0.0.1:[0-9]+/consumers/billing/instances/c1"'
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${v2[@]}" \
  "$url/consumers/billing/instances/c1/subscription" -d '{"topics": ["orders"]}')
[ "$status" = 204 ] || fail "subscribe: $status"
got=$(curl -s -H 'Accept: application/vnd.kafka.json.v2+json' \
  "$url/consumers/billing/instances/c1/records?timeout=2000")
for id in 1 2 3; do expect "fetch" "$got" "\"value\":\\{\"id\":$id"; done
expect "fetch key" "$got" '"key":"customer-42"'
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/consumers/billing/instances/c1/offsets")
[ "$status" = 204 ] || fail "commit: $status"
got=$(curl -s -X GET "${v2[@]}" "$url/consumers/billing/instances/c1/offsets" \
  -d '{"partitions": [{"topic": "orders", "partition": 0}, {"topic": "orders", "partition": 1}, {"topic": "orders", "partition": 2}]}')
expect "committed" "$got" '"offsets":\['
status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url/consumers/billing/instances/c1")
[ "$status" = 204 ] || fail "delete consumer: $status"

# The event stream, from the earliest record, for a second.
got=$(curl -s -N --max-time 1 "$url/v3/clusters/ringlet/topics/orders/events?from=earliest" || true)
[ "$(grep -c '^event: record' <<<"$got")" = 3 ] || fail "events: $got"
expect "event ids" "$got" '^id: [0-9]:[0-9-]+,[0-9]:[0-9-]+,[0-9]:[0-9-]+'

got=$(curl -s -X POST "${json[@]}" "$url/v3/queues" -d '{"queue_name": "jobs", "visibility_timeout_ms": 30000}')
expect "create queue" "$got" '"queue_name":"jobs"'
curl -s -X POST "${json[@]}" "$url/v3/queues/jobs/messages" -d '{"value": {"type": "STRING", "data": "wash car"}}' >/dev/null
got=$(curl -s -X POST "$url/v3/queues/jobs/receive?max=10&wait_ms=1000")
expect receive "$got" '"data":"wash car"'
receipt=$(grep -o '"receipt":"[^"]*"' <<<"$got" | cut -d'"' -f4)
got=$(curl -s -X POST "${json[@]}" "$url/v3/queues/jobs/ack" -d "{\"receipts\": [\"$receipt\"]}")
expect ack "$got" '"settled":1'
got=$(curl -s -w ' %{http_code}' -X POST "${json[@]}" "$url/v3/queues/jobs/ack" -d "{\"receipts\": [\"$receipt\"]}")
expect "second ack" "$got" '"error":"AlreadySettled".* 409$'

# Bad input: typed JSON errors, never a 5xx.
got=$(curl -s -w ' %{http_code}' -X POST "$url/v3/clusters/ringlet/topics/orders/records" -d 'value=1')
expect "form body" "$got" '"error_code":41500.* 415$'
got=$(curl -s -w ' %{http_code}' -X POST "${json[@]}" "$url/v3/clusters/ringlet/topics/orders/records" -d '{"value": ')
expect "truncated JSON" "$got" '"error_code":400.* 400$'
got=$(curl -s -w ' %{http_code}' "$url/v3/clusters/ringlet/topics/nope")
expect "missing topic" "$got" '"error_code":40401.* 404$'
echo "curl.sh: the curl session passed against $url"
