"""Counting the queries of a call, as Odoo's assertQueryCount does."""

import time


def count_queries(cr, func):
    """(result, number of queries, seconds) of func(), flushes included."""
    before = cr.sql_log_count
    t0 = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - t0
    return result, cr.sql_log_count - before, elapsed
