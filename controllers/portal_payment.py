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
        # The payment is always the work order's customer's (its invoice
        # address), whoever is logged in.
        partner_sudo = order_sudo._get_payment_partner()
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
        tokens_sudo, show_tokenize = self._get_work_order_token_values(
            order_sudo, providers_sudo
        )
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

    def _get_work_order_token_values(self, order_sudo, providers_sudo):
        """The saved payment methods offered, and whether the form offers to
        save one: only to a logged-in user of the work order's customer, with
        that customer's own saved payment methods."""
        user = request.env.user
        tokens_sudo = order_sudo._get_saved_payment_methods(providers_sudo, user)
        if order_sudo._may_use_saved_payment_methods(user):
            show_tokenize = self._compute_show_tokenize_input_mapping(providers_sudo)
        else:
            show_tokenize = dict.fromkeys(providers_sudo.ids, False)
        return tokens_sudo, show_tokenize

    def _get_work_order_sudo_by_payment_link(self, order_id, access_token, amount):
        """The work order a payment link pays (sudo), or None.

        A payment link carries no portal token but a payment token bound to
        the work order, its customer, its currency and the amount (see
        ``_get_payment_link_token``): checking it is the access check, as sale
        does for its payment links. It opens nothing but that payment."""
        order_sudo = request.env["work.order"].sudo().browse(order_id).exists()
        if not order_sudo or not order_sudo._check_payment_link_token(
            access_token, amount
        ):
            return None
        return order_sudo

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
        # A payment link's token first: it fixes the amount, and the office
        # sent it, signed quote or not. Else the portal's access check.
        order_sudo = self._get_work_order_sudo_by_payment_link(
            order_id, access_token, kwargs.get("amount")
        )
        from_payment_link = order_sudo is not None
        if not from_payment_link:
            order_sudo = self._get_work_order_sudo(order_id, access_token)
        if order_sudo is None:
            raise ValidationError(_("This work order is not available."))
        user = request.env.user
        if user._is_internal():
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
        flow = kwargs.get("flow")
        if flow not in PAYMENT_FLOWS or kwargs.get("is_validation"):
            raise ValidationError(_("This payment cannot be processed."))
        if not from_payment_link:
            order_sudo._check_portal_deposit_signed()
        amount = order_sudo._check_online_payment_amount(kwargs.get("amount"))
        # The payment is always the work order's customer's, whoever pays.
        partner_sudo = order_sudo._get_payment_partner()
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
        provider_id = self._cast_as_int(kwargs.get("provider_id"))
        token_id = self._cast_as_int(kwargs.get("token_id"))
        payment_method_id = self._cast_as_int(kwargs.get("payment_method_id"))
        if flow == "token":
            if not order_sudo._may_use_saved_payment_methods(user):
                raise ValidationError(
                    _(
                        "Saved payment methods can only be used from the "
                        "customer's own account. Please enter your payment "
                        "details instead."
                    )
                )
            token_sudo = order_sudo._get_saved_payment_methods(
                providers_sudo, user
            ).filtered(lambda token: token.id == token_id)
            provider_id = token_sudo.provider_id.id
        else:
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
                "tokenization_requested": order_sudo._may_use_saved_payment_methods(
                    user
                )
                and bool(kwargs.get("tokenization_requested")),
                # The work order's page for its customer; the payment's own
                # confirmation page for the holder of a payment link, which
                # opens nothing else.
                "landing_route": "/payment/confirmation"
                if from_payment_link
                else order_sudo.get_portal_url(),
            }
        )
        kwargs.pop("csrf_token", None)
        tx_sudo = self._create_transaction(
            custom_create_values=order_sudo._get_transaction_create_values(), **kwargs
        )
        if from_payment_link:
            self._update_landing_route(
                tx_sudo,
                payment_utils.generate_access_token(
                    partner_sudo.id, amount, order_sudo.currency_id.id
                ),
            )
        return tx_sudo._get_processing_values()

    @http.route()
    def payment_pay(
        self, *args, amount=None, work_order_id=None, access_token=None, **kwargs
    ):
        """Override of `payment`: the payment link of a work order (Odoo's payment
        link wizard) pays the work order, for the amount its payment token is
        bound to; the partner and the currency are the work order's."""
        if work_order_id is not None:
            bad_input = self._check_work_order_inputs(
                work_order_id=work_order_id, access_token=access_token, amount=amount
            )
            if bad_input:
                return self._work_order_bad_request(bad_input)
        work_order_id = self._cast_as_int(work_order_id)
        if work_order_id:
            amount = self._cast_as_float(amount)
            order_sudo = self._get_work_order_sudo_by_payment_link(
                work_order_id, access_token, amount
            )
            if order_sudo is None:
                return self._work_order_invalid_payment_link()
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
            # token; the work order's own payment token was checked above.
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
        transaction route, with the link's payment token (never the portal
        token), comes back to its portal page, and is the customer's: their
        saved payment methods only for their own users, nobody else's."""
        form_values = super()._get_extra_payment_form_values(**kwargs)
        work_order_id = self._cast_as_int(work_order_id)
        if not work_order_id:
            return form_values
        order_sudo = self._get_work_order_sudo_by_payment_link(
            work_order_id, work_order_access_token, kwargs.get("amount")
        )
        if order_sudo is None:
            raise NotFound()
        try:
            order_sudo._check_online_payment_amount(kwargs.get("amount"))
        except UserError:
            form_values["amount"] = 0.0  # the page says there is nothing to pay
        providers_sudo = (
            kwargs.get("providers_sudo") or request.env["payment.provider"].sudo()
        )
        tokens_sudo, show_tokenize = self._get_work_order_token_values(
            order_sudo, providers_sudo
        )
        form_values.update(
            {
                "partner_id": order_sudo._get_payment_partner().id,
                "tokens_sudo": tokens_sudo,
                "show_tokenize_input_mapping": show_tokenize,
                # without the portal token: the link opens nothing but this
                # payment
                "transaction_route": f"{order_sudo.access_url}/transaction",
                "landing_route": "/payment/confirmation",
                "access_token": work_order_access_token,
            }
        )
        return form_values
