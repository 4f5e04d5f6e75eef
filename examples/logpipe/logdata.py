"""What the logpipe example runs against: the access log it reads, the geo-IP
service it asks and the disk it writes checkpoints to.

All three are simulated, locally and deterministically: the log is written from
a fixed seed, so slow.py and fast.py read exactly the same requests and their
reports can be compared byte for byte (tests/test_examples.py does); the geo
service and the disk are slow by construction (time.sleep), as a service on the
network or a busy disk would be, without needing either.
"""

import random
import time
import zlib

SEED = 7
DAY = 24 * 60 * 60
GEO_LATENCY = 0.0015  # seconds: one round trip to the geo-IP service
DISK_DELAY = 0.02  # seconds: the disk's flush of a written file

# (path, typical latency in ms, share of requests, response bytes)
ENDPOINTS = [
    ("/", 20, 30, 12_000),
    ("/login", 60, 5, 3_000),
    ("/search", 150, 20, 25_000),
    ("/product", 40, 30, 40_000),
    ("/cart", 80, 8, 9_000),
    ("/checkout", 300, 3, 6_000),
    ("/api/recommendations", 250, 4, 4_000),
]
BROWSERS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
]
ROBOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.31.0",
    "curl/8.5.0",
]
# (country, share of addresses in percent)
COUNTRIES = [("US", 30), ("DE", 15), ("IN", 12), ("BR", 10), ("FR", 10), ("JP", 9), ("NL", 8), ("SE", 6)]
SLOW_HOURS = (13, 14)  # the database had a bad hour: latencies triple


def write_log(path, records, seed=SEED):
    """Write a day of `records` requests to `path`, oldest first, one per line:
    time, client address, user, method, path, status, bytes, latency in ms and
    the quoted user agent. Users come in visits of a few requests each."""
    rng = random.Random(seed)
    users = max(20, records // 50)
    addresses = max(10, records // 70)
    home = [rng.randrange(addresses) for _ in range(users)]
    robot = [rng.random() < 0.1 for _ in range(users)]
    weights = [share for _, _, share, _ in ENDPOINTS]
    requests = []
    while len(requests) < records:
        user = rng.randrange(users)
        when = rng.randrange(DAY)
        for _ in range(1 + int(rng.expovariate(1 / 3))):
            if when >= DAY or len(requests) == records:
                break
            endpoint, typical, _, size = rng.choices(ENDPOINTS, weights)[0]
            latency = typical + rng.randrange(typical)
            if SLOW_HOURS[0] * 3600 <= when < SLOW_HOURS[1] * 3600:
                latency *= 3
            status = 200 if rng.random() < 0.95 else rng.choice((404, 500))
            agent = rng.choice(ROBOTS if robot[user] else BROWSERS)
            requests.append((when, home[user], user, endpoint, status, size + rng.randrange(size), latency, agent))
            when += rng.randint(2, 240)
    requests.sort()
    with open(path, "w") as out:
        for when, address, user, endpoint, status, size, latency, agent in requests:
            hours, rest = divmod(when, 3600)
            out.write('2024-05-14T%02d:%02d:%02d %s u%04d GET %s %d %d %d "%s"\n' % (
                hours, rest // 60, rest % 60, address_name(address), user, endpoint, status, size, latency, agent))
    return path


def address_name(index):
    return "10.0.%d.%d" % (index // 250, index % 250 + 1)


class GeoService:
    """A geo-IP service: the country of a client address. Each lookup is a
    round trip that waits GEO_LATENCY; lookups may run in parallel."""

    def __init__(self, latency=GEO_LATENCY):
        self.latency = latency

    def lookup(self, address):
        time.sleep(self.latency)  # the round trip
        bucket = zlib.crc32(address.encode()) % 100
        for country, share in COUNTRIES:
            if bucket < share:
                return country
            bucket -= share
        return "??"


def write_slowly(path, text):
    """Write `text` to `path` on a slow disk: the flush takes DISK_DELAY."""
    with open(path, "w") as out:
        out.write(text)
        out.flush()
        time.sleep(DISK_DELAY)  # the disk's flush
