from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestAccess(WorkOrderCommon):
    def test_technician_works_orders_but_cannot_delete_or_manage_templates(self):
        WorkOrder = self.env["work.order"].with_user(self.technician)
        order = WorkOrder.create({"partner_id": self.customer.id, "title": "By tech"})
        order.write({"title": "Edited by tech"})
        self._send_composer(order.action_send_quote(), order.env)
        self.assertEqual(order.state, "quoted")
        order.action_revise()
        with self.assertRaises(AccessError):
            order.unlink()
        with self.assertRaises(AccessError):
            self.env["work.order.template"].with_user(self.technician).create(
                {"name": "Not allowed"}
            )

    def test_manager_manages_templates_and_deletes_drafts(self):
        template = (
            self.env["work.order.template"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Allowed",
                    "line_ids": [Command.create({"product_id": self.part.id})],
                }
            )
        )
        self.assertTrue(template.line_ids)
        order = self._create_order().with_user(self.manager)
        order.unlink()
        self.assertFalse(order.exists())

    def test_user_without_group_has_no_access(self):
        outsider = new_test_user(self.env, login="wo_nobody", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["work.order"].with_user(outsider).search([])

    def test_company_b_cannot_read_company_a(self):
        company_b = self.env["res.company"].create({"name": "WO Company B"})
        user_b = new_test_user(
            self.env,
            login="wo_user_b",
            groups="work_order.group_work_order_manager",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        orders_b = self.env["work.order"].with_user(user_b).search([])
        self.assertNotIn(self.order, orders_b)
        with self.assertRaises(AccessError):
            self.order.with_user(user_b).read(["title"])
