from odoo import _, api, models
from odoo.exceptions import ValidationError

from ..models.work_order_deposit import MAX_AMOUNT, MAX_AMOUNT_TEXT, is_amount


class PaymentLinkWizard(models.TransientModel):
    _inherit = "payment.link.wizard"

    @api.depends("amount")
    def _compute_confirmation_message(self):
        result = super()._compute_confirmation_message()
        for wizard in self.filtered(lambda w: w.res_model == "work.order"):
            order = wizard.env["work.order"].browse(wizard.res_id)
            if not order._has_to_be_paid() or not is_amount(wizard.amount):
                continue
            remaining = order._get_deposit_remaining()
            if wizard.currency_id.compare_amounts(wizard.amount, remaining) >= 0:
                wizard.confirmation_message = _(
                    "This payment completes the deposit and approves the work order."
                )
            else:
                wizard.confirmation_message = _(
                    "The customer needs to pay at least %(amount)s to approve the "
                    "work order.",
                    amount=wizard.currency_id.format(remaining),
                )
        return result

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            res_model = vals.get("res_model") or self.env.context.get("active_model")
            if res_model == "work.order" and "amount" in vals:
                self._check_work_order_link_amount(vals["amount"])
        return super().create(vals_list)

    def write(self, vals):
        if "amount" in vals and any(w.res_model == "work.order" for w in self):
            self._check_work_order_link_amount(vals["amount"])
        return super().write(vals)

    @api.model
    def _check_work_order_link_amount(self, amount):
        """Refuse an amount that is not a number, or out of range, before it is
        written (a NaN or an infinite amount would fail in the rounding)."""
        if not is_amount(amount) or not 0 <= amount <= MAX_AMOUNT:
            raise ValidationError(
                _(
                    "The amount of the payment link must be an amount between 0 "
                    "and %(max)s.",
                    max=MAX_AMOUNT_TEXT,
                )
            )

    @api.depends("amount", "amount_max")
    def _compute_warning_message(self):
        result = super()._compute_warning_message()
        for wizard in self.filtered(lambda w: w.res_model == "work.order"):
            wizard.warning_message = wizard._get_work_order_link_error() or ""
        return result

    @api.depends("amount", "currency_id", "partner_id", "company_id")
    def _compute_link(self):
        # no link to copy for an amount the work order cannot be paid
        refused = self.filtered(
            lambda w: w.res_model == "work.order" and w._get_work_order_link_error()
        )
        refused.link = False
        return super(PaymentLinkWizard, self - refused)._compute_link()

    @api.constrains("amount", "res_model", "res_id")
    def _check_work_order_link_due(self):
        for wizard in self.filtered(lambda w: w.res_model == "work.order"):
            error = wizard._get_work_order_link_error()
            if error:
                raise ValidationError(error)

    def _get_work_order_link_error(self):
        """Why the link's amount cannot be paid on its work order, or None: a
        link pays what remains due, neither nothing (the customer would open a
        page with nothing to pay) nor more."""
        self.ensure_one()
        order = self.env["work.order"].browse(self.res_id).exists()
        if not order or not is_amount(self.amount):
            return None  # no work order, or refused before it is written
        currency = self.currency_id or order.currency_id
        due = order.amount_due
        if currency.is_zero(due):
            return _(
                "Nothing remains to be paid on %(order)s: there is no payment link "
                "to send.",
                order=order.name,
            )
        if currency.compare_amounts(self.amount, 0) <= 0:
            return _(
                "Enter the amount of the payment link: more than 0, at most "
                "%(due)s (what remains to be paid on %(order)s).",
                due=currency.format(due),
                order=order.name,
            )
        if currency.compare_amounts(self.amount, due) > 0:
            return _(
                "The payment link asks for %(amount)s, more than what remains to "
                "be paid on %(order)s: %(due)s.",
                amount=currency.format(self.amount),
                order=order.name,
                due=currency.format(due),
            )
        return None

    def _prepare_query_params(self, related_document):
        """Override of `payment`: the link pays the work order (see the portal
        controller's `payment_pay`), which fixes the partner and the currency.
        It carries a payment token bound to the amount, never the work order's
        portal token: the link pays this amount and opens nothing else."""
        if self.res_model != "work.order":
            return super()._prepare_query_params(related_document)
        return {
            "amount": self.amount,
            "access_token": self._prepare_access_token(),
            "work_order_id": self.res_id,
        }

    def _prepare_access_token(self):
        """Override of `payment`: the token binds the work order's payment
        partner, the amount and the currency, like sale's links."""
        if self.res_model != "work.order":
            return super()._prepare_access_token()
        order = self.env["work.order"].browse(self.res_id)
        return order._get_payment_link_token(self.amount)
