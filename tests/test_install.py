from odoo.tests import new_test_user, tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestInstall(WorkOrderCommon):
    def test_groups_menu_and_sequence_exist(self):
        user_group = self.env.ref("work_order.group_work_order_user")
        manager_group = self.env.ref("work_order.group_work_order_manager")
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertIn(self.env.ref("base.user_admin"), manager_group.users)
        menu = self.env.ref("work_order.work_order_menu_root")
        self.assertEqual(menu.name, "Work Orders")
        self.assertFalse(menu.parent_id)
        self.assertEqual(menu.web_icon, "work_order,static/description/icon.png")
        sequence = self.env["ir.sequence"].search([("code", "=", "work.order")])
        self.assertEqual(len(sequence), 1)
        self.assertRegex(self.order.name, r"^WO/\d{4}/\d{5}$")

    def test_menu_hidden_without_work_order_group(self):
        menu = self.env.ref("work_order.work_order_menu_root")
        outsider = new_test_user(
            self.env, login="wo_outsider", groups="base.group_user"
        )
        visible = self.env["ir.ui.menu"].with_user(outsider)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        visible = self.env["ir.ui.menu"].with_user(self.technician)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        config = self.env.ref("work_order.work_order_menu_configuration")
        self.assertNotIn(config.id, visible)
        visible = self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids()
        self.assertIn(config.id, visible)

    def test_app_icon_is_a_real_png(self):
        from odoo.tools.misc import file_open

        with file_open("work_order/static/description/icon.png", "rb") as icon:
            data = icon.read()
        self.assertTrue(data.startswith(b"\x89PNG"))
        self.assertGreater(len(data), 2000)
