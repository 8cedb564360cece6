// The Ringlet playground: every lesson drives the real engine (the WASM package) and
// draws what the engine reports — snapshots, positions, deliveries and the journal.
import init, { Bus } from "../pkg/web/ringlet_wasm.js";

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
let bus, lesson, state, journal, playing = false, last = 0, seenJournal = [];

// --- drawing helpers -------------------------------------------------------------

/** A topic as partitions of offset cells, with reader markers: [{ name, positions: [..], cls }]. */
function drawTopic(topic, labels, readers = [], committed = null) {
  const snap = topic.snapshot();
  const cap = snap.config.capacity;
  let html = `<div class="topic" data-topic="${esc(snap.name)}"><h4>topic <code>${esc(snap.name)}</code> <small class="pill">capacity ${cap}/partition · ${snap.config.on_full}</small></h4>`;
  for (const p of snap.partitions) {
    const from = Math.max(0, p.earliest - 2);
    html += `<div class="part" data-partition="${p.partition}" data-earliest="${p.earliest}" data-latest="${p.latest}"><span class="label">P${p.partition}</span>`;
    for (let o = from; o < p.latest; o++) {
      const l = labels.get(`${p.partition}:${o}`) ?? {};
      const ev = o < p.earliest ? " evicted" : "";
      html += `<div class="cell${ev} ${l.cls ?? ""}" data-offset="${o}" title="offset ${o}"><span>${esc(l.text ?? "·")}</span><b>${o}</b>`;
      readers.forEach((r, i) => { if (r.positions[p.partition] === o) html += `<span class="marker m${i % 4}" style="margin-left:${i * 0.9}rem">${esc(r.name)}</span>`; });
      if (committed && committed[p.partition] === o) html += `<span class="marker c">committed</span>`;
      html += `</div>`;
    }
    const endReaders = readers.filter((r) => r.positions[p.partition] >= p.latest);
    html += `<div class="cell" data-offset="${p.latest}" style="opacity:.5;border-style:dotted"><span>next</span><b>${p.latest}</b>${endReaders.map((r, i) => `<span class="marker m${readers.indexOf(r) % 4}" style="margin-left:${i * 0.9}rem">${esc(r.name)}</span>`).join("")}${committed && committed[p.partition] === p.latest ? `<span class="marker c">committed</span>` : ""}</div>`;
    html += `</div>`;
  }
  return html + `</div>`;
}

/** Labels of retained records, read by a viewer subscription of the topic. */
function viewer(topic, label) {
  const sub = topic.subscribe({ start: "earliest" });
  const labels = new Map();
  return { labels, refresh() {
    for (;;) {
      let recs;
      try { recs = sub.pollMany(256); } catch (e) { if (e.name === "Lagged") continue; throw e; }
      if (recs.length === 0) break;
      for (const r of recs) labels.set(`${r.partition}:${r.offset}`, label(r));
    }
  } };
}

const figures = (f, keys) => `<div class="figures">${keys.map((k) => `<div class="fig" data-figure="${k}"><b>${f[k]}</b><span>${k.replace(/_/g, " ")}</span></div>`).join("")}</div>`;
const keyClass = (k) => (k ? `k-${String(k).slice(-1)}` : "");
const stamp = () => (bus.now / 1000).toFixed(1);

// --- lessons ---------------------------------------------------------------------

