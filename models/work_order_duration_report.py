from odoo import fields, models, tools
from odoo.tools import SQL

from .work_order import STATES

# In display order: the keys sort like the labels should show
DURATION_KINDS = [
    ("estimated", "Estimated"),
    ("real", "Actual"),
    ("variance", "Variance"),
]


class WorkOrderDurationReport(models.Model):
    """Estimated and actual hours side by side, one row per work order and kind.

    The graph, grouped by ``kind``, draws the estimated hours, the actual hours
    and their variance next to each other (``hours``); the pivot shows them as
    three measures (``estimated_hours``, ``actual_hours``, ``variance_hours``,
    each set on its own kind's row). Actual hours and the variance exist only
    once the work started: a work order that did not start has only its
    estimated row. Actual hours include the time of a work order still In
    Progress.
    """

    _name = "work.order.duration.report"
    _description = "Work Order Durations"
    _auto = False
    _order = "order_id desc, kind"

    order_id = fields.Many2one("work.order", string="Work Order", readonly=True)
    kind = fields.Selection(DURATION_KINDS, readonly=True)
    hours = fields.Float(readonly=True, aggregator="sum")
    estimated_hours = fields.Float(string="Estimated", readonly=True, aggregator="sum")
    actual_hours = fields.Float(string="Actual", readonly=True, aggregator="sum")
    variance_hours = fields.Float(string="Variance", readonly=True, aggregator="sum")
    user_id = fields.Many2one("res.users", string="Technician", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    template_id = fields.Many2one("work.order.template", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    state = fields.Selection(STATES, string="Status", readonly=True)
    priority = fields.Selection(
        [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")],
        readonly=True,
    )
    scheduled_date = fields.Datetime(readonly=True)
    date_started = fields.Datetime(string="Started", readonly=True)
    date_completed = fields.Datetime(string="Completed", readonly=True)

    def _select_kind(self, kind, hours, where):
        return SQL(
            """
            SELECT wo.id * 3 + %(offset)s AS id,
                   wo.id AS order_id,
                   %(kind)s AS kind,
                   %(hours)s AS hours,
                   CASE WHEN %(kind)s = 'estimated' THEN %(hours)s ELSE 0 END
                       AS estimated_hours,
                   CASE WHEN %(kind)s = 'real' THEN %(hours)s ELSE 0 END
                       AS actual_hours,
                   CASE WHEN %(kind)s = 'variance' THEN %(hours)s ELSE 0 END
                       AS variance_hours,
                   wo.user_id,
                   wo.partner_id,
                   wo.template_id,
                   wo.company_id,
                   wo.state,
                   wo.priority,
                   wo.scheduled_date,
                   wo.date_started,
                   wo.date_completed
              FROM work_order wo
             WHERE %(where)s
            """,
            offset=[key for key, _label in DURATION_KINDS].index(kind),
            kind=kind,
            hours=hours,
            where=where,
        )

    def _query(self):
        started = SQL("wo.date_started IS NOT NULL")
        estimated = SQL("COALESCE(wo.estimated_duration, 0)")
        # the clock of a work order In Progress runs since in_progress_since
        actual = SQL(
            "COALESCE(wo.actual_duration, 0) + COALESCE(EXTRACT(EPOCH FROM "
            "(NOW() AT TIME ZONE 'UTC') - wo.in_progress_since) / 3600.0, 0)"
        )
        return SQL(" UNION ALL ").join(
            [
                self._select_kind("estimated", estimated, SQL("TRUE")),
                self._select_kind("real", actual, started),
                self._select_kind(
                    "variance", SQL("%s - %s", actual, estimated), started
                ),
            ]
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
