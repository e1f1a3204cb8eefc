import base64
import io
import json
import os
from datetime import datetime, timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from freezegun import freeze_time
from lxml import html
from PIL import Image, ImageFile
from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import SUPERUSER_ID, Command, api, fields, http
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from odoo.addons.portal.controllers.portal import CustomerPortal

from .common import ConcurrentWorkOrderCase, WorkOrderCommon


def _image_b64(size=(120, 40), fmt="PNG", noise=False):
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, "white")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


PNG = _image_b64()
JPEG = _image_b64(fmt="JPEG")
SVG = base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
).decode()
NOT_AN_IMAGE = base64.b64encode(b"Just some text, not an image at all.").decode()
# A PNG header followed by garbage: the type sniffs right, the data is broken.
TRUNCATED_PNG = base64.b64encode(base64.b64decode(PNG)[:40]).decode()


@tagged("post_install", "-at_install")
class TestWorkOrderPortal(WorkOrderCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="wo_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
            name=cls.customer.name,
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Other Customer", "email": "other@example.com"}
        )
        cls.other_user = new_test_user(
            cls.env,
            login="wo_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
            name=cls.other_customer.name,
        )
        cls.order.write({"user_id": cls.technician.id, "title": "Fix the pump"})
        cls.order._action_quote()
        cls.token = cls.order._portal_ensure_token()
        cls.other_order = cls.env["work.order"].create(
            {
                "partner_id": cls.other_customer.id,
                "title": "Other customer's job",
                "line_ids": [Command.create({"product_id": cls.labour.id})],
            }
        )
        cls.other_order._action_quote()
        cls.other_token = cls.other_order._portal_ensure_token()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _url(self, order=None, suffix="", query=""):
        order = order or self.order
        return f"/my/work-orders/{order.id}{suffix}{query}"

    def _snapshot(self, order=None):
        """What a refused call must leave unchanged."""
        order = order or self.order
        self._flush_tracking()
        order.invalidate_recordset()
        return (
            order.state,
            order.signed_by,
            bool(order.signature),
            order.approved_amount,
            order.decline_reason,
            len(order.message_ids),
            len(order.activity_ids),
        )

    def _flush_tracking(self):
        """Write the tracking messages still pending from the test's own writes."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _decision_messages(self, order=None):
        order = order or self.order
        order.invalidate_recordset()
        return order.message_ids.filtered(lambda m: "customer portal" in (m.body or ""))

    def _call_kw_error(self, method, args):
        """Call a model method over JSON-RPC; return the error message."""
        res = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "work.order",
                        "method": method,
                        "args": args,
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        return res.json()["error"]["data"]

    def _post_form(self, url, data, csrf=True):
        if csrf:
            data = {"csrf_token": http.Request.csrf_token(self), **data}
        return self.url_open(url, data=data, allow_redirects=False)

    def _sign(self, order=None, query=None, **params):
        order = order or self.order
        if query is None:
            query = f"?access_token={self.token}"
        return self.make_jsonrpc_request(self._url(order, "/sign", query), params)

    def _assert_redirect_home(self, res, msg=None):
        self.assertEqual(res.status_code, 303, msg)
        self.assertEqual(urlsplit(res.headers["Location"]).path, "/my", msg)

    def _bad_tokens(self):
        token = self.token
        return [
            ("empty", ""),
            ("whitespace", "   "),
            ("truncated", token[:-1]),
            ("extended", token + "0"),
            ("upper-cased", token.upper()),
            ("url-encoded twice", "".join(f"%25{ord(c):02X}" for c in token)),
            ("non-ascii", token[:-1] + "é"),
            ("another work order's", self.other_token),
        ]

    def _list_ids(self, query=""):
        res = self.url_open(f"/my/work-orders{query}")
        self.assertEqual(res.status_code, 200)
        tree = html.fromstring(res.content)
        ids = [
            int(i)
            for i in tree.xpath(
                "//tr[contains(@class, 'o_work_order_portal_row')]/@data-id"
            )
        ]
        return ids, tree

    # ------------------------------------------------------------------
    # Home and list
    # ------------------------------------------------------------------

    def test_home_counter(self):
        self._create_order(title="Second job")._action_quote()
        self.authenticate("wo_portal", "wo_portal")
        res = self.url_open("/my")
        self.assertEqual(res.status_code, 200)
        self.assertIn('data-placeholder_count="work_order_count"', res.text)
        self.assertIn('href="/my/work-orders"', res.text)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["work_order_count"]}
        )
        self.assertEqual(counters["work_order_count"], 2)

        self.authenticate("wo_other", "wo_other")
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["work_order_count"]}
        )
        self.assertEqual(counters["work_order_count"], 1)

    def test_list_tabs_counts_and_isolation(self):
        orders = {
            state: self._create_order(title=f"Job {state}")
            for state in ("approved", "scheduled", "completed", "rejected", "draft")
        }
        for state, order in orders.items():
            order.write({"state": state})
        self.authenticate("wo_portal", "wo_portal")

        ids, tree = self._list_ids()
        # never sent, the draft is not listed (see TestWorkOrderPortalVisibility)
        expected_all = {self.order.id} | {
            o.id for state, o in orders.items() if state != "draft"
        }
        self.assertEqual(set(ids), expected_all)
        self.assertNotIn(self.other_order.id, ids)
        counts = {
            a.get("data-tab"): int(
                a.xpath(".//span[contains(@class, 'o_work_order_tab_count')]")[0].text
            )
            for a in tree.xpath("//ul[contains(@class, 'o_work_order_portal_tabs')]//a")
        }
        self.assertEqual(counts, {"all": 5, "needs_action": 1, "active": 2, "done": 2})

        ids, __ = self._list_ids("?filterby=needs_action")
        self.assertEqual(ids, [self.order.id])
        ids, __ = self._list_ids("?filterby=active")
        self.assertEqual(set(ids), {orders["approved"].id, orders["scheduled"].id})
        ids, __ = self._list_ids("?filterby=done")
        self.assertEqual(set(ids), {orders["completed"].id, orders["rejected"].id})

        # Unknown values fall back to the defaults (all tabs, newest first).
        ids, __ = self._list_ids("?filterby=nope&sortby=nope&search_in=nope&page=x")
        self.assertEqual(ids, sorted(expected_all, reverse=True))
        ids, __ = self._list_ids("?sortby=oldest")
        self.assertEqual(ids, sorted(expected_all))

    def test_list_empty_tab_search_sort_and_pager(self):
        self.order.service_address_id = self.service_address
        urgent = self._create_order(
            title="Leaking roof", priority="3", service_address_id=self.customer.id
        )
        urgent._action_quote()
        self.authenticate("wo_portal", "wo_portal")

        ids, tree = self._list_ids("?filterby=done")
        self.assertEqual(ids, [])
        self.assertIn(
            "There are no work orders under",
            tree.xpath("//div[contains(@class, 'o_work_order_portal_empty')]")[
                0
            ].text_content(),
        )
        ids, __ = self._list_ids("?sortby=priority")
        self.assertEqual(ids[0], urgent.id)
        later = self._create_order(
            title="Later visit", service_address_id=self.customer.id
        )
        later._action_quote()
        later.scheduled_date = "2030-06-01 09:00:00"
        urgent.scheduled_date = "2030-05-01 09:00:00"
        ids, __ = self._list_ids("?sortby=scheduled_date")
        self.assertEqual(ids, [urgent.id, later.id, self.order.id])

        ids, __ = self._list_ids(f"?search={quote(self.order.name)}&search_in=name")
        self.assertEqual(
            self.env["work.order"].browse(ids).mapped("display_name"),
            [self.order.display_name],
        )
        ids, __ = self._list_ids("?search=roof&search_in=title")
        self.assertEqual(ids, [urgent.id])
        ids, __ = self._list_ids("?search=Shelbyville&search_in=address")
        self.assertEqual(ids, [self.order.id])
        ids, __ = self._list_ids("?search=Poolside")
        self.assertEqual(ids, [self.order.id])
        ids, tree = self._list_ids("?search=nothing-like-this")
        self.assertEqual(ids, [])
        self.assertIn(
            "No work order matches your search.",
            tree.xpath("//div[contains(@class, 'o_work_order_portal_empty')]")[
                0
            ].text_content(),
        )
        # The other customer's order is not found by its own number either.
        ids, __ = self._list_ids(f"?search={quote(self.other_order.name)}")
        self.assertEqual(ids, [])

        with patch.object(CustomerPortal, "_items_per_page", 1):
            first, tree = self._list_ids()
            second, __ = self._list_ids("/page/2")
        pages = tree.xpath("//div[contains(@class, 'o_portal_pager')]//a/@href")
        self.assertIn("/my/work-orders/page/2?filterby=all&sortby=newest", pages)
        self.assertEqual(len(first), 1)
        self.assertEqual(len(second), 1)
        self.assertNotEqual(first, second)

    def _count_queries(self, url):
        self.url_open(url)  # warm the caches
        start = self.cr.sql_log_count
        self.assertEqual(self.url_open(url).status_code, 200)
        return self.cr.sql_log_count - start

    def test_list_and_detail_query_counts_are_flat(self):
        # A neighbour, so that the detail page's previous/next links (from the
        # list's history in the session) cost the same in both measures.
        self._create_order(title="Neighbour")._action_quote()
        self.authenticate("wo_portal", "wo_portal")
        list_few = self._count_queries("/my/work-orders")
        detail_few = self._count_queries(self._url())
        for state in ("quoted", "approved", "scheduled", "completed", "rejected"):
            order = self._create_order(
                title=f"Bulk {state}",
                user_id=self.technician.id,
                line_ids=[
                    Command.create({"product_id": self.part.id}),
                    Command.create({"product_id": self.labour.id}),
                ],
            )
            order.write({"state": state})
        self.order.write(
            {
                "line_ids": [
                    Command.create({"display_type": "line_section", "name": "More"})
                ]
                + [
                    Command.create({"product_id": self.part.id, "discount": 5})
                    for __ in range(6)
                ]
            }
        )
        self.assertEqual(self._count_queries("/my/work-orders"), list_few)
        self.assertEqual(self._count_queries(self._url()), detail_few)

    def test_list_needs_login(self):
        self.authenticate(None, None)
        res = self.url_open("/my/work-orders", allow_redirects=False)
        self.assertEqual(res.status_code, 303)
        self.assertTrue(urlsplit(res.headers["Location"]).path.startswith("/web/login"))

    def test_portal_redirect_keeps_query(self):
        self.authenticate(None, None)
        res = self.url_open(
            "/portal/work-orders?filterby=done&sortby=oldest", allow_redirects=False
        )
        self.assertEqual(res.status_code, 303)
        location = urlsplit(res.headers["Location"])
        self.assertEqual(location.path, "/my/work-orders")
        self.assertEqual(
            parse_qs(location.query), {"filterby": ["done"], "sortby": ["oldest"]}
        )
        res = self.url_open("/portal/work-orders", allow_redirects=False)
        self.assertEqual(urlsplit(res.headers["Location"]).path, "/my/work-orders")
        self.assertEqual(urlsplit(res.headers["Location"]).query, "")

    # ------------------------------------------------------------------
    # Detail page
    # ------------------------------------------------------------------

    def test_detail_access_matrix(self):
        url = self._url()
        self.authenticate(None, None)
        self._assert_redirect_home(self.url_open(url, allow_redirects=False), "none")
        self._assert_redirect_home(
            self.url_open(url + "?access_token=x", allow_redirects=False), "wrong"
        )
        res = self.url_open(f"{url}?access_token={self.token}", allow_redirects=False)
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.order.name, res.text)

        self.authenticate("wo_portal", "wo_portal")
        res = self.url_open(url, allow_redirects=False)
        self.assertEqual(res.status_code, 200, "own login, no token")

        self.authenticate("wo_other", "wo_other")
        self._assert_redirect_home(self.url_open(url, allow_redirects=False), "other")
        self._assert_redirect_home(
            self.url_open(
                f"{url}?access_token={self.other_token}", allow_redirects=False
            ),
            "other customer with their own token",
        )
        res = self.url_open(f"{url}?access_token={self.token}", allow_redirects=False)
        self.assertEqual(res.status_code, 200, "anyone with the right token")

        self.authenticate("wo_tech", "wo_tech")
        res = self.url_open(url, allow_redirects=False)
        self.assertEqual(res.status_code, 200, "internal user")

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_pdf_download(self):
        self.authenticate(None, None)
        url = f"{self._url()}?access_token={self.token}&report_type=pdf&download=true"
        res = self.url_open(url, allow_redirects=False)
        self.assertEqual(res.status_code, 200)
        self.assertEqual(res.headers["Content-Type"], "application/pdf")
        self.assertIn("Quote", res.headers["Content-Disposition"])
        # in test mode Odoo serves the report's HTML instead of running
        # wkhtmltopdf (TestPdf renders real PDFs)
        self.assertIn(self.order.name, res.text)
        # the same download with a wrong token is refused like the page
        res = self.url_open(url.replace(self.token, "x"), allow_redirects=False)
        self._assert_redirect_home(res, "wrong token, pdf")

    def test_detail_bad_tokens_and_ids(self):
        self.authenticate(None, None)
        for label, token in self._bad_tokens():
            res = self.url_open(
                self._url(query=f"?access_token={token}"), allow_redirects=False
            )
            self._assert_redirect_home(res, label)
        # (A 1 MB query string never reaches Odoo: the HTTP server answers 414.
        # The 1 MB token is tested on the POST and JSON routes.)
        # URL-encoding the right token once is the same token.
        encoded = "".join(f"%{ord(c):02X}" for c in self.token)
        res = self.url_open(self._url(query=f"?access_token={encoded}"))
        self.assertEqual(res.status_code, 200)
        # A missing id, and a sale order's id and token.
        res = self.url_open(
            f"/my/work-orders/999999999?access_token={self.token}",
            allow_redirects=False,
        )
        self._assert_redirect_home(res, "missing id")
        sale_order = self.env["sale.order"].create({"partner_id": self.customer.id})
        sale_token = sale_order._portal_ensure_token()
        for order_id in {self.order.id, sale_order.id}:
            res = self.url_open(
                f"/my/work-orders/{order_id}?access_token={sale_token}",
                allow_redirects=False,
            )
            self._assert_redirect_home(res, f"sale order token on id {order_id}")

    def test_detail_content(self):
        self.order.write(
            {
                "service_address_id": self.service_address.id,
                "scheduled_date": fields.Datetime.now(),
                "customer_message": "<p>Please keep the dog inside.</p>",
                "line_ids": [
                    Command.create(
                        {"display_type": "line_section", "name": "Pump room"}
                    ),
                    Command.create(
                        {"display_type": "line_note", "name": "Bring the ladder"}
                    ),
                    Command.create(
                        {
                            "product_id": self.labour.id,
                            "discount": 12.5,
                            "name": "Promo",
                        }
                    ),
                ],
            }
        )
        photo = self.env["ir.attachment"].create(
            {
                "name": "pump.png",
                "datas": PNG,
                "res_model": "work.order",
                "res_id": self.order.id,
            }
        )
        # sent to the customer by the technician: published
        self.order.with_user(self.technician).message_post(
            body="The pump before the repair",
            attachment_ids=photo.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        internal_photo = self.env["ir.attachment"].create(
            {
                "name": "internal.png",
                "datas": PNG,
                "res_model": "work.order",
                "res_id": self.order.id,
            }
        )
        self.order.message_post(
            body="Internal only",
            attachment_ids=internal_photo.ids,
            subtype_xmlid="mail.mt_note",
        )
        self.authenticate(None, None)
        res = self.url_open(self._url(query=f"?access_token={self.token}"))
        self.assertEqual(res.status_code, 200)
        tree = html.fromstring(res.content)
        text = tree.text_content()
        for expected in (
            self.order.name,
            "Fix the pump",
            "Quoted",
            "Poolside Drive",
            "Tom Technician",
            "Please keep the dog inside.",
            "WO Pump Seal",
            "Pump room",
            "Bring the ladder",
            "WO Tax 15%",
            "12.5%",
            "Subtotal",
        ):
            self.assertIn(expected, text)
        self.assertTrue(tree.xpath("//*[contains(@class, 'o_work_order_sign_button')]"))
        self.assertTrue(
            tree.xpath("//form[contains(@class, 'o_work_order_approve_form')]")
        )
        self.assertTrue(
            tree.xpath("//form[contains(@class, 'o_work_order_decline_form')]")
        )
        self.assertTrue(tree.xpath("//owl-component[@name='portal.signature_form']"))
        self.assertTrue(tree.xpath("//div[@id='discussion']"))
        self.assertTrue(tree.xpath("//a[contains(@class, 'o_work_order_pdf')]"))
        photo_links = tree.xpath("//a[contains(@class, 'o_work_order_photo')]/@href")
        self.assertEqual(len(photo_links), 1)
        self.assertIn(f"/web/image/{photo.id}?access_token=", photo_links[0])
        # The photo link works for the visitor without a login.
        self.assertEqual(self.url_open(photo_links[0]).status_code, 200)
        self.assertFalse(
            tree.xpath("//*[contains(@class, 'o_work_order_approval_outdated')]")
        )

    def test_detail_shows_outdated_approval_and_signature(self):
        self._sign(name="Jane Customer", signature=PNG)
        self.order.invalidate_recordset()
        self.order.write({"line_ids": [Command.create({"product_id": self.labour.id})]})
        self.authenticate(None, None)
        res = self.url_open(self._url(query=f"?access_token={self.token}"))
        tree = html.fromstring(res.content)
        warning = tree.xpath("//*[contains(@class, 'o_work_order_approval_outdated')]")
        self.assertTrue(warning)
        self.assertIn("approved total", warning[0].text_content())
        signature = tree.xpath("//section[@id='signature']")[0].text_content()
        self.assertIn("Jane Customer", signature)
        self.assertFalse(
            tree.xpath("//*[contains(@class, 'o_work_order_sign_button')]")
        )
        self.assertFalse(
            tree.xpath("//form[contains(@class, 'o_work_order_approve_form')]")
        )

    def test_last_viewed_stamp(self):
        self.assertFalse(self.order.portal_last_viewed)
        self.authenticate("wo_tech", "wo_tech")
        self.assertEqual(self.url_open(self._url()).status_code, 200)
        self.order.invalidate_recordset()
        self.assertFalse(self.order.portal_last_viewed, "internal users leave no stamp")

        self.authenticate(None, None)
        self.url_open(self._url(query=f"?access_token={self.token}"))
        self.order.invalidate_recordset()
        self.assertTrue(self.order.portal_last_viewed, "a visitor with the link")

        self.order.portal_last_viewed = False
        self.order.write({"state": "completed"})  # locked: the stamp still lands
        self.authenticate("wo_portal", "wo_portal")
        self.url_open(self._url())
        self.order.invalidate_recordset()
        self.assertTrue(self.order.portal_last_viewed, "the customer's login")

    # ------------------------------------------------------------------
    # Approve and decline (HTTP forms)
    # ------------------------------------------------------------------

    def test_approve_access_matrix_changes_nothing(self):
        before = self._snapshot()
        url = self._url(suffix="/approve")
        self.authenticate(None, None)
        self._assert_redirect_home(self._post_form(url, {"access_token": ""}), "none")
        for label, token in self._bad_tokens():
            self._assert_redirect_home(
                self._post_form(url, {"access_token": token}), label
            )
        self._assert_redirect_home(
            self._post_form(url, {"access_token": "a" * 1_000_000}), "1 MB"
        )
        self._assert_redirect_home(
            self._post_form(
                "/my/work-orders/999999999/approve", {"access_token": self.token}
            ),
            "missing id",
        )
        self.authenticate("wo_other", "wo_other")
        self._assert_redirect_home(self._post_form(url, {}), "other customer")
        self._assert_redirect_home(
            self._post_form(url, {"access_token": self.other_token}),
            "other customer, own token",
        )
        self.assertEqual(self._snapshot(), before)

    def test_decline_access_matrix_changes_nothing(self):
        before = self._snapshot()
        url = self._url(suffix="/decline")
        self.authenticate(None, None)
        self._assert_redirect_home(
            self._post_form(url, {"decline_reason": "x"}), "none"
        )
        for label, token in self._bad_tokens():
            self._assert_redirect_home(
                self._post_form(url, {"access_token": token, "decline_reason": "x"}),
                label,
            )
        self.authenticate("wo_other", "wo_other")
        self._assert_redirect_home(self._post_form(url, {}), "other customer")
        self.assertEqual(self._snapshot(), before)

    @mute_logger("odoo.http")
    def test_approve_and_decline_need_csrf(self):
        before = self._snapshot()
        self.authenticate(None, None)
        for suffix in ("/approve", "/decline"):
            res = self._post_form(
                self._url(suffix=suffix), {"access_token": self.token}, csrf=False
            )
            self.assertEqual(res.status_code, 400, suffix)
            res = self._post_form(
                self._url(suffix=suffix),
                {"access_token": self.token, "csrf_token": "forged"},
                csrf=False,
            )
            self.assertEqual(res.status_code, 400, suffix)
        # GET never changes anything either.
        res = self.url_open(
            self._url(suffix="/approve", query=f"?access_token={self.token}"),
            allow_redirects=False,
        )
        self.assertNotEqual(res.status_code, 200)
        self.assertEqual(self._snapshot(), before)

    def test_approve_with_token(self):
        amount = self.order.amount_total
        self.authenticate(None, None)
        res = self._post_form(
            self._url(suffix="/approve"), {"access_token": self.token}
        )
        self.assertEqual(res.status_code, 303)
        self.assertIn("message=approved", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.state, "approved")
        self.assertEqual(self.order.approved_amount, amount)
        self.assertTrue(self.order.date_approved)
        self.assertFalse(self.order.signature)
        message = self._decision_messages()
        self.assertEqual(len(message), 1)
        self.assertIn("Approved by WO Test Customer", message.body)
        self.assertEqual(message.author_id, self.customer)
        activity = self.order.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.technician)
        self.assertEqual(activity.summary, "Approved by the customer")

        # Double submit: refused, shown on the page, nothing changes.
        before = self._snapshot()
        res = self._post_form(
            self._url(suffix="/approve"), {"access_token": self.token}
        )
        self.assertEqual(res.status_code, 303)
        self.assertIn("error=refused", res.headers["Location"])
        self.assertEqual(self._snapshot(), before)
        page = self.url_open(res.headers["Location"])
        self.assertIn("it no longer awaits", page.text)
        self.assertIn("Approved", page.text)
        # Nor can the customer decline or sign now.
        res = self._post_form(
            self._url(suffix="/decline"), {"access_token": self.token}
        )
        self.assertIn("error=refused", res.headers["Location"])
        self.assertIn("error", self._sign(name="Jane", signature=PNG))
        self.assertEqual(self._snapshot(), before)

    def test_approve_logged_in_notifies_creator_without_technician(self):
        order = (
            self.env["work.order"]
            .with_user(self.manager)
            .create({"partner_id": self.customer.id, "title": "No technician"})
        )
        order._action_quote()
        self.authenticate("wo_portal", "wo_portal")
        res = self._post_form(self._url(order, "/approve"), {})
        self.assertIn("message=approved", res.headers["Location"])
        order.invalidate_recordset()
        self.assertEqual(order.state, "approved")
        self.assertEqual(
            self._decision_messages(order).author_id, self.portal_user.partner_id
        )
        self.assertEqual(order.activity_ids.user_id, order.create_uid)

    def test_decline_with_and_without_reason(self):
        self.authenticate(None, None)
        res = self._post_form(
            self._url(suffix="/decline"),
            {"access_token": self.token, "decline_reason": "  Too expensive  "},
        )
        self.assertIn("message=declined", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.state, "rejected")
        self.assertEqual(self.order.decline_reason, "Too expensive")
        self.assertTrue(self.order.date_rejected)
        self.assertFalse(self.order.approved_amount)
        self.assertIn("Too expensive", self._decision_messages().body)
        self.assertEqual(self.order.activity_ids.summary, "Declined by the customer")

        # No approve-after-decline, no second decline.
        before = self._snapshot()
        for suffix in ("/approve", "/decline"):
            res = self._post_form(
                self._url(suffix=suffix), {"access_token": self.token}
            )
            self.assertIn("error=refused", res.headers["Location"], suffix)
        self.assertIn("error", self._sign(name="Jane", signature=PNG))
        self.assertEqual(self._snapshot(), before)

        order = self._create_order(title="Declined without reason")
        order._action_quote()
        token = order._portal_ensure_token()
        res = self._post_form(self._url(order, "/decline"), {"access_token": token})
        self.assertIn("message=declined", res.headers["Location"])
        order.invalidate_recordset()
        self.assertEqual(order.state, "rejected")
        self.assertFalse(order.decline_reason)

    def test_decline_reason_too_long(self):
        before = self._snapshot()
        self.authenticate(None, None)
        res = self._post_form(
            self._url(suffix="/decline"),
            {"access_token": self.token, "decline_reason": "x" * 2001},
        )
        self.assertIn("error=refused", res.headers["Location"])
        self.assertEqual(self._snapshot(), before)
        page = self.url_open(res.headers["Location"])
        self.assertIn("Your answer could not be recorded", page.text)

    def test_refused_in_other_states(self):
        # (A draft is not even shown: see TestWorkOrderPortalVisibility.)
        for state in ("approved", "scheduled", "completed", "cancelled"):
            order = self._create_order(title=f"In {state}")
            order._action_quote()
            order.write({"state": state})
            token = order._portal_ensure_token()
            before = self._snapshot(order)
            self.authenticate(None, None)
            for suffix in ("/approve", "/decline"):
                res = self._post_form(self._url(order, suffix), {"access_token": token})
                self.assertIn("error=refused", res.headers["Location"], (state, suffix))
            result = self._sign(
                order, query=f"?access_token={token}", name="Jane", signature=PNG
            )
            self.assertIn("it no longer awaits", result["error"])
            self.assertEqual(self._snapshot(order), before, state)

    # ------------------------------------------------------------------
    # Sign (JSON)
    # ------------------------------------------------------------------

    def test_sign_with_token(self):
        amount = self.order.amount_total
        self.authenticate(None, None)
        result = self._sign(name="  Jane Customer ", signature=PNG)
        self.assertTrue(result.get("force_refresh"), result)
        self.assertIn("message=signed", result["redirect_url"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.state, "approved")
        self.assertEqual(self.order.signed_by, "Jane Customer")
        self.assertTrue(self.order.signed_on)
        self.assertTrue(self.order.signature)
        self.assertTrue(self.order.date_approved)
        self.assertEqual(self.order.approved_amount, amount)
        self.assertIn(
            "Signed and approved by Jane Customer", self._decision_messages().body
        )
        self.assertEqual(len(self.order.activity_ids), 1)

        before = self._snapshot()
        result = self._sign(name="Jane Customer", signature=PNG)
        self.assertIn("it no longer awaits", result["error"])
        self.assertEqual(self._snapshot(), before)

    def test_sign_jpeg_logged_in_token_in_body(self):
        self.authenticate("wo_portal", "wo_portal")
        result = self._sign(query="", name="Jane", signature=JPEG)
        self.assertTrue(result.get("force_refresh"), result)
        self.order.invalidate_recordset()
        self.assertEqual(self.order.state, "approved")

        order = self._create_order(title="Token in the body")
        order._action_quote()
        self.authenticate(None, None)
        result = self._sign(
            order,
            query="",
            access_token=order._portal_ensure_token(),
            name="Jane",
            signature=PNG,
        )
        self.assertTrue(result.get("force_refresh"), result)

    def test_sign_access_matrix_changes_nothing(self):
        before = self._snapshot()
        refused = "This work order is not available."
        self.authenticate(None, None)
        self.assertEqual(
            self._sign(query="", name="J", signature=PNG)["error"], refused
        )
        for label, token in self._bad_tokens():
            result = self._sign(query="", access_token=token, name="J", signature=PNG)
            self.assertEqual(result.get("error"), refused, label)
        for label, token in (
            ("number", 12345),
            ("list", [self.token]),
            ("object", {"token": self.token}),
            ("true", True),
            ("false", False),
            ("1 MB", "a" * 1_000_000),
        ):
            result = self._sign(
                query=f"?access_token={self.token}",
                access_token=token,
                name="J",
                signature=PNG,
            )
            self.assertEqual(result.get("error"), refused, label)
        result = self._sign(self.order.browse(999999999), name="J", signature=PNG)
        self.assertEqual(result["error"], refused)
        self.authenticate("wo_other", "wo_other")
        result = self._sign(query="", name="J", signature=PNG)
        self.assertEqual(result["error"], refused)
        result = self._sign(
            query=f"?access_token={self.other_token}", name="J", signature=PNG
        )
        self.assertEqual(result["error"], refused)
        self.assertEqual(self._snapshot(), before)

    def test_sign_bad_data_changes_nothing(self):
        before = self._snapshot()
        oversized = _image_b64(size=(600, 600), noise=True)
        self.assertGreater(len(base64.b64decode(oversized)), 512 * 1024)
        self.authenticate(None, None)
        for label, name, signature, message in (
            ("not an image", "Jane", NOT_AN_IMAGE, "PNG or JPEG"),
            ("svg", "Jane", SVG, "PNG or JPEG"),
            ("truncated png", "Jane", TRUNCATED_PNG, "PNG or JPEG"),
            ("not base64", "Jane", "#not base64!", "PNG or JPEG"),
            ("oversized", "Jane", oversized, "too large"),
            ("empty signature", "Jane", "", "Please sign"),
            ("signature number", "Jane", 42, "Please sign"),
            ("empty name", "", PNG, "enter your name"),
            ("whitespace name", "   ", PNG, "enter your name"),
            ("name list", ["Jane"], PNG, "enter your name"),
            ("long name", "J" * 200, PNG, "too long"),
        ):
            result = self._sign(name=name, signature=signature)
            self.assertIn(message, result.get("error", ""), label)
        self.assertEqual(self._snapshot(), before)

    # ------------------------------------------------------------------
    # What the customer sees
    # ------------------------------------------------------------------

    def _order_in(self, state, sent=True, **vals):
        """A work order of the customer in ``state``; ``sent``: quoted first."""
        order = self._create_order(title=f"In {state}", **vals)
        if sent:
            order._action_quote()
        if order.state != state:
            order.write({"state": state})
        return order

    def _customer_views(self, order, token):
        """Where the customer may meet ``order``: {view: seen}."""
        self.authenticate("wo_portal", "wo_portal")
        ids, __ = self._list_ids()
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["work_order_count"]}
        )
        views = {
            "list": order.id in ids,
            "counter": counters["work_order_count"] == len(ids),
            "page (login)": self._opens(self._url(order)),
            "lines (login)": bool(
                order.line_ids.with_user(self.portal_user).search(
                    [("order_id", "=", order.id)]
                )
            ),
        }
        self.authenticate(None, None)
        query = f"?access_token={token}"
        views["page (link)"] = self._opens(self._url(order, query=query))
        views["pdf (link)"] = self._opens(
            self._url(order, query=f"{query}&report_type=pdf&download=true")
        )
        return views

    def _opens(self, url):
        res = self.url_open(url, allow_redirects=False)
        if res.status_code == 200:
            return True
        self._assert_redirect_home(res, url)
        return False

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_customer_sees_a_work_order_once_sent(self):
        cases = [
            # (label, state, sent, visible)
            ("draft, never sent", "draft", False, False),
            ("cancelled before anything was sent", "cancelled", False, False),
            ("revised: back in draft", "draft", True, False),
        ] + [
            (f"{state}, sent", state, True, True)
            for state in (
                "quoted",
                "approved",
                "scheduled",
                "in_progress",
                "on_hold",
                "completed",
                "invoiced",
                "cancelled",
                "rejected",
            )
        ]
        for label, state, sent, visible in cases:
            with self.subTest(label):
                order = self._order_in(
                    state,
                    sent=sent,
                    line_ids=[Command.create({"product_id": self.labour.id})],
                )
                token = order._portal_ensure_token()
                views = self._customer_views(order, token)
                expected = dict.fromkeys(views, visible)
                expected["counter"] = True  # the counter always counts the list
                self.assertEqual(views, expected)
                self.assertEqual(order._is_portal_visible(), visible)

    def test_workflow_marks_what_the_customer_was_sent(self):
        # Scheduled straight from Draft: the visit was agreed with the customer.
        scheduled = self._create_order(title="Booked on the phone")
        scheduled._action_schedule(fields.Datetime.now())
        # Approved without a quote, as the sales bridge does.
        approved = self._create_order(title="From a sale")
        approved._action_approve()
        quoted = self._create_order(title="Quoted")
        quoted._action_quote()
        for order in scheduled | approved | quoted:
            self.assertTrue(order.customer_visible, order.title)
            self.assertTrue(order._is_portal_visible(), order.title)
        # Revised: hidden until it is sent again, the mark stays.
        quoted.action_revise()
        self.assertTrue(quoted.customer_visible)
        self.assertFalse(quoted._is_portal_visible())
        quoted._action_quote()
        self.assertTrue(quoted._is_portal_visible())
        # Cancelled while a never-sent draft: never shown.
        cancelled = self._create_order(title="Cancelled at once")
        cancelled._action_cancel()
        self.assertFalse(cancelled.customer_visible)
        self.assertFalse(cancelled._is_portal_visible())
        # Not copied: a duplicate starts unsent.
        self.assertFalse(self.order.copy().customer_visible)

    def test_staff_preview_a_draft_the_customer_cannot_see(self):
        order = self._order_in("draft", sent=False)
        token = order._portal_ensure_token()
        self.authenticate("wo_tech", "wo_tech")
        self.assertTrue(self._opens(self._url(order)))
        self.authenticate(None, None)
        self.assertFalse(self._opens(self._url(order, query=f"?access_token={token}")))

    def test_hidden_work_order_chatter_is_closed_to_the_link(self):
        order = self._order_in("draft", sent=True)  # revised
        token = order._portal_ensure_token()
        before = self._snapshot(order)
        self.authenticate(None, None)
        payload = {
            "thread_model": "work.order",
            "thread_id": order.id,
            "token": token,
        }
        res = self.url_open(
            "/mail/chatter_fetch",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": payload}),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("error", res.json())
        res = self.url_open(
            "/mail/message/post",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        **payload,
                        "post_data": {"body": "Hello", "message_type": "comment"},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("error", res.json())
        self.assertEqual(self._snapshot(order), before)
        # Once sent again, the link opens the chatter.
        order._action_quote()
        res = self.url_open(
            "/mail/chatter_fetch",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": payload}),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("result", res.json())

    # ------------------------------------------------------------------
    # Photos
    # ------------------------------------------------------------------

    def _image_attachment(self, name, order=None):
        order = order or self.order
        return self.env["ir.attachment"].create(
            {"name": name, "datas": PNG, "res_model": "work.order", "res_id": order.id}
        )

    def test_only_photos_sent_by_the_staff_are_published(self):
        order = self.order
        plain = self._image_attachment("chatter-box.png")
        note = self._image_attachment("note.png")
        order.with_user(self.technician).message_post(
            body="For us only",
            attachment_ids=note.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        from_customer = self._image_attachment("from-customer.png")
        order.message_post(
            body="My photo",
            author_id=self.customer.id,
            attachment_ids=from_customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        by_email = self._image_attachment("by-email.png")
        order.message_post(
            body="Photo by e-mail",
            author_id=self.technician.partner_id.id,
            attachment_ids=by_email.ids,
            message_type="email",
            subtype_xmlid="mail.mt_comment",
        )
        sent = self._image_attachment("sent.png")
        order.with_user(self.technician).message_post(
            body="Your new pump",
            attachment_ids=sent.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.authenticate(None, None)
        res = self.url_open(self._url(query=f"?access_token={self.token}"))
        tree = html.fromstring(res.content)
        links = tree.xpath("//a[contains(@class, 'o_work_order_photo')]/@href")
        self.assertEqual(len(links), 1, links)
        self.assertIn(f"/web/image/{sent.id}?access_token=", links[0])
        for attachment in plain | note | from_customer | by_email:
            attachment.invalidate_recordset()
            self.assertFalse(attachment.access_token, attachment.name)
            res = self.url_open(f"/web/content/{attachment.id}")
            self.assertEqual(res.status_code, 404, attachment.name)
        res = self.url_open(f"/web/content/{sent.id}?access_token={sent.access_token}")
        self.assertEqual(res.status_code, 200)

    # ------------------------------------------------------------------
    # Hostile input
    # ------------------------------------------------------------------

    def _assert_bad_request(self, res, label):
        self.assertEqual(res.status_code, 400, label)
        self.assertIn("characters that are not allowed", res.text, label)
        self.assertNotIn("Traceback", res.text, label)

    def test_control_characters_in_the_list_are_refused(self):
        self.authenticate("wo_portal", "wo_portal")
        for param in ("search", "search_in", "sortby", "filterby", "page"):
            for char in ("%00", "%07", "%1B", "%7F", "%0A", "%C2%85"):
                res = self.url_open(f"/my/work-orders?{param}=a{char}b")
                self._assert_bad_request(res, (param, char))
        # Text without control characters still searches.
        ids, __ = self._list_ids("?search=%C3%A9t%C3%A9%20pump")
        self.assertEqual(ids, [])

    def test_control_characters_on_the_page_and_decisions_are_refused(self):
        before = self._snapshot()
        self.authenticate(None, None)
        for param in ("access_token", "report_type", "message", "error", "download"):
            params = {"access_token": self.token, param: "x\x00"}
            res = self.url_open(
                self._url(query=f"?{urlencode(params)}"), allow_redirects=False
            )
            self._assert_bad_request(res, param)
        for suffix in ("/approve", "/decline"):
            res = self._post_form(
                self._url(suffix=suffix), {"access_token": self.token + "\x00"}
            )
            self._assert_bad_request(res, suffix)
        for reason in ("Too\x00expensive", "Bell\x07", "Escape\x1b[31m", "Del\x7f"):
            res = self._post_form(
                self._url(suffix="/decline"),
                {"access_token": self.token, "decline_reason": reason},
            )
            self.assertEqual(res.status_code, 303, reason)
            self.assertIn("error=characters", res.headers["Location"], reason)
        page = self.url_open(res.headers["Location"])
        self.assertIn("characters that are not allowed", page.text)
        for label, params in (
            ("name", {"name": "Jane\x00", "signature": PNG}),
            ("tab in name", {"name": "Jane\tDoe", "signature": PNG}),
            ("escape in name", {"name": "\x1b]0;Jane", "signature": PNG}),
            ("bidi override", {"name": "Jane\u202eeod", "signature": PNG}),
            ("lone surrogate", {"name": "Jane\ud800", "signature": PNG}),
            ("signature", {"name": "Jane", "signature": PNG[:20] + "\x00"}),
            ("token", {"name": "Jane", "signature": PNG, "access_token": "\x00"}),
        ):
            result = self._sign(**params)
            self.assertIn("characters that are not allowed", result["error"], label)
        self.assertEqual(self._snapshot(), before)
        # Line breaks are text in a reason.
        res = self._post_form(
            self._url(suffix="/decline"),
            {"access_token": self.token, "decline_reason": "Too dear.\r\n\tSorry"},
        )
        self.assertIn("message=declined", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.decline_reason, "Too dear.\r\n\tSorry")

    def test_sign_refuses_a_truncated_jpeg_and_stores_a_clean_png(self):
        jpeg = base64.b64decode(_image_b64(size=(200, 80), fmt="JPEG", noise=True))
        truncated = base64.b64encode(jpeg[: len(jpeg) * 2 // 3]).decode()
        before = self._snapshot()
        self.authenticate(None, None)
        result = self._sign(name="Jane", signature=truncated)
        self.assertIn("PNG or JPEG", result["error"])
        self.assertEqual(self._snapshot(), before)
        self.assertTrue(ImageFile.LOAD_TRUNCATED_IMAGES, "Odoo's setting is back")

        result = self._sign(name="Jane", signature=JPEG)
        self.assertTrue(result.get("force_refresh"), result)
        self.order.invalidate_recordset()
        stored = base64.b64decode(self.order.signature)
        self.assertEqual(stored[:8], b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(stored)) as image:
            self.assertEqual(image.size, (120, 40))

    # ------------------------------------------------------------------
    # Escaping
    # ------------------------------------------------------------------

    def test_names_and_reasons_are_escaped_everywhere(self):
        link = '<a href="https://evil.example/x">Click</a>'
        self.authenticate(None, None)
        result = self._sign(name=link, signature=PNG)
        self.assertTrue(result.get("force_refresh"), result)
        declined = self._order_in("quoted", user_id=self.technician.id)
        declined_token = declined._portal_ensure_token()
        self._post_form(
            self._url(declined, "/decline"),
            {"access_token": declined_token, "decline_reason": link},
        )
        for order, token in ((self.order, self.token), (declined, declined_token)):
            order.invalidate_recordset()
            message = self._decision_messages(order)
            self.assertIn("&lt;a href", str(message.body))
            self.assertNotIn("<a href", str(message.body))
            note = str(order.activity_ids.note)
            self.assertIn("&lt;a href", note)
            self.assertNotIn("<a href", note)
            # the page shows the signer and the reason, the PDF the signer
            reports = ("", "&report_type=html") if order.signed_by else ("",)
            for query in reports:
                res = self.url_open(
                    self._url(order, query=f"?access_token={token}{query}")
                )
                self.assertIn("&lt;a href=", res.text, (order.state, query))
                self.assertNotIn(
                    '<a href="https://evil', res.text, (order.state, query)
                )

    def test_customer_name_is_escaped_in_the_mails(self):
        self.customer.name = '<img src="https://evil.example/x.png">Jane'
        for xmlid in (
            "mail_template_work_order_quote",
            "mail_template_work_order_update",
        ):
            template = self.env.ref(f"work_order.{xmlid}")
            body = str(
                template._render_field("body_html", self.order.ids)[self.order.id]
            )
            self.assertIn("&lt;img", body, xmlid)
            self.assertNotIn("<img src", body, xmlid)

    # ------------------------------------------------------------------
    # Headers
    # ------------------------------------------------------------------

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_link_pages_are_not_cached_nor_referred(self):
        query = f"?access_token={self.token}"
        self.authenticate(None, None)
        urls = [
            self._url(query=query),
            self._url(query=f"{query}&report_type=pdf&download=true"),
            self._url(query=f"{query}&report_type=html"),
        ]
        responses = [self.url_open(url, allow_redirects=False) for url in urls]
        responses.append(
            self._post_form(self._url(suffix="/approve"), {"access_token": self.token})
        )
        self.authenticate("wo_portal", "wo_portal")
        responses.append(self.url_open(self._url(), allow_redirects=False))
        for res in responses:
            self.assertIn(res.status_code, (200, 303), res.url)
            self.assertEqual(res.headers.get("Cache-Control"), "no-store", res.url)
            self.assertEqual(res.headers.get("Referrer-Policy"), "no-referrer", res.url)
        res = self.url_open(
            self._url(suffix="/sign", query=query),
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(res.headers.get("Cache-Control"), "no-store")
        self.assertEqual(res.headers.get("Referrer-Policy"), "no-referrer")

    # ------------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------------

    def test_portal_user_reads_own_and_writes_nothing(self):
        WorkOrder = self.env["work.order"].with_user(self.portal_user)
        self.assertEqual(WorkOrder.search([]), self.order)
        self.assertEqual(
            self.env["work.order.line"].with_user(self.portal_user).search([]),
            self.order.line_ids,
        )
        with self.assertRaises(AccessError):
            self.other_order.with_user(self.portal_user).read(["title"])
        with self.assertRaises(AccessError):
            self.other_order.line_ids.with_user(self.portal_user).read(["name"])
        order = self.order.with_user(self.portal_user)
        with self.assertRaises(AccessError):
            order.write({"title": "Hacked"})
        with self.assertRaises(AccessError):
            order.line_ids[0].write({"price_unit": 0.0})
        with self.assertRaises(AccessError):
            WorkOrder.create({"partner_id": self.customer.id, "title": "Mine"})
        with self.assertRaises(AccessError):
            order.action_mark_approved()
        with self.assertRaises(AccessError):
            order.action_create_portal_link()

    @mute_logger("odoo.http")
    def test_portal_user_rpc_write_refused(self):
        before = self._snapshot()
        self.authenticate("wo_portal", "wo_portal")
        for method, args in (
            ("write", [[self.order.id], {"state": "approved"}]),
            ("write", [[self.order.id], {"portal_last_viewed": "2020-01-01"}]),
            ("action_mark_approved", [[self.order.id]]),
            ("action_create_portal_link", [[self.order.id]]),
            ("unlink", [[self.order.id]]),
            ("create", [{"partner_id": self.customer.id, "title": "Mine"}]),
        ):
            error = self._call_kw_error(method, args)
            self.assertEqual(error["name"], "odoo.exceptions.AccessError", method)
        error = self._call_kw_error("_action_portal_approve", [[self.order.id]])
        self.assertIn("Private methods", error["message"])
        self.assertEqual(self._snapshot(), before)

    # ------------------------------------------------------------------
    # Back office
    # ------------------------------------------------------------------

    def test_back_office_portal_link_and_preview(self):
        order = self._create_order(title="Fresh").with_user(self.technician)
        self.assertFalse(order.portal_share_url)
        order.action_create_portal_link()
        self.assertTrue(order.access_token)
        self.assertEqual(
            order.portal_share_url,
            f"{order.get_base_url()}/my/work-orders/{order.id}"
            f"?access_token={order.access_token}",
        )
        action = order.action_preview_work_order()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(action["url"], order.get_portal_url())
        self.assertIn(order.access_token, action["url"])

    def test_back_office_portal_panel_tour(self):
        self.order.portal_last_viewed = fields.Datetime.now()
        self.start_tour(
            f"/odoo/work.order/{self.order.id}",
            "work_order_backend_portal_panel",
            login="wo_tech",
        )

    # ------------------------------------------------------------------
    # Browser
    # ------------------------------------------------------------------

    def test_tour_sign_and_approve(self):
        order = self._create_order(
            title="WO Tour: Replace the pool pump",
            line_ids=[Command.create({"product_id": self.labour.id})],
        )
        order._action_quote()
        self.start_tour("/my/work-orders", "work_order_portal_sign", login="wo_portal")
        order.invalidate_recordset()
        self.assertEqual(order.state, "approved")
        self.assertTrue(order.signature)
        self.assertEqual(order.signed_by, self.customer.name)


@tagged("post_install", "-at_install")
class TestWorkOrderPortalModel(WorkOrderCommon):
    def test_model_methods_refuse_without_writing(self):
        order = self.order
        order._action_quote()
        with self.assertRaisesRegex(UserError, "PNG or JPEG"):
            order._action_portal_sign("Jane", SVG)
        with self.assertRaisesRegex(UserError, "enter your name"):
            order._action_portal_sign(None, PNG)
        with self.assertRaisesRegex(UserError, "must be text"):
            order._action_portal_decline(["no"])
        self.assertEqual(order.state, "quoted")
        self.assertFalse(order.signature)
        order._action_portal_decline()
        self.assertEqual(order.state, "rejected")
        with self.assertRaisesRegex(UserError, "Rejected: it no longer awaits"):
            order._action_portal_approve()
        self.assertEqual(order.state, "rejected")
        self.assertFalse(order.approved_amount)

    def test_portal_rules_hold_the_visible_domain(self):
        """The portal record rules and the controller's check for a link apply
        the same conditions: those of ``_get_portal_visible_domain``."""
        portal_user = new_test_user(
            self.env,
            login="wo_rule_portal",
            groups="base.group_portal",
            partner_id=self.customer.id,
        )
        partner_id = self.customer.commercial_partner_id.id
        visible = self.env["work.order"]._get_portal_visible_domain()
        for xmlid, prefix in (
            ("work_order.work_order_rule_portal", ""),
            ("work_order.work_order_line_rule_portal", "order_id."),
        ):
            domain = safe_eval(
                self.env.ref(xmlid).domain_force,
                self.env["ir.rule"].with_user(portal_user)._eval_context(),
            )
            expected = [(f"{prefix}commercial_partner_id", "=", partner_id)] + [
                (f"{prefix}{fname}", operator, value)
                for fname, operator, value in visible
            ]
            self.assertEqual([tuple(term) for term in domain], expected, xmlid)

    def test_upgrade_marks_the_work_orders_already_sent(self):
        orders = {
            label: self._create_order(title=label)
            for label in ("never sent", "cancelled unsent", "quoted", "revised")
        }
        orders["cancelled unsent"]._action_cancel()
        orders["quoted"]._action_quote()
        orders["revised"]._action_quote()
        orders["revised"].action_revise()
        scheduled = self._create_order(title="scheduled")
        scheduled._action_schedule(fields.Datetime.now())
        self.env.flush_all()
        # the database of a release without the column
        self.env.cr.execute("ALTER TABLE work_order DROP COLUMN customer_visible")
        self.registry.init_models(
            self.env.cr, ["work.order"], {"module": "work_order"}, install=False
        )
        self.env.invalidate_all()
        self.assertEqual(
            {label: order.customer_visible for label, order in orders.items()},
            {
                "never sent": False,
                "cancelled unsent": False,
                "quoted": True,
                "revised": True,
            },
        )
        self.assertTrue(scheduled.customer_visible)

    def test_control_characters_refused_by_the_model(self):
        order = self.order
        order._action_quote()
        with self.assertRaisesRegex(UserError, "not allowed"):
            order._action_portal_sign("Jane\x00", PNG)
        with self.assertRaisesRegex(UserError, "not allowed"):
            order._action_portal_decline("No\x00")
        self.assertEqual(order.state, "quoted")
        self.assertFalse(order.signature)

    def test_visit_stamp_is_throttled(self):
        order = self.order
        start = datetime(2030, 6, 1, 10, 0)
        with freeze_time(start):
            order._portal_mark_viewed()
        self.assertEqual(order.portal_last_viewed, start)
        with freeze_time(start + timedelta(minutes=2)):
            order._portal_mark_viewed()
        self.assertEqual(order.portal_last_viewed, start, "a minute-fresh stamp stays")
        later = start + timedelta(minutes=6)
        with freeze_time(later):
            order._portal_mark_viewed()
        self.assertEqual(order.portal_last_viewed, later)

    def test_busy_row_skips_the_stamp_not_the_page(self):
        order = self.order
        for error in (LockNotAvailable, SerializationFailure):
            with self.subTest(error=error.__name__):
                with patch.object(type(order), "_lock_rows", side_effect=error()):
                    order._portal_mark_viewed()  # no exception: the page is served
                self.assertFalse(order.portal_last_viewed)


@tagged("post_install", "-at_install")
class TestWorkOrderPortalConcurrency(ConcurrentWorkOrderCase):
    """Ten approvals in ten real transactions at once: exactly one goes through."""

    def test_ten_concurrent_approvals(self):
        admin = self.env.ref("base.user_admin")
        order_id = self._commit_work_order("quoted", user_id=admin.id)
        outcomes = self._run_concurrently(
            10, lambda env: env["work.order"].browse(order_id)._action_portal_approve()
        )
        self.assertEqual(outcomes.count("done"), 1, outcomes)
        refused = [outcome for outcome in outcomes if outcome != "done"]
        self.assertEqual(len(refused), 9)
        for message in refused:
            self.assertIn("it no longer awaits", message)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            order = env["work.order"].browse(order_id)
            self.assertEqual(order.state, "approved")
            approvals = order.message_ids.filtered(
                lambda m: "Approved by" in (m.body or "")
            )
            self.assertEqual(len(approvals), 1)
            self.assertEqual(len(order.activity_ids), 1)
