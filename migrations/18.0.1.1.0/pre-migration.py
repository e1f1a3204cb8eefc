"""18.0.1.1.0: the parts of a work order go through Odoo procurement.

Version 18.0.1.0.0 created each work order's delivery by hand: the transfer
carried ``work_order_id`` as a plain stored field and had no procurement
group. From 18.0.1.1.0 the work order procures through its own group
(``work_order.procurement_group_id``, ``procurement_group.work_order_id``) and
``stock.picking.work_order_id`` is related to ``group_id.work_order_id``.

Before the module's models are updated, every work order that has transfers
gets the procurement group it would have had, and its transfers (backorders
included) and their moves are put into it. The stored related column already
exists, so Odoo does not recompute it on update; the values it would compute
from the groups are exactly the ones already stored, and they stay right when
a later change recomputes them. The chain then works as for a new work order:
the lines' moves count as procured (nothing is reserved twice), Complete
validates the transfers and Cancel cancels them.

Safe to run twice: only missing columns, groups and links are added.
"""

import logging

from odoo import SUPERUSER_ID
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    counts = link_pickings_to_procurement_groups(cr)
    _logger.info(
        "work_order 18.0.1.1.0: %(groups)s procurement groups created, "
        "%(orders)s work orders linked, %(pickings)s transfers and %(moves)s "
        "moves put in their work order's group",
        counts,
    )


def link_pickings_to_procurement_groups(cr):
    """Give each work order with transfers a procurement group holding them.

    Returns the number of groups created, of work orders, transfers and moves
    linked.
    """
    counts = {"groups": 0, "orders": 0, "pickings": 0, "moves": 0}
    if not column_exists(cr, "stock_picking", "work_order_id"):
        return counts
    if not column_exists(cr, "work_order", "procurement_group_id"):
        create_column(cr, "work_order", "procurement_group_id", "int4")
    if not column_exists(cr, "procurement_group", "work_order_id"):
        create_column(cr, "procurement_group", "work_order_id", "int4")

    # A group already pointing at its work order (a previous run) is reused.
    cr.execute(
        SQL(
            """
            UPDATE work_order wo
               SET procurement_group_id = grp.id
              FROM (SELECT DISTINCT ON (work_order_id) id, work_order_id
                      FROM procurement_group
                     WHERE work_order_id IS NOT NULL
                  ORDER BY work_order_id, id) grp
             WHERE grp.work_order_id = wo.id
               AND wo.procurement_group_id IS NULL
            """
        )
    )
    counts["orders"] += cr.rowcount

    # One group per work order with transfers, as the work order creates it
    # (``_prepare_procurement_group_vals``): its number, partial deliveries,
    # the partner of its transfers (else its service address, else the
    # customer). Odoo 18's procurement.group has no company: only ``name``
    # is required.
    cr.execute(
        SQL(
            """
            WITH new_group AS (
                INSERT INTO procurement_group (
                    name, move_type, partner_id, work_order_id,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT wo.name, 'direct',
                       COALESCE(
                           (SELECT sp.partner_id
                              FROM stock_picking sp
                             WHERE sp.work_order_id = wo.id
                               AND sp.partner_id IS NOT NULL
                          ORDER BY sp.id DESC
                             LIMIT 1),
                           wo.service_address_id,
                           wo.partner_id
                       ),
                       wo.id, %(uid)s, %(uid)s,
                       NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                  FROM work_order wo
                 WHERE wo.procurement_group_id IS NULL
                   AND EXISTS (SELECT 1 FROM stock_picking sp
                                WHERE sp.work_order_id = wo.id)
              ORDER BY wo.id
             RETURNING id, work_order_id
            )
            UPDATE work_order wo
               SET procurement_group_id = new_group.id
              FROM new_group
             WHERE new_group.work_order_id = wo.id
            """,
            uid=SUPERUSER_ID,
        )
    )
    counts["groups"] = cr.rowcount
    counts["orders"] += cr.rowcount

    # The transfers (backorders included) without a group go into their work
    # order's group, so ``group_id.work_order_id`` is their work order.
    cr.execute(
        SQL(
            """
            UPDATE stock_picking sp
               SET group_id = wo.procurement_group_id
              FROM work_order wo
             WHERE sp.work_order_id = wo.id
               AND sp.group_id IS NULL
               AND wo.procurement_group_id IS NOT NULL
            """
        )
    )
    counts["pickings"] = cr.rowcount

    # Their moves too: the work order finds what its lines already procured
    # through the group's moves, and a transfer's group follows its moves.
    cr.execute(
        SQL(
            """
            UPDATE stock_move sm
               SET group_id = sp.group_id
              FROM stock_picking sp
              JOIN work_order wo ON wo.id = sp.work_order_id
             WHERE sm.picking_id = sp.id
               AND sm.group_id IS NULL
               AND sp.group_id = wo.procurement_group_id
            """
        )
    )
    counts["moves"] = cr.rowcount

    # A transfer already in another group keeps it; its link to the work
    # order would be lost when Odoo recomputes it: say so.
    cr.execute(
        SQL(
            """
            SELECT sp.name
              FROM stock_picking sp
              JOIN work_order wo ON wo.id = sp.work_order_id
             WHERE sp.group_id IS DISTINCT FROM wo.procurement_group_id
          ORDER BY sp.id
            """
        )
    )
    foreign = [name for (name,) in cr.fetchall()]
    if foreign:
        _logger.warning(
            "work_order 18.0.1.1.0: %s transfers of work orders are in another "
            "procurement group and were left there: %s",
            len(foreign),
            ", ".join(foreign),
        )
    return counts
