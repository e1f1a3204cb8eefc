"""Odoo processes: Odoo in this process, odoo-bin runs, the prefork server."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import requests

from .ports import free_port
from .report import say

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
SERVER_ENV = "WORK_ORDER_BENCH_ODOO_SERVER"  # set: this process is the server
START_SECONDS = 120  # the prefork server must answer within this
PROBE_TIMEOUT = 30  # seconds for one GET /web/login while it starts
STOP_SECONDS = 30  # after SIGTERM, then SIGKILL to its process group
KILL_SECONDS = 10  # wait after SIGKILL
REQUEST_LIMIT = 300  # --limit-time-real and --limit-time-cpu of the workers


def start_odoo(args):
    """Import and configure Odoo in this process; return the odoo module."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    sys.path.insert(0, args.odoo)
    import odoo  # the source folder is known only now

    odoo.tools.config.parse_config(
        [
            *args.odoo_args,
            "--log-level=warn",
            f"--logfile={args.log_dir}/benchmark-odoo.log",
            "--max-cron-threads=0",
        ]
    )
    return odoo


def odoo_bin(args, *extra, log_name):
    """Run odoo-bin with the common options; its output goes to a log file."""
    log_path = os.path.join(args.log_dir, log_name)
    cmd = [
        sys.executable,
        os.path.join(args.odoo, "odoo-bin"),
        *args.odoo_args,
        "-d",
        args.db,
        "--max-cron-threads=0",
        "--http-port",
        str(free_port()),
        "--log-level=warn",
        f"--logfile={log_path}",
        *extra,
    ]
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False)
    if result.returncode:
        raise RuntimeError(f"odoo-bin {' '.join(extra)} failed; log: {log_path}")


class OdooServer:
    """Odoo in prefork mode on 127.0.0.1 (see serve()); always stopped by stop()."""

    def __init__(self, args, port, replica=None):
        self.args = args
        self.port = port
        self.replica = replica  # (host, port) of a standby, else the primary
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.log_path = os.path.join(args.log_dir, f"benchmark-server-{stamp}.log")
        self.proc = None
        self.offset = 0

    def command(self):
        # Without a standby, the primary server doubles as "replica": read-only
        # routes then get a read-only connection, and the request log shows the
        # cursor mode.
        if self.replica:
            host, port = self.replica
            replica = [f"--db_replica_host={host}", f"--db_replica_port={port}"]
        else:
            replica = [
                opt.replace(name, name.replace("db_", "db_replica_"))
                for opt in self.args.odoo_args
                for name in ("--db_host", "--db_port")
                if opt.startswith(f"{name}=")
            ]
        return [
            sys.executable,
            PACKAGE_DIR,
            *self.args.odoo_args,
            *replica,
            "-d",
            self.args.db,
            f"--db-filter=^{self.args.db}$",
            "--workers",
            str(self.args.workers),
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            "--http-port",
            str(self.port),
            "--gevent-port",
            str(free_port(self.port + 1)),
            f"--limit-time-real={REQUEST_LIMIT}",
            f"--limit-time-cpu={REQUEST_LIMIT}",
            "--log-level=info",
            "--log-handler=werkzeug:INFO",
            f"--logfile={self.log_path}",
        ]

    def start(self):
        say(f"starting Odoo ({self.args.workers} workers) on 127.0.0.1:{self.port}")
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, SERVER_ENV: self.args.odoo},
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited at start; log: {self.log_path}")
            with contextlib.suppress(requests.RequestException):
                url = f"http://127.0.0.1:{self.port}/web/login"
                if requests.get(url, timeout=PROBE_TIMEOUT).status_code == 200:
                    return
            time.sleep(1)
        raise RuntimeError(f"Odoo did not answer on port {self.port}")

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        say("stopping Odoo")
        self.proc.terminate()
        try:
            self.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            # our own child's process group: the prefork workers it started
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(KILL_SECONDS)

    def new_lines(self):
        """Lines the server logged since the previous call."""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            log.seek(self.offset)
            text = log.read()
            self.offset = log.tell()
        return text.splitlines()


def serve(odoo_src, argv):
    """odoo-bin, run by OdooServer as ``python tooling/bench ODOO OPTIONS``.

    The prefork master starts ``sys.argv[0] gevent`` for the websocket (bus)
    service. The benchmark's HTTP client runs no JavaScript and never opens a
    websocket, so that process is an idle placeholder here, leaving the CPU to
    the measured workers.
    """
    if argv[:1] == ["gevent"]:
        parent = os.getppid()
        while os.getppid() == parent:
            time.sleep(1)
        return 0
    os.environ["TZ"] = "UTC"
    time.tzset()
    sys.path.insert(0, odoo_src)
    import odoo  # the source folder is known only now

    odoo.cli.main()
    return 0
