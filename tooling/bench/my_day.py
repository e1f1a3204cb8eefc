"""My Day: the technician's cards (the kanban of the My Day action), loaded as
the web client does, for a technician with JOBS jobs among the dataset's
work orders. Sale has no counterpart (no one's day of scheduled jobs): the
sale order column stays empty, without a ratio."""

from lxml import etree

from .counting import median_ms
from .dataset import PORTAL_ORDERS, SMALL_PORTAL_ORDERS
from .report import say

JOBS = 20  # the technician's jobs in My Day
CREW_JOBS = 5  # of which the technician is in the crew, not the lead
KANBAN_LIMIT = 40  # the web client's page of a kanban view
TECHNICIAN_LOGIN = "bench_technician"


def card_spec(model, view):
    """The web client's field specification of the kanban's cards."""
    views = model.get_views([(view.id, "kanban")])
    model_fields = views["models"][model._name]["fields"]
    arch = etree.fromstring(views["views"]["kanban"]["arch"])
    return {
        node.get("name"): (
            {"fields": {"display_name": {}}}
            if model_fields[node.get("name")]["type"]
            in ("many2one", "many2many", "one2many")
            else {}
        )
        for node in arch.iter("field")
    }


def give_jobs(env, marker, technician):
    """JOBS open work orders of the dataset's customers become the
    technician's day: lead on JOBS - CREW_JOBS, crew on CREW_JOBS (the lead
    stays), one an hour from now. In SQL: nothing else follows (no delivery
    rescheduled, no e-mail); the caller rolls it back."""
    skip = marker["base_wo"] + PORTAL_ORDERS + SMALL_PORTAL_ORDERS
    env.cr.execute(
        "SELECT id FROM work_order WHERE id > %s "
        "AND state IN ('scheduled', 'in_progress') ORDER BY id DESC LIMIT %s",
        [skip, JOBS],
    )
    ids = [row[0] for row in env.cr.fetchall()]
    if len(ids) < JOBS:
        raise RuntimeError(f"fewer than {JOBS} scheduled work orders: raise --scale")
    lead, crew = ids[CREW_JOBS:], ids[:CREW_JOBS]
    env.cr.execute(
        "UPDATE work_order o SET scheduled_date = date_trunc('hour', "
        "now() at time zone 'UTC') + j.hour * interval '1 hour', "
        "scheduled_end = date_trunc('hour', now() at time zone 'UTC') "
        "+ j.hour * interval '1 hour' + greatest(o.estimated_duration, 0) "
        "* interval '1 hour', "
        "user_id = CASE WHEN o.id = ANY(%(lead)s) THEN %(tech)s ELSE o.user_id END "
        "FROM unnest(%(ids)s::int[]) WITH ORDINALITY AS j(id, hour) WHERE o.id = j.id",
        {"ids": ids, "lead": lead, "tech": technician.id},
    )
    env.cr.execute(
        "INSERT INTO work_order_crew_rel (order_id, user_id) "
        "SELECT unnest(%s::int[]), %s",
        [crew, technician.id],
    )
    env.invalidate_all()
    return ids


def measure_my_day(env, args, marker, results):
    """Queries and median time of My Day's cards; the caller rolls back.
    Returns the technician and the ids of their jobs."""
    from odoo.tools.safe_eval import safe_eval  # noqa: PLC0415 - Odoo runs here

    say(f"My Day of a technician with {JOBS} jobs")
    technician = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": "Bench Technician",
                "login": TECHNICIAN_LOGIN,
                "groups_id": [(6, 0, env.ref("work_order.group_work_order_user").ids)],
            }
        )
    )
    ids = give_jobs(env, marker, technician)
    env.flush_all()
    action = env.ref("work_order.action_work_order_my_day")
    view = env.ref("work_order.work_order_view_kanban_my_day")
    orders = env["work.order"].with_user(technician)
    domain = safe_eval(action.domain, {"uid": technician.id})
    order = etree.fromstring(view.arch).get("default_order")
    spec = card_spec(orders, view)

    def load():
        return orders.web_search_read(domain, spec, order=order, limit=KANBAN_LIMIT)

    found, queries, ms = median_ms(env, load, args.repeat)
    if found["length"] != JOBS:
        results.notes.append(
            f"My Day: {found['length']} cards for the technician's {JOBS} jobs."
        )
    results.add(f"My Day, technician with {JOBS} jobs: queries", queries, None)
    results.add(
        f"My Day, technician with {JOBS} jobs: median time",
        ms,
        None,
        "ms",
    )
    results.notes.append(
        "My Day: sale has no counterpart (no one's day of scheduled jobs), so "
        "no sale figure and no ratio."
    )
    return technician, ids
