"""Portal pages over HTTP: sequential requests, then a concurrent load.

The load comes from a second process on loopback, the load worker
(``python tooling/bench --load-worker ...``), whose client threads use requests.
"""

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import threading
import time

import requests

from . import report
from .dataset import (
    BIG_ORDER_COPIES,
    LINES_PER_ORDER,
    PORTAL_LOGIN,
    PORTAL_ORDERS,
    PORTAL_PASSWORD,
    SMALL_PORTAL_LOGIN,
    SMALL_PORTAL_ORDERS,
    STATE_CYCLE,
)
from .ports import free_port
from .report import say
from .server import PACKAGE_DIR, OdooServer

REQUEST_TIMEOUT = 120  # seconds, for one sequential request
LOAD_TIMEOUT = 60  # seconds, for one request under load
# One page at a time, a request's time varies by 10 to 20% on a quiet
# machine: three times the repetitions of the other medians, for a few seconds.
PAGE_REPEAT_FACTOR = 3
WARM_SECONDS = 2.0  # the unmeasured load that warms every worker (warm_workers)
LOAD_GRACE = 180  # seconds the load process may take beyond --load-seconds
LOG_POLLS, LOG_POLL_SECONDS = 50, 0.05  # wait for a request's log line
P95 = 0.95  # latency percentile reported under load
CSRF_INPUT = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
# A request line of Odoo's log: "GET /path HTTP/1.0" 200 - then the query count,
# the query time, the remaining time and, with a replica set, the cursor mode.
LOG_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) [\d.]+ [\d.]+(?: (?P<mode>\S+))?"
)


class PortalClient:
    """A logged-in portal visitor: a requests session on the local server."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()

    def get(self, path):
        """(response, seconds) of a GET that follows no redirect."""
        t0 = time.perf_counter()
        response = self.session.get(
            self.base + path, allow_redirects=False, timeout=REQUEST_TIMEOUT
        )
        return response, time.perf_counter() - t0

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())

    def login(self, login, password):
        page, _t = self.get("/web/login")
        match = CSRF_INPUT.search(page.text)
        if page.status_code != 200 or not match:
            raise RuntimeError("no CSRF token on /web/login")
        form = {
            "login": login,
            "password": password,
            "csrf_token": match.group(1),
            "redirect": "/my",
        }
        response = self.session.post(
            self.base + "/web/login",
            data=form,
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        location = response.headers.get("Location", "")
        if response.status_code not in (302, 303) or "/web/login" in location:
            raise RuntimeError(
                f"portal login of {login} failed (HTTP {response.status_code})"
            )


def log_entry(server, path):
    """The server's request log line for ``path`` (waits for it a little)."""
    entry = None
    for _try in range(LOG_POLLS):
        for line in server.new_lines():
            match = LOG_LINE.search(line)
            if match and match["path"] == path:
                entry = match
        if entry:
            return entry
        time.sleep(LOG_POLL_SECONDS)
    raise RuntimeError(f"no request log line for {path}")


def request_stats(server, client, paths, repeat):
    """Sequential GETs of each of ``paths`` (the work order's and sale's page),
    in alternating order (work order, sale, sale, work order...): query counts
    and times from the server's request log, for each path.

    The workers are warmed first (``warm_workers``), then the client's own
    first request of each path is not counted either; the query count is the
    most frequent one, with the range if any.
    """
    found = [[] for _path in paths]
    for n in range(repeat + 1):
        for index in range(len(paths))[:: -1 if n % 2 else 1]:
            path = paths[index]
            tagged = f"{path}{'&' if '?' in path else '?'}bench={n}"
            response, elapsed = client.get(tagged)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
            entry = log_entry(server, tagged)
            if n:
                found[index].append(
                    (int(entry["queries"]), elapsed, entry["mode"] or "-")
                )
    return [summarize_requests(requests_found) for requests_found in found]


def summarize_requests(found):
    counts = [queries for queries, _e, _m in found]
    common = statistics.mode(counts)
    return {
        "queries": common
        if min(counts) == max(counts)
        else f"{common} ({min(counts)}-{max(counts)})",
        "ms": statistics.median([elapsed for _q, elapsed, _m in found]) * 1000,
        "mode": "/".join(sorted({mode for _q, _e, mode in found})),
    }


def warm_workers(args, server, paths, cookie):
    """A short concurrent load over ``paths``, not measured: every worker has
    then served each page once (compiled its templates, filled its caches),
    which one client's sequential requests, kept on one connection, cannot
    ensure."""
    warm_args = argparse.Namespace(**vars(args))
    warm_args.load_seconds = WARM_SECONDS
    run_load(warm_args, server.port, paths, cookie)
    server.new_lines()


