#!/usr/bin/env bash
# Starts the test broker (idempotent): fetches its jars with Maven, formats its
# storage once, starts it in the background and waits until it answers.
#   KAFKA_PORT (default 19092); the controller listens on KAFKA_PORT + 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state="$root/target/kafka"
port=${KAFKA_PORT:-19092}
cport=$((port + 1))
lib="$state/lib"
mkdir -p "$state"

tools() { java -cp "$lib/*" "$@"; }
answers() { timeout 20 java -cp "$lib/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --list >/dev/null 2>&1; }

if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null && answers; then
  echo "Kafka is up on 127.0.0.1:$port (pid $(cat "$state/pid"))"
  exit 0
fi
if [ ! -f "$lib/.complete" ]; then
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib"
  touch "$lib/.complete"
fi
sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA@|$state/data|g" \
  "$here/server.properties.in" > "$state/server.properties"
if [ ! -f "$state/data/meta.properties" ]; then
  rm -rf "$state/data"
  tools kafka.tools.StorageTool format -t "$(tools kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
    -c "$state/server.properties" >/dev/null 2>&1
fi
start=$(date +%s%N)
setsid java -Xms256m -Xmx512m -cp "$lib/*" kafka.Kafka "$state/server.properties" \
  >"$state/broker.log" 2>&1 < /dev/null &
echo $! > "$state/pid"
for _ in $(seq 1 120); do
  if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    echo "the Kafka broker exited while starting; its log:" >&2
    tail -20 "$state/broker.log" >&2
    exit 1
  fi
  if answers; then
    echo "Kafka is up on 127.0.0.1:$port (pid $(cat "$state/pid"), $(( ($(date +%s%N) - start) / 1000000 )) ms)"
    exit 0
  fi
  sleep 0.5
done
echo "the Kafka broker did not answer on 127.0.0.1:$port within a minute; its log:" >&2
tail -20 "$state/broker.log" >&2
exit 1
