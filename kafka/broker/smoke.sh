#!/usr/bin/env bash
# The test broker end to end with Kafka's own tools: a topic of 3 partitions,
# keyed records in with the console producer, out with the console consumer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib="$(cd "$here/../.." && pwd)/target/kafka/lib"
bootstrap="127.0.0.1:${KAFKA_PORT:-19092}"
topic="smoke-$$"
kafka() { java -cp "$lib/*" "$@" 2>/dev/null; }
kafka org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --topic "$topic" --partitions 3 >/dev/null
printf 'ada:1\nbob:2\ncy:3\n' | kafka org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$bootstrap" \
  --topic "$topic" --property parse.key=true --property key.separator=:
got=$(kafka org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$bootstrap" --topic "$topic" \
  --from-beginning --max-messages 3 --timeout-ms 20000 --property print.key=true --property key.separator=: | sort | tr '\n' ' ')
kafka org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --delete --topic "$topic" >/dev/null
if [ "$got" != "ada:1 bob:2 cy:3 " ]; then
  echo "the broker gave back [$got], not [ada:1 bob:2 cy:3 ]" >&2
  exit 1
fi
echo "Kafka's console producer and consumer round-tripped 3 keyed records through a 3-partition topic"
