import math

from odoo import Command, _, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac as hmac_tool

from .work_order_deposit import MAX_AMOUNT, MAX_AMOUNT_TEXT

# The states in which a work order takes payments (deposit, then the balance).
PAYABLE_STATES = (
    "quoted",
    "approved",
    "scheduled",
    "in_progress",
    "on_hold",
    "completed",
    "invoiced",
)


class WorkOrder(models.Model):
    """What the customer pays in the portal: the deposit that approves a
    signed quote, then the posted invoice; payment links and saved cards."""

    _inherit = "work.order"

    def _has_to_be_paid(self):
        """Whether the quote waits for its online deposit to be approved."""
        self.ensure_one()
        return (
            self.state == "quoted"
            and self.require_payment
            and self.currency_id.compare_amounts(self.amount_total, 0) > 0
            and not self._is_deposit_reached()
        )

    def _has_to_be_signed(self):
        # With a deposit, the customer signs first and approves by paying.
        return super()._has_to_be_signed() and not (
            self.signature and self._has_to_be_paid()
        )

    def _action_portal_approve(self, author=None, shown_total=None):
        self.ensure_one()
        if self._has_to_be_paid():
            raise UserError(
                _(
                    "%(order)s is approved by paying its deposit of %(amount)s online.",
                    order=self.name,
                    amount=self.currency_id.format(self._get_deposit_remaining()),
                )
            )
        return super()._action_portal_approve(author=author, shown_total=shown_total)

    def _action_portal_sign(self, name, signature, author=None, shown_total=None):
        """With a deposit, signing records the signature; paying approves."""
        self.ensure_one()
        if not self._has_to_be_paid():
            return super()._action_portal_sign(
                name, signature, author=author, shown_total=shown_total
            )
        name = self._check_portal_signer_name(name)
        signature = self._check_portal_signature(signature)
        self._lock_rows(nowait=True)
        self._check_portal_decision_open()
        self._check_portal_shown_total(shown_total)
        if self.signature:
            raise UserError(
                _(
                    "%(order)s is already signed: pay the deposit to approve it.",
                    order=self.name,
                )
            )
        self._workflow_write(
            {
                "signed_by": name,
                "signed_on": fields.Datetime.now(),
                "signature": signature,
            }
        )
        self.message_post(
            body=_(
                "Signed by %(name)s in the customer portal; approved once the "
                "deposit of %(amount)s is paid.",
                name=name,
                amount=self.currency_id.format(self._get_deposit_remaining()),
            ),
            author_id=(author or self.partner_id).id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    def _get_portal_payment_amount(self):
        """What the customer can pay on the portal page now: the rest of the
        deposit while the quote awaits it, then the open amount of the posted
        invoice; 0 when there is nothing to pay there."""
        self.ensure_one()
        if self._has_to_be_paid():
            return self._get_deposit_remaining()
        if self.state == "invoiced" and self._get_posted_invoices():
            return self.amount_due
        return 0.0

    def _check_online_payment_amount(self, amount):
        """Return ``amount``, in the currency's precision, if the customer may pay
        it online now; raise a UserError otherwise.

        Paying does not approve by itself: the approval is decided from the
        transactions once they are authorized or confirmed.
        """
        self.ensure_one()
        if self.state not in PAYABLE_STATES:
            raise UserError(
                _(
                    "%(order)s is %(state)s: it cannot be paid online.",
                    order=self.name,
                    state=self._state_label(),
                )
            )
        if (
            not isinstance(amount, int | float)
            or isinstance(amount, bool)
            or not math.isfinite(amount)
        ):
            raise UserError(_("The amount to pay must be a number."))
        if self.currency_id.is_zero(self.amount_due):
            raise UserError(
                _("Nothing remains to be paid on %(order)s.", order=self.name)
            )
        # the range before the rounding: 1e308 overflows it
        if amount <= 0:
            raise UserError(_("The amount to pay must be positive."))
        if amount > MAX_AMOUNT:
            raise UserError(
                _(
                    "The amount to pay cannot be more than %(max)s.",
                    max=MAX_AMOUNT_TEXT,
                )
            )
        amount = self.currency_id.round(amount)
        if self.currency_id.compare_amounts(amount, 0) <= 0:
            raise UserError(_("The amount to pay must be positive."))
        if self.currency_id.compare_amounts(amount, self.amount_due) > 0:
            raise UserError(
                _(
                    "%(amount)s is more than what remains to be paid on %(order)s: "
                    "%(due)s.",
                    amount=self.currency_id.format(amount),
                    order=self.name,
                    due=self.currency_id.format(self.amount_due),
                )
            )
        return amount

    def _get_transaction_create_values(self):
        """The links of a new online payment of this work order: the work order,
        and its posted invoices still open, which the payment then settles."""
        self.ensure_one()
        invoices = self._get_posted_invoices().filtered(
            lambda move: not move.currency_id.is_zero(move.amount_residual)
        )
        values = {"work_order_ids": [Command.set(self.ids)]}
        if invoices:
            values["invoice_ids"] = [Command.set(invoices.ids)]
        return values

    def _get_payment_partner(self):
        """The partner an online payment of the work order is made for."""
        self.ensure_one()
        return self.partner_id.browse(
            self.partner_id.address_get(["invoice"])["invoice"]
        )

    def _get_payment_link_token(self, amount):
        """The payment token of a payment link of this work order for
        ``amount``: bound to the payment partner, the amount, the currency and
        the work order. Computed as ``payment.utils.generate_access_token``
        does (without needing a request)."""
        self.ensure_one()
        values = (
            self._get_payment_partner().id,
            float(amount),
            self.currency_id.id,
            self.id,
        )
        return hmac_tool(
            self.env(su=True),
            "generate_access_token",
            "|".join(str(value) for value in values),
        )

    def _check_payment_link_token(self, token, amount):
        """Whether ``token`` is the token of a payment link of this work order
        for exactly ``amount``."""
        self.ensure_one()
        return bool(
            isinstance(token, str)
            and token.isascii()
            and isinstance(amount, int | float)
            and not isinstance(amount, bool)
            and math.isfinite(amount)
            and consteq(token, self._get_payment_link_token(amount))
        )

    def _may_use_saved_payment_methods(self, user):
        """Whether ``user`` may see, save and pay with the saved payment methods
        of the work order's payment partner: only a logged-in user of that
        customer, never a visitor with the link nor another customer."""
        self.ensure_one()
        return (
            not user._is_public()
            and not user._is_internal()
            and user.partner_id.commercial_partner_id
            == self._get_payment_partner().commercial_partner_id
        )

    def _get_saved_payment_methods(self, providers, user):
        """The saved payment methods (tokens) ``user`` may pay this work order
        with: the payment partner's own, and only for that customer's users."""
        self.ensure_one()
        if not self._may_use_saved_payment_methods(user):
            return self.env["payment.token"]
        return (
            self.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers.ids, self._get_payment_partner().id)
        )

    def _check_portal_deposit_signed(self):
        """Approve & Pay is sign, then pay: refuse the deposit of a quote the
        customer has not signed yet."""
        self.ensure_one()
        if self._has_to_be_paid() and not self.signature:
            raise UserError(
                _(
                    "Please sign the quote %(order)s first: then you can pay its "
                    "deposit.",
                    order=self.name,
                )
            )

    def _get_default_payment_link_values(self):
        """Values of Odoo's payment link wizard (Payment Link button)."""
        self.ensure_one()
        amount_max = self.amount_due
        amount = self._get_deposit_remaining() if self._has_to_be_paid() else amount_max
        return {
            "currency_id": self.currency_id.id,
            "partner_id": self._get_payment_partner().id,
            "amount": amount,
            "amount_max": amount_max,
            "amount_paid": self.amount_paid,
        }
