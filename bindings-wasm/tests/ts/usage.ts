// A typed use of the package: `tsc --noEmit` must accept it (and reject misuse).
import init, {
  Bus, Delivery, Receipt, RingletRecord, Snapshot, JournalEvent, liveValues,
  Stream, Table, WindowedTable, WindowedValue, WindowedEntry, Topology, TopologyDescription, StreamError,
  EventStore, Aggregates, RingletError, Full, Closed, Faults, ActiveFault, FaultFigures,
  CatalogEntry, TopicMetadata, PatternSubscription,
} from "ringlet";

export async function main(): Promise<number> {
  await init();
  const bus = new Bus({ clock: "manual", journal: 100 });
  const orders = bus.topic("orders", { partitions: 3, capacity: 4096, onFull: "block" });
  const receipt: Receipt = orders.publish({ id: 1 }, { key: "customer-42", headers: { source: "web" } });
  const sub = orders.subscribe({ start: "earliest", onLag: "error" });
  const rec: RingletRecord | undefined = sub.poll();
  try {
    orders.publish(1);
  } catch (e) {
    if (e instanceof Full || e instanceof Closed) console.log(e.name, e.message);
    else if (e instanceof RingletError) throw e;
  }
  const many: RingletRecord[] = sub.pollMany(10);
  const next: RingletRecord = await sub.next();
  for await (const r of sub) {
    const offset: number = r.offset;
    if (offset > 10) break;
  }
  const member = orders.group("billing", { start: "earliest" }).join({ onAssign: (p: number[]) => void p });
  member.commit();
  member.commit([[0, 1]]);
  const jobs = bus.queue("jobs", { capacity: 1024, visibilityTimeoutMs: 30000, maxDeliveries: 5 });
  jobs.send({ job: 1 });
  jobs.send({ job: 2 }, { delayMs: 10 });
  await jobs.sendAsync({ job: 3 });
  const d: Delivery = await jobs.receive();
  const attempt: number = d.attempt;
  d.ack();
  const maybe: Delivery | undefined = jobs.tryReceive();
  maybe?.nack(100);
  for await (const job of jobs) job.reject();
  const snap: Snapshot = bus.snapshot();
  const latest: number = snap.topics[0].partitions[0].latest;
  const j = bus.journal();
  const ev = j?.poll()?.value as JournalEvent | undefined;
  bus.advance(1000);
  const share = orders.shareGroup("workers").join();
  const sd: Delivery = await share.receive();
  sd.ack();
  // @ts-expect-error: options are typed
  bus.topic("x", { partitions: "3" });
  // @ts-expect-error: onFull is a closed set
  bus.topic("y", { onFull: "sometimes" });
  return receipt.offset + (rec?.offset ?? 0) + many.length + next.offset + attempt + latest + (ev ? 1 : 0) + liveValues();
}

// Stream processing, event sourcing and CQRS.
export function streams(): number {
  const bus = new Bus({ clock: "manual" });
  const clicks = bus.topic("clicks", { partitions: 2 });
  const users = bus.topic("users", { compacted: true });
  users.publish(null, { key: "u1" });
  const s: Stream = clicks.stream();
  const [big, small]: Stream[] = s.branch((r: RingletRecord) => r.value > 3, () => true);
  big.merge(small).map((r) => r.value * 2).filter((r) => r.value > 0).keyBy((r) => `k${r.value}`).to("out");
  s.flatMap((r) => [r.value, r.value]).peek(() => undefined).forEach(() => undefined);
  const counts: Table = s.groupByKey().count();
  const n: number | undefined = counts.get("u1");
  const names: Table = users.stream().groupByKey({ store: "names" }).reduce((_a, b) => b);
  s.join(names, (r, name) => `${name}:${r.value}`).leftJoin(counts, (_r, c) => c).to(bus.topic("joined"));
  const perMinute: WindowedTable = s.groupByKey({ store: "per-minute" }).window({ tumblingMs: 60000, graceMs: 5000 }).count();
  const sessions = s.groupByKey({ store: "sessions" }).window({ sessionGapMs: 1800000 })
    .aggregate(() => [], (acc, r) => [...acc, r.value], (a, b) => [...a, ...b]);
  const w: WindowedValue[] = perMinute.fetch("u1");
  const e: WindowedEntry[] = sessions.entries();
  const processed: number = bus.runUntilIdle() + bus.step();
  const topo: Topology = bus.topology();
  topo.onError("skip");
  const errs: StreamError[] = topo.errors;
  const d: TopologyDescription = topo.describe();
  const text: string = d.toString() + d.mermaid + d.svg;
  const store: EventStore = bus.eventStore("orders-es", { partitions: 2 });
  const version: number = store.append("o1", [{ type: "placed" }], 0);
  const aggs: Aggregates = store.aggregates(() => ({ apply(_ev: unknown) {}, handle: (_c: unknown) => [{ type: "paid" }] }));
  const { events, version: v2 } = aggs.execute("o1", { pay: true });
  // @ts-expect-error: window durations are numbers
  s.groupByKey().window({ tumblingMs: "1m" });
  // @ts-expect-error: onError is a closed set
  topo.onError("ignore");
  return (n ?? 0) + w.length + e.length + processed + errs.length + text.length + version + events.length + v2 + store.ids().length;
}

