from odoo import fields, models, tools
from odoo.tools import SQL

from .work_order import STATES

DURATION_KINDS = [
    ("estimated", "Estimated"),
    ("actual", "Actual"),
    ("variance", "Variance"),
]


class WorkOrderDurationReport(models.Model):
    """Estimated and actual hours side by side, one row per work order and kind.

    A graph or pivot grouped by ``kind`` shows the estimated hours, the actual
    hours and their variance next to each other. Actual hours and the variance
    exist only once the work started: a work order that did not start has
    only its estimated row.
    """

    _name = "work.order.duration.report"
    _description = "Work Order Durations"
    _auto = False
    _order = "order_id desc, kind"

    order_id = fields.Many2one("work.order", string="Work Order", readonly=True)
    kind = fields.Selection(DURATION_KINDS, readonly=True)
    hours = fields.Float(readonly=True, aggregator="sum")
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
        return SQL(" UNION ALL ").join(
            [
                self._select_kind(
                    "estimated", SQL("COALESCE(wo.estimated_duration, 0)"), SQL("TRUE")
                ),
                self._select_kind(
                    "actual", SQL("COALESCE(wo.actual_duration, 0)"), started
                ),
                self._select_kind(
                    "variance",
                    SQL(
                        "COALESCE(wo.actual_duration, 0) "
                        "- COALESCE(wo.estimated_duration, 0)"
                    ),
                    started,
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
