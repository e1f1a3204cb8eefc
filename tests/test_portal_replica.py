from unittest.mock import patch

from odoo import http
from odoo.modules.registry import Registry
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestPortalReadReplica(WorkOrderCommon, HttpCase):
    """The portal list reads the replica, but not right after the visitor's change."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env,
            login="wo_replica_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.order._action_quote()

    def _list_cursor_is_readonly(self):
        """Whether GET /my/work-orders ran on a read-only (replica) cursor.

        The last cursor a request opens is the one of its route (the first
        ones check the registry's signaling). The session's first request is
        not used: it writes the device log, which moves any route to a
        read/write cursor.
        """
        opened = []
        cursor = Registry.cursor

        def record(registry, readonly=False):
            opened.append(readonly)
            return cursor(registry, readonly=readonly)

        with patch.object(Registry, "cursor", record):
            res = self.url_open("/my/work-orders")
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.order.name, res.text)
        return opened[-1]

    def _decline(self):
        return self.url_open(
            f"/my/work-orders/{self.order.id}/decline",
            data={"csrf_token": http.Request.csrf_token(self), "decline_reason": ""},
            allow_redirects=False,
        )

    def test_list_reads_primary_after_own_decision(self):
        self.authenticate("wo_replica_portal", "wo_replica_portal")
        self.url_open("/my")
        self.assertTrue(self._list_cursor_is_readonly())
        res = self._decline()
        self.assertIn("message=declined", res.headers["Location"])
        self.assertEqual(self.order.state, "rejected")
        self.assertFalse(self._list_cursor_is_readonly())

    def test_refused_decision_keeps_the_replica(self):
        self.order._portal_decline("", self.customer)  # nothing left to decide
        self.authenticate("wo_replica_portal", "wo_replica_portal")
        res = self._decline()
        self.assertIn("error=refused", res.headers["Location"])
        self.assertTrue(self._list_cursor_is_readonly())
