"""18.0.1.7.0: a work order's invoices are a many-to-many link.

Up to 18.0.1.6.0 an invoice named the one work order it billed in
``account_move.work_order_id``, and a service agreement's monthly invoice was
named by each visit it billed in ``work_order.period_invoice_id``. From
18.0.1.7.0 both are the relation ``account_move_work_order_rel`` behind
``work.order.invoice_ids`` and ``account.move.work_order_ids``, so a visit
billed by a monthly invoice follows it like any invoiced work order.

Once the module's models are updated (the relation table exists), every old
link is copied into it. The old columns are left in place, unused.

Safe to run twice: a link already there is not added again.
"""

import logging

from odoo.tools import SQL
from odoo.tools.sql import column_exists, table_exists

_logger = logging.getLogger(__name__)

RELATION = "account_move_work_order_rel"


def migrate(cr, version):
    if not version:
        return
    count = copy_invoice_links(cr)
    _logger.info(
        "work_order 18.0.1.7.0: %s invoice links copied to %s", count, RELATION
    )


def copy_invoice_links(cr):
    """Copy the old invoice links into the relation; returns how many were
    added."""
    if not table_exists(cr, RELATION):
        return 0
    sources = []
    if column_exists(cr, "account_move", "work_order_id"):
        sources.append(
            SQL(
                "SELECT id AS move_id, work_order_id FROM account_move "
                "WHERE work_order_id IS NOT NULL"
            )
        )
    if column_exists(cr, "work_order", "period_invoice_id"):
        sources.append(
            SQL(
                "SELECT period_invoice_id AS move_id, id AS work_order_id "
                "FROM work_order WHERE period_invoice_id IS NOT NULL"
            )
        )
    if not sources:
        return 0
    cr.execute(
        SQL(
            """
            INSERT INTO %(relation)s (move_id, work_order_id)
            SELECT DISTINCT link.move_id, link.work_order_id
              FROM (%(links)s) link
              JOIN account_move move ON move.id = link.move_id
              JOIN work_order wo ON wo.id = link.work_order_id
                ON CONFLICT DO NOTHING
            """,
            relation=SQL.identifier(RELATION),
            links=SQL(" UNION ").join(sources),
        )
    )
    return cr.rowcount
