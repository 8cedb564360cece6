// A web developer's first use of the package: import, init, publish, read.
import init, { Bus } from "ringlet";

async function main() {
  await init();
  const bus = new Bus({ clock: "manual" });
  const orders = bus.topic("orders", { partitions: 3 });
  const sub = orders.subscribe({ start: "earliest" });
  const receipt = orders.publish({ id: 42 }, { key: "customer-42" });
  const rec = sub.poll();
  return { value: rec.value, partition: rec.partition, offset: rec.offset, receipt };
}

main().then(
  (r) => (document.querySelector("#out").textContent = JSON.stringify(r)),
  (e) => (document.querySelector("#out").textContent = `error: ${e}`),
);
