from datetime import timedelta
from urllib.parse import urlsplit

from lxml import html

from odoo import fields, http
from odoo.tests import HttpCase, new_test_user, tagged

from .test_reapproval import ReapprovalCommon


@tagged("post_install", "-at_install")
class TestPortalNeedsActionTab(ReapprovalCommon, HttpCase):
    """The customer's list puts under "Needs action" every work order awaiting
    their answer: a quote, a revised quote after an approval, a visit to
    confirm; Active keeps the rest of the work in hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env,
            login="wo_portal_tabs",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Other Tabs Customer", "email": "other-tabs@example.com"}
        )
        new_test_user(
            cls.env,
            login="wo_other_tabs",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )
        soon = (fields.Datetime.now() + timedelta(days=3)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        # cls.order: approved, then its lines changed and a revised quote sent
        cls.quoted = cls._create_order(title="Quoted job")
        cls.quoted._action_quote()
        cls.approved = cls._create_order(title="Approved job")
        cls.approved._action_quote()
        cls.approved.action_mark_approved()
        cls.visit_pending = cls._create_order(title="Visit to confirm")
        cls.visit_confirmed = cls._create_order(title="Visit confirmed")
        cls.visit_past = cls._create_order(title="Visit gone by")
        for order in cls.visit_pending + cls.visit_confirmed + cls.visit_past:
            order._action_quote()
            order.action_mark_approved()
            order.with_user(cls.manager)._action_schedule(soon, cls.technician)
        cls.visit_confirmed._action_portal_confirm_visit()
        # the visit time went by without an answer: nothing left to confirm
        cls.visit_past.write(
            {"scheduled_date": fields.Datetime.now() - timedelta(hours=2)}
        )
        cls.other_quoted = cls.env["work.order"].create(
            {"partner_id": cls.other_customer.id, "title": "Other customer's quote"}
        )
        cls.other_quoted._action_quote()

    def setUp(self):
        super().setUp()
        self._change_lines()
        self._send_revised_quote()
        self.assertEqual(self.order.reapproval_state, "pending")
        self.assertEqual(self.visit_pending.appointment_state, "pending")
        self.assertEqual(self.visit_past.appointment_state, "pending")
        self.authenticate("wo_portal_tabs", "wo_portal_tabs")

    def _tab(self, tab):
        """The ids listed under ``tab``, the tab counts and the page."""
        res = self.url_open(f"/my/work-orders?filterby={tab}")
        self.assertEqual(res.status_code, 200)
        tree = html.fromstring(res.content)
        ids = {
            int(i)
            for i in tree.xpath(
                "//tr[contains(@class, 'o_work_order_portal_row')]/@data-id"
            )
        }
        counts = {
            a.get("data-tab"): int(
                a.xpath(".//span[contains(@class, 'o_work_order_tab_count')]")[0].text
            )
            for a in tree.xpath("//ul[contains(@class, 'o_work_order_portal_tabs')]//a")
        }
        return ids, counts, tree

    def _hints(self, tree):
        return {
            int(row.get("data-id")): row.xpath(
                "string(.//span[contains(@class, 'o_work_order_action_hint')])"
            ).strip()
            for row in tree.xpath("//tr[contains(@class, 'o_work_order_portal_row')]")
        }

    def _post(self, order, suffix):
        return self.url_open(
            f"/my/work-orders/{order.id}{suffix}",
            data={"csrf_token": http.Request.csrf_token(self)},
            allow_redirects=False,
        )

    def test_revised_quote_and_visit_to_confirm_need_the_customer(self):
        needs, counts, tree = self._tab("needs_action")
        self.assertEqual(needs, {self.order.id, self.quoted.id, self.visit_pending.id})
        active, __, __ = self._tab("active")
        self.assertEqual(
            active,
            {self.approved.id, self.visit_confirmed.id, self.visit_past.id},
        )
        self.assertEqual(counts, {"all": 6, "needs_action": 3, "active": 3, "done": 0})
        # an Approved or Scheduled work order there says what it awaits
        self.assertEqual(
            self._hints(tree),
            {
                self.order.id: "Revised quote to approve",
                self.quoted.id: "",
                self.visit_pending.id: "Visit to confirm",
            },
        )

    def test_answering_moves_the_work_order_to_active(self):
        res = self._post(self.order, "/approve")
        self.assertEqual(res.status_code, 303)
        self.assertFalse(self.order.reapproval_state)
        res = self._post(self.visit_pending, "/confirm")
        self.assertEqual(res.status_code, 303)
        self.assertEqual(self.visit_pending.appointment_state, "confirmed")
        needs, counts, __ = self._tab("needs_action")
        self.assertEqual(needs, {self.quoted.id})
        active, __, tree = self._tab("active")
        self.assertEqual(
            active,
            {
                self.order.id,
                self.approved.id,
                self.visit_pending.id,
                self.visit_confirmed.id,
                self.visit_past.id,
            },
        )
        self.assertEqual(counts, {"all": 6, "needs_action": 1, "active": 5, "done": 0})
        self.assertFalse(any(self._hints(tree).values()))

    def test_declined_revision_and_cancelled_order_leave_the_tab(self):
        res = self._post(self.order, "/decline")
        self.assertEqual(res.status_code, 303)
        self.assertEqual(
            (self.order.state, self.order.reapproval_state), ("approved", "declined")
        )
        self.visit_pending.with_user(self.manager).action_cancel()
        needs, counts, __ = self._tab("needs_action")
        self.assertEqual(needs, {self.quoted.id})
        self.assertEqual(counts, {"all": 6, "needs_action": 1, "active": 4, "done": 1})
        done, __, __ = self._tab("done")
        self.assertEqual(done, {self.visit_pending.id})

    def test_another_customer_sees_only_their_own(self):
        self.authenticate("wo_other_tabs", "wo_other_tabs")
        needs, counts, __ = self._tab("needs_action")
        self.assertEqual(needs, {self.other_quoted.id})
        self.assertEqual(counts, {"all": 1, "needs_action": 1, "active": 0, "done": 0})
        # and cannot answer the first customer's revised quote
        res = self._post(self.order, "/approve")
        self.assertEqual(urlsplit(res.headers["Location"]).path, "/my")
        self.assertEqual(self.order.reapproval_state, "pending")
