import math

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

# How a deposit is set: a share of the total, or a fixed amount. Shared by the
# company default, the templates and the work orders.
DEPOSIT_TYPES = [
    ("percent", "Percentage of the total"),
    ("fixed", "Fixed amount"),
]
# The states in which the quote sent to the customer asks for the deposit (a
# rejected quote may be sent again).
QUOTE_DEPOSIT_STATES = ("draft", "quoted", "rejected")
# The largest amount a deposit or a payment link may ask for: beyond it, a float
# no longer holds the cents (and 1e308 overflows the rounding).
MAX_AMOUNT = 1e12
MAX_AMOUNT_TEXT = f"{MAX_AMOUNT:,.0f}"  # for messages (no f-string in _())


def is_amount(value):
    """Whether ``value`` is a real, finite number (an RPC may send anything)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def check_deposit_values(vals, percent_field, fixed_field):
    """Refuse, before anything is written, a deposit that is not a number or
    out of range in ``vals`` (the values of a write or a create): a NaN or an
    infinite amount would otherwise fail deep in the rounding. A negative fixed
    amount is left to the constraints, which name the record."""
    if percent_field in vals:
        percent = vals[percent_field] or 0.0
        if not is_amount(percent) or not 0 <= percent <= 1.0:
            raise ValidationError(
                _("The deposit must be a percentage between 0% and 100%.")
            )
    if fixed_field in vals:
        amount = vals[fixed_field] or 0.0
        if not is_amount(amount) or amount > MAX_AMOUNT:
            raise ValidationError(
                _(
                    "The fixed deposit must be an amount between 0 and %(max)s.",
                    max=MAX_AMOUNT_TEXT,
                )
            )


class WorkOrder(models.Model):
    """The deposit a quote asks for: whether the customer pays one online to
    approve it, and how much (a share of the total, or a fixed amount).

    The defaults come from the template, else from the company. The amount
    required is always computed here, on the server, from these fields and the
    total (``_get_prepayment_required_amount``); the payments themselves are the
    online payment concern's (``work_order_payment.py``).
    """

    _inherit = "work.order"

    require_payment = fields.Boolean(
        string="Online Deposit",
        compute="_compute_require_payment",
        store=True,
        readonly=False,
        precompute=True,
        help="The customer approves the quote in the portal by paying a deposit "
        "online.",
        groups="base.group_user",
    )
    prepayment_type = fields.Selection(
        DEPOSIT_TYPES,
        string="Deposit As",
        compute="_compute_prepayment_type",
        store=True,
        readonly=False,
        precompute=True,
        help="A share of the total, or a fixed amount in the work order's currency.",
        groups="base.group_user",
    )
    prepayment_percent = fields.Float(
        string="Deposit",
        compute="_compute_prepayment_percent",
        store=True,
        readonly=False,
        precompute=True,
        help="The share of the total the customer pays online to approve the work "
        "order.",
        groups="base.group_user",
    )
    prepayment_fixed_amount = fields.Monetary(
        string="Fixed Deposit",
        compute="_compute_prepayment_fixed_amount",
        store=True,
        readonly=False,
        precompute=True,
        help="The amount the customer pays online to approve the work order, in its "
        "currency; never more than the total.",
        groups="base.group_user",
    )
    deposit_terms_locked = fields.Boolean(
        compute="_compute_deposit_terms_locked",
        help="The quote was sent with these deposit terms: only a work order "
        "manager may change them.",
        groups="base.group_user",
    )

    @api.depends("company_id", "template_id")
    def _compute_require_payment(self):
        for order in self:
            policy = order.template_id.deposit_policy
            if policy in ("required", "none"):
                order.require_payment = policy == "required"
            else:
                order.require_payment = order.company_id.work_order_require_payment

    @api.depends("company_id", "template_id")
    def _compute_prepayment_type(self):
        for order in self:
            order.prepayment_type = order._get_default_deposit()["prepayment_type"]

    @api.depends("require_payment", "company_id", "template_id")
    def _compute_prepayment_percent(self):
        for order in self:
            order.prepayment_percent = order._get_default_deposit()[
                "prepayment_percent"
            ]

    @api.depends("company_id", "template_id", "currency_id")
    def _compute_prepayment_fixed_amount(self):
        for order in self:
            company = order.company_id or self.env.company
            amount = order._get_default_deposit()["prepayment_fixed_amount"]
            currency = order.currency_id or company.currency_id
            order.prepayment_fixed_amount = company.currency_id._convert(
                amount, currency, company, fields.Date.context_today(order)
            )

    @api.depends("state", "date_quoted")
    @api.depends_context("uid")
    def _compute_deposit_terms_locked(self):
        is_manager = self._is_deposit_terms_manager()
        for order in self:
            order.deposit_terms_locked = order._are_deposit_terms_sent() and not (
                is_manager
            )

    @api.constrains(
        "require_payment",
        "prepayment_type",
        "prepayment_percent",
        "prepayment_fixed_amount",
    )
    def _check_prepayment(self):
        for order in self:
            currency = order.currency_id
            if currency.compare_amounts(order.prepayment_fixed_amount, 0) < 0:
                raise ValidationError(
                    _(
                        "The fixed deposit of %(order)s cannot be negative.",
                        order=order.name,
                    )
                )
            if not order.require_payment:
                continue
            if order.prepayment_type == "fixed":
                if currency.compare_amounts(order.prepayment_fixed_amount, 0) <= 0:
                    raise ValidationError(
                        _(
                            "Enter the fixed deposit of %(order)s: an amount more "
                            "than 0.",
                            order=order.name,
                        )
                    )
                # A draft may still get its lines: its deposit is checked
                # against the total when the quote is sent.
                if order.state == "quoted":
                    order._check_deposit_within_total()
            elif not 0 < order.prepayment_percent <= 1.0:
                raise ValidationError(
                    _(
                        "The deposit of %(order)s must be more than 0%% and at most "
                        "100%% of the total.",
                        order=order.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_deposit_values(vals, "prepayment_percent", "prepayment_fixed_amount")
        return super().create(vals_list)

    def write(self, vals):
        check_deposit_values(vals, "prepayment_percent", "prepayment_fixed_amount")
        sent_terms = self._get_locked_deposit_terms()
        result = super().write(vals)
        self._check_deposit_terms_unchanged(sent_terms)
        return result

    @api.onchange("require_payment", "prepayment_type", "prepayment_fixed_amount")
    def _onchange_prepayment_fixed_amount(self):
        if self._is_deposit_above_total():
            return {
                "warning": {
                    "title": _("Deposit above the total"),
                    "message": self._get_deposit_above_total_message(),
                }
            }
        return None

    # ------------------------------------------------------------------
    # Deposit terms: values and lock
    # ------------------------------------------------------------------

    def _get_deposit_term_fields(self):
        """The fields that say what deposit the quote asks for. Extend with
        super()."""
        return [
            "require_payment",
            "prepayment_type",
            "prepayment_percent",
            "prepayment_fixed_amount",
        ]

    def _are_deposit_terms_sent(self):
        """Whether the customer was sent the quote with its deposit terms. A
        quote revised back to draft keeps them: it was sent, and Revise must
        not open a way round the deposit."""
        self.ensure_one()
        return self.state != "draft" or bool(self.date_quoted)

    def _is_deposit_terms_manager(self):
        return self.env.su or self.env.user.has_group(
            "work_order.group_work_order_manager"
        )

    def _get_locked_deposit_terms(self):
        """The deposit terms of the sent quotes the current user may not change
        (only a manager may): ``{order: {field: value}}``."""
        if self._is_deposit_terms_manager():
            return {}
        term_fields = self._get_deposit_term_fields()
        return {
            order: {name: order[name] for name in term_fields}
            for order in self
            if order._are_deposit_terms_sent()
        }

    def _check_deposit_terms_unchanged(self, sent_terms):
        """Once the quote is sent, only a manager changes its deposit terms,
        whether written directly or recomputed (another template): otherwise
        the deposit could be lowered or dropped behind the customer's back, and
        the work order approved without it. Raising rolls the write back."""
        for order, terms in sent_terms.items():
            if any(order[name] != value for name, value in terms.items()):
                raise UserError(
                    _(
                        "The quote %(order)s was sent with its deposit terms: only "
                        "a work order manager can change them now.",
                        order=order.name,
                    )
                )

    # ------------------------------------------------------------------
    # Quotes
    # ------------------------------------------------------------------

    def _send_quote(self):
        self._check_deposit_within_total()
        return super()._send_quote()

    def _on_quote_sent(self):
        self._check_deposit_within_total()
        return super()._on_quote_sent()

    def _check_deposit_within_total(self):
        """Refuse a fixed deposit above the total of the quote."""
        for order in self:
            if order._is_deposit_above_total():
                raise ValidationError(order._get_deposit_above_total_message())

    def _is_deposit_above_total(self):
        self.ensure_one()
        currency = self.currency_id
        return (
            self.state in QUOTE_DEPOSIT_STATES
            and self.require_payment
            and self.prepayment_type == "fixed"
            and currency.compare_amounts(self.amount_total, 0) > 0
            and currency.compare_amounts(
                self.prepayment_fixed_amount, self.amount_total
            )
            > 0
        )

    def _get_deposit_above_total_message(self):
        self.ensure_one()
        return _(
            "The deposit of %(order)s (%(deposit)s) is more than its total "
            "(%(total)s). Lower the fixed deposit (Payment tab) or ask for a "
            "percentage of the total.",
            order=self.name,
            deposit=self.currency_id.format(self.prepayment_fixed_amount),
            total=self.currency_id.format(self.amount_total),
        )

    def _get_quote_deposit(self):
        """The deposit the quote e-mail and PDF announce: what the customer pays
        online to approve it, or 0.0 when the quote asks for none."""
        self.ensure_one()
        if (
            self.state not in QUOTE_DEPOSIT_STATES
            or not self.require_payment
            or self.currency_id.compare_amounts(self.amount_total, 0) <= 0
        ):
            return 0.0
        return self._get_prepayment_required_amount()

    def _get_deposit_percent_label(self):
        """The deposit as a share of the total ("30"), or "" for a fixed
        deposit: shown beside its amount to the customer."""
        self.ensure_one()
        if self.prepayment_type == "fixed":
            return ""
        return f"{self.prepayment_percent * 100:g}"

    # ------------------------------------------------------------------
    # Amounts
    # ------------------------------------------------------------------

    def _get_default_deposit(self):
        """The deposit a new work order asks for: the template's when it
        requires one and sets its amount, else the company's. The fixed amount
        is in the company's currency."""
        self.ensure_one()
        company = self.company_id or self.env.company
        values = {
            "prepayment_type": company.work_order_prepayment_type or "percent",
            "prepayment_percent": company.work_order_prepayment_percent,
            "prepayment_fixed_amount": company.work_order_prepayment_fixed_amount,
        }
        template = self.template_id
        if template.deposit_policy == "required":
            if template.prepayment_type == "fixed" and template.prepayment_fixed_amount:
                values["prepayment_type"] = "fixed"
                values["prepayment_fixed_amount"] = template.prepayment_fixed_amount
            elif template.prepayment_type == "percent" and template.prepayment_percent:
                values["prepayment_type"] = "percent"
                values["prepayment_percent"] = template.prepayment_percent
        return values

    def _get_prepayment_required_amount(self):
        """What must be paid online to approve the work order (the whole total
        without a deposit, like sale): a share of the total, or the fixed
        amount, never more than the total."""
        self.ensure_one()
        currency = self.currency_id
        if not self.require_payment:
            return self.amount_total
        if self.prepayment_type == "fixed":
            return min(currency.round(self.prepayment_fixed_amount), self.amount_total)
        if self.prepayment_percent >= 1.0:
            return self.amount_total
        return currency.round(self.amount_total * self.prepayment_percent)
