import time
from urllib.parse import urlencode

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import content_disposition, request

from odoo.addons.payment.controllers import portal as payment_portal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.input_check import has_forbidden_characters
from ..models.work_order_appointment_portal import VisitAnswerRefused

REPORT_REF = "work_order.action_report_work_order"
# On every page and document reached with a work order's link (and the answers
# that carry the link): kept out of caches, and the link, token included, out of
# the Referer header of whatever the page links to or loads.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
SERVICE_REPORT_REF = "work_order.action_report_work_order_service"
# Photo sizes the portal serves: the thumbnail and the full view.
PHOTO_FIELDS = {"thumb": "image_256", "full": "image_1024"}
# After a visitor's decision, their session's read-only pages read the primary
# database for this long: a read replica a moment behind never shows them the
# page as it was before their own change.
PRIMARY_READS_SECONDS = 60
PRIMARY_READS_SESSION_KEY = "work_order_primary_reads_until"


def _may_read_replica(controller):
    """``readonly`` of the portal's read-only routes (evaluated per request)."""
    return request.session.get(PRIMARY_READS_SESSION_KEY, 0) < time.time()


class WorkOrderPortal(payment_portal.PaymentPortal):
    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @staticmethod
    def _sanitize_work_order_token(token):
        """An access token is an ASCII string; anything else counts as absent."""
        return token if isinstance(token, str) and token.isascii() else None

    def _get_work_order_author(self, order_sudo):
        """The partner a portal decision is recorded for."""
        if request.env.user._is_public():
            return order_sudo.partner_id
        return request.env.user.partner_id

    def _get_work_order_sudo(self, order_id, access_token):
        """The work order the visitor may open (sudo), or None.

        The only way a route gets its record: ``_document_check_access`` with
        the token, a malformed token counting as absent. A token bypasses the
        record rules, so what the customer may see at all (the portal record
        rule's condition, ``_get_portal_visible_domain``) is checked here again;
        the staff still preview any work order they can open.
        """
        token = self._sanitize_work_order_token(access_token)
        try:
            order_sudo = self._document_check_access("work.order", order_id, token)
        except (AccessError, MissingError):
            return None
        if not (
            order_sudo._is_portal_visible()
            or request.env.user.has_group("work_order.group_work_order_user")
        ):
            return None
        return order_sudo

    def _check_work_order_inputs(self, multiline=(), **inputs):
        """The refusal message if a portal input holds control characters (NUL
        and the like), else None. ``multiline`` names the inputs that may hold
        tabs and line breaks."""
        for name, value in inputs.items():
            if has_forbidden_characters(value, multiline=name in multiline):
                return _(
                    "Your request contains characters that are not allowed "
                    "(control characters such as a NUL byte). Please remove them "
                    "and try again."
                )
        return None

    def _work_order_private(self, response):
        """``response`` (or the future response of a JSON route) with the
        headers of a page reached with a link."""
        for header, value in PRIVATE_HEADERS.items():
            response.headers[header] = value
        return response

    def _work_order_bad_request(self, message):
        """A 400 page saying why the request was refused."""
        return self._work_order_private(
            request.render(
                "work_order.portal_work_order_bad_request",
                {"error_message": message},
                status=400,
            )
        )

    def _prepare_work_orders_domain(self, partner):
        # What the customer may see at all is the portal record rule's business.
        return [("commercial_partner_id", "=", partner.commercial_partner_id.id)]

    def _get_work_order_tabs(self):
        """The list tabs: a label and the domain of the work orders each tab
        shows (the model decides which go where, ``_get_portal_tabs``)."""
        WorkOrder = request.env["work.order"]
        labels = {
            "all": _("All"),
            "needs_action": _("Needs action"),
            "active": _("Active"),
            "done": _("Done"),
        }
        return {
            tab: {
                "label": labels.get(tab, tab),
                "domain": WorkOrder._get_portal_tab_domain(tab),
            }
            for tab in WorkOrder._get_portal_tabs()
        }

    def _get_work_order_searchbar_sortings(self):
        return {
            "newest": {"label": _("Newest"), "order": "id desc"},
            "oldest": {"label": _("Oldest"), "order": "id asc"},
            "priority": {"label": _("Priority"), "order": "priority desc, id desc"},
            "scheduled_date": {
                "label": _("Scheduled Date"),
                "order": "scheduled_date asc nulls last, id desc",
            },
        }

    def _get_work_order_searchbar_inputs(self):
        return {
            "all": {"input": "all", "label": _("Search in All")},
            "name": {"input": "name", "label": _("Search in Number")},
            "title": {"input": "title", "label": _("Search in Title")},
            "address": {"input": "address", "label": _("Search in Address")},
        }

    def _get_work_order_search_domain(self, search_in, search):
        by_field = {
            "name": [("name", "ilike", search)],
            "title": [("title", "ilike", search)],
            "address": [
                "|",
                "|",
                "|",
                ("service_address_id.street", "ilike", search),
                ("service_address_id.street2", "ilike", search),
                ("service_address_id.city", "ilike", search),
                ("service_address_id.zip", "ilike", search),
            ],
        }
        if search_in in by_field:
            return by_field[search_in]
        return ["|", "|"] + by_field["name"] + by_field["title"] + by_field["address"]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "work_order_count" in counters:
            WorkOrder = request.env["work.order"]
            values["work_order_count"] = (
                WorkOrder.search_count(
                    self._prepare_work_orders_domain(request.env.user.partner_id)
                )
                if WorkOrder.has_access("read")
                else 0
            )
        return values

    def _prepare_work_orders_portal_values(
        self, page=1, sortby=None, filterby=None, search=None, search_in=None
    ):
        WorkOrder = request.env["work.order"]
        work_order_tabs = self._get_work_order_tabs()
        searchbar_sortings = self._get_work_order_searchbar_sortings()
        searchbar_inputs = self._get_work_order_searchbar_inputs()
        if filterby not in work_order_tabs:
            filterby = "all"
        if sortby not in searchbar_sortings:
            sortby = "newest"
        if search_in not in searchbar_inputs:
            search_in = "all"
        search = search.strip() if isinstance(search, str) else ""

        domain = self._prepare_work_orders_domain(request.env.user.partner_id)
        if search:
            domain += self._get_work_order_search_domain(search_in, search)
        tab_counts = WorkOrder._get_portal_tab_counts(domain)
        url_args = {"filterby": filterby, "sortby": sortby}
        if search:
            url_args.update(search=search, search_in=search_in)
        pager = portal_pager(
            url="/my/work-orders",
            total=tab_counts[filterby],
            page=page,
            step=self._items_per_page,
            url_args=url_args,
        )
        orders = WorkOrder.search(
            domain + work_order_tabs[filterby]["domain"],
            order=searchbar_sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                # Sudo only on the records the visitor's own search returned.
                "work_orders": orders.sudo(),
                "page_name": "work_order",
                "default_url": "/my/work-orders",
                "pager": pager,
                "work_order_tabs": work_order_tabs,
                "filterby": filterby,
                "searchbar_sortings": searchbar_sortings,
                "sortby": sortby,
                "searchbar_inputs": searchbar_inputs,
                "search_in": search_in,
                "search": search,
                "tab_counts": tab_counts,
                "total_count": tab_counts["all"],
            }
        )
        return values

    def _prepare_work_order_page_values(self, order_sudo, access_token, **kwargs):
        values = {
            "work_order": order_sudo,
            "message": kwargs.get("message"),
            "error": kwargs.get("error"),
            "report_type": "html",
            "res_company": order_sudo.company_id,
            "backend_url": f"/odoo/work.order/{order_sudo.id}",
            "page_name": "work_order",
        }
        return self._get_page_view_values(
            order_sudo, access_token, values, "my_work_orders_history", False
        )

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    @http.route(
        ["/my/work-orders", "/my/work-orders/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=_may_read_replica,
    )
    def portal_my_work_orders(
        self, page=1, sortby=None, filterby=None, search=None, search_in=None, **kw
    ):
        params = {
            "page": page,
            "sortby": sortby,
            "filterby": filterby,
            "search": search,
            "search_in": search_in,
        }
        error = self._check_work_order_inputs(**params)
        if error:
            return self._work_order_bad_request(error)
        values = self._prepare_work_orders_portal_values(**params)
        request.session["my_work_orders_history"] = values["work_orders"].ids[:100]
        return request.render("work_order.portal_my_work_orders", values)

    @http.route(
        "/portal/work-orders",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        readonly=True,
    )
    def portal_work_orders_redirect(self, **kw):
        query = urlencode(list(request.httprequest.args.items(multi=True)))
        return request.redirect("/my/work-orders" + (f"?{query}" if query else ""))

    # Not read-only: a customer's visit stamps `portal_last_viewed`.
    @http.route(
        "/my/work-orders/<int:order_id>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
    )
    def portal_work_order_page(
        self,
        order_id,
        report_type=None,
        access_token=None,
        message=None,
        error=None,
        download=False,
        **kw,
    ):
        bad_input = self._check_work_order_inputs(
            report_type=report_type,
            access_token=access_token,
            message=message,
            error=error,
            download=download,
        )
        if bad_input:
            return self._work_order_bad_request(bad_input)
        order_sudo = self._get_work_order_sudo(order_id, access_token)
        if order_sudo is None:
            return request.redirect("/my")

        if report_type in ("html", "pdf", "text"):
            return self._work_order_private(
                self._show_report(
                    model=order_sudo,
                    report_type=report_type,
                    report_ref=REPORT_REF,
                    download=download,
                )
            )

        if request.env.user.share:
            order_sudo._portal_mark_viewed()
        values = self._prepare_work_order_page_values(
            order_sudo,
            self._sanitize_work_order_token(access_token),
            message=message,
            error=error,
        )
        return self._work_order_private(
            request.render("work_order.portal_work_order_page", values)
        )

    @http.route(
        "/my/work-orders/<int:order_id>/approve",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_work_order_approve(
        self, order_id, access_token=None, shown_total=None, **kw
    ):
        return self._portal_work_order_decide(
            order_id,
            access_token,
            lambda order, author: order._action_portal_approve(
                author=author, shown_total=shown_total
            ),
            "approved",
            text_input=shown_total,
        )

    @http.route(
        "/my/work-orders/<int:order_id>/decline",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_work_order_decline(
        self, order_id, access_token=None, decline_reason=None, **kw
    ):
        return self._portal_work_order_decide(
            order_id,
            access_token,
            lambda order, author: order._action_portal_decline(
                decline_reason, author=author
            ),
            "declined",
            text_input=decline_reason,
        )

    @staticmethod
    def _read_primary_for_a_while():
        """The visitor just changed something: see ``PRIMARY_READS_SECONDS``."""
        request.session[PRIMARY_READS_SESSION_KEY] = time.time() + PRIMARY_READS_SECONDS

    @staticmethod
    def _staff_decision_message():
        return _(
            "Only the customer answers here. Staff record the customer's approval "
            "with Mark Approved on the work order."
        )

    def _portal_work_order_decide(
        self,
        order_id,
        access_token,
        decide,
        outcome,
        text_input=None,
        error="refused",
    ):
        """Check access, run one model method, then go back to the work order.

        ``decide(order_sudo, author)`` runs in a savepoint, so a refusal leaves
        nothing behind; the page then shows why (``error``). ``text_input`` is
        the visitor's free text, if any: control characters in it are refused on
        the page.
        """
        bad_input = self._check_work_order_inputs(access_token=access_token)
        if bad_input:
            return self._work_order_bad_request(bad_input)
        order_sudo = self._get_work_order_sudo(order_id, access_token)
        if order_sudo is None:
            return request.redirect("/my")
        if request.env.user._is_internal():
            # staff see the customer's page as a preview: the answer is the customer's
            return self._work_order_private(
                request.redirect(order_sudo.get_portal_url(query_string="&error=staff"))
            )
        if self._check_work_order_inputs(multiline={"text"}, text=text_input):
            return self._work_order_private(
                request.redirect(
                    order_sudo.get_portal_url(query_string="&error=characters")
                )
            )
        try:
            with request.env.cr.savepoint():
                decide(order_sudo, self._get_work_order_author(order_sudo))
        except VisitAnswerRefused as refusal:
            # the page says the real reason (a known code, never free text)
            return self._work_order_private(
                request.redirect(
                    order_sudo.get_portal_url(
                        query_string=f"&error=visit_{refusal.reason}"
                    )
                )
            )
        except UserError:
            return self._work_order_private(
                request.redirect(
                    order_sudo.get_portal_url(query_string=f"&error={error}")
                )
            )
        self._read_primary_for_a_while()
        return self._work_order_private(
            request.redirect(
                order_sudo.get_portal_url(query_string=f"&message={outcome}")
            )
        )

    @http.route(
        "/my/work-orders/<int:order_id>/confirm",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_work_order_confirm(
        self, order_id, access_token=None, visit_time=None, **kw
    ):
        """The customer confirms the scheduled visit (form field ``visit_time``:
        the time their page showed)."""
        return self._portal_work_order_decide(
            order_id,
            access_token,
            lambda order, author: order._action_portal_confirm_visit(
                author=author, shown_time=visit_time
            ),
            "visit_confirmed",
            error="visit_refused",
        )

    @http.route(
        "/my/work-orders/<int:order_id>/reschedule",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_work_order_reschedule(
        self, order_id, access_token=None, message=None, visit_time=None, **kw
    ):
        """The customer asks for another time (form fields ``message`` and
        ``visit_time``, the time their page showed)."""
        return self._portal_work_order_decide(
            order_id,
            access_token,
            lambda order, author: order._action_portal_request_reschedule(
                message, author=author, shown_time=visit_time
            ),
            "reschedule_requested",
            text_input=message,
            error="visit_refused",
        )

    @http.route(
        "/my/work-orders/<int:order_id>/sign",
        type="json",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_work_order_sign(
        self, order_id, access_token=None, name=None, signature=None, **kw
    ):
        # The signature widget sends the token in the query string.
        if access_token is None:
            access_token = request.httprequest.args.get("access_token")
        self._work_order_private(request.future_response)
        # Checked before anything else: an uncaught error would answer with
        # Odoo's JSON error, which carries the server's traceback.
        bad_input = self._check_work_order_inputs(
            access_token=access_token, name=name, signature=signature
        )
        if bad_input:
            return {"error": bad_input}
        order_sudo = self._get_work_order_sudo(order_id, access_token)
        if order_sudo is None:
            return {"error": _("This work order is not available.")}
        if request.env.user._is_internal():
            return {"error": self._staff_decision_message()}
        try:
            with request.env.cr.savepoint():
                order_sudo._action_portal_sign(
                    name,
                    signature,
                    author=self._get_work_order_author(order_sudo),
                    # the page's total travels in the widget's URL
                    shown_total=request.httprequest.args.get("shown_total"),
                )
        except UserError as e:
            return {"error": str(e)}
        self._read_primary_for_a_while()
        return {
            "force_refresh": True,
            "redirect_url": order_sudo.get_portal_url(query_string="&message=signed"),
        }

    @http.route(
        "/my/work-orders/<int:order_id>/service-report",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        readonly=True,
    )
    def portal_work_order_service_report(
        self, order_id, access_token=None, report_type="pdf", download=False, **kw
    ):
        """The service report of a completed work order (PDF or HTML)."""
        bad_input = self._check_work_order_inputs(
            access_token=access_token, report_type=report_type, download=download
        )
        if bad_input:
            return self._work_order_bad_request(bad_input)
        order_sudo = self._get_work_order_sudo(order_id, access_token)
        if order_sudo is None:
            return request.redirect("/my")
        if not order_sudo._has_service_report():
            # back to the work order with the visitor's own link: making a
            # token here would write in a read-only route
            query = (
                f"?{urlencode({'access_token': access_token})}" if access_token else ""
            )
            return self._work_order_private(
                request.redirect(order_sudo.access_url + query)
            )
        report_type = "html" if report_type == "html" else "pdf"
        download = download in (True, "true", "1")
        response = self._show_report(
            model=order_sudo,
            report_type=report_type,
            report_ref=SERVICE_REPORT_REF,
            download=download,
        )
        if report_type == "pdf" and download:
            response.headers["Content-Disposition"] = content_disposition(
                order_sudo._get_service_report_filename()
            )
        return self._work_order_private(response)

    @http.route(
        "/my/work-orders/<int:order_id>/photos/<int:photo_id>",
        type="http",
        auth="public",
        methods=["GET"],
        readonly=True,
    )
    def portal_work_order_photo(
        self, order_id, photo_id, access_token=None, size="thumb", **kw
    ):
        """A photo of the work order that its customer may see."""
        if self._check_work_order_inputs(access_token=access_token, size=size):
            raise request.not_found()
        order_sudo = self._get_work_order_sudo(order_id, access_token)
        if order_sudo is None:
            raise request.not_found()
        photo_sudo = order_sudo._get_customer_photo(photo_id)
        if not photo_sudo:
            raise request.not_found()
        field = PHOTO_FIELDS.get(size if isinstance(size, str) else "thumb")
        stream = request.env["ir.binary"]._get_image_stream_from(
            photo_sudo, field or PHOTO_FIELDS["thumb"]
        )
        return self._work_order_private(stream.get_response())
