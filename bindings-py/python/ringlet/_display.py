"""HTML for Jupyter: ``_repr_html_`` of Bus, Topic, Queue, Group and ShareGroup.

Everything is drawn from the engine's own snapshot (``bus.snapshot()``'s shape):
partitions as rows with their earliest and latest offsets, the retained window
as a bar, and each consumer group's committed position and lag.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence

_CSS = """
<style>
.ringlet{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
  font-size:13px;color:#1f2933;max-width:880px;margin:4px 0}
.ringlet .card{border:1px solid #d9e2ec;border-radius:8px;padding:10px 14px;margin:8px 0;background:#fff;
  box-shadow:0 1px 2px rgba(16,42,67,.06)}
.ringlet .head{display:flex;align-items:center;gap:8px;flex-wrap:wrap;margin-bottom:6px}
.ringlet .name{font-weight:600;font-size:15px}
.ringlet .badge{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;
  border-radius:10px;padding:1px 8px;color:#fff}
.ringlet .b-topic{background:#2680c2}.ringlet .b-queue{background:#c65d21}
.ringlet .b-group{background:#3e7c17}.ringlet .b-share{background:#8e44ad}.ringlet .b-closed{background:#829ab1}
.ringlet .chip{font-size:11px;color:#486581;background:#f0f4f8;border-radius:4px;padding:1px 6px}
.ringlet table{border-collapse:collapse;width:100%;margin-top:4px}
.ringlet th{font-size:11px;text-transform:uppercase;letter-spacing:.03em;color:#627d98;text-align:right;
  font-weight:600;padding:3px 8px;border-bottom:1px solid #d9e2ec}
.ringlet th:first-child,.ringlet td:first-child{text-align:left}
.ringlet td{padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums;border-bottom:1px solid #f0f4f8}
.ringlet td.bar{width:38%;text-align:left}
.ringlet .track{position:relative;height:12px;background:#f0f4f8;border-radius:6px;overflow:hidden}
.ringlet .fill{position:absolute;top:0;bottom:0;background:#9fb3c8;border-radius:6px}
.ringlet .mark{position:absolute;top:-1px;bottom:-1px;width:3px;border-radius:2px}
.ringlet .lag{color:#c65d21;font-weight:600}.ringlet .ok{color:#3e7c17}
.ringlet .tiles{display:flex;gap:8px;flex-wrap:wrap;margin:4px 0}
.ringlet .tile{background:#f0f4f8;border-radius:6px;padding:4px 10px;min-width:64px}
.ringlet .tile b{display:block;font-size:17px}.ringlet .tile span{font-size:11px;color:#627d98}
.ringlet .legend{font-size:11px;color:#627d98;margin-top:4px}
.ringlet .sub{font-size:12px;color:#486581;margin:6px 0 2px}
</style>
"""

_COLOURS = ["#3e7c17", "#8e44ad", "#c65d21", "#2680c2", "#b83280", "#0f766e"]


def _e(x: Any) -> str:
    return escape(str(x))


def _chips(items: Sequence[str]) -> str:
    return "".join(f'<span class="chip">{_e(i)}</span>' for i in items)


def _secs(ms: Any) -> str:
    if ms is None:
        return "none"
    s = ms / 1000
    return f"{s:g} s"


def _topic_card(t: Mapping[str, Any]) -> str:
    cfg = t["config"]
    chips = [
        f"{cfg['partitions']} partition{'s' if cfg['partitions'] != 1 else ''}",
        f"capacity {cfg['capacity']}",
        f"on_full={cfg['on_full']}",
    ]
    if cfg.get("max_age_ms") is not None:
        chips.append(f"max_age {_secs(cfg['max_age_ms'])}")
    groups = t.get("groups", [])
    head = (
        f'<div class="head"><span class="badge b-topic">topic</span>'
        f'<span class="name">{_e(t["name"])}</span>{_chips(chips)}'
        + ('<span class="badge b-closed">closed</span>' if t.get("closed") else "")
        + "</div>"
    )
    cols = "".join(
        f'<th title="committed offset and lag"><span style="color:{_COLOURS[i % len(_COLOURS)]}">'
        f'&#9646;</span> {_e(g["name"])}</th>'
        for i, g in enumerate(groups)
    )
    rows = []
    for p in t["partitions"]:
        latest = max(p["latest"], 1)
        cap = cfg["capacity"]
        left = max(0.0, 1 - (p["latest"] - p["earliest"]) / max(cap, 1)) if p["latest"] > cap else 0.0
        span = p["latest"] - p["earliest"]
        width = span / max(cap, 1) if p["latest"] > cap else span / max(cap, latest, 1)
        start = (p["earliest"] / max(cap, latest)) if p["latest"] <= cap else left
        marks = []
        gcells = []
        for i, g in enumerate(groups):
            colour = _COLOURS[i % len(_COLOURS)]
            gp = next((x for x in g["partitions"] if x["partition"] == p["partition"]), None)
            if gp is None:
                gcells.append("<td>–</td>")
                continue
            committed = gp.get("committed")
            lag = gp.get("lag", 0)
            if committed is None:
                gcells.append('<td title="nothing committed">–</td>')
            else:
                cls = "lag" if lag else "ok"
                gcells.append(f'<td>{committed} <span class="{cls}">(lag {lag})</span></td>')
                if span > 0 or p["latest"] > 0:
                    lo, hi = p["earliest"], max(p["latest"], p["earliest"] + 1)
                    frac = min(1.0, max(0.0, (committed - lo) / (hi - lo)))
                    x = start + frac * width
                    marks.append(
                        f'<div class="mark" style="left:calc({x * 100:.1f}% - 1px);background:{colour}" '
                        f'title="{_e(g["name"])}: committed {committed}"></div>'
                    )
        bar = (
            f'<div class="track"><div class="fill" style="left:{start * 100:.1f}%;'
            f'width:{max(width, 0.004 if span else 0) * 100:.1f}%"></div>{"".join(marks)}</div>'
        )
        rows.append(
            f"<tr><td>{p['partition']}</td><td>{p['earliest']}</td><td>{p['latest']}</td>"
            f"<td>{p['retained']}</td><td class=\"bar\">{bar}</td>{''.join(gcells)}</tr>"
        )
    table = (
        "<table><tr><th>partition</th><th>earliest</th><th>latest</th><th>retained</th>"
        f"<th style=\"text-align:left\">retained window</th>{cols}</tr>{''.join(rows)}</table>"
    )
    extra = []
    subs = t.get("subscriptions", [])
    if subs:
        lags = ", ".join(f"#{s['id']} lag {s['lag']}" for s in subs)
        extra.append(f'<div class="legend">{len(subs)} subscription(s): {_e(lags)}</div>')
    for g in groups:
        members = ", ".join(
            f"member {m['id']} → {m['partitions']}" for m in g.get("members", [])
        ) or "no members"
        extra.append(f'<div class="legend">group <b>{_e(g["name"])}</b>: {_e(members)}</div>')
    for s in t.get("share_groups", []):
        f = s["figures"]
        extra.append(
            f'<div class="legend">share group <b>{_e(s["name"])}</b>: {s["members"]} member(s), '
            f'{f["in_flight"]} in flight, {f["acked"]} acked, {s.get("lost", 0)} lost</div>'
        )
    return f'<div class="card">{head}{table}{"".join(extra)}</div>'


_MAIN_FIGURES = ["ready", "in_flight", "delayed"]
_COUNTERS = [
    "sent",
    "acked",
    "nacked",
    "redelivered",
    "expired",
    "dead_lettered",
    "dropped",
    "dead_letter_overflow",
]


def _figures(f: Mapping[str, Any]) -> str:
    tiles = "".join(
        f'<div class="tile"><b>{f[k]}</b><span>{k.replace("_", " ")}</span></div>'
        for k in _MAIN_FIGURES
    )
    heads = "".join(f"<th>{k.replace('_', ' ')}</th>" for k in _COUNTERS)
    cells = "".join(f"<td>{f[k]}</td>" for k in _COUNTERS)
    return (
        f'<div class="tiles">{tiles}</div>'
        f'<table><tr>{heads}</tr><tr>{cells}</tr></table>'
    )


def _queue_card(q: Mapping[str, Any]) -> str:
    cfg = q["config"]
    chips = [
        f"capacity {cfg['capacity']}",
        f"visibility {_secs(cfg['visibility_timeout_ms'])}",
        f"max_deliveries {cfg['max_deliveries'] if cfg['max_deliveries'] is not None else '∞'}",
    ]
    if cfg.get("dead_letter"):
        chips.append(f"dead letter → {cfg['dead_letter']}")
    head = (
        f'<div class="head"><span class="badge b-queue">queue</span>'
        f'<span class="name">{_e(q["name"])}</span>{_chips(chips)}'
        + ('<span class="badge b-closed">closed</span>' if q.get("closed") else "")
        + "</div>"
    )
    return f'<div class="card">{head}{_figures(q["figures"])}</div>'


def bus_html(snapshot: Mapping[str, Any]) -> str:
    """The whole bus: every topic and queue."""
    cards = [_topic_card(t) for t in snapshot["topics"]]
    cards += [_queue_card(q) for q in snapshot["queues"]]
    if not cards:
        cards = ['<div class="card">An empty bus: no topics or queues yet.</div>']
    head = (
        f'<div class="sub">Bus at {snapshot["time_ms"]} ms · {len(snapshot["topics"])} topic(s), '
        f'{len(snapshot["queues"])} queue(s)</div>'
    )
    return f'{_CSS}<div class="ringlet">{head}{"".join(cards)}</div>'


def topic_html(topic: Mapping[str, Any]) -> str:
    """One topic, with its groups."""
    return f'{_CSS}<div class="ringlet">{_topic_card(topic)}</div>'


def queue_html(queue: Mapping[str, Any]) -> str:
    """One queue's figures."""
    return f'{_CSS}<div class="ringlet">{_queue_card(queue)}</div>'


def group_html(args: tuple[Mapping[str, Any], Mapping[str, Any]]) -> str:
    """One consumer group over its topic's partitions."""
    topic, group = args
    only = dict(topic)
    only["groups"] = [group]
    only["share_groups"] = []
    only["subscriptions"] = []
    head = (
        f'<div class="head"><span class="badge b-group">group</span>'
        f'<span class="name">{_e(group["name"])}</span>'
        f"{_chips([str(len(group.get('members', []))) + ' member(s)', 'start ' + str(group['config']['start'])])}</div>"
    )
    return f'{_CSS}<div class="ringlet"><div class="card">{head}</div>{_topic_card(only)}</div>'


def share_group_html(share: Mapping[str, Any]) -> str:
    """One share group's figures and partitions."""
    head = (
        f'<div class="head"><span class="badge b-share">share group</span>'
        f'<span class="name">{_e(share["name"])}</span>'
        f"{_chips([str(share['members']) + ' member(s)', str(share.get('lost', 0)) + ' lost to retention'])}</div>"
    )
    rows = "".join(
        f"<tr><td>{p['partition']}</td><td>{p['fetched']}</td>"
        f"<td>{p['oldest_unsettled'] if p['oldest_unsettled'] is not None else '–'}</td>"
        f"<td>{p['unsettled']}</td></tr>"
        for p in share.get("partitions", [])
    )
    table = (
        "<table><tr><th>partition</th><th>fetched up to</th><th>oldest unsettled</th>"
        f"<th>unsettled</th></tr>{rows}</table>"
    )
    return (
        f'{_CSS}<div class="ringlet"><div class="card">{head}'
        f'{_figures(share["figures"])}{table}</div></div>'
    )


def table_html(args: tuple[str, Mapping[Any, Any]]) -> str:
    """A table's keys and values (the first 50)."""
    name, data = args
    items = list(data.items())
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in items[:50])
    more = f'<div class="sub">… and {len(items) - 50} more</div>' if len(items) > 50 else ""
    head = (
        f'<div class="head"><span class="badge b-group">table</span>'
        f'<span class="name">{_e(name)}</span>{_chips([str(len(items)) + " key(s)"])}</div>'
    )
    return (
        f'{_CSS}<div class="ringlet"><div class="card">{head}'
        f"<table><tr><th>key</th><th>value</th></tr>{rows}</table>{more}</div></div>"
    )


def _schema_fields(schema: Any) -> str:
    """A schema's top-level properties, required ones marked, as chips."""
    if not isinstance(schema, Mapping):
        return "" if schema is None else _e(schema)
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return _e(schema.get("type", "schema"))
    required = set(schema.get("required") or ())
    chips = []
    for name, sub in props.items():
        kind = sub.get("type", "") if isinstance(sub, Mapping) else ""
        label = f"{name}: {kind}" if kind else str(name)
        chips.append(label + ("*" if name in required else ""))
    return _chips(chips)


def catalog_html(entries: Sequence[Mapping[str, Any]]) -> str:
    """The catalog as one table: a row per data product."""
    rows = []
    for c in entries:
        r = c["retention"]
        keeps = f'{r["capacity"]:,} / partition'
        if r.get("max_age_ms") is not None:
            keeps += f', {_secs(r["max_age_ms"])}'
        if r.get("compacted"):
            keeps += ", compacted"
        if r.get("durable"):
            keeps += ", durable"
        writers = _chips([f'{p["kind"]} {p["name"]}' for p in c["producers"]])
        readers = _chips([f'{p["kind"]} {p["name"]} (lag {p.get("lag", 0)})' for p in c["consumers"]])
        lag_class = "lag" if c["lag"] else "ok"
        rows.append(
            f'<tr><td><span class="name">{_e(c["name"])}</span>'
            f'<div class="legend">{_e(c.get("description") or "")}</div></td>'
            f'<td>{_e(c.get("owner") or "–")}</td><td>{_chips(c.get("tags") or [])}</td>'
            f'<td>{_schema_fields(c.get("schema")) or "–"}</td>'
            f'<td>{c["partitions"]}</td><td>{_e(keeps)}</td><td>{c["records"]:,}</td>'
            f'<td>{writers or "–"}</td><td>{readers or "–"}</td>'
            f'<td class="{lag_class}">{c["lag"]:,}</td></tr>'
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ["data product", "owner", "tags", "schema", "partitions", "retention",
                  "records", "producers", "consumers", "lag"]
    )
    body = "".join(rows) or '<tr><td colspan="10">no topics yet</td></tr>'
    return (
        f'{_CSS}<div class="ringlet"><div class="card"><div class="head">'
        f'<span class="badge b-topic">catalog</span><span class="name">{len(entries)} data products</span>'
        f"</div><table><tr>{head}</tr>{body}</table>"
        '<div class="legend">* required field</div></div></div>'
    )


class Catalog(list):  # type: ignore[type-arg]
    """``bus.catalog()``: a list of dicts, one per topic, that Jupyter shows as a table."""

    def _repr_html_(self) -> str:
        return catalog_html(self)
