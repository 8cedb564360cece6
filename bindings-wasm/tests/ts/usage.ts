// A typed use of the package: `tsc --noEmit` must accept it (and reject misuse).
import init, { Bus, Delivery, Receipt, RingletRecord, Snapshot, JournalEvent, liveValues } from "ringlet";

export async function main(): Promise<number> {
  await init();
  const bus = new Bus({ clock: "manual", journal: 100 });
  const orders = bus.topic("orders", { partitions: 3, capacity: 4096, onFull: "block" });
  const receipt: Receipt = orders.publish({ id: 1 }, { key: "customer-42", headers: { source: "web" } });
  const sub = orders.subscribe({ start: "earliest", onLag: "error" });
  const rec: RingletRecord | undefined = sub.poll();
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
