import re

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

# Set by the Complete button of the form: Complete then opens the dialog.
COMPLETE_DIALOG_KEY = "work_order_complete_dialog"
RESOLUTION_MAX_LENGTH = 10000
SIGNOFF_NAME_MAX_LENGTH = 128
NO_SIGNATURE_REASON_MAX_LENGTH = 2000
COMPLETED_TEMPLATE_REF = "work_order.mail_template_work_order_completed"


class WorkOrder(models.Model):
    """Completing on site: the carried-out quantities, the customer's
    sign-off, the stock taken and returned, the service report e-mailed."""

    _inherit = "work.order"

    def action_complete(self):
        if self.env.context.get(COMPLETE_DIALOG_KEY):
            self._check_transition("action_complete")
            # what the dialog cannot fix is refused before the customer signs
            self._check_required_checks_closed()
            return self._get_wizard_action("work.order.complete", _("Complete"))
        return super().action_complete()

    def _complete_on_site(
        self,
        resolution=None,
        quantities=None,
        signature=None,
        signed_by=None,
        no_signature_reason=None,
    ):
        """Complete the work order from the Complete dialog.

        ``quantities`` maps line ids of this work order to what was carried
        out; ``signature`` (a PNG or JPEG image, base64) and ``signed_by`` are
        the customer's sign-off, ``no_signature_reason`` says why nobody signed.
        Everything is checked before anything is written: a refusal changes
        nothing.
        """
        self.ensure_one()
        self._check_transition("action_complete")
        signoff_vals = self._prepare_signoff_vals(
            signature, signed_by, no_signature_reason
        )
        done_by_line = self._check_done_quantities(quantities or {})
        resolution = self._clean_resolution(resolution)
        for line, qty in done_by_line.items():
            line.write({"qty_done": qty})
        vals = dict(signoff_vals)
        if resolution is not None:
            vals["resolution"] = resolution
        self._workflow_write(vals)
        self._action_complete()

    @api.model
    def _clean_resolution(self, resolution):
        if resolution in (None, False):
            return resolution
        if not isinstance(resolution, str):
            raise UserError(_("The work done must be text."))
        resolution = resolution.strip()
        self._check_portal_text(
            resolution,
            _(
                "The work done contains characters that are not allowed (control "
                "characters such as a NUL byte). Please remove them and try again."
            ),
            multiline=True,
        )
        if len(resolution) > RESOLUTION_MAX_LENGTH:
            raise UserError(
                _(
                    "The work done is too long: %(max)s characters at most.",
                    max=RESOLUTION_MAX_LENGTH,
                )
            )
        return resolution or False

    def _check_done_quantities(self, quantities):
        """{line: quantity} from ``quantities`` ({line id: number}), refused
        unless each line is a priced line of this work order and each
        quantity a number, not negative."""
        self.ensure_one()
        if not isinstance(quantities, dict):
            raise UserError(_("The quantities carried out are not readable."))
        lines = self.line_ids.filtered(lambda line: not line.display_type)
        by_id = {line.id: line for line in lines}
        result = {}
        for line_id, qty in quantities.items():
            line = by_id.get(line_id)
            if line is None:
                raise UserError(
                    _(
                        "A quantity carried out refers to a line that is not on "
                        "%(order)s. Reload the work order and try again.",
                        order=self.name,
                    )
                )
            if isinstance(qty, bool) or not isinstance(qty, int | float):
                raise UserError(
                    _(
                        "Enter a number as the quantity carried out of “%(line)s”.",
                        line=line.name,
                    )
                )
            line._check_qty_done_value(qty, line.name)
            if float_compare(qty, 0.0, precision_rounding=line._uom_rounding()) < 0:
                raise UserError(
                    _(
                        "The quantity carried out of “%(line)s” cannot be negative: "
                        "enter 0 if nothing was used.",
                        line=line.name,
                    )
                )
            result[line] = qty
        return result

    def _prepare_signoff_vals(self, signature, signed_by, no_signature_reason):
        """The sign-off fields to write, after checking them."""
        self.ensure_one()
        if signature:
            if not isinstance(signed_by, str) or not signed_by.strip():
                raise UserError(
                    _("Enter the name of the person who signed off the work.")
                )
            signed_by = signed_by.strip()
            self._check_portal_text(
                signed_by,
                _(
                    "The name contains characters that are not allowed (control "
                    "characters such as a NUL byte). Please remove them and try "
                    "again."
                ),
            )
            if len(signed_by) > SIGNOFF_NAME_MAX_LENGTH:
                raise UserError(
                    _(
                        "The name is too long: %(max)s characters at most.",
                        max=SIGNOFF_NAME_MAX_LENGTH,
                    )
                )
            if isinstance(signature, bytes):
                signature = signature.decode("ascii", errors="replace")
            signature = self._check_portal_signature(signature)
            return {
                "completion_signature": signature,
                "completion_signed_by": signed_by,
                "completion_signed_on": fields.Datetime.now(),
                "completion_no_signature_reason": False,
            }
        if self.company_id.work_order_require_signoff:
            raise UserError(
                _(
                    "%(company)s requires the customer's sign-off: have the customer "
                    "sign on the screen and enter their name.",
                    company=self.company_id.name,
                )
            )
        if no_signature_reason not in (None, False) and not isinstance(
            no_signature_reason, str
        ):
            raise UserError(_("The reason must be text."))
        reason = (no_signature_reason or "").strip()
        self._check_portal_text(
            reason,
            _(
                "The reason contains characters that are not allowed (control "
                "characters such as a NUL byte). Please remove them and try again."
            ),
            multiline=True,
        )
        if len(reason) > NO_SIGNATURE_REASON_MAX_LENGTH:
            raise UserError(
                _(
                    "The reason is too long: %(max)s characters at most.",
                    max=NO_SIGNATURE_REASON_MAX_LENGTH,
                )
            )
        return {
            "completion_signature": False,
            "completion_signed_by": False,
            "completion_signed_on": False,
            "completion_no_signature_reason": reason or False,
        }

    def _action_complete(self):
        for order in self:
            if order.company_id.work_order_require_signoff and not (
                order.completion_signature
            ):
                raise UserError(
                    _(
                        "%(order)s needs the customer's sign-off before it can be "
                        "completed: click Complete on the work order and have the "
                        "customer sign on the screen.",
                        order=order.name,
                    )
                )
        self._record_default_done_quantities()
        result = super()._action_complete()
        self._send_service_report()
        return result

    def _record_default_done_quantities(self):
        """What was carried out, for the lines where nothing was recorded."""
        for line in self.line_ids:
            if line.display_type or line.qty_done_recorded:
                continue
            line.write({"qty_done": line._get_default_qty_done()})

    def _validate_stock_pickings(self):
        self._return_unused_stock()
        return super()._validate_stock_pickings()

    def _return_unused_stock(self):
        """Parts picked for the job and not used go back to stock.

        In a 2- or 3-step delivery the picked parts wait in an intermediate
        location (output, packing zone) for the next step. What goes beyond
        the quantity carried out is taken off that step and moved back to the
        warehouse's stock by an internal transfer of the work order. (Open
        moves of the first step are brought down to what was carried out by
        the procurement itself; parts already delivered stay delivered.)
        """
        for order in self:
            # sudo: technicians complete their job without stock rights; only
            # the transfers of this work order's procurement group are touched
            order_sudo = order.sudo()
            moves = order_sudo.procurement_group_id.stock_move_ids.filtered(
                lambda m: m.work_order_line_id
                and m.state != "cancel"
                and not m.scrapped
                and not m.origin_returned_move_id
            )
            later = (moves - moves._filter_work_order_procured()).filtered(
                lambda m: m.state != "done"
            )
            unused = []
            for line in later.work_order_line_id:
                unused += line._take_unused_off_moves(
                    later.filtered(lambda m, ln=line: m.work_order_line_id == ln),
                    moves.filtered(
                        lambda m, ln=line: m.work_order_line_id == ln
                        and m.state == "done"
                        and m.location_dest_id.usage == "customer"
                    ),
                )
            if unused:
                order_sudo._move_back_to_stock(unused)

    def _move_back_to_stock(self, unused):
        """Move ``unused`` ([(product, quantity in its unit, location)]) back to
        the warehouse's stock, by validated internal transfers of the work
        order, and say so in the chatter."""
        self.ensure_one()
        warehouse = self.warehouse_id
        stock_location = warehouse.lot_stock_id
        by_location = {}
        for product, qty, location in unused:
            by_location.setdefault(location, []).append((product, qty))
        transfers = self.env["stock.picking"]
        for location, items in by_location.items():
            transfer = self.env["stock.picking"].create(
                {
                    "picking_type_id": warehouse.int_type_id.id,
                    "location_id": location.id,
                    "location_dest_id": stock_location.id,
                    "origin": self.name,
                    "group_id": self.procurement_group_id.id,
                    "company_id": self.company_id.id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": product.display_name,
                                "product_id": product.id,
                                "product_uom_qty": qty,
                                "product_uom": product.uom_id.id,
                                "location_id": location.id,
                                "location_dest_id": stock_location.id,
                                "group_id": self.procurement_group_id.id,
                                "company_id": self.company_id.id,
                            }
                        )
                        for product, qty in items
                    ],
                }
            )
            transfer.action_confirm()
            transfer.action_assign()
            transfer.move_ids.picked = True
            transfer.with_context(
                skip_backorder=True, cancel_backorder=True, skip_sms=True
            ).button_validate()
            if transfer.state != "done":
                raise UserError(
                    _(
                        "The parts of %(order)s not used could not be moved back to "
                        "stock (%(transfer)s). Open it in Inventory, finish it, then "
                        "complete the work order.",
                        order=self.name,
                        transfer=transfer.name,
                    )
                )
            transfers |= transfer
        self.message_post(
            body=_(
                "Parts picked and not used went back to stock: %(parts)s "
                "(%(transfers)s).",
                parts=", ".join(
                    _(
                        "%(product)s (%(qty)s %(uom)s)",
                        product=product.display_name,
                        qty=self.env["work.order.line"]._format_qty(qty),
                        uom=product.uom_id.name,
                    )
                    for product, qty, _location in unused
                ),
                transfers=", ".join(transfers.mapped("name")),
            )
        )

    def _send_service_report(self):
        """E-mail the service report to the customer (queued, in their
        language); without an e-mail address, say so in the chatter."""
        template = self.env.ref(COMPLETED_TEMPLATE_REF, raise_if_not_found=False)
        if not template:
            return
        for order in self:
            if not order.partner_id.email:
                order.message_post(
                    body=_(
                        "The service report was not e-mailed: %(customer)s has no "
                        "e-mail address. Add one to the customer, then print the "
                        "service report or share the portal link.",
                        customer=order.partner_id.display_name,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            order.with_context(mail_notify_force_send=False).message_post_with_source(
                template,
                email_layout_xmlid="mail.mail_notification_layout",
                subtype_xmlid="mail.mt_comment",
            )

    def _has_service_report(self):
        self.ensure_one()
        return bool(self.date_completed) and self.state in ("completed", "invoiced")

    def _get_service_report_filename(self):
        self.ensure_one()
        return (
            re.sub(r"\W+", "_", _("Service Report - %(number)s", number=self.name))
            + ".pdf"
        )
