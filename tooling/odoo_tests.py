"""Run Odoo's test suite in-process and print a one-line summary.

Usage: odoo_tests.py ODOO_SOURCE_DIR server -d DB ... (odoo-bin arguments)

Odoo only logs its test results. This wrapper counts every result returned
by ``odoo.tests.loader.run_suite`` (at-install and post-install suites) and
ends the output with ``<passed> passed, <failed> failed[, <skipped> skipped]``.
The exit status is non-zero when Odoo failed, when any test failed or was
skipped (a skipped browser tour tested nothing), or when no test ran.
"""

import os
import sys
import time
import traceback

os.environ["TZ"] = "UTC"  # what odoo-bin does before importing anything
time.tzset()


class Tally:
    def __init__(self):
        self.run = self.failures = self.errors = self.skipped = 0
        self.problems = []  # (kind, test, detail) lines for the recap
        self.started = set()  # ids of the tests that started
        self.bad = set()  # ids of the tests that failed, errored or skipped
        self.patched = False

    def add(self, result):
        self.run += result.testsRun
        self.failures += result.failures_count
        self.errors += result.errors_count
        self.skipped += result.skipped


def patch_odoo(tally):
    if tally.patched:
        return
    tally.patched = True
    from odoo.tests import loader, result

    original_run_suite = loader.run_suite

    def run_suite(suite, *args, **kwargs):
        res = original_run_suite(suite, *args, **kwargs)
        tally.add(res)
        return res

    loader.run_suite = run_suite

    cls = result.OdooTestResult
    original_start = cls.startTest

    def start_test(self, test):
        tally.started.add(test.id())
        return original_start(self, test)

    cls.startTest = start_test

    def recorder(kind, original):
        def record(self, test, *args):
            if kind != "SKIP" and getattr(self, "_soft_fail", False):
                return original(self, test, *args)  # retried test, not counted
            detail = args[0] if kind == "SKIP" else ""
            tally.bad.add(test.id())
            tally.problems.append((kind, self.getDescription(test), detail))
            return original(self, test, *args)

        return record

    cls.addSkip = recorder("SKIP", cls.addSkip)
    cls.addFailure = recorder("FAIL", cls.addFailure)
    cls.addError = recorder("ERROR", cls.addError)


def main():
    odoo_dir, odoo_args = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, odoo_dir)
    sys.argv = [os.path.join(odoo_dir, "odoo-bin"), *odoo_args]
    import odoo

    tally = Tally()
    # Importing odoo.tests before the options are parsed logs an error, so
    # patch right after Odoo parsed its command line.
    config = odoo.tools.config
    original_parse = config.parse_config

    def parse_config(*args, **kwargs):
        res = original_parse(*args, **kwargs)
        patch_odoo(tally)
        return res

    config.parse_config = parse_config
    rc = 0
    try:
        odoo.cli.main()
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception:
        traceback.print_exc()
        rc = 1

    # Usually testsRun - failures - errors - skipped, but a failing
    # setUpClass or a test failing twice (test and cleanup) must not count
    # against the tests that did pass.
    passed = tally.run - len(tally.bad & tally.started)
    failed = tally.failures + tally.errors
    notes = [
        f"{kind} {test} {detail}".rstrip() for kind, test, detail in tally.problems
    ]
    if tally.run == 0:
        notes.append("no test ran: the module failed to install, or no test matched")
        failed = max(failed, 1)
    elif rc and not failed:
        notes.append(f"Odoo exited with status {rc} (see the ERROR lines above)")
        failed = 1
    if tally.skipped:
        notes.append(
            f"{tally.skipped} test(s) skipped: a skipped test is a failure here "
            "(a skipped browser tour usually means Chromium or websocket-client "
            "is missing)"
        )
    sys.stderr.flush()
    for note in notes:
        print(f"  {note}")
    summary = f"{passed} passed, {failed} failed"
    if tally.skipped:
        summary += f", {tally.skipped} skipped"
    print(summary, flush=True)
    ok = rc == 0 and failed == 0 and tally.skipped == 0
    os._exit(0 if ok else 1)  # no atexit handler may log after the summary


if __name__ == "__main__":
    main()