const lessons = [
  {
    id: "stream", title: "Event stream", sub: "append-only, replayable",
    text: "An event stream is an append-only log: every event gets the next offset and stays readable until retention evicts it. A reader keeps its own position; reading removes nothing. Produce past the capacity of 8 and watch the oldest events get evicted — a reader that falls behind is told exactly how many it missed.",
    setup() {
      const t = bus.topic("clicks", { capacity: 8 });
      return { t, v: viewer(t, (r) => ({ text: r.value.page })), reader: t.subscribe({ start: "earliest" }), n: 0, log: [] };
    },
    actions: {
      produce: ["Produce a click", (s) => { s.t.publish({ page: ["home", "cart", "pay"][s.n++ % 3] }); }],
      produce5: ["Produce 5", (s) => { for (let i = 0; i < 5; i++) s.t.publish({ page: ["home", "cart", "pay"][s.n++ % 3] }); }],
      read: ["Reader: read one", (s) => {
        try { const r = s.reader.poll(); s.log.unshift(r ? `read offset ${r.offset}: ${r.value.page}` : "nothing new"); }
        catch (e) { s.log.unshift(`${e.name}: ${e.message}`); }
      }],
    },
    render(s) {
      s.v.refresh();
      return drawTopic(s.t, s.v.labels, [{ name: "reader", positions: s.reader.positions() }]) +
        `<p>reader lag: <b data-testid="lag">${s.reader.lag}</b> · skipped: <b>${s.reader.skipped}</b></p><div class="log">${s.log.slice(0, 8).map(esc).join("<br>")}</div>`;
    },
  },
  {
    id: "broker", title: "Broker, partitions, keys", sub: "producers and consumers decoupled",
    text: "The broker stands between services: producers append to a topic without knowing who reads; each consumer reads at its own pace. A topic is split into partitions; events with the same key always land on the same partition (Kafka's murmur2 hash), so order per key is kept. Events without a key are spread round-robin.",
    setup() {
      const t = bus.topic("orders", { partitions: 3, capacity: 6 });
      return { t, v: viewer(t, (r) => ({ text: r.key ?? "—", cls: keyClass(r.key) })), billing: t.subscribe({ start: "earliest" }), analytics: t.subscribe({ start: "earliest" }), last: "" };
    },
    actions: {
      keyA: ["Order from customer-a", (s) => { const r = s.t.publish({}, { key: "customer-a" }); s.last = `customer-a → partition ${r.partition}, offset ${r.offset}`; }],
      keyB: ["Order from customer-b", (s) => { const r = s.t.publish({}, { key: "customer-b" }); s.last = `customer-b → partition ${r.partition}, offset ${r.offset}`; }],
      keyC: ["Order from customer-c", (s) => { const r = s.t.publish({}, { key: "customer-c" }); s.last = `customer-c → partition ${r.partition}, offset ${r.offset}`; }],
      nokey: ["Order without a key", (s) => { const r = s.t.publish({}); s.last = `no key → partition ${r.partition} (round-robin), offset ${r.offset}`; }],
      billing: ["billing reads all", (s) => { try { s.billing.pollMany(100); } catch { /* lag: read on */ } }],
      analytics: ["analytics reads one", (s) => { try { s.analytics.poll(); } catch { /* lag */ } }],
    },
    render(s) {
      s.v.refresh();
      return `<p data-testid="landed">${esc(s.last || "Produce an order to see where it lands.")}</p>` +
        drawTopic(s.t, s.v.labels, [{ name: "billing", positions: s.billing.positions() }, { name: "analytics", positions: s.analytics.positions() }]) +
        `<p>billing lag <b data-testid="billing-lag">${s.billing.lag}</b> · analytics lag <b data-testid="analytics-lag">${s.analytics.lag}</b></p>`;
    },
  },
  {
    id: "queue", title: "Queue vs topic", sub: "competing consumers, acks, dead letters",
    text: "A queue hands each message to one worker at a time; it is gone once acked. A nacked message comes back at once; one whose worker crashes holding it (bus.faults().crash) is redelivered when its 5 s visibility timeout passes. Make the acks arrive late (bus.faults().delayAcks): an ack that arrives after the visibility timeout changes nothing — the job was already handed out again, and is done twice (at-least-once). After 3 failed deliveries a poison message goes to the dead-letter queue. A topic, by contrast, gives every reader every event.",
    setup() {
      const dlq = bus.queue("jobs.dlq");
      const q = bus.queue("jobs", { capacity: 32, visibilityTimeoutMs: 5000, maxDeliveries: 3, deadLetter: "jobs.dlq" });
      return { q, dlq, faults: bus.faults(), late: false, n: 0, workers: ["ana", "bo", "cy"].map((name) => ({ name, d: null, note: "idle" })), dead: [] };
    },
    actions: {
      send: ["Send a job", (s) => s.q.send({ job: `job-${++s.n}` })],
      poison: ["Send a poison job", (s) => s.q.send({ job: `poison-${++s.n}`, poison: true })],
      take: ["Every idle worker takes one", (s) => { for (const w of s.workers) if (!w.d) { const d = s.q.tryReceive(); if (d) { w.d = d; w.note = `has ${d.value.job} (attempt ${d.attempt})`; } } }],
      ack: ["Workers ack (poison: nack)", (s) => { for (const w of s.workers) if (w.d) { try { if (w.d.value.poison) { w.d.nack(); w.note = "nacked (poison)"; } else { w.d.ack(); w.note = s.late ? "acked (the ack is on its way)" : "acked"; } } catch (e) { w.note = `${e.name}!`; } w.d = null; } }],
      crash: ["ana crashes holding her job", (s) => { const w = s.workers[0]; if (w.d) { const job = w.d.value.job; s.faults.crash(w.d); w.note = `crashed holding ${job}`; w.d = null; } }],
      late: ["Acks arrive late (8 s) / on time", (s) => { s.late = !s.late; s.faults.delayAcks("jobs", s.late ? 8000 : 0); }],
    },
    tick(s) { for (;;) { const d = s.dlq.tryReceive(); if (!d) break; s.dead.push(d.value.job); d.ack(); } },
    render(s) {
      const f = s.q.figures();
      const ff = s.faults.figures();
      return `<p>acks <span class="pill ${s.late ? "bad" : "ok"}" data-testid="acks">${s.late ? "arrive 8 s late" : "on time"}</span> · late acks (too late to count): <b data-testid="late-acks">${ff.late_acks}</b> · crashes: <b data-testid="crashes">${ff.crashed}</b></p>` +
        figures(f, ["ready", "in_flight", "sent", "acked", "nacked", "redelivered", "expired", "dead_lettered"]) +
        `<div class="grid">${s.workers.map((w) => `<div class="card" data-worker="${w.name}"><h4>worker ${w.name}</h4>${w.d ? `<span class="pill warn">in flight: ${esc(w.d.value.job)} · attempt ${w.d.attempt} · deadline t=${(w.d.deadline / 1000).toFixed(0)} s</span>` : `<span class="pill">${esc(w.note)}</span>`}</div>`).join("")}
        <div class="card"><h4>dead letter <code>jobs.dlq</code></h4><div data-testid="dead">${s.dead.map((j) => `<span class="pill bad">${esc(j)}</span>`).join("") || "<small>empty</small>"}</div></div></div>`;
    },
  },
  {
    id: "groups", title: "Consumer groups", sub: "rebalance, committed offsets",
    text: "A consumer group shares a topic's partitions among its members: each partition has exactly one owner. Add or remove a member and the group rebalances; the new owner resumes from the last committed offset, so nothing is lost (some records may be read twice — at-least-once). A member that crashes (bus.faults().crash) says no goodbye: it keeps its partitions, unread, until its 10 s session timeout passes — step time to see the group notice. Pausing a partition (bus.faults().pausePartition) stops its delivery to every reader while payments keep arriving. The share group below reads the same topic like a queue instead: any member takes any record.",
    setup() {
      const t = bus.topic("payments", { partitions: 4, capacity: 12 });
      const g = t.group("billing", { start: "earliest", autoCommit: false, sessionTimeoutMs: 10000 });
      const sg = t.shareGroup("auditors", { start: "earliest" });
      return { t, g, sg, faults: bus.faults(), paused: false, v: viewer(t, (r) => ({ text: `€${r.value.amount}` })), members: [], next: 1, shareMembers: [sg.join(), sg.join()], shared: [], rebalances: 0 };
    },
    actions: {
      pay: ["Produce 4 payments", (s) => { for (let i = 0; i < 4; i++) s.t.publish({ amount: 5 + ((i * 7) % 20) }); }],
      add: ["Add a member", (s) => { const m = s.g.join(); s.members.push({ m, name: `m${s.next++}`, read: 0, crashed: false }); m.assignment(); }],
      remove: ["Remove the last member", (s) => { const x = live(s).pop(); if (x) { x.m.leave(); s.members.splice(s.members.indexOf(x), 1); } for (const o of live(s)) o.m.assignment(); }],
      crash: ["Crash the last member", (s) => { const x = live(s).pop(); if (x) { s.faults.crash(x.m); x.crashed = true; } }],
      poll: ["Members read 2 and commit", (s) => { for (const x of live(s)) { try { x.read += x.m.pollMany(2).length; x.m.commit(); } catch { /* lag */ } } }],
      pause: ["Pause / resume P0", (s) => { s.paused = !s.paused; if (s.paused) s.faults.pausePartition("payments", 0); else s.faults.resumePartition("payments", 0); }],
      share: ["Auditors each take one", (s) => { s.shareMembers.forEach((m, i) => { const d = m.tryReceive(); if (d) { s.shared.unshift(`auditor ${i + 1}: P${d.partition}@${d.offset}`); d.ack(); } }); }],
    },
    tick(s) {
      // Running members call in (a heartbeat); a crashed one does not, and is
      // gone once the group's session timeout removed it.
      for (const x of live(s)) x.m.assignment();
      const ids = new Set(s.g.members().map((m) => m.id));
      s.members = s.members.filter((x) => !x.crashed || ids.has(x.m.id));
    },
    render(s) {
      s.v.refresh();
      const owner = new Map();
      const byId = new Map(s.members.map((x) => [x.m.id, x]));
      for (const { id, partitions } of s.g.members()) for (const p of partitions) { const x = byId.get(id); owner.set(p, x ? `${x.name}${x.crashed ? " (crashed)" : ""}` : `member ${id}`); }
      const readers = live(s).map((x) => { const pos = []; for (const [p, o] of x.m.positions()) pos[p] = o; return { name: x.name, positions: pos }; });
      return `<p>P0 delivery <span class="pill ${s.paused ? "bad" : "ok"}" data-testid="p0">${s.paused ? "paused" : "flowing"}</span></p>` + drawTopic(s.t, s.v.labels, readers, s.g.committed()) +
        `<div class="grid"><div class="card"><h4>group <code>billing</code></h4><table data-testid="owners"><tr><th>partition</th><th>owner</th><th>committed</th><th>lag</th></tr>${[0, 1, 2, 3].map((p) => `<tr data-p="${p}"><td>P${p}</td><td>${esc(owner.get(p) ?? "—")}</td><td>${s.g.committed()[p] ?? "—"}</td><td>${s.g.lag()[p]}</td></tr>`).join("")}</table>
        <p><small>members: <span data-testid="members">${s.members.map((x) => `${x.name}${x.crashed ? " (crashed)" : ""}`).join(", ") || "none"}</span></small></p></div>
        <div class="card"><h4>share group <code>auditors</code></h4><div class="log">${s.shared.slice(0, 6).map(esc).join("<br>") || "—"}</div></div></div>`;
    },
  },
  {
    id: "sourcing", title: "Event sourcing", sub: "state = replay of events",
    text: "Instead of storing a balance, store what happened: deposits and withdrawals, appended to a log that never overwrites (on_full = keep). The current state is a fold over the events — rebuild it at any time by replaying from the earliest offset.",
    setup() {
      const t = bus.topic("account-42", { capacity: 64, onFull: "keep" });
      return { t, v: viewer(t, (r) => ({ text: `${r.value.type === "deposit" ? "+" : "−"}${r.value.amount}`, cls: r.value.type === "deposit" ? "k-c" : "k-b" })), rebuilt: null, steps: [] };
    },
    actions: {
      dep: ["Deposit 10", (s) => s.t.publish({ type: "deposit", amount: 10 })],
      wd: ["Withdraw 5", (s) => s.t.publish({ type: "withdraw", amount: 5 })],
      replay: ["Rebuild by replay", (s) => {
        const sub = s.t.subscribe({ start: "earliest" });
        let balance = 0; s.steps = [];
        for (const r of sub.pollMany(1000)) { balance += r.value.type === "deposit" ? r.value.amount : -r.value.amount; s.steps.push(`offset ${r.offset}: ${r.value.type} ${r.value.amount} → ${balance}`); }
        s.rebuilt = balance; sub.free();
      }],
    },
    render(s) {
      s.v.refresh();
      return drawTopic(s.t, s.v.labels) + `<p>balance rebuilt from ${s.steps.length} events: <span class="big" data-testid="balance">${s.rebuilt ?? "—"}</span></p><div class="log">${s.steps.map(esc).join("<br>")}</div>`;
    },
  },
  {
    id: "cqrs", title: "CQRS", sub: "commands in, read model out",
    text: "Command side and query side are separate: commands become events on a stream; a projection — a consumer group — folds them into a read model built for queries. The read model lags the stream a little and catches up: step time (or press Project) to let it read.",
    setup() {
      const t = bus.topic("order-events", { partitions: 2, capacity: 32 });
      const m = t.group("read-model", { start: "earliest" }).join();
      return { t, m, v: viewer(t, (r) => ({ text: r.value.type.slice(0, 4), cls: keyClass(r.key) })), model: new Map(), n: 0 };
    },
    actions: {
      place: ["Command: place order", (s) => { const id = `o${++s.n}`; s.t.publish({ type: "placed", id }, { key: id }); }],
      pay: ["Command: pay oldest placed", (s) => { const o = [...s.model].find(([, st]) => st === "placed"); if (o) s.t.publish({ type: "paid", id: o[0] }, { key: o[0] }); }],
      ship: ["Command: ship oldest paid", (s) => { const o = [...s.model].find(([, st]) => st === "paid"); if (o) s.t.publish({ type: "shipped", id: o[0] }, { key: o[0] }); }],
      project: ["Project", (s) => project(s)],
    },
    tick(s) { project(s); },
    render(s) {
      s.v.refresh();
      const counts = { placed: 0, paid: 0, shipped: 0 };
      for (const st of s.model.values()) counts[st]++;
      const pos = []; for (const [p, o] of s.m.positions()) pos[p] = o;
      return drawTopic(s.t, s.v.labels, [{ name: "projection", positions: pos }]) +
        `<div class="grid"><div class="card"><h4>query: orders by status</h4><table data-testid="readmodel"><tr><th>placed</th><th>paid</th><th>shipped</th></tr><tr><td>${counts.placed}</td><td>${counts.paid}</td><td>${counts.shipped}</td></tr></table></div>
        <div class="card"><h4>projection lag</h4><span class="big" data-testid="cqrs-lag">${s.t.group("read-model").lag().reduce((a, b) => a + b, 0)}</span> <small>events not yet projected</small></div></div>`;
    },
  },
  {
    id: "processing", title: "Stream processing", sub: "filter, map, count, windows",
    text: "A topology reads a stream and keeps tables up to date as events arrive: here page views are filtered (health checks dropped), mapped to their page, and counted per page — in total and per 10-second window of event time. A window accepts records up to 2 s late (its grace); later ones are dropped and counted. A record whose processing throws is reported with the record itself, and skipped.",
    setup() {
      const t = bus.topic("page-views", { partitions: 2, capacity: 32 });
      const topo = bus.topology("analytics");
      topo.onError("skip");
      const pages = topo.stream(t)
        .filter((r) => r.value.page !== "/health").named("drop-health-checks")
        .map((r) => { if (typeof r.value.page !== "string") throw new TypeError("a view without a page"); return r.value.page; }).named("page")
        .keyBy((r) => r.value).named("by-page");
      const total = pages.groupByKey({ store: "views-by-page" }).count();
      const windows = pages.groupByKey({ store: "views-per-10s" }).window({ tumblingMs: 10000, graceMs: 2000 }).count();
      return { t, topo, total, windows, v: viewer(t, (r) => ({ text: String(r.value.page ?? "?").slice(0, 5), cls: r.value.page === "/health" ? "" : "k-a" })), svg: topo.describe().svg };
    },
    actions: {
      home: ["View /home", (s) => s.t.publish({ page: "/home" })],
      cart: ["View /cart", (s) => s.t.publish({ page: "/cart" })],
      health: ["Health check", (s) => s.t.publish({ page: "/health" })],
      late: ["Late view (15 s ago)", (s) => s.t.publish({ page: "/home" }, { timestamp: Math.max(0, bus.now - 15000) })],
      bad: ["Broken event", (s) => s.t.publish({ page: null })],
    },
    tick(s) { bus.runUntilIdle(); },
    render(s) {
      s.v.refresh();
      const totals = s.total.entries().map(([k, n]) => `<tr><td>${esc(k)}</td><td>${n}</td></tr>`).join("");
      const wins = s.windows.entries().slice(-8).map((w) => `<tr><td>${(w.start / 1000).toFixed(0)}–${(w.end / 1000).toFixed(0)} s</td><td>${esc(w.key)}</td><td>${w.value}</td></tr>`).join("");
      const errs = s.topo.errors.map((e) => `offset ${e.offset} of P${e.partition}: ${e.cause?.message ?? e.message} — record ${JSON.stringify(e.record?.value)}`);
      return drawTopic(s.t, s.v.labels) +
        `<div class="grid"><div class="card"><h4>table: views by page</h4><table data-testid="views-by-page"><tr><th>page</th><th>views</th></tr>${totals}</table></div>
        <div class="card"><h4>table: views per 10 s window</h4><table data-testid="views-per-window"><tr><th>window</th><th>page</th><th>views</th></tr>${wins}</table>
        <p>late records dropped: <b data-testid="dropped-late">${s.windows.droppedLate}</b></p></div>
        <div class="card"><h4>errors (skipped)</h4><div class="log" data-testid="stream-errors">${errs.map(esc).join("<br>") || "—"}</div></div></div>
        <div class="card topology"><h4>the topology (<code>topology.describe()</code>)</h4><div data-testid="topology">${s.svg}</div></div>`;
    },
  },
  {
    id: "products", title: "Data products", sub: "catalog, schemas, routing",
    bus: { namingRule: "<domain>.<product>.v<version>" },
    text: "In a data mesh each team publishes its events as a data product: a topic with an owner, a description, tags and a JSON Schema that every event is checked against at publish — an order without a total is refused, naming the field and the rule, and nothing is appended. The bus's naming rule (<domain>.<product>.v<version>) refuses topic names that break it. The catalog lists every product with who writes it, who reads it and how far behind each reader is. Routing happens in the application, not in a middleware: a stream sends each order to its country's topic, made on first use; the analytics team reads every country with one pattern subscription, including countries that appear later.",
    setup() {
      const t = bus.topic("sales.orders.v1", {
        partitions: 2, capacity: 32, owner: "sales", description: "Orders as placed", tags: ["pii:none", "tier:1"],
        schema: { type: "object", properties: { id: { type: "integer" }, country: { type: "string", pattern: "^[a-z]{2}$" }, total: { type: "number", minimum: 0 } }, required: ["id", "country", "total"] },
      });
      t.stream().route((r) => `sales.orders-${r.value.country}.v1`, { partitions: 1, capacity: 32 });
      const billing = t.group("billing", { start: "earliest", autoCommit: false }).join();
      const analytics = bus.subscribePattern("sales\\.orders-[a-z]{2}\\.v1", { start: "earliest" });
      return { t, billing, analytics, n: 0, log: [], seen: [] };
    },
    actions: {
      eu: ["Order from eu", (s) => s.t.publish({ id: ++s.n, country: "eu", total: 30 })],
      us: ["Order from us", (s) => s.t.publish({ id: ++s.n, country: "us", total: 12.5 })],
      jp: ["Order from jp (a new country)", (s) => s.t.publish({ id: ++s.n, country: "jp", total: 99 })],
      bad: ["Order without a total", (s) => {
        try { s.t.publish({ id: ++s.n, country: "eu" }); } catch (e) { s.log.unshift(`${e.name} at "${e.path}" (${e.rule}): ${e.message}`); }
      }],
      name: ["Create topic \"orders\"", (s) => {
        try { bus.topic("orders"); } catch (e) { s.log.unshift(`${e.name}: ${e.message}`); }
      }],
      read: ["analytics reads every country", (s) => { for (const r of s.analytics.pollMany(100)) s.seen.push(`${r.topic}@${r.offset}`); }],
      bill: ["billing reads and commits", (s) => { s.billing.pollMany(100); s.billing.commit(); }],
    },
    tick() { bus.runUntilIdle(); },
    render(s) {
      const rows = bus.catalog().map((c) => `<tr data-product="${esc(c.name)}"><td><code>${esc(c.name)}</code></td><td>${esc(c.owner ?? "—")}</td>` +
        `<td>${c.tags.map((t) => `<span class="pill">${esc(t)}</span>`).join("") || "—"}</td>` +
        `<td>${c.schema ? `required: ${esc((c.schema.required ?? []).join(", "))}` : "—"}</td><td>${c.partitions}</td><td>${c.records}</td>` +
        `<td>${c.producers.map((p) => esc(`${p.kind} ${p.name}`)).join("<br>") || "—"}</td>` +
        `<td>${c.consumers.map((k) => esc(`${k.kind} ${k.name}: lag ${k.lag}`)).join("<br>") || "—"}</td></tr>`).join("");
      return `<div class="card"><h4>the catalog (<code>bus.catalog()</code>)</h4><div style="overflow-x:auto"><table data-testid="catalog"><tr><th>product</th><th>owner</th><th>tags</th><th>schema</th><th>partitions</th><th>records</th><th>written by</th><th>read by</th></tr>${rows}</table></div></div>` +
        `<div class="grid"><div class="card"><h4>analytics: <code>subscribePattern("sales\\.orders-[a-z]{2}\\.v1")</code></h4><p>topics: <span data-testid="pattern-topics">${esc(s.analytics.topics().join(", ") || "none yet")}</span></p><div class="log" data-testid="pattern-read">${s.seen.slice(-8).map(esc).join("<br>") || "—"}</div></div>` +
        `<div class="card"><h4>refused</h4><div class="log" data-testid="refused">${s.log.slice(0, 6).map(esc).join("<br>") || "—"}</div></div></div>`;
    },
  },
  {
    id: "rest", title: "REST vs events", sub: "what happens when a service is down",
    text: "Take the shipping service down. A REST-style call needs it to answer now: the call fails and the work is lost unless the caller retries. An event waits in the topic; when shipping comes back it resumes from its committed offset and processes everything it missed.",
    setup() {
      const t = bus.topic("order-placed", { capacity: 16 });
      return { t, m: t.group("shipping", { start: "earliest" }).join(), up: true, n: 0, rest: [], shipped: [] };
    },
    actions: {
      toggle: ["Shipping: down / up", (s) => { s.up = !s.up; }],
      call: ["Place order via REST", (s) => { const id = `r${++s.n}`; s.rest.unshift(s.up ? `POST /ship ${id} → 200 shipped` : `POST /ship ${id} → 503, lost`); if (s.up) s.shipped.push(id); }],
      event: ["Place order via event", (s) => { s.t.publish({ id: `e${++s.n}` }); }],
    },
    tick(s) {
      if (!s.up) return;
      for (const r of s.m.pollMany(100)) s.shipped.push(r.value.id);
      s.m.commit();
    },
    render(s) {
      return `<p>shipping is <span class="pill ${s.up ? "ok" : "bad"}" data-testid="service">${s.up ? "up" : "down"}</span> · events waiting: <b data-testid="waiting">${s.t.group("shipping").lag()[0]}</b></p>` +
        `<div class="grid"><div class="card"><h4>REST calls</h4><div class="log" data-testid="rest">${s.rest.slice(0, 8).map(esc).join("<br>") || "—"}</div></div>
        <div class="card"><h4>shipped</h4><div data-testid="shipped">${s.shipped.map((x) => `<span class="pill ok">${esc(x)}</span>`).join("") || "—"}</div></div></div>`;
    },
  },
];

