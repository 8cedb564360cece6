"""Three services of a shop, each a function of the bus it runs on: they know
topics by name, nothing of where the other services run."""

import ringlet

ORDERS = 12


def place_orders(bus: ringlet.Bus, n: int = ORDERS) -> None:
    """The storefront: customers place orders."""
    orders = bus.topic("orders", partitions=3)
    for i in range(n):
        orders.publish({"order": i, "customer": f"c{i % 4}", "total": 10 + i}, key=f"c{i % 4}")


def bill(bus: ringlet.Bus, n: int = ORDERS) -> None:
    """Billing: each order becomes an invoice."""
    orders = bus.topic("orders", partitions=3)
    invoices = bus.topic("invoices", partitions=3)
    with orders.group("billing", start="earliest").join() as member:
        for _ in range(n):
            r = member.poll(timeout=60)
            assert r is not None, "no order came"
            invoices.publish({"order": r.value["order"], "amount": r.value["total"]}, key=r.key)
        member.commit()


def ship(bus: ringlet.Bus, n: int = ORDERS) -> None:
    """Shipping: each invoiced order is shipped."""
    invoices = bus.topic("invoices", partitions=3)
    shipments = bus.topic("shipments", partitions=3)
    with invoices.group("shipping", start="earliest").join() as member:
        for _ in range(n):
            r = member.poll(timeout=60)
            assert r is not None, "no invoice came"
            shipments.publish({"order": r.value["order"], "status": "shipped"}, key=r.key)
        member.commit()
