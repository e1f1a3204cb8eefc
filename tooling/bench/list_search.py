"""The back office's list searches (web_search_read), work orders beside sale
orders; and bare SQL beside the work orders' searches: the floor the ORM is
held to. Each bare-SQL query returns what the list's first page shows (the
ids in the list's order) and the number of matches up to the list's count
limit, with no access rule and no field read.
"""

import functools
import statistics
import time

from lxml import etree

from .counting import count_queries
from .report import say

PAGE_SIZES = (80, 20)  # list rows: the web client's default page, and a smaller one
COUNT_LIMIT = 10001  # the web client's count limit of a list


# ------------------------------------------------------------ list search ---
def list_spec(model, view):
    """The web client's field specification for the fields of a list arch."""
    root = etree.fromstring(view["arch"])
    spec = {}
    for node in root.iter("field"):
        if any(parent.tag == "field" for parent in node.iterancestors()):
            continue
        name = node.get("name")
        if model._fields[name].type in ("many2one", "one2many", "many2many"):
            spec[name] = {"fields": {"display_name": {}}}
        else:
            spec[name] = {}
    return spec, root.get("default_order")


def search_cases(env, args):
    """(model, spec, order, {kind: domain}) of work orders, then of sale orders."""
    sale_view = env.ref("sale.view_order_tree").id
    cases = []
    for model_name, view_id, address_field in (
        ("work.order", False, "service_address_id"),
        ("sale.order", sale_view, "partner_shipping_id"),
    ):
        model = env[model_name]
        views = model.get_views([(view_id, "list")])
        spec, order = list_spec(model, views["views"]["list"])
        address = [
            (f"{address_field}.{fname}", "ilike", args.address_search)
            for fname in ("street", "street2", "city", "zip")
        ]
        domains = {
            "customer": [("partner_id", "child_of", args.name_search)],
            "address": ["|", "|", "|", *address],
            "search box": search_box_domain(model, args.name_search),
        }
        cases.append((model, spec, order, domains))
    return cases


def search_box_domain(model, term):
    """The domain of ``term`` typed in the list's search box and Enter: the
    first field of the model's default search view."""
    from odoo.tools.safe_eval import safe_eval  # noqa: PLC0415 - Odoo runs here

    arch = model.get_views([(False, "search")])["views"]["search"]["arch"]
    first = etree.fromstring(arch).find(".//field")
    filter_domain = (
        first.get("filter_domain") or f"[('{first.get('name')}', 'ilike', self)]"
    )
    return safe_eval(filter_domain, {"self": term})


def time_searches(env, args, searches, limit):
    """For each (model, spec, order, domain) of ``searches`` (the work orders'
    and sale's): (queries, median ms, number of matches) of one
    web_search_read. The timed repetitions alternate between the searches
    (work order, sale, sale, work order...), so that a machine's drift weighs
    on each alike."""
    calls = [
        functools.partial(
            model.web_search_read,
            domain,
            spec,
            limit=limit,
            order=order,
            count_limit=COUNT_LIMIT,
        )
        for model, spec, order, domain in searches
    ]
    counted = []
    for call in calls:
        call()  # warm the caches
        env.invalidate_all()
        found, queries, _t = count_queries(env.cr, call)
        counted.append((queries, found["length"]))
    times = [[] for _call in calls]
    for rep in range(args.repeat):
        for index in range(len(calls))[:: -1 if rep % 2 else 1]:
            env.invalidate_all()
            times[index].append(count_queries(env.cr, calls[index])[2])
    return [
        (queries, statistics.median(spent) * 1000, length)
        for (queries, length), spent in zip(counted, times, strict=True)
    ]


