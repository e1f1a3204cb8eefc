from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestBackendUi(WorkOrderCommon, HttpCase):
    def test_empty_search_says_nothing_found(self):
        self.start_tour("/odoo", "work_order_empty_search_tour", login="wo_manager")

    def test_lifecycle_in_the_web_client(self):
        """Template, Save & Send Quote, approve, schedule, start, complete and
        invoice, clicked through the real form by a billing manager."""
        self.env["work.order.template"].create(
            {
                "name": "Tour filter cleaning",
                "title": "Deep clean of the filter",
                "line_ids": [
                    Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
                ],
            }
        )
        new_test_user(
            self.env,
            login="wo_billing",
            groups="work_order.group_work_order_manager,account.group_account_invoice",
            name="Bill Manager",
            email="bill@example.com",
        )
        self.start_tour("/odoo", "work_order_lifecycle_tour", login="wo_billing")
        order = self.env["work.order"].search(
            [("title", "=", "Deep clean of the filter")]
        )
        self.assertEqual(order.state, "invoiced")
        self.assertEqual(order.user_id, self.technician)
        self.assertTrue(order.date_quoted and order.date_started)
        self.assertEqual(len(order.invoice_ids), 1)
        self.assertEqual(order.invoice_ids.amount_total, order.amount_total)
        self.assertEqual(len(order.send_history_ids), 1)

    def test_empty_database_invites_to_create(self):
        action = self.env.ref("work_order.work_order_action")
        self.assertIn("No work orders yet", action.help)