/** The group lesson's members that have not crashed. */
const live = (s) => s.members.filter((x) => !x.crashed);

function project(s) {
  try {
    for (const r of s.m.pollMany(100)) s.model.set(r.value.id, r.value.type);
    s.m.commit();
  } catch { /* a gap: read on */ }
}

// --- the page ----------------------------------------------------------------------

function start(id) {
  if (bus) { try { bus.free(); } catch { /* freed */ } }
  lesson = lessons.find((l) => l.id === id) ?? lessons[0];
  bus = new Bus({ clock: "manual", journal: 500, ...lesson.bus });
  journal = bus.journal();
  seenJournal = [];
  state = lesson.setup();
  $("title").textContent = lesson.title;
  $("text").textContent = lesson.text;
  $("actions").innerHTML = Object.entries(lesson.actions).map(([k, [label]], i) => `<button data-action="${k}" class="${i === 0 ? "primary" : ""}">${esc(label)}</button>`).join("");
  document.querySelectorAll("#lessons a").forEach((a) => a.classList.toggle("active", a.dataset.lesson === lesson.id));
  if (location.hash !== `#${lesson.id}`) history.replaceState(null, "", `#${lesson.id}`);
  window.playground = { bus, state, lesson: lesson.id };
  render();
}

function render() {
  lesson.tick?.(state);
  $("stage").innerHTML = lesson.render(state);
  $("now").textContent = stamp();
  for (;;) {
    let recs;
    try { recs = journal.pollMany(100); } catch { continue; }
    if (!recs.length) break;
    for (const r of recs) seenJournal.unshift(describe(r.value, r.timestamp));
  }
  seenJournal.length = Math.min(seenJournal.length, 80);
  $("journal").innerHTML = seenJournal.map((t, i) => `<li class="${i < 3 ? "fresh" : ""}">${esc(t)}</li>`).join("");
}

