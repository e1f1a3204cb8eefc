from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

INVOICE_STATUSES = [
    ("draft", "Draft"),
    ("posted", "Posted"),
    ("partial", "Partially Paid"),
    ("in_payment", "In Payment"),
    ("paid", "Paid"),
    ("reversed", "Reversed"),
]


class WorkOrder(models.Model):
    """Invoicing: Generate Invoice makes one customer invoice per work order."""

    _inherit = "work.order"

    # Many to many: a service agreement's monthly invoice bills several visits,
    # and each of them is invoiced by it like by an invoice of its own.
    invoice_ids = fields.Many2many(
        "account.move",
        "account_move_work_order_rel",
        "work_order_id",
        "move_id",
        string="Invoices",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    invoice_count = fields.Integer(
        compute="_compute_invoice_count", groups="base.group_user"
    )
    invoice_status = fields.Selection(
        INVOICE_STATUSES,
        compute="_compute_invoice_status",
        store=True,
        help="Status of the work order's invoice: draft, posted, partially paid, "
        "in payment, paid, or reversed by a credit note. Empty while there is no "
        "invoice; a cancelled or deleted invoice puts the work order back to "
        "Completed.",
        groups="base.group_user",
    )

    @api.depends("invoice_ids")
    def _compute_invoice_count(self):
        # A plain count: technicians may not read invoices, the number is harmless.
        counts = dict(
            self.env["account.move"]
            .sudo()
            ._read_group(
                [("work_order_ids", "in", self.ids)], ["work_order_ids"], ["__count"]
            )
        )
        for order in self:
            order.invoice_count = counts.get(order._origin, 0)

    @api.depends("invoice_ids.state", "invoice_ids.payment_state")
    def _compute_invoice_status(self):
        for order in self:
            invoice = order._get_live_invoices()[:1]
            order.invoice_status = invoice._get_work_order_invoice_status()

    def _get_live_invoices(self):
        """The invoices that count: every one but the cancelled ones (at most one,
        see ``_create_invoices`` and ``account.move._check_work_order_revival``)."""
        self.ensure_one()
        return self.sudo().invoice_ids.filtered(lambda move: move.state != "cancel")

    def action_create_invoice(self):
        """Generate Invoice: one draft customer invoice per completed work order.

        Works on one work order (the form button) or many (the list action);
        the state is checked under the row lock, in ``_create_invoices``.
        """
        self._check_can_invoice()
        invoices = self._create_invoices()
        if not self.env["account.move"].has_access("read"):
            return True
        return invoices.with_env(self.env)._get_invoice_action()

    def action_view_invoices(self):
        self.ensure_one()
        return self.invoice_ids._get_invoice_action()

    def _check_can_invoice(self):
        current_user = self.env.user
        if not (
            current_user.has_group("work_order.group_work_order_manager")
            or current_user.has_group("account.group_account_invoice")
        ):
            raise UserError(
                _("Only work order managers and billing users can generate invoices.")
            )

    def _check_invoiceable(self):
        for order in self:
            if order._get_live_invoices():
                raise UserError(_("%(order)s is already invoiced.", order=order.name))
            product_lines = order.line_ids.filtered(
                lambda line: not line.display_type and line._get_invoice_quantity()
            )
            if not product_lines:
                raise UserError(
                    _(
                        "%(order)s has no product or service line to invoice.",
                        order=order.name,
                    )
                )
            if order.currency_id.is_zero(order._get_invoice_total()):
                raise UserError(
                    _(
                        "The total of %(order)s is zero: there is nothing to invoice.",
                        order=order.name,
                    )
                )

    def _create_invoices(self):
        """Create the draft invoices of completed work orders, exactly once each.

        All invoices are created by one ``account.move.create()`` call, so the
        number of queries per work order stays constant in a batch.
        """
        # The same id twice (an RPC call can send that) must not invoice twice.
        orders = self.browse(dict.fromkeys(self.ids))
        if not orders:
            return self.env["account.move"]
        orders._lock_rows()
        orders._check_transition("action_create_invoice")
        orders._check_invoiceable()
        # sudo, as sale creates its invoices: work order managers invoice
        # without billing rights, like salespeople invoice a sale order (the
        # rights were checked by the caller), and no record rule is evaluated
        # again for every account the invoice lines touch.
        move_model = self.env["account.move"].sudo()
        # the invoice link is a workflow field: only this method sets it
        move_model = self._in_workflow(move_model)
        invoices = move_model.with_context(default_move_type="out_invoice").create(
            [order._prepare_invoice_vals() for order in orders]
        )
        orders._workflow_write(
            {"state": "invoiced", "date_invoiced": fields.Datetime.now()}
        )
        for invoice in invoices:
            invoice.message_post_with_source(
                "mail.message_origin_link",
                render_values={"self": invoice, "origin": invoice.work_order_ids},
                subtype_xmlid="mail.mt_note",
            )
        return invoices

    def _get_invoice_lines(self):
        """The lines the invoice shows, in order."""
        self.ensure_one()
        return self.line_ids.sorted(lambda line: (line.sequence, line.id))

    def _get_invoice_total(self):
        """The total the invoice will bill (tax included)."""
        self.ensure_one()
        return self.amount_total

    def _sync_invoiced_state(self):
        """Follow the invoice: Invoiced while a live invoice exists, Completed
        again (and invoiceable) once it is cancelled or deleted.

        Runs after an invoice changed state or was deleted; the caller locked
        the work order rows.
        """
        now = fields.Datetime.now()
        for order in self:
            live = order._get_live_invoices()
            if order.state == "invoiced" and not live:
                order._workflow_write({"state": "completed", "date_invoiced": False})
                order.message_post(
                    body=_(
                        "The invoice was cancelled or deleted: the work order is "
                        "Completed again and can be invoiced anew."
                    )
                )
            elif order.state == "completed" and live:
                # a cancelled invoice reset to draft is the work order's again
                order._workflow_write({"state": "invoiced", "date_invoiced": now})
                order.message_post(
                    body=_(
                        "The invoice %(invoice)s was reset to draft: the work order "
                        "is Invoiced again.",
                        invoice=live[:1]._get_work_order_label(),
                    )
                )

    def _get_invoice_reference(self):
        """The invoice's reference: the work order number and, for a work order
        made from a quotation, the quotation's number."""
        self.ensure_one()
        return ", ".join(filter(None, (self.name, self.sudo().sale_order_id.name)))

    def _prepare_invoice_vals(self):
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        payment_term = (
            self.sale_order_id.payment_term_id or partner.property_payment_term_id
        )
        lines = self._get_invoice_lines()
        return {
            "move_type": "out_invoice",
            "company_id": self.company_id.id,
            "partner_id": partner.address_get(["invoice"])["invoice"],
            "partner_shipping_id": self.service_address_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "invoice_payment_term_id": payment_term.id,
            "currency_id": self.currency_id.id,
            "invoice_origin": self._get_invoice_reference(),
            "ref": self._get_invoice_reference(),
            "work_order_ids": [Command.set(self.ids)],
            "invoice_line_ids": [
                Command.create(line._prepare_invoice_line_vals(sequence))
                for sequence, line in enumerate(lines, start=1)
            ],
        }
