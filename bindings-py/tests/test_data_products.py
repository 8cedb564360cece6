"""Data products: topic metadata, the catalog, naming rules, JSON Schemas."""

import asyncio
import datetime
from collections import OrderedDict

import pytest

import ringlet

# One keyword per row: a schema, values it accepts, and values it refuses with the
# JSON pointer and the keyword the error names.
TABLE = [
    ({"type": "object"}, [{}, {"a": 1}], [([1], "", "type"), ("x", "", "type")]),
    ({"type": "object", "required": ["id"]}, [{"id": 1}], [({"x": 1}, "", "required")]),
    (
        {"properties": {"n": {"type": "integer"}}},
        [{"n": 3}, {}],
        [({"n": 1.5}, "/n", "type"), ({"n": "3"}, "/n", "type"), ({"n": True}, "/n", "type")],
    ),
    (
        {"properties": {"n": {"minimum": 0, "maximum": 10}}},
        [{"n": 0}, {"n": 10.0}],
        [({"n": -1}, "/n", "minimum"), ({"n": 11}, "/n", "maximum")],
    ),
    (
        {"properties": {"s": {"minLength": 2, "maxLength": 3}}},
        [{"s": "ab"}, {"s": "abc"}],
        [({"s": "a"}, "/s", "minLength"), ({"s": "abcd"}, "/s", "maxLength")],
    ),
    ({"properties": {"s": {"pattern": "^[A-Z]{3}$"}}}, [{"s": "EUR"}], [({"s": "eur"}, "/s", "pattern")]),
    ({"properties": {"c": {"enum": ["red", "green"]}}}, [{"c": "red"}], [({"c": "blue"}, "/c", "enum")]),
    ({"properties": {"v": {"const": 1}}}, [{"v": 1}], [({"v": 2}, "/v", "const")]),
    (
        {"additionalProperties": False, "properties": {"a": {}}},
        [{"a": 1}],
        [({"a": 1, "b": 2}, "", "additionalProperties")],
    ),
    (
        {
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "object", "properties": {"price": {"type": "number"}}},
                }
            }
        },
        [{"items": [{"price": 1.5}]}, {"items": ({"price": 2},)}],
        [({"items": [{"price": 1}, {"price": "x"}]}, "/items/1/price", "type"), ({"items": []}, "/items", "minItems")],
    ),
    ({"properties": {"tags": {"uniqueItems": True}}}, [{"tags": [1, 2]}], [({"tags": [1, 1]}, "/tags", "uniqueItems")]),
    ({"anyOf": [{"type": "string"}, {"type": "number"}]}, ["x", 1], [(None, "", "anyOf")]),
    ({"oneOf": [{"multipleOf": 2}, {"multipleOf": 3}]}, [4, 9], [(6, "", "oneOf"), (5, "", "oneOf")]),
    (
        {"$defs": {"id": {"type": "integer"}}, "properties": {"id": {"$ref": "#/$defs/id"}}},
        [{"id": 1}],
        [({"id": "1"}, "/id", "type")],
    ),
]


@pytest.mark.parametrize("schema,good,bad", TABLE, ids=[str(i) for i in range(len(TABLE))])
def test_schema_keywords_accept_and_refuse(bus, schema, good, bad):
    t = bus.topic("t", schema=schema)
    sub = t.subscribe(start="earliest")
    for v in good:
        t.publish(v)
    for v, path, rule in bad:
        with pytest.raises(ringlet.SchemaError) as e:
            t.publish(v)
        assert (e.value.topic, e.value.path, e.value.rule) == ("t", path, rule), str(e.value)
        assert rule in str(e.value) and "'t'" not in str(e.value)
    got = [r.value for r in sub.poll_many(max=100, timeout=0)]
    assert got == good
    # What was published is what is read: checked in place, not copied.
    assert all(a is b for a, b in zip(got, good))


def test_values_that_are_not_json_shaped_are_schema_errors(bus):
    # What the schema reaches must be JSON-shaped; a set, an object, bytes or a
    # date there are refused as `type`.
    t = bus.topic("t", schema={"type": "object", "properties": {"when": {"type": "string"}}})
    for v in [{1, 2}, object(), b"bytes", {"when": datetime.date(2026, 1, 1)}]:
        with pytest.raises(ringlet.SchemaError) as e:
            t.publish(v)
        assert e.value.rule == "type"
    t.publish(OrderedDict(a=1))  # dict subclasses are dicts


def test_every_publish_path_checks(bus):
    t = bus.topic("t", schema={"type": "integer"})
    with pytest.raises(ringlet.SchemaError):
        t.publish("x", key="k")
    with pytest.raises(ringlet.SchemaError):
        t.publish("x", timeout=0.1)
    with pytest.raises(ringlet.SchemaError):
        t.publish_many([1, 2, "three", 4])
    assert t.end_offsets() == [2], "the values before the mismatch were published"
    assert issubclass(ringlet.SchemaError, ringlet.RingletError)


def test_publish_async_checks(bus):
    t = bus.topic("t", schema={"type": "integer"})

    async def main():
        with pytest.raises(ringlet.SchemaError):
            await t.publish_async("x")
        await t.publish_async(1)

    asyncio.run(main())
    assert t.end_offsets() == [1]


