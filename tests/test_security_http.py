"""The portal's security matrix, through real HTTP sessions.

Every way a visitor can reach a work order from outside the back office (the
list, the page, the PDF, approve, decline, sign, the chatter, JSON-RPC) is tried
by every kind of visitor (a link holder without a login, the customer's portal
login, another customer's portal login with or without their own link, an
internal user) on a work order in every situation, then again with hostile
input. Each variant is classified from its HTTP answer (accepted, refused, or a
server error) and the work orders are compared before and after it: a variant
may change a work order only when it is an accepted Approve, Approve & sign or
Decline of a quoted work order the visitor may see.

Each test logs its figures (variants tried, refused, 5xx, state changes), and
the class logs the totals.
"""

import base64
import io
import json
import logging
import struct
import zlib
from collections import Counter
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from lxml import html
from PIL import Image

from odoo import Command, http
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import WorkOrderCommon

_logger = logging.getLogger(__name__)

OK, REFUSED, SERVER_ERROR = "accepted", "refused", "5xx"
# Refusals Odoo's own JSON routes (chatter, RPC) answer with an error object.
REFUSAL_ERRORS = {
    "odoo.exceptions.AccessError",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "werkzeug.exceptions.Forbidden",
    "werkzeug.exceptions.NotFound",
}
# (sent to the customer first, state)
SITUATIONS = {
    "draft, never sent": (False, "draft"),
    "cancelled, never sent": (False, "cancelled"),
    "revised back to draft": (True, "draft"),
    "quoted": (True, "quoted"),
    "approved": (True, "approved"),
    "scheduled": (True, "scheduled"),
    "in progress": (True, "in_progress"),
    "on hold": (True, "on_hold"),
    "completed": (True, "completed"),
    "invoiced": (True, "invoiced"),
    "cancelled after sending": (True, "cancelled"),
    "rejected": (True, "rejected"),
}
SNAPSHOT_FIELDS = [
    "state",
    "customer_visible",
    "partner_id",
    "title",
    "amount_total",
    "approved_amount",
    "signed_by",
    "signed_on",
    "decline_reason",
    "date_quoted",
    "date_approved",
    "date_rejected",
    "date_cancelled",
    "scheduled_date",
    "user_id",
    "access_token",
    "line_ids",
    "signature",
]