# ------------------------------------------------------------ load worker ---
def load_worker(argv):
    """GET the paths round robin from --clients threads; print a JSON summary."""
    parser = argparse.ArgumentParser(prog="bench --load-worker")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", action="append", required=True)
    parser.add_argument("--cookie", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--max-requests", type=int, required=True)
    args = parser.parse_args(argv)
    lock = threading.Lock()
    started = [0]
    latencies, statuses = [], {}
    deadline = time.monotonic() + args.seconds

    def client():
        session = requests.Session()
        session.headers["Cookie"] = args.cookie
        while time.monotonic() < deadline:
            with lock:
                if started[0] >= args.max_requests:
                    return
                path = args.path[started[0] % len(args.path)]
                started[0] += 1
            t0 = time.perf_counter()
            try:
                response = session.get(
                    f"http://127.0.0.1:{args.port}{path}",
                    allow_redirects=False,
                    timeout=LOAD_TIMEOUT,
                )
                status = str(response.status_code)
            except OSError as exc:  # requests' errors are OSErrors too
                status = type(exc).__name__
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == "200":
                    latencies.append(elapsed)

    t_start = time.perf_counter()
    threads = [threading.Thread(target=client) for _i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t_start
    print(json.dumps(summarize(latencies, statuses, wall)))
    return 0


def summarize(latencies, statuses, seconds):
    """Requests/s and latency percentiles of a load (one segment or several)."""
    latencies = sorted(latencies)
    ok = len(latencies)
    return {
        "ok": ok,
        "statuses": statuses,
        "seconds": seconds,
        "rps": ok / seconds if seconds else 0.0,
        "p95": latencies[math.ceil(ok * P95) - 1] if ok else None,  # nearest rank
        "max": latencies[-1] if ok else None,
        "latencies": latencies,
    }


def run_side_by_side(args, server, wo_paths, so_paths, cookie):
    """The work orders' and sale's loads, each ``args.load_seconds`` long, in
    alternating segments (work order, sale, sale, work order): a machine that
    slows down or speeds up during the measure weighs on both alike.

    Returns the two summaries, with the serialization-failure retries and the
    read-only cursor fallbacks the server logged during each side's segments.
    """
    warm_workers(args, server, wo_paths + so_paths, cookie)
    segment_args = argparse.Namespace(**vars(args))
    segment_args.load_seconds = args.load_seconds / 2
    segment_args.max_requests = max(1, args.max_requests // 2)
    sides = {"wo": wo_paths, "so": so_paths}
    found = {side: {"latencies": [], "statuses": {}, "seconds": 0.0, "log": []}
             for side in sides}  # fmt: skip
    server.new_lines()
    for side in ("wo", "so", "so", "wo"):
        load = run_load(segment_args, server.port, sides[side], cookie)
        acc = found[side]
        acc["latencies"] += load["latencies"]
        acc["seconds"] += load["seconds"]
        for status, count in load["statuses"].items():
            acc["statuses"][status] = acc["statuses"].get(status, 0) + count
        acc["log"] += server.new_lines()
    summaries = []
    for side in sides:
        acc = found[side]
        summary = summarize(acc["latencies"], acc["statuses"], acc["seconds"])
        log = "\n".join(acc["log"])
        summary["retries"] = log.count("SERIALIZATION_FAILURE")
        summary["ro_fallbacks"] = log.count("retrying with a read/write cursor")
        summaries.append(summary)
    return summaries


def run_load(args, port, paths, cookie):
    """Run the load worker as a second process; return its summary."""
    cmd = [
        sys.executable,
        PACKAGE_DIR,
        "--load-worker",
        "--port",
        str(port),
        *[arg for path in paths for arg in ("--path", path)],
        "--cookie",
        cookie,
        "--clients",
        str(args.clients),
        "--seconds",
        str(args.load_seconds),
        "--max-requests",
        str(args.max_requests),
    ]
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=True,
        timeout=args.load_seconds + LOAD_GRACE,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------ the measure ---
def measure_portal(args, marker, results):
    """Start the prefork server, measure the portal pages, stop it."""
    server = OdooServer(args, free_port(args.port))
    try:
        server.start()
        big = PortalClient(server.port)
        big.login(PORTAL_LOGIN, PORTAL_PASSWORD)
        small = PortalClient(server.port)
        small.login(SMALL_PORTAL_LOGIN, PORTAL_PASSWORD)
        sequential_pages(args, marker, results, server, big, small)
        loaded_pages(args, marker, results, server, big.cookie_header())
    finally:
        server.stop()
    results.notes.append(f"Odoo server log of the portal run: {server.log_path}")


def sequential_pages(args, marker, results, server, big, small):
    """Queries, response time and cursor mode of each page, one at a time."""
    say("portal pages: sequential requests")
    wo2, wo3 = marker["base_wo"] + 2, marker["base_wo"] + 3
    so2, so3 = marker["base_so"] + 2, marker["base_so"] + 3
    pages = [
        (f"Portal list, {PORTAL_ORDERS} orders", big,
         "/my/work-orders", "/my/orders"),
        (f"Portal list, {SMALL_PORTAL_ORDERS} orders", small,
         "/my/work-orders", "/my/orders"),
        (f"Portal detail, {LINES_PER_ORDER} lines (quoted/sent)", big,
         f"/my/work-orders/{wo3}", f"/my/orders/{so3}"),
        (f"Portal detail, {LINES_PER_ORDER * BIG_ORDER_COPIES} lines", big,
         f"/my/work-orders/{wo2}", f"/my/orders/{so2}"),
    ]  # fmt: skip
    for label, client, wo_path, so_path in pages:
        warm_workers(args, server, [wo_path, so_path], client.cookie_header())
        wo, so = request_stats(
            server, client, [wo_path, so_path], args.repeat * PAGE_REPEAT_FACTOR
        )
        results.add(f"{label}: queries per request", wo["queries"], so["queries"])
        results.add(f"{label}: median response time", wo["ms"], so["ms"], "ms")
        results.add(f"{label}: cursor mode (log)", wo["mode"], so["mode"])
    server.new_lines()


def loaded_pages(args, marker, results, server, cookie):
    """Requests per second and latencies under the concurrent load."""
    say(
        f"portal pages: {args.clients} concurrent clients, {args.load_seconds:g} s/page"
    )
    wo3, so3 = marker["base_wo"] + 3, marker["base_so"] + 3
    # the orders the customer sees: drafts (the first two slots) never sent
    spread = [g for g in range(1, PORTAL_ORDERS + 1) if g % STATE_CYCLE >= 2]
    loads = [
        (f"Portal list, {PORTAL_ORDERS} orders", ["/my/work-orders"], ["/my/orders"]),
        (
            "Portal detail, one order (quoted/sent)",
            [f"/my/work-orders/{wo3}"],
            [f"/my/orders/{so3}"],
        ),
        (
            f"Portal detail, round robin over the customer's {len(spread)} sent orders",
            [f"/my/work-orders/{marker['base_wo'] + g}" for g in spread],
            [f"/my/orders/{marker['base_so'] + g}" for g in spread],
        ),
    ]
    for label, wo_paths, so_paths in loads:
        wo, so = run_side_by_side(args, server, wo_paths, so_paths, cookie)
        add_load_rows(args, results, label, (wo_paths, wo), (so_paths, so))


def add_load_rows(args, results, label, wo_load, so_load):
    """The rows of one load, work orders beside sale: requests/s, p95 and the
    slowest request, and the serialization-failure retries (none allowed).
    ``wo_load`` and ``so_load`` are (paths, summary of run_side_by_side)."""
    (wo_paths, wo), (so_paths, so) = wo_load, so_load
    for paths, load in ((wo_paths, wo), (so_paths, so)):
        bad = {k: v for k, v in load["statuses"].items() if k != "200"}
        if bad:
            results.notes.append(f"Under load, {label}: {paths[0]} got {bad}.")
    results.add(
        f"{label}: requests/s, {args.clients} clients, {args.workers} workers",
        wo["rps"],
        so["rps"],
        higher_is_better=True,
    )
    for key, name, target in (
        ("p95", "p95 latency", report.TARGET),
        ("max", "slowest request", report.SLOWEST_TARGET),
    ):
        results.add(
            f"{label}: {name} under load",
            wo[key] and wo[key] * 1000,
            so[key] and so[key] * 1000,
            "ms",
            target=target,
        )
    results.add_most(
        f"{label}: serialization-failure retries under load",
        wo["retries"],
        so["retries"],
        0,
    )
    if wo["ro_fallbacks"] or so["ro_fallbacks"]:
        results.notes.append(
            f"{label}: read-only cursor fallbacks under load: "
            f"{wo['ro_fallbacks']} (work order), {so['ro_fallbacks']} (sale)."
        )
