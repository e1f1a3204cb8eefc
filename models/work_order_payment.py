import logging

from odoo import SUPERUSER_ID, Command, _, api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# The states of a transaction whose amount counts as paid, like sale's amount_paid.
PAID_TRANSACTION_STATES = ("authorized", "done")


class WorkOrder(models.Model):
    """Online payment through Odoo's payment framework.

    A quote may ask for a deposit (its terms: ``work_order_deposit.py``): the
    customer signs, then pays it in the portal, and the work order is
    approved once the authorized or confirmed transactions reach it, as sale
    confirms a quotation. Every payment made from the work order is linked to
    its invoice, so that posting the invoice reconciles it. What the customer
    pays in the portal: ``work_order_payment_portal.py``; the approval waiting
    for the deposit: ``work_order_deposit_gate.py``.
    """

    _inherit = "work.order"

    transaction_ids = fields.Many2many(
        "payment.transaction",
        "work_order_transaction_rel",
        "work_order_id",
        "transaction_id",
        string="Transactions",
        copy=False,
        readonly=True,
        groups="work_order.group_work_order_manager,account.group_account_invoice",
    )
    transaction_count = fields.Integer(
        compute="_compute_transaction_count",
        groups="work_order.group_work_order_manager,account.group_account_invoice",
    )
    amount_paid = fields.Monetary(
        string="Paid Online",
        compute="_compute_amount_paid",
        compute_sudo=True,
        help="The authorized and confirmed online payments of this work order, net of "
        "their refunds.",
        groups="base.group_user",
    )
    deposit_amount = fields.Monetary(
        compute="_compute_deposit_amount",
        compute_sudo=True,
        help="What the customer pays online to approve the work order.",
        groups="base.group_user",
    )
    amount_due = fields.Monetary(
        string="Remaining",
        compute="_compute_amount_due",
        compute_sudo=True,
        help="What remains to be paid: the open amount of the posted invoice, or the "
        "total less the online payments until then.",
        groups="base.group_user",
    )
    amount_overpaid = fields.Monetary(
        string="Overpaid",
        compute="_compute_amount_overpaid",
        compute_sudo=True,
        help="What the payments exceed the final total by (the invoice's once "
        "posted): to refund, or to keep as a credit.",
        groups="base.group_user",
    )
    awaiting_deposit = fields.Boolean(
        compute="_compute_awaiting_deposit",
        compute_sudo=True,
        search="_search_awaiting_deposit",
        help="The quote is approved once the customer pays its deposit online.",
        groups="base.group_user",
    )

    @api.depends("transaction_ids")
    def _compute_transaction_count(self):
        for order in self:
            order.transaction_count = len(order.transaction_ids)

    @api.depends(
        "transaction_ids.state",
        "transaction_ids.amount",
        "transaction_ids.currency_id",
        "currency_id",
    )
    def _compute_amount_paid(self):
        for order in self:
            order.amount_paid = order._get_paid_amount()

    @api.depends(
        "amount_total",
        "require_payment",
        "prepayment_type",
        "prepayment_percent",
        "prepayment_fixed_amount",
    )
    def _compute_deposit_amount(self):
        for order in self:
            order.deposit_amount = (
                order._get_prepayment_required_amount()
                if order.require_payment
                else 0.0
            )

    @api.depends(
        "state",
        "amount_total",
        "amount_paid",
        "invoice_ids.state",
        "invoice_ids.amount_residual",
    )
    def _compute_amount_due(self):
        for order in self:
            invoices = order._get_posted_invoices()
            if order.state == "cancelled":
                due = 0.0  # nothing is owed on a cancelled work order
            elif invoices:
                due = sum(invoices.mapped("amount_residual"))
            else:
                due = order._get_final_total() - order.amount_paid
            order.amount_due = max(order.currency_id.round(due), 0.0)

    @api.depends(
        "amount_total",
        "amount_paid",
        "date_completed",
        "invoice_ids.state",
        "invoice_ids.amount_total",
        "invoice_ids.amount_residual",
    )
    def _compute_amount_overpaid(self):
        for order in self:
            order.amount_overpaid = order._get_overpaid_amount()

    @api.depends(
        "state",
        "require_payment",
        "prepayment_type",
        "prepayment_percent",
        "prepayment_fixed_amount",
        "amount_total",
        "amount_paid",
    )
    def _compute_awaiting_deposit(self):
        for order in self:
            order.awaiting_deposit = order._has_to_be_paid()

    def _search_awaiting_deposit(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search “awaiting deposit” with yes or no."))
        # The quotes asking for a deposit, narrowed in Python by the very rule
        # of the field (the amount paid is read from the transactions), so that
        # "no" is exactly every other work order.
        candidates = self.sudo().search(
            [
                ("state", "=", "quoted"),
                ("require_payment", "=", True),
                ("amount_total", ">", 0),
            ]
        )
        awaiting_ids = candidates.filtered(lambda order: order._has_to_be_paid()).ids
        if (operator == "=") == value:
            return [("id", "in", awaiting_ids)]
        return [("id", "not in", awaiting_ids)]

    # ------------------------------------------------------------------
    # Lifecycle hooks
    # ------------------------------------------------------------------

    def _get_workflow_fields(self):
        workflow_fields = super()._get_workflow_fields()
        workflow_fields["transaction_ids"] = _("an online payment")
        return workflow_fields

    def action_cancel(self):
        res = super().action_cancel()
        paid = self.filtered(lambda order: order._get_refundable_amount())
        if not paid:
            return res
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "title": _("Refund the online payments"),
                "message": _(
                    "%(orders)s had payments made online. Nothing was refunded: "
                    "refund them from the payment (Payments button, then Refund) "
                    "or with a credit note.",
                    orders=", ".join(paid.mapped("name")),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _action_cancel(self):
        res = super()._action_cancel()
        for order in self:
            amount = order._get_refundable_amount()
            if not amount:
                continue
            body = _(
                "This work order was cancelled with %(amount)s paid online "
                "(%(references)s). Nothing was refunded: refund it from the payment "
                "(Payments button, then Refund) or with a credit note.",
                amount=order.currency_id.format(amount),
                references=", ".join(
                    order._get_paid_transactions().mapped("reference")
                ),
            )
            order._post_payment_warning(body, _("Refund the online payment"))
        return res

    def _prepare_invoice_vals(self):
        vals = super()._prepare_invoice_vals()
        transactions = self._get_transactions_to_invoice()
        if transactions:
            vals["transaction_ids"] = [Command.set(transactions.ids)]
        return vals

    # ------------------------------------------------------------------
    # Payments received
    # ------------------------------------------------------------------

    def _payment_received(self, transaction):
        """``transaction`` was authorized or confirmed: approve the quotes whose
        deposit it completes. Called from the transaction's post-processing.

        Decided under the row lock from the transactions themselves, never from
        an amount the browser sent: two payments completing at once approve the
        work order once, and a payment for a work order that no longer awaits
        one changes nothing but is shown to the office.
        """
        # As OdooBot: the payment is often processed in a visitor's request, and
        # the notes, the state's tracking and the office's to-dos would
        # otherwise be signed "Public user".
        for order in self.with_user(SUPERUSER_ID):
            order._lock_rows()
            # A lock alone does not stop a concurrent payment that read the work
            # order before this one committed: writing the row does. The other
            # transaction then fails to lock it, Odoo retries it, and the retry
            # sees this payment.
            order.write({})
            order.flush_recordset()
            if order.state == "quoted":
                if order._is_deposit_reached():
                    order._approve_after_payment(transaction)
                    order._log_overpayment(transaction, deposit=True)
            elif order.state not in ("draft", "cancelled", "rejected"):
                order._log_overpayment(transaction)
            else:
                _logger.info(
                    "payment %s received for the %s work order %s: state unchanged",
                    transaction.reference,
                    order.state,
                    order.name,
                )
                order._post_payment_warning(
                    _(
                        "A payment of %(amount)s (%(reference)s) was received while "
                        "this work order is %(state)s; its status does not change. "
                        "Refund the payment, or keep it if the work goes ahead.",
                        amount=transaction.currency_id.format(transaction.amount),
                        reference=transaction.reference,
                        state=order._state_label(),
                    ),
                    _(
                        "Payment received on a %(state)s work order",
                        state=order._state_label(),
                    ),
                )

    def _approve_after_payment(self, transaction):
        self.ensure_one()
        self._action_approve()
        author = transaction.partner_id or self.partner_id
        self._notify_portal_decision(
            author,
            _(
                "Approved by %(name)s in the customer portal: the deposit of "
                "%(amount)s is paid (%(reference)s).",
                name=author.name,
                amount=self.currency_id.format(self._get_prepayment_required_amount()),
                reference=transaction.reference,
            ),
            _("Approved by the customer"),
        )

    def _log_overpayment(self, transaction, deposit=False):
        """Leave the office a note when the online payments exceed the total
        (or, on the payment that approves the quote, the deposit): the customer
        paid too much, to refund or to keep as a credit."""
        self.ensure_one()
        currency = self.currency_id
        overpaid = self._get_overpaid_amount()
        paid = self._get_received_amount()
        required = self._get_prepayment_required_amount()
        if currency.compare_amounts(overpaid, 0) > 0:
            body = _(
                "The online payments of this work order (%(paid)s) are more than its "
                "total (%(total)s): %(excess)s too much was paid (last payment: "
                "%(reference)s). Refund the difference, or keep it as a credit.",
                paid=currency.format(paid),
                total=currency.format(self._get_final_total()),
                excess=currency.format(overpaid),
                reference=transaction.reference,
            )
        elif deposit and currency.compare_amounts(paid, required) > 0:
            body = _(
                "The customer paid %(paid)s online, more than the deposit of "
                "%(deposit)s (%(reference)s): %(excess)s goes towards the balance.",
                paid=currency.format(paid),
                deposit=currency.format(required),
                excess=currency.format(currency.round(paid - required)),
                reference=transaction.reference,
            )
        else:
            return
        self._message_log(body=body)

    def _log_invoice_overpayment(self):
        """The final invoice was posted: leave the office a note when what the
        customer already paid is more than it."""
        for order in self:
            currency = order.currency_id
            overpaid = order._get_overpaid_amount()
            if currency.compare_amounts(overpaid, 0) <= 0:
                continue
            order._message_log(
                body=_(
                    "The payments of this work order (%(paid)s) are more than its "
                    "invoice (%(total)s): %(excess)s too much was paid. Refund the "
                    "difference, or keep it as a credit.",
                    paid=currency.format(order._get_received_amount()),
                    total=currency.format(order._get_final_total()),
                    excess=currency.format(overpaid),
                )
            )

    def _post_payment_warning(self, body, summary):
        """Tell the office about a payment that needs a decision (a refund)."""
        self.ensure_one()
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        user = self.env.user
        if user.share or not user.active or user._is_superuser():
            user = self._get_responsible_user()
        if user and user.active and not user.share:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=body,
                user_id=user.id,
            )

    # ------------------------------------------------------------------
    # Amounts
    # ------------------------------------------------------------------

    def _get_paid_transactions(self):
        """The authorized and confirmed transactions of the work order, in its
        currency (refunds included, with their negative amounts)."""
        self.ensure_one()
        return self.sudo().transaction_ids.filtered(
            lambda tx: tx.state in PAID_TRANSACTION_STATES
            and tx.operation != "validation"
            and tx.currency_id == self.currency_id
        )

    def _get_paid_amount(self):
        """The amount paid online, read from the transactions themselves."""
        self.ensure_one()
        return self.currency_id.round(
            sum(self._get_paid_transactions().mapped("amount"))
        )

    def _is_deposit_reached(self):
        self.ensure_one()
        return (
            self.currency_id.compare_amounts(
                self._get_paid_amount(), self._get_prepayment_required_amount()
            )
            >= 0
        )

    def _get_deposit_remaining(self):
        self.ensure_one()
        return max(
            self.currency_id.round(
                self._get_prepayment_required_amount() - self._get_paid_amount()
            ),
            0.0,
        )

    def _get_final_total(self):
        """What the customer pays in the end: the total of the posted invoices,
        else, once the work is done, what the invoice will bill, else the
        agreed total."""
        self.ensure_one()
        invoices = self._get_posted_invoices()
        if invoices:
            return self.currency_id.round(sum(invoices.mapped("amount_total")))
        if self.date_completed:
            return self._get_invoice_total()
        return self.amount_total

    def _get_received_amount(self):
        """What the customer actually paid: the online payments, or what the
        posted invoices record as paid when that is more (a payment by other
        means reconciled with them)."""
        self.ensure_one()
        paid = self._get_paid_amount()
        invoices = self._get_posted_invoices()
        if invoices:
            settled = sum(invoices.mapped("amount_total")) - sum(
                invoices.mapped("amount_residual")
            )
            paid = max(paid, settled)
        return self.currency_id.round(paid)

    def _get_overpaid_amount(self):
        """What the payments exceed the final total by (0 when they do not)."""
        self.ensure_one()
        return max(
            self.currency_id.round(
                self._get_received_amount() - self._get_final_total()
            ),
            0.0,
        )

    def _get_refundable_amount(self):
        """What was paid online and not refunded (0 when nothing was)."""
        self.ensure_one()
        amount = self._get_paid_amount()
        return amount if self.currency_id.compare_amounts(amount, 0) > 0 else 0.0

    def _get_posted_invoices(self):
        self.ensure_one()
        return self.sudo().invoice_ids.filtered(
            lambda move: move.state == "posted" and move.move_type == "out_invoice"
        )

    def _get_transactions_to_invoice(self):
        """The payments an invoice of the work order settles: those still
        processing, and the confirmed ones not reconciled yet (like sale)."""
        self.ensure_one()
        return self.sudo().transaction_ids.filtered(
            lambda tx: tx.operation not in ("validation", "refund")
            and (
                tx.state in ("pending", "authorized")
                or (
                    tx.state == "done"
                    and not (tx.payment_id and tx.payment_id.is_reconciled)
                )
            )
        )

    def _link_transactions_to_invoice(self, invoice):
        """Link the work order's payments to ``invoice`` before it is posted, so
        that posting reconciles them (sale's account.move._post does it)."""
        self.ensure_one()
        transactions = self._get_transactions_to_invoice() - invoice.transaction_ids
        if transactions:
            invoice.sudo().transaction_ids = [
                Command.link(tx.id) for tx in transactions
            ]

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_view_transactions(self):
        self.ensure_one()
        return self._get_transactions_action(self.transaction_ids)

    def action_refund_payment(self):
        """Open Odoo's refund of this work order's own online payment; when the
        provider cannot refund it (or there are several), open the work order's
        own payments, to refund them there or with a credit note.

        The refund wizard takes its payment from the context's ``active_id``:
        the action sets it to the payment, never leaves the work order's id
        there (a button's context carries the record it is clicked on).
        """
        self.ensure_one()
        transactions = self._get_paid_transactions().filtered(
            lambda tx: tx.operation != "refund"
        )
        if not transactions:
            raise UserError(
                _(
                    "%(order)s has no online payment to refund.",
                    order=self.name,
                )
            )
        payments = transactions.payment_id.filtered(
            lambda payment: payment.currency_id.compare_amounts(
                payment.amount_available_for_refund, 0
            )
            > 0
        )
        if len(payments) == 1:
            action = payments.action_refund_wizard()
            action["context"] = {
                "active_model": "account.payment",
                "active_id": payments.id,
                "active_ids": payments.ids,
            }
            return action
        return self._get_transactions_action(transactions)

    def _get_transactions_action(self, transactions):
        """The action listing ``transactions`` (their form when there is one)."""
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "payment.action_payment_transaction"
        )
        action["domain"] = [("id", "in", transactions.ids)]
        action["context"] = {"create": False}
        if len(transactions) == 1:
            action.update(
                views=[(False, "form")],
                view_mode="form",
                res_id=transactions.id,
            )
        return action
