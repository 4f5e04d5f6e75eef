"""A small order-processing pipeline with the usual performance mistakes.

hotscope's demo program (make demo). It reads a day of orders, prices them,
matches each to its customer and writes a summary. Where does the time go?
    hotscope trace examples/orders.py
Spoilers: a linear customer search done once per order, a price lookup that
re-parses its table on every call, a slow "disk", and string building in a loop.
"""

import json
import random
import threading
import time

PRICE_TABLE = json.dumps({"sku-%03d" % i: round(1 + i * 0.37, 2) for i in range(300)})


class Customer:
    def __init__(self, ident, name, country):
        self.ident = ident
        self.name = name
        self.country = country


def make_customers(n, rng):
    countries = ["FR", "DE", "NL", "SE", "PL", "IT"]
    return [Customer(i, "customer-%d" % i, rng.choice(countries)) for i in range(n)]


def make_orders(n, customers, rng):
    return [
        {"id": i, "customer": rng.randrange(len(customers)), "sku": "sku-%03d" % rng.randrange(300),
         "quantity": rng.randint(1, 5)}
        for i in range(n)
    ]


def find_customer(customers, ident):
    # O(n) per lookup: a dict built once would make this O(1).
    for customer in customers:
        if customer.ident == ident:
            return customer
    raise KeyError(ident)


def unit_price(sku):
    # Parses the whole table on every call: it should be parsed once.
    return json.loads(PRICE_TABLE)[sku]


def price_order(order):
    return unit_price(order["sku"]) * order["quantity"]


def slow_disk_write(lines):
    time.sleep(0.002 * len(lines) / 100)  # stands in for a slow disk or network


def summarize(orders, customers):
    totals = {}
    report = ""
    for order in orders:
        customer = find_customer(customers, order["customer"])
        amount = price_order(order)
        totals[customer.country] = totals.get(customer.country, 0.0) + amount
        report += "%d,%s,%.2f\n" % (order["id"], customer.name, amount)  # quadratic copies
    return totals, report


def audit(orders, results):
    # A background thread that re-checks a sample of orders.
    checked = sum(price_order(order) > 0 for order in orders[::10])
    results.append(checked)


def main():
    rng = random.Random(42)
    customers = make_customers(2000, rng)
    orders = make_orders(3000, customers, rng)
    results = []
    auditor = threading.Thread(target=audit, args=(orders, results), name="auditor")
    auditor.start()
    totals, report = summarize(orders, customers)
    lines = report.splitlines()
    for start in range(0, len(lines), 500):
        slow_disk_write(lines[start:start + 500])
    auditor.join()
    for country in sorted(totals):
        print("%s %10.2f" % (country, totals[country]))
    print("audited", results[0], "orders")


if __name__ == "__main__":
    main()