def measure_list_search(env, args, results):
    say("back-office list search (web_search_read)")
    cases = search_cases(env, args)
    full, short = PAGE_SIZES
    for kind, label in (
        ("customer", "customer name"),
        ("address", "address"),
        ("search box", "search box (customer name)"),
    ):
        fragment = args.address_search if kind == "address" else args.name_search
        searches = [
            (model, spec, order, domains[kind]) for model, spec, order, domains in cases
        ]
        wo, so = {}, {}
        for limit in PAGE_SIZES:
            wo[limit], so[limit] = time_searches(env, args, searches, limit)
        results.add_same(
            f'List search by {label} "{fragment}": matching orders',
            wo[full][2],
            so[full][2],
        )
        results.add(
            f"List search by {label}: queries, {full} / {short} rows",
            f"{wo[full][0]} / {wo[short][0]}",
            f"{so[full][0]} / {so[short][0]}",
        )
        for limit in PAGE_SIZES:
            results.add(
                f"List search by {label}: median time, {limit} rows",
                wo[limit][1],
                so[limit][1],
                "ms",
            )
        if wo[full][2] <= full or so[full][2] <= full:
            # web_search_read counts the matches only when the page is full
            results.notes.append(
                f"List search by {label}: fewer than {full} matches, so the "
                f"{full}-row page runs no count query and the {short}-row page does."
            )
        elif wo[full][0] != wo[short][0]:
            results.notes.append(
                f"List search by {label}: the work order query count depends on "
                f"the page size ({wo[full][0]} vs {wo[short][0]})."
            )


WO_ORDER = "wo.priority DESC, wo.id DESC"  # work.order's _order, in SQL
NUMBER_FRAGMENT = "0012"  # WOB/0001200-style numbers: a handful of matches


def sql_time(env, args, sql, params):
    """Median ms of the page query plus the count query. The count stops at
    the list's count limit, as the ORM's does (``count_limit``), so that both
    do the same work."""
    limit = PAGE_SIZES[0]
    page = (
        f"SELECT wo.id FROM work_order wo WHERE {sql} ORDER BY {WO_ORDER} LIMIT {limit}"
    )
    count = (
        f"SELECT count(*) FROM (SELECT 1 FROM work_order wo WHERE {sql} "
        f"LIMIT {COUNT_LIMIT}) matches"
    )
    times = []
    for _i in range(args.repeat + 1):
        t0 = time.perf_counter()
        env.cr.execute(page, params)
        env.cr.fetchall()
        env.cr.execute(count, params)
        found = env.cr.fetchone()[0]
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:]) * 1000, found


def floors(env, args):
    """{kind: (where clause on work_order wo, params)} of the bare-SQL searches:
    the same searches as the ORM's, access rules included (the companies of
    the user, and the partners' multi-company rule in the customer and
    address look-ups), written the shortest way."""
    companies = tuple(env.companies.ids)
    name = f"%{args.name_search}%"
    address = f"%{args.address_search}%"
    partner_rule = (
        "(p.partner_share IS NULL OR p.partner_share = FALSE "
        "OR p.company_id IN %s OR p.company_id IS NULL)"
    )
    # res.partner's name search: complete name, e-mail, reference, tax and
    # company numbers, active contacts only; then every contact below those
    customer = (
        "wo.partner_id IN (WITH RECURSIVE tree AS (SELECT p.id FROM res_partner p "
        "WHERE (p.complete_name ILIKE %s OR p.email ILIKE %s OR p.ref ILIKE %s "
        "OR p.vat ILIKE %s OR p.company_registry ILIKE %s) AND p.active "
        f"AND {partner_rule} "
        "UNION SELECT child.id FROM res_partner child "
        "JOIN tree ON child.parent_id = tree.id) SELECT id FROM tree)"
    )
    customer_params = [name] * 5 + [companies]
    address_of = (
        "wo.service_address_id IN (SELECT p.id FROM res_partner p WHERE ({name}"
        "p.street ILIKE %s OR p.street2 ILIKE %s OR p.city ILIKE %s "
        f"OR p.zip ILIKE %s) AND {partner_rule})"
    )
    # "Parts short": the database's share of the module's own decision, the
    # forecasts read beforehand
    short = env["work.order.line"]._get_short_order_query()
    closed = tuple(env["work.order"]._get_stock_closed_states())
    searches = {
        "customer": (customer, customer_params),
        "address": (address_of.format(name=""), [address] * 4 + [companies]),
        "number": ("wo.name ILIKE %s", [f"%{NUMBER_FRAGMENT}%"]),
        "status": ("wo.state = %s", ["quoted"]),
        # number and title through sub-selects: the fastest form of the OR
        # (a plain "wo.name ILIKE ... OR ..." takes about 1.6 times as long)
        "search box": (
            "(wo.id IN (SELECT id FROM work_order WHERE name ILIKE %s) "
            "OR wo.id IN (SELECT id FROM work_order WHERE title ILIKE %s) "
            f"OR {customer} OR {address_of.format(name='p.name ILIKE %s OR ')})",
            [name] * 2 + customer_params + [name] * 5 + [companies],
        ),
        "parts short": (
            f"wo.state NOT IN %s AND wo.id IN {short.code}",
            [closed, *short.params],
        ),
    }
    return {
        kind: (f"({where}) AND wo.company_id IN %s", [*params, companies])
        for kind, (where, params) in searches.items()
    }


