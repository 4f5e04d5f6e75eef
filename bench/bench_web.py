"""Cost of hotscope.web's middleware when it profiles nothing, in one run.

A child process serves the same Flask app three times under werkzeug's
threaded server: plain, plain again (the noise floor), and wrapped in
WSGIMiddleware with nothing asked and sample_rate=0. The parent sends
batches of requests over keep-alive connections, the three servers in a
new random order each round, and reports requests per second (median over
rounds) and per-round ratios to the first plain server: median,
quartiles and min-max. The plain-vs-plain ratio shows how far two identical servers
differ on this machine; the middleware is unmeasurable when its ratio
sits inside that.

Then the same comparison without the network: the WSGI callable called
directly in this process (timeit, alternating, best of 7), for the Flask
app and for a bare WSGI function, which shows the middleware's own time
per request in nanoseconds.

    python bench/bench_web.py                    # 30 rounds of 200 requests
    python bench/bench_web.py --rounds 10 --requests 100
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import timeit

NAMES = ["plain", "plain again", "middleware idle"]


def make_app(wrapped):
    import flask

    import hotscope.web

    app = flask.Flask("bench_web")

    @app.route("/")
    def hello():
        return "hello"

    if wrapped:
        app.wsgi_app = hotscope.web.WSGIMiddleware(app.wsgi_app)
    return app


def child():
    """Serves the three apps; prints their ports; exits when stdin closes."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def log_request(self, *args, **kwargs):
            pass

    servers = [make_server("127.0.0.1", 0, make_app(wrapped), threaded=True, request_handler=Quiet)
               for wrapped in (False, False, True)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(json.dumps([s.server_port for s in servers]), flush=True)
    sys.stdin.read()


def requests_per_second(port, count):
    import time

    conn = http.client.HTTPConnection("127.0.0.1", port)
    started = time.perf_counter()
    for _ in range(count):
        conn.request("GET", "/")
        response = conn.getresponse()
        if response.read() != b"hello":
            raise SystemExit("unexpected answer from port %d" % port)
    elapsed = time.perf_counter() - started
    conn.close()
    return count / elapsed


def over_http(rounds, count):
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(proc.stdout.readline())
        for port in ports:  # warm up: imports, first-request paths
            requests_per_second(port, count)
        rates = {name: [] for name in NAMES}
        ratios = {name: [] for name in NAMES[1:]}
        for _ in range(rounds):
            order = list(range(3))
            random.shuffle(order)
            got = {}
            for i in order:
                got[NAMES[i]] = requests_per_second(ports[i], count)
            for name in NAMES:
                rates[name].append(got[name])
            for name in NAMES[1:]:
                ratios[name].append(got[name] / got["plain"])
    finally:
        proc.stdin.close()
        proc.wait()
    print("Over HTTP (werkzeug, keep-alive), %d rounds of %d requests, order shuffled each round:" % (rounds, count))
    print("  %-16s %8s  %s" % ("server", "req/s", "ratio to plain: median, quartiles, min-max of the rounds"))
    for name in NAMES:
        if name == "plain":
            print("  %-16s %8.0f  1" % (name, statistics.median(rates[name])))
        else:
            r = ratios[name]
            q1, _, q3 = statistics.quantiles(r, n=4)
            print("  %-16s %8.0f  %.3f  (%.3f-%.3f; %.3f-%.3f)" % (
                name, statistics.median(rates[name]), statistics.median(r), q1, q3, min(r), max(r)))


def best_per_call(calls, rounds=7):
    """{name: best seconds per call} of callables timed in alternation."""
    loops = {name: timeit.Timer(call).autorange()[0] for name, call in calls.items()}
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            best[name] = min(best[name], timeit.Timer(call).timeit(loops[name]) / loops[name])
    return best


def in_process():
    from werkzeug.test import EnvironBuilder

    import hotscope.web

    environ = EnvironBuilder(path="/").get_environ()

    def start_response(status, headers, exc_info=None):
        return None

    def bare(environ, start_response):
        return [b"hello"]

    apps = {"flask": make_app(False), "flask + middleware": make_app(True), "bare WSGI app": bare,
            "bare + middleware": hotscope.web.WSGIMiddleware(bare)}
    best = best_per_call({name: (lambda app=app: [_ for _ in app(dict(environ), start_response)])
                          for name, app in apps.items()})
    print("In process (the WSGI callable called directly, alternating, best of 7):")
    for plain, wrapped in (("flask", "flask + middleware"), ("bare WSGI app", "bare + middleware")):
        added = best[wrapped] - best[plain]
        print("  %-14s %8.2f us, with the idle middleware %8.2f us: %+5.0f ns per request (%+.2f%%)" % (
            plain, best[plain] * 1e6, best[wrapped] * 1e6, added * 1e9, 100.0 * added / best[plain]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if args.child:
        return child()
    print("Python %s" % sys.version.split()[0])
    over_http(args.rounds, args.requests)
    in_process()


if __name__ == "__main__":
    main()
