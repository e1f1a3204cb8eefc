"""Options and the order of one benchmark run."""

import argparse
import os
from datetime import datetime, timezone

from . import http_load, report, server
from .database import build_dataset, checkpoint, dataset_sizes, ensure_database
from .dataset import FULL_CUSTOMERS, FULL_ORDERS, MIN_CUSTOMERS, MIN_ORDERS
from .measures import measure_in_process
from .replica import measure_replica

DEFAULT_PORT = 8469  # HTTP port of the prefork server, when free


def parse_args(argv):
    """Options before ``--``; what follows ``--`` goes to Odoo unchanged."""
    if "--" in argv:
        cut = argv.index("--")
        argv, odoo_args = argv[:cut], argv[cut + 1 :]
    else:
        odoo_args = []
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Performance benchmark of work_order beside sale.order.",
    )
    parser.add_argument("--odoo", required=True, help="Odoo 18.0 source folder")
    parser.add_argument("--cache", required=True, help="cache folder (logs/ in it)")
    parser.add_argument("--db", default="wo_bench")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help=f"fraction of the full dataset ({FULL_CUSTOMERS:,} customers, "
        f"{FULL_ORDERS:,} orders)",
    )
    parser.add_argument("--repeat", type=int, default=10, help="timed repetitions")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--load-seconds", type=float, default=15.0, help="load duration per page"
    )
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--addon-hash", default="", help="rebuild when it changes")
    parser.add_argument("--name-search", default="garcia")
    parser.add_argument("--address-search", default="maple")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--dataset-only",
        action="store_true",
        help="build (or reuse) the database and its dataset, print its sizes, stop",
    )
    parser.add_argument("--replica-host", help="socket folder or host of a standby")
    parser.add_argument("--replica-port", help="port of that standby")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")
    args.orders = max(MIN_ORDERS, round(FULL_ORDERS * args.scale))
    args.customers = max(MIN_CUSTOMERS, round(FULL_CUSTOMERS * args.scale))
    args.odoo_args = odoo_args
    args.log_dir = os.path.join(args.cache, "logs")
    return args


def main(argv):
    """The benchmark; or, when started by it, the Odoo server or the load worker."""
    if os.environ.get(server.SERVER_ENV):
        return server.serve(os.environ[server.SERVER_ENV], argv)
    if argv[:1] == ["--load-worker"]:
        return http_load.load_worker(argv[1:])
    args = parse_args(argv)
    os.makedirs(args.log_dir, exist_ok=True)
    started = datetime.now(timezone.utc)
    odoo = server.start_odoo(args)
    marker = ensure_database(odoo, args) or build_dataset(odoo, args)
    sizes = dataset_sizes(odoo, args)
    report.say(f"dataset: {sizes}")
    if args.dataset_only:
        report.say(f"dataset ready in {datetime.now(timezone.utc) - started}")
        return 0
    results = report.Results()
    measure_in_process(odoo, args, marker, results)
    if args.skip_http:
        results.notes.append("Portal pages skipped (--skip-http).")
    else:
        checkpoint(odoo, args, results)
        http_load.measure_portal(args, marker, results)
        if args.replica_host:
            checkpoint(odoo, args, results)
            measure_replica(odoo, args, marker, results)
        else:
            results.notes.append("Replica rows skipped: no standby given.")
    path = report.write_report(args, results, sizes, started)
    print()
    print(f"work_order benchmark, scale {args.scale:g}: {sizes}")
    print(results.text())
    for note in results.notes:
        print(f"note: {note}")
    print(f"\nMarkdown report: {path}")
    return 0