def test_compacted_tombstones_pass(bus):
    t = bus.topic("users", compacted=True, schema={"type": "object", "required": ["name"]})
    t.publish({"name": "ada"}, key="u1")
    t.publish(None, key="u1")
    with pytest.raises(ringlet.SchemaError):
        t.publish({}, key="u2")


def test_evolution(bus):
    v1 = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    t = bus.topic("orders", schema=v1)
    v2 = {"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"}}, "required": ["id"]}
    t.set_schema(v2)
    assert t.schema == v2
    bus.topic("orders")  # left out: kept
    assert t.schema == v2
    v3 = {**v2, "properties": {**v2["properties"], "tip": {"type": "number"}}}
    bus.topic("orders", schema=v3)  # opening again with a newer schema evolves it
    assert t.schema == v3
    with pytest.raises(ringlet.ConfigError, match="required"):
        t.set_schema({**v3, "required": ["id", "note"]})
    with pytest.raises(ringlet.ConfigError, match="removed"):
        bus.topic("orders", schema=v1)
    with pytest.raises(ringlet.ConfigError, match="type"):
        t.set_schema({**v3, "properties": {**v3["properties"], "id": {"type": "string"}}})
    assert t.schema == v3


def test_bad_schemas_and_metadata(bus):
    with pytest.raises(TypeError, match="JSON Schema"):
        bus.topic("t", schema="object")
    with pytest.raises(TypeError, match="JSON Schema"):
        bus.topic("t", schema={"type": {1, 2}})
    with pytest.raises(ringlet.ConfigError, match="not a valid JSON Schema"):
        bus.topic("t", schema={"type": "nope"})
    with pytest.raises(TypeError, match="list"):
        bus.topic("t", tags="finance")
    with pytest.raises(TypeError):
        bus.topic("t", tags=[1])
    with pytest.raises(ringlet.ConfigError, match="owner is empty"):
        bus.topic("t", owner="")
    assert bus.names() == ["__journal"]


def test_metadata_and_catalog(bus):
    schema = {"type": "object", "properties": {"page": {"type": "string"}}, "required": ["page"]}
    clicks = bus.topic(
        "web.clicks.v1",
        partitions=2,
        owner="web",
        description="Page clicks",
        tags=["pii:none", "tier:1", "pii:none"],
        schema=schema,
    )
    assert clicks.metadata == {
        "owner": "web",
        "description": "Page clicks",
        "tags": ["pii:none", "tier:1"],
        "schema": schema,
    }
    with pytest.raises(ringlet.ConfigError, match="'web'|\"web\""):
        bus.topic("web.clicks.v1", owner="mobile")
    for p in ["/", "/a", "/b"]:
        clicks.publish({"page": p})
    clicks.group("billing", start="earliest").join()
    catalog = bus.catalog()
    assert isinstance(catalog, list)
    (entry,) = catalog
    assert entry == {
        "name": "web.clicks.v1",
        "owner": "web",
        "description": "Page clicks",
        "tags": ["pii:none", "tier:1"],
        "schema": schema,
        "partitions": 2,
        "retention": {"capacity": 1024, "max_age_ms": None, "on_full": "overwrite", "compacted": False, "durable": False},
        "records": 3,
        "producers": [],
        "consumers": [{"kind": "group", "name": "billing", "lag": 3}],
        "lag": 3,
    }
    html = catalog._repr_html_()
    for text in ["web.clicks.v1", "Page clicks", "pii:none", "page: string*", "billing (lag 3)"]:
        assert text in html, text
    bus.topic("x", description="<script>alert(1)</script>")
    html = bus.catalog()._repr_html_()
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_naming_rule():
    bus = ringlet.Bus(naming_rule="<domain>.<product>.v<version>")
    assert bus.naming_rule.startswith("<domain>.<product>.v<version>")
    bus.topic("sales.orders.v1")
    with pytest.raises(ringlet.InvalidName, match="naming rule"):
        bus.topic("orders")
    bus.queue("jobs")  # queues are not topics
    with pytest.raises(ringlet.ConfigError):
        ringlet.Bus(naming_rule="<domain")


CHROMIUM = "/usr/bin/chromium"  # installed by `make setup-js`


def test_the_catalog_html_renders_in_headless_chromium(tmp_path):
    """What Jupyter shows, opened in a real browser: Chromium parses the table
    (its DOM has every product's row and cell) and paints it."""
    import subprocess

    bus = ringlet.Bus()
    bus.topic("sales.orders.v1", partitions=2, owner="sales", description="Orders <as placed>", tags=["pii:none"],
              schema={"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]})
    bus.topic("web.clicks.v1", owner="web").publish({"page": "/"})
    bus.get_topic("web.clicks.v1").group("analytics", start="earliest").join()
    page = tmp_path / "catalog.html"
    page.write_text(f"<!doctype html><meta charset=utf-8><body>{bus.catalog()._repr_html_()}</body>")
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<tr") == 3, dom  # the header and two products
    assert "sales.orders.v1" in dom and "web.clicks.v1" in dom
    assert "Orders &lt;as placed&gt;" in dom  # escaped text, not markup
    shot = tmp_path / "catalog.png"
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1200,500", page.as_uri()],
                   capture_output=True, timeout=120)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, len(png)
