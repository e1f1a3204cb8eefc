"""Counting the queries of a call, as Odoo's assertQueryCount does."""

import statistics
import time


def count_queries(cr, func):
    """(result, number of queries, seconds) of func(), flushes included."""
    before = cr.sql_log_count
    t0 = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - t0
    return result, cr.sql_log_count - before, elapsed


def median_ms(env, call, repeat):
    """(result, queries, median ms) of ``call``: warmed once, then counted
    and timed with the caches emptied before each run."""
    call()  # warm the caches of views, access rights and record rules
    env.invalidate_all()
    result, queries, _t = count_queries(env.cr, call)
    times = []
    for _i in range(repeat):
        env.invalidate_all()
        times.append(count_queries(env.cr, call)[2])
    return result, queries, statistics.median(times) * 1000
