from datetime import datetime

from odoo import Command
from odoo.modules.migration import load_script
from odoo.tests import tagged
from odoo.tools import SQL, file_path

from .common import WorkOrderCommon

PRE_MIGRATION_1_1_0 = "work_order/migrations/18.0.1.1.0/pre-migration.py"


@tagged("post_install", "-at_install")
class TestMigration(WorkOrderCommon):
    """18.0.1.1.0: transfers made by 18.0.1.0.0 (a plain ``work_order_id``, no
    procurement group) are put in their work order's procurement group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = load_script(
            file_path(PRE_MIGRATION_1_1_0), "work_order_pre_migration_1_1_0"
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.valve = cls.env["product.product"].create(
            {"name": "WO Valve", "type": "consu", "is_storable": True}
        )
        for product, quantity in ((cls.part, 10.0), (cls.valve, 4.0)):
            cls.env["stock.quant"]._update_available_quantity(
                product, cls.warehouse.lot_stock_id, quantity
            )

    def _scheduled_order(self, product=None, qty=3.0):
        order = self._create_order(
            service_address_id=self.service_address.id,
            line_ids=[
                Command.create(
                    {"product_id": (product or self.part).id, "product_uom_qty": qty}
                ),
                Command.create({"product_id": self.labour.id, "product_uom_qty": 1}),
            ],
        )
        self._send_composer(order.action_send_quote(), order.env)
        order.action_mark_approved()
        order._action_schedule(datetime(2030, 5, 4, 9, 0))
        return order

    def _make_old_style(self, orders):
        """The data as 18.0.1.0.0 left it: the transfers keep their stored
        ``work_order_id``; transfers and moves have no group and the moves no
        rule; the work orders have no procurement group."""
        groups = orders.procurement_group_id
        pickings = orders.picking_ids
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE stock_move SET group_id = NULL, rule_id = NULL, "
                "location_final_id = NULL WHERE picking_id IN %s",
                tuple(pickings.ids),
            )
        )
        self.env.cr.execute(
            SQL(
                "UPDATE stock_picking SET group_id = NULL WHERE id IN %s",
                tuple(pickings.ids),
            )
        )
        self.env.cr.execute(
            SQL(
                "UPDATE work_order SET procurement_group_id = NULL WHERE id IN %s",
                tuple(orders.ids),
            )
        )
        self.env.cr.execute(
            SQL("DELETE FROM procurement_group WHERE id IN %s", tuple(groups.ids))
        )
        self.env.invalidate_all()
        self.assertFalse(orders.procurement_group_id)
        self.assertFalse(pickings.group_id)
        self.assertFalse(pickings.move_ids.group_id)
        for order in orders:
            self.assertEqual(order.picking_ids.work_order_id, order)

    def _migrate(self):
        self.migration.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()

    def _assert_relinked(self, order, pickings):
        group = order.procurement_group_id
        self.assertTrue(group)
        self.assertEqual(group.work_order_id, order)
        self.assertEqual(group.name, order.name)
        self.assertEqual(group.move_type, "direct")
        self.assertEqual(group.partner_id, pickings.sorted("id")[-1:].partner_id)
        self.assertEqual(order.picking_ids, pickings)
        self.assertEqual(pickings.group_id, group)
        self.assertEqual(pickings.move_ids.group_id, group)
        # What Odoo would compute for the stored related field is what is
        # stored: a later recomputation keeps the link.
        self.env.add_to_compute(pickings._fields["work_order_id"], pickings)
        self.env.flush_all()
        pickings.invalidate_recordset(["work_order_id"])
        self.assertEqual(pickings.work_order_id, order)

    def test_old_transfer_joins_the_work_order_group_and_completes(self):
        order = self._scheduled_order()
        other = self._scheduled_order(qty=2.0)
        self._make_old_style(order | other)
        picking = order.picking_ids
        move = picking.move_ids

        self._migrate()
        self._assert_relinked(order, picking)
        self._assert_relinked(other, other.picking_ids)
        self.assertNotEqual(order.procurement_group_id, other.procurement_group_id)
        self.assertEqual(order.procurement_group_id.partner_id, self.service_address)
        # The old move counts as procured: a sync reserves nothing twice.
        order._sync_stock_pickings()
        self.assertEqual(order.picking_ids, picking)
        self.assertEqual(order.procurement_group_id.stock_move_ids, move)
        self.assertEqual(move.product_uom_qty, 3.0)
        self.assertEqual(order._get_pick_list(), [(self.part, 3.0, self.part.uom_id)])
        # Complete validates the old transfer.
        order.action_start()
        order.action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(picking.state, "done")
        self.assertEqual(order.picking_ids, picking)
        # Cancel cancels the other one.
        other.with_user(self.manager).action_cancel()
        self.assertEqual(other.state, "cancelled")
        self.assertEqual(other.picking_ids.state, "cancel")

    def test_old_backorder_stays_with_its_work_order(self):
        order = self._scheduled_order(product=self.valve, qty=6.0)  # 4 on hand
        order.action_start()
        picking = order.picking_ids
        # The technician used the 6 valves agreed (recorded on site); only 4
        # were reserved.
        order.line_ids.filtered(lambda line: line.product_id == self.valve).write(
            {"qty_done": 6.0}
        )
        order.action_complete()
        backorder = order.picking_ids - picking
        self.assertEqual(backorder.backorder_id, picking)
        self._make_old_style(order)

        self._migrate()
        self._assert_relinked(order, picking | backorder)
        # The backorder, validated once the parts arrive, still is the order's.
        self.env["stock.quant"]._update_available_quantity(
            self.valve, self.warehouse.lot_stock_id, 2.0
        )
        backorder.action_assign()
        backorder.button_validate()
        self.assertEqual(backorder.state, "done")
        self.assertEqual(order.picking_ids, picking | backorder)

    def test_running_twice_changes_nothing(self):
        order = self._scheduled_order()
        self._make_old_style(order)
        self._migrate()
        group = order.procurement_group_id
        groups_before = self.env["procurement.group"].search_count([])
        counts = self.migration.link_pickings_to_procurement_groups(self.env.cr)
        self.assertEqual(counts, {"groups": 0, "orders": 0, "pickings": 0, "moves": 0})
        self.env.invalidate_all()
        self.assertEqual(self.env["procurement.group"].search_count([]), groups_before)
        self.assertEqual(order.procurement_group_id, group)

    def test_work_orders_without_transfers_get_no_group(self):
        order = self._create_order()
        self._migrate()
        self.assertFalse(order.procurement_group_id)

    def test_fresh_install_runs_nothing(self):
        order = self._scheduled_order()
        self._make_old_style(order)
        self.migration.migrate(self.env.cr, None)
        self.env.invalidate_all()
        self.assertFalse(order.procurement_group_id)


POST_MIGRATION_1_7_0 = "work_order/migrations/18.0.1.7.0/post-migration.py"


@tagged("post_install", "-at_install")
class TestMigrationInvoiceLinks(WorkOrderCommon):
    """18.0.1.7.0: the invoice links of 18.0.1.6.0 (``account_move.work_order_id``
    for an invoice of one work order, ``work_order.period_invoice_id`` for a
    service agreement's monthly invoice) become the work orders' ``invoice_ids``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = load_script(
            file_path(POST_MIGRATION_1_7_0), "work_order_post_migration_1_7_0"
        )

    def _invoiced(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        order.write({"state": "completed", "date_completed": datetime(2030, 5, 4)})
        order.with_user(self.manager).action_create_invoice()
        return order

    def _make_old_style(self, single, visits, period_invoice):
        """The links as 18.0.1.6.0 stored them, and none in the relation."""
        self.env.flush_all()
        cr = self.env.cr
        for table, column in (
            ("account_move", "work_order_id"),
            ("work_order", "period_invoice_id"),
        ):
            cr.execute(
                SQL(
                    "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s int4",
                    SQL.identifier(table),
                    SQL.identifier(column),
                )
            )
        cr.execute(
            SQL(
                "UPDATE account_move SET work_order_id = %s WHERE id = %s",
                single.id,
                single.invoice_ids.id,
            )
        )
        if visits:
            cr.execute(
                SQL(
                    "UPDATE work_order SET period_invoice_id = %s WHERE id IN %s",
                    period_invoice.id,
                    tuple(visits.ids),
                )
            )
        cr.execute(
            SQL(
                "DELETE FROM account_move_work_order_rel WHERE work_order_id IN %s",
                tuple((single | visits).ids),
            )
        )
        self.env.invalidate_all()
        self.assertFalse((single | visits).invoice_ids)

    def test_old_links_become_invoice_ids(self):
        single = self._invoiced()
        invoice = single.invoice_ids
        visits = self._invoiced() | self._invoiced()
        period_invoice = visits[0].invoice_ids
        visits[1].invoice_ids.unlink()  # back to Completed: invoiced again below
        visits[1]._workflow_write({"state": "invoiced"})
        self._make_old_style(single, visits, period_invoice)

        self.migration.migrate(self.env.cr, "18.0.1.6.0")
        self.env.invalidate_all()
        self.assertEqual(single.invoice_ids, invoice)
        self.assertEqual(invoice.work_order_ids, single)
        self.assertEqual(period_invoice.work_order_ids, visits)
        self.assertEqual(visits.invoice_ids, period_invoice)
        # the visits follow their invoice like any work order
        period_invoice.button_cancel()
        self.assertEqual(visits.mapped("state"), ["completed", "completed"])
        # a second run adds nothing
        self.assertEqual(self.migration.copy_invoice_links(self.env.cr), 0)

    def test_fresh_install_runs_nothing(self):
        order = self._invoiced()
        self._make_old_style(order, self.env["work.order"], order.invoice_ids)
        self.migration.migrate(self.env.cr, None)
        self.env.invalidate_all()
        self.assertFalse(order.invoice_ids)


POST_MIGRATION_1_8_0 = "work_order/migrations/18.0.1.8.0/post-migration.py"


@tagged("post_install", "-at_install")
class TestMigrationReportName(WorkOrderCommon):
    """18.0.1.8.0: the quote PDF's name rule is the code's in every language (an
    old French rule named a revised quote "Bon d'intervention")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = load_script(
            file_path(POST_MIGRATION_1_8_0), "work_order_post_migration_1_8_0"
        )
        cls.report = cls.env.ref("work_order.action_report_work_order")
        cls.env["res.lang"]._activate_lang("fr_FR")

    def _make_old_style(self):
        self.env.cr.execute(
            SQL(
                """UPDATE ir_act_report_xml
                      SET print_report_name = print_report_name
                          || jsonb_build_object('fr_FR', %s::text)
                    WHERE id = %s""",
                '"Bon d\'intervention - %s" % object.name',
                self.report.id,
            )
        )
        self.env.invalidate_all()

    def test_old_translation_is_dropped(self):
        self._make_old_style()
        self.assertIn(
            "Bon d'intervention",
            self.report.with_context(lang="fr_FR").print_report_name,
        )
        self.migration.migrate(self.env.cr, "18.0.1.7.0")
        self.env.invalidate_all()
        self.assertEqual(
            self.report.with_context(lang="fr_FR").print_report_name,
            "object._get_report_base_filename()",
        )
        # a second run changes nothing
        self.assertFalse(self.migration.reset_report_name_translations(self.env.cr))

    def test_fresh_install_runs_nothing(self):
        self._make_old_style()
        self.migration.migrate(self.env.cr, None)
        self.env.invalidate_all()
        self.assertIn(
            "Bon d'intervention",
            self.report.with_context(lang="fr_FR").print_report_name,
        )