def measure_search_floors(env, args, results):
    """Searches by number and status (and "Parts short"), then the floors."""
    (wo_model, wo_spec, wo_order, wo_domains), (so_model, so_spec, so_order, _so) = (
        search_cases(env, args)
    )
    full = PAGE_SIZES[0]
    extra = {
        "number": (
            [("name", "ilike", NUMBER_FRAGMENT)],
            [("name", "ilike", NUMBER_FRAGMENT)],
        ),
        "status": ([("state", "=", "quoted")], [("state", "=", "sent")]),
        "parts short": ([("has_stock_shortage", "=", True)], None),
    }
    for kind, (wo_domain, so_domain) in extra.items():
        searches = [(wo_model, wo_spec, wo_order, wo_domain)]
        if so_domain:
            searches.append((so_model, so_spec, so_order, so_domain))
        wo, so = (*time_searches(env, args, searches, full), (None, None, None))[:2]
        if kind == "number":  # the same numbers in both: the same matches
            results.add_same(f"List search by {kind}: matching orders", wo[2], so[2])
        else:  # each model's own states
            results.add_shown(f"List search by {kind}: matching orders", wo[2], so[2])
        results.add(f"List search by {kind}: queries, {full} rows", wo[0], so[0])
        results.add(
            f"List search by {kind}: median time, {full} rows", wo[1], so[1], "ms"
        )
    cases = {
        "customer": [("partner_id", "child_of", args.name_search)],
        "address": wo_domains["address"],
        "number": extra["number"][0],
        "status": extra["status"][0],
        "search box": wo_domains["search box"],
        "parts short": extra["parts short"][0],
    }
    for kind, (where, params) in floors(env, args).items():
        orm_ms, orm_found = time_orm_search(env, args, wo_model, wo_order, cases[kind])
        floor_ms, found = sql_time(env, args, where, params)
        if found != orm_found:
            results.notes.append(
                f"Bare SQL by {kind}: {found} matches, the ORM {orm_found}."
            )
        results.add_floor(f"Work orders by {kind}, {full} rows", orm_ms, floor_ms)


def time_orm_search(env, args, model, order, domain):
    """(median ms, matches) of the ORM's search for what the bare SQL returns:
    the ids of the list's first page, in its order, and the count up to the
    list's count limit (``search`` and ``search_count``, as web_search_read
    runs them, access rules included)."""
    limit = PAGE_SIZES[0]

    def call():
        model.search(domain, limit=limit, order=order)
        return model.search_count(domain, limit=COUNT_LIMIT)

    times = []
    for _i in range(args.repeat + 1):
        env.invalidate_all()
        found, _queries, seconds = count_queries(env.cr, call)
        times.append(seconds)
    return statistics.median(times[1:]) * 1000, found
