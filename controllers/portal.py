from urllib.parse import urlencode

from werkzeug.exceptions import NotFound

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import content_disposition, request

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers import portal as payment_portal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.work_order_portal import has_forbidden_characters

REPORT_REF = "work_order.action_report_work_order"
# On every page and document reached with a work order's link (and the answers
# that carry the link): kept out of caches, and the link, token included, out of
# the Referer header of whatever the page links to or loads.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PAYMENT_FLOWS = ("redirect", "direct", "token")
SERVICE_REPORT_REF = "work_order.action_report_work_order_service"
# Photo sizes the portal serves: the thumbnail and the full view.
PHOTO_FIELDS = {"thumb": "image_256", "full": "image_1024"}


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
        """The list tabs: a label and the states each tab shows (None: all)."""
        tab_states = request.env["work.order"]._get_portal_tab_states()
        filters = {
            "all": {"label": _("All"), "states": None},
            "needs_action": {
                "label": _("Needs action"),
                "states": tab_states["needs_action"],
            },
            "active": {"label": _("Active"), "states": tab_states["active"]},
            "done": {"label": _("Done"), "states": tab_states["done"]},
        }
        for tab in filters.values():
            tab["domain"] = [("state", "in", tab["states"])] if tab["states"] else []
        return filters

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
        if "work_order_recurrence_count" in counters:
            Recurrence = request.env["work.order.recurrence"]
            values["work_order_recurrence_count"] = (
                Recurrence.search_count(
                    self._prepare_work_order_recurrences_domain(
                        request.env.user.partner_id
                    )
                )
                if Recurrence.has_access("read")
                else 0
            )
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
        # One query for the count of every tab.
        state_counts = dict(WorkOrder._read_group(domain, ["state"], ["__count"]))
        tab_counts = {
            key: sum(
                count
                for state, count in state_counts.items()
                if tab["states"] is None or state in tab["states"]
            )
            for key, tab in work_order_tabs.items()
        }
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
                "total_count": sum(state_counts.values()),
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
        values.update(self._get_work_order_payment_values(order_sudo))
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
        readonly=True,
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
        except UserError:
            return self._work_order_private(
                request.redirect(
                    order_sudo.get_portal_url(query_string=f"&error={error}")
                )
            )
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
    def portal_work_order_confirm(self, order_id, access_token=None, **kw):
        """The customer confirms the scheduled visit."""
        return self._portal_work_order_decide(
            order_id,
            access_token,
            lambda order, author: order._action_portal_confirm_visit(author=author),
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
        self, order_id, access_token=None, message=None, **kw
    ):
        """The customer asks for another time (form field ``message``)."""
        return self._portal_work_order_decide(
            order_id,
            access_token,
            lambda order, author: order._action_portal_request_reschedule(
                message, author=author
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
        return {
            "force_refresh": True,
            "redirect_url": order_sudo.get_portal_url(query_string="&message=signed"),
        }

    # ------------------------------------------------------------------
    # Online payment (Odoo's payment form, like sale's portal)
    # ------------------------------------------------------------------

    def _get_work_order_payment_values(self, order_sudo):
        """The payment form's context on the work order's page, when the
        customer has something to pay there: the deposit, or the balance of the
        posted invoice. A payment still processing is shown instead of a form."""
        last_tx = order_sudo.transaction_ids._get_last()
        amount = order_sudo._get_portal_payment_amount()
        values = {
            "payment_last_tx": last_tx,
            "payment_open": bool(amount) and last_tx.state != "pending",
        }
        if not values["payment_open"]:
            return values
        logged_in = not request.env.user._is_public()
        partner_sudo = (
            request.env.user.partner_id
            if logged_in
            else order_sudo._get_payment_partner()
        )
        company = order_sudo.company_id
        currency = order_sudo.currency_id
        availability_report = {}
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                company.id,
                partner_sudo.id,
                amount,
                currency_id=currency.id,
                report=availability_report,
            )
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                currency_id=currency.id,
                report=availability_report,
            )
        )
        # A visitor with the link never sees, saves nor pays with the
        # customer's saved payment methods.
        tokens_sudo = request.env["payment.token"].sudo()
        show_tokenize = dict.fromkeys(providers_sudo.ids, False)
        if logged_in:
            tokens_sudo = tokens_sudo._get_available_tokens(
                providers_sudo.ids, partner_sudo.id
            )
            show_tokenize = self._compute_show_tokenize_input_mapping(providers_sudo)
        values.update(
            {
                "company_mismatch": not self._can_partner_pay_in_company(
                    partner_sudo, company
                ),
                "expected_company": company,
                "show_tokenize_input_mapping": show_tokenize,
                "amount": amount,
                "currency": currency,
                "partner_id": partner_sudo.id,
                "providers_sudo": providers_sudo,
                "payment_methods_sudo": payment_methods_sudo,
                "tokens_sudo": tokens_sudo,
                "availability_report": availability_report,
                "transaction_route": order_sudo.get_portal_url(suffix="/transaction"),
                "landing_route": order_sudo.get_portal_url(),
                "access_token": order_sudo._portal_ensure_token(),
            }
        )
        return values

    @http.route(
        "/my/work-orders/<int:order_id>/transaction",
        type="json",
        auth="public",
        methods=["POST"],
    )
    def portal_work_order_transaction(self, order_id, access_token=None, **kwargs):
        """Create a draft payment of the work order and return its processing
        values: the payment form's transaction route, like sale's.

        The amount is checked against what the work order may be paid now; the
        approval is decided later from the transactions themselves.

        Unlike the other JSON routes here, a refusal is an error, not an
        ``{"error": ...}`` result: Odoo's payment form, and every provider's
        script built on it, expect the transaction route to fail that way (as
        sale's does) and show the message.
        """
        self._work_order_private(request.future_response)
        bad_input = self._check_work_order_inputs(
            access_token=access_token,
            flow=kwargs.get("flow"),
            landing_route=kwargs.get("landing_route"),
        )
        if bad_input:
            raise ValidationError(bad_input)
        order_sudo = self._get_work_order_sudo(order_id, access_token)
        if order_sudo is None:
            raise ValidationError(_("This work order is not available."))
        if request.env.user._is_internal():
            # staff preview the customer's page: the payment is the customer's
            raise ValidationError(
                _(
                    "Only the customer pays here. Send them a payment link (Payment "
                    "Link on the work order)."
                )
            )
        self._validate_transaction_kwargs(kwargs)
        logged_in = not request.env.user._is_public()
        flow = kwargs.get("flow")
        if flow not in PAYMENT_FLOWS or kwargs.get("is_validation"):
            raise ValidationError(_("This payment cannot be processed."))
        if flow == "token" and not logged_in:
            raise ValidationError(_("Log in to pay with a saved payment method."))
        try:
            amount = order_sudo._check_online_payment_amount(kwargs.get("amount"))
        except UserError as error:
            raise ValidationError(str(error)) from None
        partner_sudo = (
            request.env.user.partner_id
            if logged_in
            else order_sudo._get_payment_partner()
        )
        provider_id = self._cast_as_int(kwargs.get("provider_id"))
        token_id = self._cast_as_int(kwargs.get("token_id"))
        if flow == "token":
            provider_id = (
                request.env["payment.token"]
                .sudo()
                .browse(token_id)
                .exists()
                .provider_id.id
                if token_id
                else None
            )
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                order_sudo.company_id.id,
                partner_sudo.id,
                amount,
                currency_id=order_sudo.currency_id.id,
            )
        )
        payment_method_id = self._cast_as_int(kwargs.get("payment_method_id"))
        if flow != "token":
            payment_methods_sudo = (
                request.env["payment.method"]
                .sudo()
                ._get_compatible_payment_methods(
                    providers_sudo.ids,
                    partner_sudo.id,
                    currency_id=order_sudo.currency_id.id,
                )
            )
            if payment_method_id not in payment_methods_sudo.ids:
                provider_id = None
        if not provider_id or provider_id not in providers_sudo.ids:
            raise ValidationError(
                _("This payment method is not available for this work order.")
            )
        kwargs.update(
            {
                "provider_id": provider_id,
                "payment_method_id": payment_method_id,
                "token_id": token_id,
                "amount": amount,
                "currency_id": order_sudo.currency_id.id,
                "partner_id": partner_sudo.id,
                "tokenization_requested": logged_in
                and bool(kwargs.get("tokenization_requested")),
                "landing_route": order_sudo.get_portal_url(),
            }
        )
        kwargs.pop("csrf_token", None)
        tx_sudo = self._create_transaction(
            custom_create_values=order_sudo._get_transaction_create_values(), **kwargs
        )
        return tx_sudo._get_processing_values()

    @http.route()
    def payment_pay(
        self, *args, amount=None, work_order_id=None, access_token=None, **kwargs
    ):
        """Override of `payment`: the payment link of a work order (Odoo's payment
        link wizard) carries its portal token, and pays the work order."""
        if work_order_id is not None:
            bad_input = self._check_work_order_inputs(
                work_order_id=work_order_id, access_token=access_token, amount=amount
            )
            if bad_input:
                return self._work_order_bad_request(bad_input)
        work_order_id = self._cast_as_int(work_order_id)
        if work_order_id:
            order_sudo = self._get_work_order_sudo(work_order_id, access_token)
            if order_sudo is None:
                raise NotFound()
            amount = self._cast_as_float(amount)
            partner = order_sudo._get_payment_partner()
            currency = order_sudo.currency_id
            kwargs.update(
                {
                    "reference": order_sudo.name,
                    "currency_id": currency.id,
                    "partner_id": partner.id,
                    "company_id": order_sudo.company_id.id,
                    "work_order_id": order_sudo.id,
                    "work_order_access_token": access_token,
                }
            )
            # /payment/pay checks the partner, amount and currency of a payment
            # token; the work order's own token was checked above.
            access_token = payment_utils.generate_access_token(
                partner.id, amount, currency.id
            )
        response = super().payment_pay(
            *args, amount=amount, access_token=access_token, **kwargs
        )
        return self._work_order_private(response) if work_order_id else response

    def _get_extra_payment_form_values(
        self, work_order_id=None, work_order_access_token=None, **kwargs
    ):
        """Override of `payment`: a work order's payment goes through its own
        transaction route and comes back to its portal page."""
        form_values = super()._get_extra_payment_form_values(**kwargs)
        work_order_id = self._cast_as_int(work_order_id)
        if not work_order_id:
            return form_values
        order_sudo = self._get_work_order_sudo(work_order_id, work_order_access_token)
        if order_sudo is None:
            raise NotFound()
        try:
            order_sudo._check_online_payment_amount(kwargs.get("amount"))
        except UserError:
            form_values["amount"] = 0.0  # the page says there is nothing to pay
        form_values.update(
            {
                "transaction_route": order_sudo.get_portal_url(suffix="/transaction"),
                "landing_route": order_sudo.get_portal_url(),
                "access_token": order_sudo._portal_ensure_token(),
            }
        )
        return form_values

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
            return self._work_order_private(
                request.redirect(order_sudo.get_portal_url())
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

    # ------------------------------------------------------------------
    # Service agreements
    # ------------------------------------------------------------------

    def _get_work_order_recurrence_sudo(self, recurrence_id, access_token):
        """The service agreement the visitor may open (sudo), or None: the same
        check as ``_get_work_order_sudo``, on the agreement."""
        token = self._sanitize_work_order_token(access_token)
        try:
            agreement_sudo = self._document_check_access(
                "work.order.recurrence", recurrence_id, token
            )
        except (AccessError, MissingError):
            return None
        return agreement_sudo if agreement_sudo._is_shown_in_portal() else None

    def _prepare_work_order_recurrences_domain(self, partner):
        return [
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "draft"),
        ]

    @http.route(
        [
            "/my/work-orders/agreements",
            "/my/work-orders/agreements/page/<int:page>",
        ],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_work_order_recurrences(self, page=1, **kw):
        Recurrence = request.env["work.order.recurrence"]
        domain = self._prepare_work_order_recurrences_domain(
            request.env.user.partner_id
        )
        pager = portal_pager(
            url="/my/work-orders/agreements",
            total=Recurrence.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        agreements = Recurrence.search(
            domain,
            order="state desc, id desc",
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_work_order_recurrences_history"] = agreements.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                # Sudo only on the records the visitor's own search returned.
                "agreements": agreements.sudo(),
                "page_name": "work_order_recurrence",
                "default_url": "/my/work-orders/agreements",
                "pager": pager,
            }
        )
        return request.render("work_order.portal_my_work_order_recurrences", values)

    # Not read-only: the links to the visits carry their access tokens, which
    # are created on first use.
    @http.route(
        "/my/work-orders/agreements/<int:recurrence_id>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
    )
    def portal_work_order_recurrence_page(self, recurrence_id, access_token=None, **kw):
        bad_input = self._check_work_order_inputs(access_token=access_token)
        if bad_input:
            return self._work_order_bad_request(bad_input)
        agreement_sudo = self._get_work_order_recurrence_sudo(
            recurrence_id, access_token
        )
        if agreement_sudo is None:
            return request.redirect("/my")
        values = {
            "agreement": agreement_sudo,
            "upcoming_visits": agreement_sudo._get_portal_upcoming_visits(),
            "recent_visits": agreement_sudo._get_portal_recent_visits(),
            "page_name": "work_order_recurrence",
        }
        values = self._get_page_view_values(
            agreement_sudo,
            self._sanitize_work_order_token(access_token),
            values,
            "my_work_order_recurrences_history",
            False,
        )
        return self._work_order_private(
            request.render("work_order.portal_work_order_recurrence_page", values)
        )
