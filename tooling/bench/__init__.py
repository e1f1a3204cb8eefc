"""Performance benchmark of work_order beside Odoo's own sale.order.

Run it as ``python tooling/bench --odoo ODOO_SRC --cache CACHE [options] -- ODOO
OPTIONS`` (tooling/benchmark.sh does, for ``make benchmark``). On one database:

1. database.py: work_order installed without demo data; dataset.py: customers,
   work orders and sale orders on equivalent data, cloned in SQL
   (bulk_insert.py) from a few ORM records. A database already populated to
   the requested size is reused.
2. measures.py, in this process: back-office list search, My Day of a
   technician with 20 jobs (my_day.py), Generate Invoice over
   1, 10 and 100 orders, stock availability of 5 and 50 lines, the service
   agreements' daily job over one agreement per customer, 10,000 at most
   (rolled back).
3. http_load.py: portal list and detail pages under Odoo's prefork server
   (server.py), sequentially and under a concurrent load from a second process.
4. report.py: the table (metric, work order, sale order, ratio), printed and
   written as Markdown into CACHE/logs.

It measures and does not gate: the exit status is 0 unless something broke.
"""
