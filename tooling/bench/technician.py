"""The technician's other hot paths, in the day My Day set up (my_day.py):
the conflict check when one more job is scheduled into it, and the form of a
job with its checks, read as the web client reads it. Sale has no counterpart
(no technician's bookings, no checklist): no sale figure and no ratio."""

from lxml import etree

from .counting import median_ms
from .report import say

FORM_CHECKS = 30  # checks on the job whose form is read
RELATIONAL = ("many2one", "many2many", "one2many")


def form_spec(model, node=None, fields_info=None):
    """The web client's field specification of a form arch: every field, the
    lines of its inline lists with their own fields."""
    if node is None:
        views = model.get_views([(False, "form")])
        node = etree.fromstring(views["views"]["form"]["arch"])
        fields_info = views["models"]
    spec = {}
    for child in node.iter("field"):
        if child is node or next(child.iterancestors("field"), node) is not node:
            continue  # a field of a nested field's own view
        field = model._fields[child.get("name")]
        if field.type in ("one2many", "many2many") and len(child):
            comodel = model.env[field.comodel_name]
            spec[field.name] = {"fields": form_spec(comodel, child, fields_info)}
        elif field.type in RELATIONAL:
            spec[field.name] = {"fields": {"display_name": {}}}
        else:
            spec[field.name] = {}
    return spec


def measure_technician_paths(env, args, technician, jobs, results):
    """The conflict check and the form with checks; the caller rolls back."""
    say("the conflict check when scheduling, and a job's form with its checks")
    orders = env["work.order"].with_user(technician)
    booked = orders.browse(jobs[0])
    new_job = orders.browse(jobs[1]).sudo().copy({"user_id": technician.id})
    new_job = new_job.with_user(technician)

    def conflict_check():
        return new_job._get_schedule_warnings(booked.scheduled_date)

    if not conflict_check():
        results.notes.append("Conflict check: no overlap found with a booked job.")
    _found, queries, ms = median_ms(env, conflict_check, args.repeat)
    label = f"Conflict check when scheduling, technician with {len(jobs)} jobs"
    results.add(f"{label}: queries", queries, None)
    results.add(f"{label}: median time", ms, None, "ms")

    env["work.order.check"].sudo().create(
        [
            {
                "order_id": booked.id,
                "name": f"Check {index}",
                "check_type": "reading",
                "min_value": 1,
                "max_value": 3,
            }
            for index in range(FORM_CHECKS)
        ]
    )
    env.flush_all()
    spec = form_spec(orders)
    _found, queries, ms = median_ms(env, lambda: booked.web_read(spec), args.repeat)
    label = f"Form of a job with {FORM_CHECKS} checks, opened by the technician"
    results.add(f"{label}: queries", queries, None)
    results.add(f"{label}: median time", ms, None, "ms")
    results.notes.append(
        "Conflict check and form with checks: sale has no counterpart (no "
        "technician's bookings, no checklist), so no sale figure and no ratio."
    )
