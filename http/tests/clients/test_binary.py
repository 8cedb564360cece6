"""The ringlet-http binary driven by Python's requests: consumer instances of
one group share a topic's partitions, competing queue consumers take every
message once, and every record is counted.

    RINGLET_HTTP_BIN=target/debug/ringlet-http python -m pytest http/tests/clients
"""

import json
import os
import re
import subprocess
import threading
from collections import Counter

import pytest
import requests

BIN = os.environ.get("RINGLET_HTTP_BIN", "target/debug/ringlet-http")
V2 = {"Content-Type": "application/vnd.kafka.v2+json"}


@pytest.fixture
def url():
    proc = subprocess.Popen([BIN, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://[0-9.:]+", line)
    assert match, line
    try:
        yield match.group(0)
    finally:
        proc.kill()
        proc.wait()


def test_two_instances_share_the_partitions_and_see_every_record_once(url):
    topics = f"{url}/v3/clusters/ringlet/topics"
    assert requests.post(topics, json={"topic_name": "clicks", "partitions_count": 4,
                                       "configs": [{"name": "ringlet.capacity", "value": "10000"}]}).status_code == 201
    instances = []
    for name in ("a", "b"):
        r = requests.post(f"{url}/consumers/readers", headers=V2,
                          data=json.dumps({"name": name, "format": "json", "auto.offset.reset": "earliest"}))
        assert r.status_code == 200, r.text
        base = r.json()["base_uri"]
        assert requests.post(f"{base}/subscription", headers=V2, data=json.dumps({"topics": ["clicks"]})).status_code == 204
        instances.append(base)
    assignments = [sorted(p["partition"] for p in requests.get(f"{b}/assignments").json()["partitions"]) for b in instances]
    assert sorted(assignments[0] + assignments[1]) == [0, 1, 2, 3]
    assert assignments[0] and assignments[1]

    total = 4000
    body = "\n".join(json.dumps({"key": {"type": "STRING", "data": f"user-{i % 97}"}, "value": {"data": {"i": i}}}) for i in range(total))
    r = requests.post(f"{topics}/clicks/records", data=body, headers={"Content-Type": "application/json"})
    answers = [json.loads(line) for line in r.text.splitlines()]
    assert len(answers) == total and all(a["error_code"] == 200 for a in answers)

    seen = Counter()
    lock = threading.Lock()

    def consume(base):
        empty = 0
        while empty < 3:
            got = requests.get(f"{base}/records", params={"timeout": 300},
                               headers={"Accept": "application/vnd.kafka.json.v2+json"}).json()
            if not got:
                empty += 1
                continue
            with lock:
                for rec in got:
                    seen[rec["value"]["i"]] += 1
            assert requests.post(f"{base}/offsets").status_code == 204

    threads = [threading.Thread(target=consume, args=(b,)) for b in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(seen) == list(range(total)), f"missing {set(range(total)) - set(seen)}"
    assert max(seen.values()) == 1
    committed = requests.get(f"{instances[0]}/offsets", headers=V2,
                             data=json.dumps({"partitions": [{"topic": "clicks", "partition": p} for p in assignments[0]]})).json()
    assert sum(o["offset"] for o in committed["offsets"]) == sum(
        1 for a in answers if a["partition_id"] in assignments[0])


def test_competing_queue_consumers_take_every_message_once(url):
    assert requests.post(f"{url}/v3/queues", json={"queue_name": "jobs", "capacity": 5000}).status_code == 201
    total = 1500
    body = "\n".join(json.dumps({"value": {"data": i}}) for i in range(total))
    r = requests.post(f"{url}/v3/queues/jobs/messages", data=body, headers={"Content-Type": "application/json"})
    assert r.text.count('"error_code":200') == total
    acked = Counter()
    lock = threading.Lock()

    def work():
        with requests.Session() as s:
            while True:
                got = s.post(f"{url}/v3/queues/jobs/receive", params={"max": 50, "wait_ms": 200}).json()["deliveries"]
                if not got:
                    return
                r = s.post(f"{url}/v3/queues/jobs/ack", json={"receipts": [d["receipt"] for d in got]})
                assert r.status_code == 200, r.text
                with lock:
                    for d in got:
                        acked[d["value"]["data"]] += 1

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(acked) == list(range(total)) and max(acked.values()) == 1
    figures = requests.get(f"{url}/v3/queues/jobs").json()["figures"]
    assert (figures["acked"], figures["ready"], figures["in_flight"]) == (total, 0, 0)


def test_openapi_lists_every_path(url):
    doc = requests.get(f"{url}/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    paths = set(doc["paths"])
    for p in ("/v3/clusters/{cluster}/topics/{topic}/records", "/consumers/{group}",
              "/v3/clusters/{cluster}/topics/{topic}/events", "/v3/queues/{queue}/ack"):
        assert p in paths
