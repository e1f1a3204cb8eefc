import werkzeug.exceptions
from werkzeug.exceptions import NotFound

from odoo import _, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from odoo.addons.payment import utils as payment_utils

from .portal import WorkOrderPortal

PAYMENT_FLOWS = ("redirect", "direct", "token")


class WorkOrderPaymentPortal(WorkOrderPortal):
    """Online payment on the work order's page: Odoo's payment form, the
    transaction route, like sale's portal."""

    def _prepare_work_order_page_values(self, order_sudo, access_token, **kwargs):
        values = super()._prepare_work_order_page_values(
            order_sudo, access_token, **kwargs
        )
        values.update(self._get_work_order_payment_values(order_sudo))
        return values

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

        Unlike the other JSON routes here, a refusal is a JSON-RPC error, not an
        ``{"error": ...}`` result: Odoo's payment form, and every provider's
        script built on it, expect the transaction route to fail that way (as
        sale's does) and show the error's message. See
        ``_work_order_payment_refusal``.
        """
        self._work_order_private(request.future_response)
        try:
            return self._work_order_transaction(order_id, access_token, **kwargs)
        except UserError as error:
            raise self._work_order_payment_refusal(str(error)) from None

    def _work_order_payment_refusal(self, message):
        """The exception that fails the JSON request with ``message``, as the
        payment form expects (``error.data.message``), and nothing else.

        Odoo's own answer to an exception raised in a JSON route carries the
        server's traceback (``data.debug``, whatever the exception, debug mode
        or not): a customer must never see it. This answer has the shape of
        Odoo's answer to a ``ValidationError``, without it. Raising it rolls
        the request's changes back, as any exception does; Odoo answers with its
        response as is (``werkzeug.exceptions.abort``).
        """
        error_class = ValidationError
        response = request.make_json_response(
            {
                "jsonrpc": "2.0",
                "id": request.dispatcher.request_id,
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {
                        "name": f"{error_class.__module__}.{error_class.__name__}",
                        "message": message,
                        "arguments": [message],
                        "context": {},
                    },
                },
            }
        )
        return werkzeug.exceptions.HTTPException(response=response)

    def _work_order_transaction(self, order_id, access_token, **kwargs):
        """The transaction route's work; any refusal is a ``UserError``."""
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
        try:
            self._validate_transaction_kwargs(kwargs)
        except ValidationError:
            # the keys the form never sends are named only in the server's log
            raise ValidationError(_("This payment cannot be processed.")) from None
        logged_in = not request.env.user._is_public()
        flow = kwargs.get("flow")
        if flow not in PAYMENT_FLOWS or kwargs.get("is_validation"):
            raise ValidationError(_("This payment cannot be processed."))
        if flow == "token" and not logged_in:
            raise ValidationError(_("Log in to pay with a saved payment method."))
        amount = order_sudo._check_online_payment_amount(kwargs.get("amount"))
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
                return self._work_order_invalid_payment_link()
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

    def _work_order_invalid_payment_link(self):
        """A 404 page saying the payment link is not valid (wrong token, or a
        work order the customer may not see), like payment's own 404 for a bad
        token, but with a message."""
        return self._work_order_private(
            request.render(
                "work_order.portal_work_order_bad_request",
                {
                    "error_message": _(
                        "This payment link is not valid. Ask us for a new one."
                    )
                },
                status=404,
            )
        )

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
