from odoo.tests import HttpCase, tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestBackendUi(WorkOrderCommon, HttpCase):
    def test_empty_search_says_nothing_found(self):
        self.start_tour("/odoo", "work_order_empty_search_tour", login="wo_manager")

    def test_empty_database_invites_to_create(self):
        action = self.env.ref("work_order.work_order_action")
        self.assertIn("No work orders yet", action.help)