export function faults(): number {
  const bus = new Bus({ clock: "manual" });
  const t = bus.topic("orders", { partitions: 2 });
  const q = bus.queue("jobs", { visibilityTimeoutMs: 5000 });
  const f: Faults = bus.faults();
  const crashed: boolean = f.crash(t.group("g").join()) && f.crash(t.shareGroup("s").join());
  q.send(1);
  const d: Delivery | undefined = q.tryReceive();
  if (d) f.crash(d);
  f.delayAcks("jobs", 8000);
  f.failPublishes("orders", 2, { error: "io" });
  f.failSends("jobs");
  f.pausePartition("orders", 1);
  f.resumePartition("orders", 1);
  const active: ActiveFault[] = f.active();
  const figures: FaultFigures = f.figures();
  f.clear();
  // @ts-expect-error: the injected error is a closed set
  f.failSends("jobs", 1, { error: "disk" });
  // @ts-expect-error: only consumers crash
  f.crash(q);
  return active.length + figures.late_acks + Number(crashed);
}

// Data products: metadata, the catalog, a naming rule.
export function catalog(): number {
  const bus = new Bus({ namingRule: "<domain>.<product>.v<version>" });
  const t = bus.topic("sales.orders.v1", { owner: "sales", description: "Orders", tags: ["tier:1"] });
  const m: TopicMetadata = t.metadata;
  const entries: CatalogEntry[] = bus.catalog();
  const rule: string | undefined = bus.namingRule;
  // @ts-expect-error: tags are a list
  bus.topic("sales.refunds.v1", { tags: "tier:1" });
  const checked = bus.topic("sales.returns.v1", { schema: { type: "object", required: ["id"] } });
  checked.setSchema({ type: "object", required: ["id"], properties: { note: { type: "string" } } });
  const schema: object | boolean | null = checked.schema;
  // @ts-expect-error: a schema is an object or a boolean
  bus.topic("sales.credits.v1", { schema: "object" });
  if (schema === null) return -1;
  return entries[0].lag + m.tags.length + (rule ? 1 : 0) + entries[0].retention.capacity;
}

// Pattern subscriptions and routing.
export async function patterns(): Promise<number> {
  const bus = new Bus({ clock: "manual" });
  const sub: PatternSubscription = bus.subscribePattern("orders\\..*", { start: "earliest" });
  const member: PatternSubscription = bus.groupPattern("orders\\..*", "billing", { start: "earliest", autoCommit: false });
  bus.topic("orders").stream().route((r: RingletRecord) => `orders.${r.value.country}`, { partitions: 2, onFull: "block" });
  const r = await sub.next();
  const topic: string = r.topic;
  const owned: Record<string, number[]> = member.assignment();
  member.commit();
  const names: string[] = sub.topics();
  // @ts-expect-error: the route function names a topic
  bus.topic("orders").stream().route("orders.eu");
  for await (const rec of sub) return rec.topic.length + names.length + topic.length + Object.keys(owned).length + sub.lag;
  return sub.skipped;
}
