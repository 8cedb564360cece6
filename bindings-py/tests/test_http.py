"""ringlet.http.serve: a notebook's bus over HTTP, driven by a real client (requests)."""

import base64
import socket
import threading
import time

import pytest
import requests

import ringlet
import ringlet.http


@pytest.fixture
def served():
    bus = ringlet.Bus()
    server = ringlet.http.serve(bus, port=0)
    try:
        yield bus, server
    finally:
        server.stop()


def records(server, topic):
    return f"{server.url}/v3/clusters/ringlet/topics/{topic}/records"


def test_produce_reaches_python_readers_as_python_values(served):
    bus, server = served
    orders = bus.topic("orders", partitions=2)
    sub = orders.subscribe(start="earliest")
    for value in (
        {"type": "JSON", "data": {"id": 1, "lines": [1, 2]}},
        {"type": "STRING", "data": "plain text"},
        {"type": "BINARY", "data": base64.b64encode(b"\x00\xff").decode()},
    ):
        r = requests.post(records(server, "orders"), json={"key": {"type": "STRING", "data": "c-1"}, "value": value})
        assert r.status_code == 200, r.text
    got = [sub.poll(timeout=1.0) for _ in range(3)]
    assert [r.value for r in got] == [{"id": 1, "lines": [1, 2]}, "plain text", b"\x00\xff"]
    assert {r.key for r in got} == {"c-1"}
    assert len({r.partition for r in got}) == 1


def test_python_records_reach_http_consumers(served):
    bus, server = served
    events = bus.topic("events")
    base = f"{server.url}/consumers/g"
    r = requests.post(base, json={"name": "c", "format": "json", "auto.offset.reset": "earliest"})
    assert r.status_code == 200, r.text
    assert requests.post(f"{base}/instances/c/subscription", json={"topics": ["events"]}).status_code == 204
    events.publish({"n": 1}, key="k")
    events.publish("text")
    events.publish({1, 2})  # not JSON: shown with an error, never dropped
    r = requests.get(f"{base}/instances/c/records", params={"timeout": 2000})
    assert r.status_code == 200, r.text
    got = r.json()
    assert [g["value"] for g in got] == [{"n": 1}, "text", None]
    assert got[0]["key"] == "k"
    assert "not JSON" in got[2]["error"]
    assert requests.delete(f"{base}/instances/c").status_code == 204


def test_topics_and_queues_created_over_http_hold_python_values(served):
    bus, server = served
    r = requests.post(f"{server.url}/v3/clusters/ringlet/topics", json={"topic_name": "made", "partitions_count": 3})
    assert r.status_code == 201, r.text
    made = bus.topic("made")  # options left out accept what exists
    assert made.partitions == 3
    made.publish([1, 2, 3])
    sub = made.subscribe(start="earliest")
    assert sub.poll(timeout=1.0).value == [1, 2, 3]
    assert requests.post(f"{server.url}/v3/queues", json={"queue_name": "jobs"}).status_code == 201
    jobs = bus.queue("jobs")
    requests.post(f"{server.url}/v3/queues/jobs/messages", json={"value": {"data": {"job": 7}}}).raise_for_status()
    d = jobs.receive(timeout=1.0)
    assert d.value == {"job": 7}
    d.ack()
    jobs.send({"job": 8})
    r = requests.post(f"{server.url}/v3/queues/jobs/receive", params={"wait_ms": 1000}).json()
    [delivery] = r["deliveries"]
    assert delivery["value"] == {"type": "JSON", "data": {"job": 8}}
    ack = requests.post(f"{server.url}/v3/queues/jobs/ack", json={"receipts": [delivery["receipt"]]})
    assert ack.status_code == 200
    again = requests.post(f"{server.url}/v3/queues/jobs/ack", json={"receipts": [delivery["receipt"]]})
    assert (again.status_code, again.json()["error"]) == (409, "AlreadySettled")
    assert jobs.figures["acked"] == 2


def test_errors_are_json_bodies(served):
    _, server = served
    r = requests.post(records(server, "missing"), json={})
    assert r.status_code == 404
    assert r.json()["error_code"] == 40401
    r = requests.post(records(server, "missing"), data="not json", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert "Content-Type" in r.json()["message"]


def test_event_stream_follows_python_publishes(served):
    bus, server = served
    t = bus.topic("live")
    got = []
    ready = threading.Event()

    def follow():
        with requests.get(f"{server.url}/v3/clusters/ringlet/topics/live/events", stream=True, timeout=10) as r:
            ready.set()
            for line in r.iter_lines(decode_unicode=True):
                if line.startswith("data:"):
                    got.append(line)
                    if len(got) == 2:
                        return

    th = threading.Thread(target=follow)
    th.start()
    ready.wait(5)
    time.sleep(0.2)
    t.publish({"a": 1})
    t.publish("b")
    th.join(10)
    assert len(got) == 2 and '"a":1' in got[0]


def test_a_token_is_required_when_set():
    bus = ringlet.Bus()
    with ringlet.http.serve(bus, port=0, token="s3cret") as server:
        assert requests.get(f"{server.url}/v3/clusters").status_code == 401
        r = requests.get(f"{server.url}/v3/clusters", headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200
        assert server.running
    assert not server.running
    server.stop()  # twice: nothing


def test_bad_arguments_raise():
    bus = ringlet.Bus()
    with pytest.raises(ValueError, match="IP address"):
        ringlet.http.serve(bus, host="localhost:1")
    with pytest.raises(ValueError, match="token"):
        ringlet.http.serve(bus, port=0, token="")
    with pytest.raises(TypeError):
        ringlet.http.serve("not a bus")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(OSError, match="cannot listen"):
            ringlet.http.serve(bus, port=busy.getsockname()[1])
    finally:
        busy.close()


def test_stop_ends_open_event_streams():
    bus = ringlet.Bus()
    bus.topic("t")
    server = ringlet.http.serve(bus, port=0)
    r = requests.get(f"{server.url}/v3/clusters/ringlet/topics/t/events", stream=True, timeout=10)
    assert r.status_code == 200
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    r.close()