function describe(e, ts) {
  const where = e.topic ?? e.queue ?? "";
  const bits = [e.group && `group ${e.group}`, e.member != null && `member ${e.member}`, e.partition != null && `P${e.partition}`, e.offset != null && `@${e.offset}`, e.message != null && `msg ${e.message}`, e.attempt != null && `attempt ${e.attempt}`, e.reason, e.assignment && e.assignment.map((a) => `m${a.member}:[${a.partitions}]`).join(" ")].filter(Boolean);
  return `${(ts / 1000).toFixed(1)}s ${e.kind} ${where} ${bits.join(" ")}`;
}

function advance(ms) { bus.advance(ms); render(); }

function frame(t) {
  if (playing) {
    const dt = Math.min(250, t - (last || t));
    advance(Math.round(dt * Number($("speed").value)));
  }
  last = t;
  requestAnimationFrame(frame);
}

await init();
$("lessons").innerHTML = lessons.map((l, i) => `<a href="#${l.id}" data-lesson="${l.id}">${i + 1}. ${esc(l.title)}<small>${esc(l.sub)}</small></a>`).join("");
$("lessons").addEventListener("click", (e) => { const a = e.target.closest("a"); if (a) { e.preventDefault(); start(a.dataset.lesson); } });
$("actions").addEventListener("click", (e) => {
  const b = e.target.closest("button"); if (!b) return;
  try { lesson.actions[b.dataset.action][1](state); } catch (err) { console.error(err); }
  render();
});
$("play").addEventListener("click", () => { playing = !playing; $("play").textContent = playing ? "⏸ Pause" : "▶ Play"; });
$("step").addEventListener("click", () => advance(1000));
$("step5").addEventListener("click", () => advance(5000));
$("next").addEventListener("click", () => { const i = lessons.indexOf(lesson); start(lessons[(i + 1) % lessons.length].id); });
addEventListener("hashchange", () => { if (location.hash.slice(1) !== lesson.id) start(location.hash.slice(1)); });
start(location.hash.slice(1));
requestAnimationFrame(frame);