def _image(size=(120, 40), fmt="PNG", noise=False):
    if noise:
        image = Image.effect_noise(size, 64).convert("RGB")
    else:
        image = Image.new("RGB", size, "white")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _png_header(width, height):
    """A PNG that announces ``width`` x ``height`` pixels and holds almost none."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _b64(data):
    return base64.b64encode(data).decode()


PNG = _b64(_image())
NOISY_JPEG = _image(size=(300, 120), fmt="JPEG", noise=True)


@tagged("post_install", "-at_install")
class TestWorkOrderSecurityHttp(WorkOrderCommon, HttpCase):
    totals = Counter()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="wo_sec_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Security Other Customer", "email": "sec-other@example.com"}
        )
        cls.other_user = new_test_user(
            cls.env,
            login="wo_sec_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )
        cls.foreign_order = cls._situation_order("quoted", cls.other_customer)
        # The visitors: a login (None: no session) and the token they hold.
        cls.actors = {
            "link holder": (None, lambda order: order.access_token),
            "customer": ("wo_sec_portal", lambda order: None),
            "other customer": ("wo_sec_other", lambda order: None),
            "other customer with own link": (
                "wo_sec_other",
                lambda order: cls.foreign_order.access_token,
            ),
            "internal user": ("wo_tech", lambda order: None),
        }

    @classmethod
    def tearDownClass(cls):
        _logger.info(
            "Portal security matrix, all tests: %s variants tried, %s refused, "
            "%s 5xx, %s state changes (%s expected)",
            cls.totals["tried"],
            cls.totals["refused"],
            cls.totals["5xx"],
            cls.totals["changes"],
            cls.totals["expected changes"],
        )
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.tally = Counter()
        self.mismatches = []
        self.current_login = object()

    # ------------------------------------------------------------------
    # Fixtures
    # ------------------------------------------------------------------

    @classmethod
    def _situation_order(cls, situation, partner=None):
        sent, state = SITUATIONS[situation]
        order = cls.env["work.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "title": f"Security: {situation}",
                "user_id": cls.technician.id,
                "line_ids": [Command.create({"product_id": cls.labour.id})],
            }
        )
        if sent:
            order._action_quote()
        if order.state != state:
            order.write({"state": state})  # as the superuser, like the demo data
        order._portal_ensure_token()
        return order

    @staticmethod
    def _visible(situation):
        sent, state = SITUATIONS[situation]
        return sent and state != "draft"

    def _may_see(self, actor, situation):
        if actor == "internal user":
            return True
        if actor in ("link holder", "customer"):
            return self._visible(situation)
        return False

    # ------------------------------------------------------------------
    # Running and classifying one variant
    # ------------------------------------------------------------------

    def _login(self, login):
        if login != self.current_login:
            self.authenticate(login, login)
            self.current_login = login

    def _snapshot(self):
        self.env.flush_all()
        self.env.invalidate_all()
        orders = (
            self.env["work.order"]
            .with_context(bin_size=True)
            .search([("partner_id", "in", (self.customer | self.other_customer).ids)])
        )
        return {values["id"]: values for values in orders.read(SNAPSHOT_FIELDS)}

    def _variant(self, label, login, send, expect, changes=None):
        """Run ``send()`` (an HTTP request) as ``login`` and check its outcome.

        ``expect``: OK, REFUSED, or None when either answer is fine (a harmless
        probe). ``changes``: the work order an accepted answer must change
        (None: nothing may change).
        """
        self._login(login)
        before = self._snapshot()
        outcome, detail = send()
        after = self._snapshot()
        changed = {
            order_id
            for order_id in before.keys() | after.keys()
            if before.get(order_id) != after.get(order_id)
        }
        self.tally["tried"] += 1
        self.tally[outcome] += 1
        if changed:
            self.tally["changes"] += 1
        expected_changed = {changes.id} if changes and outcome == OK else set()
        if expected_changed:
            self.tally["expected changes"] += 1
        problems = []
        if outcome == SERVER_ERROR:
            problems.append(f"server error: {detail}")
        elif expect is not None and outcome != expect:
            problems.append(f"{outcome} instead of {expect}: {detail}")
        if changed != expected_changed:
            problems.append(
                f"changed {sorted(changed)}, expected {sorted(expected_changed)}"
            )
        if problems:
            self.mismatches.append(f"{label}: {'; '.join(problems)}")

    def _finish(self, name):
        for key in ("tried", "refused", "5xx", "changes", "expected changes"):
            self.totals[key] += self.tally[key]
        _logger.info(
            "Portal security matrix, %s: %s variants tried, %s refused, %s 5xx, "
            "%s state changes (%s expected)",
            name,
            self.tally["tried"],
            self.tally[REFUSED],
            self.tally[SERVER_ERROR],
            self.tally["changes"],
            self.tally["expected changes"],
        )
        self.assertFalse(self.mismatches, "\n".join(self.mismatches))
        self.assertEqual(self.tally[SERVER_ERROR], 0)
        self.assertEqual(self.tally["changes"], self.tally["expected changes"])

    @staticmethod
    def _http_outcome(res):
        detail = f"HTTP {res.status_code}"
        if res.status_code >= 500 or b"Traceback" in res.content:
            return SERVER_ERROR, detail
        if res.status_code == 200:
            return OK, detail
        if res.status_code in (301, 302, 303):
            location = urlsplit(res.headers["Location"])
            detail += f" to {location.path}?{location.query}"
            query = parse_qs(location.query)
            if (
                location.path == "/my"
                or location.path.startswith("/web/login")
                or "error" in query
            ):
                return REFUSED, detail
            return OK, detail
        if res.status_code in (400, 403, 404, 405, 414):
            return REFUSED, detail
        return f"HTTP {res.status_code}", detail

    @staticmethod
    def _json_outcome(res, core=False):
        """``core``: an Odoo route, whose refusals are error objects. Our own
        routes answer every refusal in their result: an error object there is an
        uncaught exception, and carries the server's traceback."""
        if res.status_code >= 500:
            return SERVER_ERROR, f"HTTP {res.status_code}"
        if res.status_code != 200:
            return REFUSED, f"HTTP {res.status_code}"
        body = res.json()
        if "error" in body:
            name = body["error"].get("data", {}).get("name", "")
            if core and name in REFUSAL_ERRORS:
                return REFUSED, name
            return SERVER_ERROR, f"{name}: {body['error'].get('message')}"
        result = body.get("result")
        if isinstance(result, dict) and result.get("error"):
            return REFUSED, result["error"]
        return OK, str(result)[:120]

    def _get(self, url):
        return lambda: self._http_outcome(self.url_open(url, allow_redirects=False))

    def _post(self, url, data, csrf=True):
        if csrf:
            data = {"csrf_token": http.Request.csrf_token(self), **data}
        return lambda: self._http_outcome(
            self.url_open(url, data=data, allow_redirects=False)
        )

    def _json(self, url, params, core=False):
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
        return lambda: self._json_outcome(
            self.url_open(
                url,
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            ),
            core=core,
        )

    @staticmethod
    def _query(token, **params):
        if token is not None:
            params = {"access_token": token, **params}
        return f"?{urlencode(params)}" if params else ""

    # ------------------------------------------------------------------
    # The matrix: every visitor, every situation, every entry point
    # ------------------------------------------------------------------

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_every_visitor_in_every_situation(self):
        shared = {
            situation: self._situation_order(situation) for situation in SITUATIONS
        }
        fresh = self.env["work.order"]
        for actor, (login, token_of) in self.actors.items():
            for situation, order in shared.items():
                label = f"{actor} / {situation}"
                seen = OK if self._may_see(actor, situation) else REFUSED
                token = token_of(order)
                url = f"/my/work-orders/{order.id}"
                self._variant(
                    f"{label} / page", login, self._get(url + self._query(token)), seen
                )
                self._variant(
                    f"{label} / pdf",
                    login,
                    self._get(
                        url + self._query(token, report_type="pdf", download="true")
                    ),
                    seen,
                )
                # A decision on a quoted work order changes it: a fresh one each.
                # ... and only the customer's: staff only preview the page.
                decides = (
                    seen == OK
                    and SITUATIONS[situation][1] == "quoted"
                    and actor != "internal user"
                )
                for decision in ("approve", "decline", "sign"):
                    target = self._situation_order(situation) if decides else order
                    if decides:
                        fresh |= target
                    token = token_of(target)
                    self._variant(
                        f"{label} / {decision}",
                        login,
                        self._decide(decision, target, token),
                        OK if decides else REFUSED,
                        changes=target,
                    )
        # The list shows each login what its customer may see, and nothing else.
        expected_lists = {
            "customer": {
                order.id
                for situation, order in shared.items()
                if self._visible(situation)
            }
            | set(fresh.ids),
            "other customer": {self.foreign_order.id},
            "internal user": set(),
        }
        for actor, expected in expected_lists.items():
            self._login(self.actors[actor][0])
            res = self.url_open("/my/work-orders")
            self.assertEqual(res.status_code, 200, actor)
            listed = html.fromstring(res.content).xpath(
                "//tr[contains(@class, 'o_work_order_portal_row')]/@data-id"
            )
            self.assertEqual({int(order_id) for order_id in listed}, expected, actor)
        self._finish("visitors x situations")

    def _decide(self, decision, order, token):
        url = f"/my/work-orders/{order.id}/{decision}"
        if decision == "sign":
            return self._json(
                url + self._query(token), {"name": "Jane Customer", "signature": PNG}
            )
        data = {"access_token": token} if token is not None else {}
        if decision == "decline":
            data["decline_reason"] = "Not now"
        return self._post(url, data)

    # ------------------------------------------------------------------
    # Hostile input on a quoted work order
    # ------------------------------------------------------------------

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_actions_report")
    def test_hostile_input(self):
        order = self._situation_order("quoted")
        token = order.access_token
        url = f"/my/work-orders/{order.id}"
        controls = ["\x00", "\x01", "\x07", "\x08", "\x1b", "\x7f", "\x85", "\u202e"]
        bad_tokens = [
            "",
            " ",
            token[:-1],
            token + "0",
            token.upper(),
            token[:-1] + "é",
            token[:-1] + "\u0000",
            "%00" + token,
            "' OR 1=1 --",
            "x" * 4096,
            self.foreign_order.access_token,
        ] + [token + char for char in controls]
        for bad in bad_tokens:
            label = f"token {bad[:20]!r}"
            self._variant(
                f"{label} / page", None, self._get(url + self._query(bad)), REFUSED
            )
            self._variant(
                f"{label} / pdf",
                None,
                self._get(url + self._query(bad, report_type="pdf")),
                REFUSED,
            )
            for decision in ("approve", "decline", "sign"):
                self._variant(
                    f"{label} / {decision}",
                    None,
                    self._decide(decision, order, bad),
                    REFUSED,
                )
        for label, value in (
            ("1 MB", "a" * 1_000_000),
            ("number", 12345),
            ("list", [token]),
            ("object", {"token": token}),
            ("true", True),
            ("null byte list", ["\x00"]),
        ):
            self._variant(
                f"sign token in body: {label}",
                None,
                self._json(
                    f"{url}/sign",
                    {"access_token": value, "name": "Jane", "signature": PNG},
                ),
                REFUSED,
            )
        self._variant(
            "approve token 1 MB",
            None,
            self._post(f"{url}/approve", {"access_token": "a" * 1_000_000}),
            REFUSED,
        )
        # Ids: missing, far out of range, another customer's with its own token.
        for order_id, id_token in (
            (999_999_999, token),
            (2**40, token),
            (self.foreign_order.id, token),
            (order.id, self.foreign_order.access_token),
        ):
            base = f"/my/work-orders/{order_id}"
            self._variant(
                f"id {order_id} / page",
                None,
                self._get(base + self._query(id_token)),
                REFUSED,
            )
            self._variant(
                f"id {order_id} / approve",
                None,
                self._post(f"{base}/approve", {"access_token": id_token}),
                REFUSED,
            )
            self._variant(
                f"id {order_id} / sign",
                None,
                self._json(
                    f"{base}/sign" + self._query(id_token),
                    {"name": "Jane", "signature": PNG},
                ),
                REFUSED,
            )
        # The page's other parameters.
        for param in ("report_type", "message", "error", "download"):
            for char in controls:
                self._variant(
                    f"page {param} {char!r}",
                    None,
                    self._get(url + self._query(token, **{param: f"x{char}"})),
                    REFUSED,
                )
        for report_type in ("xlsx", "../../etc/passwd", "qweb-pdf", "PDF"):
            # unknown report types show the page
            self._variant(
                f"page report_type {report_type!r}",
                None,
                self._get(url + self._query(token, report_type=report_type)),
                OK,
            )
        # The list: search, sort, filters, pager.
        for param in ("search", "search_in", "sortby", "filterby", "page"):
            for char in controls:
                self._variant(
                    f"list {param} {char!r}",
                    "wo_sec_portal",
                    self._get(f"/my/work-orders?{urlencode({param: f'a{char}b'})}"),
                    REFUSED,
                )
            for value in (
                "' OR 1=1 --",
                "%",
                "_",
                "\\",
                "name desc; DROP TABLE work_order",
                "x" * 2000,
                "日本語",
                "-1",
                "99999999999999999999",
            ):
                self._variant(
                    f"list {param} {value[:20]!r}",
                    "wo_sec_portal",
                    self._get(f"/my/work-orders?{urlencode({param: value})}"),
                    OK,
                )
        # Decline reasons and signer names.
        for reason in [f"No{char}thanks" for char in controls] + ["x" * 2001]:
            self._variant(
                f"decline reason {reason[:12]!r}",
                None,
                self._post(
                    f"{url}/decline",
                    {"access_token": token, "decline_reason": reason},
                ),
                REFUSED,
            )
        jpeg = NOISY_JPEG
        truncated_jpeg = _b64(jpeg[: len(jpeg) * 2 // 3])
        png = base64.b64decode(PNG)
        signatures = {
            "truncated jpeg": truncated_jpeg,
            "jpeg cut in its header": _b64(jpeg[:200]),
            "truncated png": _b64(png[: len(png) - 20]),
            "png with corrupt data": _b64(png[:50] + b"\x00" * 20 + png[70:]),
            "gif": _b64(_image(fmt="GIF")),
            "svg": _b64(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
            "text": _b64(b"not an image"),
            "not base64": "#!not base64",
            "data url": "data:image/png;base64," + PNG,
            "oversized": _b64(_image(size=(700, 700), noise=True)),
            "5000 x 5000 pixels": _b64(_png_header(5000, 5000)),
            "decompression bomb": _b64(_png_header(30000, 30000)),
            "too wide": _b64(_image(size=(5000, 2))),
            "empty": "",
            "number": 42,
            "list": [PNG],
            "nul": PNG[:10] + "\x00" + PNG[10:],
        }
        for label, signature in signatures.items():
            self._variant(
                f"signature {label}",
                None,
                self._json(
                    f"{url}/sign" + self._query(token),
                    {"name": "Jane", "signature": signature},
                ),
                REFUSED,
            )
        for name in [f"Jane{char}" for char in controls] + [
            "",
            "   ",
            "J" * 129,
            ["Jane"],
            {"name": "Jane"},
            None,
            "Jane\ud800",
            "Jane\tDoe",
        ]:
            self._variant(
                f"signer name {name!r:.20}",
                None,
                self._json(
                    f"{url}/sign" + self._query(token), {"name": name, "signature": PNG}
                ),
                REFUSED,
            )
        # No CSRF token, a forged one, and GET on the decisions.
        for decision in ("approve", "decline"):
            self._variant(
                f"{decision} without csrf",
                None,
                self._post(f"{url}/{decision}", {"access_token": token}, csrf=False),
                REFUSED,
            )
            self._variant(
                f"{decision} forged csrf",
                None,
                self._post(
                    f"{url}/{decision}",
                    {"access_token": token, "csrf_token": "forged"},
                    csrf=False,
                ),
                REFUSED,
            )
            self._variant(
                f"{decision} by GET",
                None,
                self._get(f"{url}/{decision}" + self._query(token)),
                REFUSED,
            )
        self._variant(
            "sign by GET", None, self._get(f"{url}/sign" + self._query(token)), REFUSED
        )
        # After all that, the work order still awaits the customer: one approval.
        self._variant(
            "approve at last",
            None,
            self._post(f"{url}/approve", {"access_token": token}),
            OK,
            changes=order,
        )
        for decision in ("approve", "decline", "sign"):
            self._variant(
                f"{decision} again", None, self._decide(decision, order, token), REFUSED
            )
        self._finish("hostile input")

    # ------------------------------------------------------------------
    # Beyond the portal routes: JSON-RPC and the chatter
    # ------------------------------------------------------------------

    @mute_logger("odoo.http")
    def test_rpc_and_chatter_probes(self):
        quoted = self._situation_order("quoted")
        rejected = self._situation_order("rejected")
        hidden = self._situation_order("draft, never sent")
        line = quoted.line_ids[:1]
        calls = [
            ("work.order", "write", [[quoted.id], {"state": "approved"}]),
            ("work.order", "write", [[quoted.id], {"title": "Changed"}]),
            ("work.order", "write", [[hidden.id], {"customer_visible": True}]),
            ("work.order", "write", [[quoted.id], {"approved_amount": 1}]),
            ("work.order", "create", [{"partner_id": self.customer.id, "title": "X"}]),
            ("work.order", "copy", [[quoted.id]]),
            ("work.order", "unlink", [[quoted.id]]),
            ("work.order", "message_post", [[quoted.id]]),
            ("work.order", "_action_portal_approve", [[quoted.id]]),
            ("work.order", "_action_approve", [[quoted.id]]),
            ("work.order.line", "write", [line.ids, {"price_unit": 0}]),
            ("work.order.line", "create", [{"order_id": quoted.id, "name": "X"}]),
            ("work.order.line", "unlink", [line.ids]),
        ] + [
            ("work.order", method, [[order.id]])
            for order in (quoted, rejected, hidden)
            for method in (
                "action_send_quote",
                "action_resend_quote",
                "action_mark_approved",
                "action_schedule",
                "action_start",
                "action_hold",
                "action_resume",
                "action_complete",
                "action_create_invoice",
                "action_revise",
                "action_cancel",
                "action_create_portal_link",
            )
        ]
        for model, method, args in calls:
            self._variant(
                f"rpc {model}.{method} {args[0]}",
                "wo_sec_portal",
                self._json(
                    "/web/dataset/call_kw",
                    {"model": model, "method": method, "args": args, "kwargs": {}},
                    core=True,
                ),
                None,  # refused, or harmless (a button opening a dialog)
            )
        # The chatter: a link holder posts on what the customer may see, with or
        # without the composer's sending flag, and on nothing else.
        for order, expect in ((quoted, OK), (rejected, OK), (hidden, REFUSED)):
            for context in ({}, {"work_order_send": "quote"}):
                self._variant(
                    f"chatter post {order.title} {context}",
                    None,
                    self._json(
                        "/mail/message/post",
                        {
                            "thread_model": "work.order",
                            "thread_id": order.id,
                            "token": order.access_token,
                            "post_data": {"body": "Hello", "message_type": "comment"},
                            "context": context,
                        },
                        core=True,
                    ),
                    expect,
                )
            self._variant(
                f"chatter fetch {order.title}",
                None,
                self._json(
                    "/mail/chatter_fetch",
                    {
                        "thread_model": "work.order",
                        "thread_id": order.id,
                        "token": order.access_token,
                    },
                    core=True,
                ),
                expect,
            )
        for label, credentials in (
            ("non-ascii token", {"token": quoted.access_token[:-1] + "é"}),
            ("token list", {"token": [quoted.access_token]}),
            ("nul token", {"token": "\x00"}),
            ("hash without digits pid", {"hash": "abc", "pid": "x1"}),
            ("non-ascii hash", {"hash": "é", "pid": self.customer.id}),
        ):
            self._variant(
                f"chatter init {label}",
                None,
                self._json(
                    "/portal/chatter_init",
                    {
                        "thread_model": "work.order",
                        "thread_id": quoted.id,
                        **credentials,
                    },
                    core=True,
                ),
                REFUSED,
            )
        # An image a link holder uploads is stored, never published.
        self._login(None)
        res = self.url_open(
            "/mail/attachment/upload",
            data={
                "thread_model": "work.order",
                "thread_id": quoted.id,
                "token": quoted.access_token,
                "csrf_token": http.Request.csrf_token(self),
            },
            files={"ufile": ("upload.png", base64.b64decode(PNG), "image/png")},
        )
        self.assertEqual(res.status_code, 200, res.text)
        page = self.url_open(
            f"/my/work-orders/{quoted.id}?access_token={quote(quoted.access_token)}"
        )
        self.assertNotIn("o_work_order_photo", page.text)
        self._finish("RPC and chatter")
