import math

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero, formatLang

from .input_check import QUANTITY_MAX

# A quantity carried out beyond this is a typing error (as a quantity agreed).
QTY_DONE_MAX = QUANTITY_MAX


class WorkOrderLine(models.Model):
    """What was carried out, beside what was agreed.

    While the work is under way (In Progress, or On Hold from In Progress) each
    line records ``qty_done``; the technician may add lines on site
    (``added_on_site``: nothing agreed, priced from the customer's pricelist).
    What was agreed (product, quantity, price, discount, taxes) stays as it was.
    """

    _inherit = "work.order.line"

    qty_done = fields.Float(
        string="Done",
        digits="Product Unit of Measure",
        copy=False,
        help="Quantity carried out on site. Left empty, Complete takes the agreed "
        "quantity of a service and the reserved quantity of a part.",
        groups="base.group_user",
    )
    qty_done_recorded = fields.Boolean(
        string="Done Recorded",
        readonly=True,
        copy=False,
        help="Set once the quantity carried out is recorded.",
        groups="base.group_user",
    )
    qty_done_entry = fields.Float(
        string="Done Quantity",
        digits="Product Unit of Measure",
        compute="_compute_qty_done_entry",
        inverse="_inverse_qty_done_entry",
        help="Quantity carried out on site. Until one is recorded it shows what "
        "Complete records: the agreed quantity of a service, what was reserved "
        "and picked of a part. Enter 0 if nothing was used.",
        groups="base.group_user",
    )
    added_on_site = fields.Boolean(
        readonly=True,
        copy=False,
        help="Added by the technician on site: nothing was agreed for it.",
        groups="base.group_user",
    )
    price_subtotal_done = fields.Monetary(
        string="Final Amount",
        compute="_compute_amount_done",
        store=True,
        groups="base.group_user",
    )
    price_total_done = fields.Monetary(
        string="Final Total",
        compute="_compute_amount_done",
        store=True,
        groups="base.group_user",
    )

    @api.depends(
        "qty_done",
        "qty_done_recorded",
        "product_uom_qty",
        "discount",
        "price_unit",
        "tax_ids",
    )
    def _compute_amount_done(self):
        for line in self:
            if line.display_type:
                line.price_subtotal_done = line.price_total_done = 0.0
                continue
            base_line = line._prepare_base_line_for_taxes_computation(
                quantity=line._get_done_quantity()
            )
            self.env["account.tax"]._add_tax_details_in_base_line(
                base_line, line.order_id.company_id
            )
            details = base_line["tax_details"]
            line.price_subtotal_done = details["total_excluded_currency"]
            line.price_total_done = details["total_included_currency"]

    @api.depends("qty_done", "qty_done_recorded", "product_uom_qty")
    def _compute_qty_done_entry(self):
        # What the Done field of the forms shows: the recorded quantity, else
        # (while the work is under way) what Complete would record, so that
        # entering 0 is a change the form saves.
        for line in self:
            origin = line._origin
            if (
                line.qty_done_recorded
                or line.display_type
                or not origin
                or not origin.order_id._is_recording_on_site()
            ):
                line.qty_done_entry = line.qty_done
            else:
                line.qty_done_entry = origin._get_default_qty_done()

    def _inverse_qty_done_entry(self):
        # write() records it as qty_done (see _map_qty_done_entry)
        for line in self:
            line.write({"qty_done": line.qty_done_entry})

    @api.onchange("qty_done_entry")
    def _onchange_qty_done_entry(self):
        # while the work is under way, the final amounts follow what is typed
        for line in self:
            if line.order_id._is_recording_on_site():
                line.qty_done = line.qty_done_entry
                line.qty_done_recorded = True

    @api.constrains("qty_done")
    def _check_qty_done(self):
        for line in self:
            if line.qty_done < 0:
                raise ValidationError(
                    _(
                        "The quantity carried out of “%(line)s” cannot be negative: "
                        "enter 0 if nothing was used.",
                        line=line.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._map_qty_done_entry(vals) for vals in vals_list]
        orders = self.env["work.order"].browse(
            {vals["order_id"] for vals in vals_list if vals.get("order_id")}
        )
        on_site_ids = {
            order.id
            for order in orders
            if order.is_locked and order._is_recording_on_site()
        }
        # A line added on site records what was done: without a quantity done
        # it is an ordinary line, which the edit lock refuses.
        return super().create(
            [
                self._prepare_on_site_line_vals(vals)
                if vals.get("order_id") in on_site_ids and "qty_done" in vals
                else self._strip_on_site_vals(vals, create=True)
                for vals in vals_list
            ]
        )

    def write(self, vals):
        vals = self._strip_on_site_vals(self._map_qty_done_entry(vals))
        priced = set(self._get_on_site_priced_fields()).intersection(vals)
        on_site_lines = self.filtered("added_on_site")
        if not (priced and on_site_lines):
            return super().write(vals)
        # lines added on site are priced from the customer's pricelist, never
        # by hand: their prices follow the product
        others = self - on_site_lines
        if others:
            super(WorkOrderLine, others).write(vals)
        on_site_vals = {
            fname: value for fname, value in vals.items() if fname not in priced
        }
        if on_site_vals:
            super(WorkOrderLine, on_site_lines).write(on_site_vals)
        return True

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for line, vals in zip(self, vals_list, strict=True):
            if line.added_on_site and "product_uom_qty" not in (default or {}):
                # in a copy, what was added on site becomes part of the quote
                vals["product_uom_qty"] = line.qty_done
        return vals_list

    # ------------------------------------------------------------------
    # The edit lock while on site
    # ------------------------------------------------------------------

    def _get_on_site_priced_fields(self):
        """Fields of a line added on site that come from the pricelist and the
        product, not from the user."""
        return ("price_unit", "discount", "tax_ids", "product_uom_qty")

    def _get_on_site_writable_fields(self):
        """Fields of an agreed line that may change while the work is under way."""
        return {"qty_done", "qty_done_entry", "qty_done_recorded", "sequence"}

    def _get_on_site_line_writable_fields(self):
        """Fields of a line added on site that may change while the work is
        under way."""
        return self._get_on_site_writable_fields() | {
            "product_id",
            "name",
            "product_uom_id",
        }

    @api.model
    def _map_qty_done_entry(self, vals):
        """``vals`` with the Done field of the forms (``qty_done_entry``) as the
        quantity carried out, checked."""
        if "qty_done_entry" in vals:
            vals = dict(vals)
            vals["qty_done"] = vals.pop("qty_done_entry")
        if "qty_done" in vals:
            name = vals.get("name") or self[:1].name
            self._check_qty_done_value(
                vals["qty_done"], name if isinstance(name, str) else None
            )
        return vals

    @api.model
    def _check_qty_done_value(self, qty, line_name=None):
        """Refuse a quantity carried out that is not a number, not finite or
        beyond any job (a typing error such as 1e308)."""
        if qty in (None, False):
            return
        if not (
            isinstance(qty, bool)
            or not isinstance(qty, int | float)
            or not math.isfinite(qty)
            or abs(qty) > QTY_DONE_MAX
        ):
            return
        max_qty = formatLang(self.env, QTY_DONE_MAX, digits=0)
        if line_name:
            message = _(
                "Enter the quantity carried out of “%(line)s” as a number, at most "
                "%(max)s.",
                line=line_name,
                max=max_qty,
            )
        else:
            message = _(
                "Enter the quantity carried out as a number, at most %(max)s.",
                max=max_qty,
            )
        raise UserError(message)

    @api.model
    def _strip_on_site_vals(self, vals, create=False):
        """``vals`` without the on-site markers, which are the server's to set.

        A new line outside the work on site has nothing carried out yet (the
        form sends the field's empty value).
        """
        dropped = {"added_on_site", "qty_done_recorded"}
        if create:
            dropped.add("qty_done")
        vals = {fname: value for fname, value in vals.items() if fname not in dropped}
        if "qty_done" in vals:
            vals["qty_done_recorded"] = True
        return vals

    @api.model
    def _prepare_on_site_line_vals(self, vals):
        """``vals`` of a line the technician adds on site: nothing agreed,
        priced from the customer's pricelist, the quantity is what was done."""
        vals = {
            fname: value
            for fname, value in vals.items()
            if fname not in self._get_on_site_priced_fields()
            and fname not in ("added_on_site", "qty_done_recorded")
        }
        if vals.get("display_type"):
            raise UserError(
                _(
                    "Only products and services are added on site; write notes in "
                    "Work Done."
                )
            )
        if not vals.get("product_id"):
            raise UserError(_("Choose the product or service added on site."))
        vals.update(
            added_on_site=True,
            product_uom_qty=0.0,
            qty_done=vals.get("qty_done", 1.0),
            qty_done_recorded=True,
        )
        return vals

    @api.model
    def _check_create_allowed(self, orders, vals_list):
        # lines added on site (marked in create(), only while the work is under
        # way) are allowed; any other line of a locked work order is refused
        plain = self.env["work.order"].browse(
            {
                vals["order_id"]
                for vals in vals_list
                if vals.get("order_id") and not vals.get("added_on_site")
            }
        )
        return super()._check_create_allowed(orders & plain, vals_list)

    def _check_write_allowed(self, orders, vals):
        if "qty_done" in vals:
            self.order_id._check_recording_on_site(_("The quantity carried out"))
        on_site = orders.filtered(
            lambda order: order.is_locked and order._is_recording_on_site()
        )
        if on_site and "order_id" not in vals:
            for line in self.filtered(lambda line: line.order_id in on_site):
                writable = (
                    line._get_on_site_line_writable_fields()
                    if line.added_on_site
                    else line._get_on_site_writable_fields()
                )
                refused = set(vals) - writable
                if refused:
                    raise UserError(
                        _(
                            "“%(line)s” can no longer be edited: its product, "
                            "quantity, price, discount and taxes stay as agreed "
                            "with the customer. Record what was carried out in "
                            "“Done”, or add a line for what was added on site.",
                            line=line.name,
                        )
                        if not line.added_on_site
                        else _(
                            "“%(line)s” was added on site: change its product, "
                            "description or quantity done; its price comes from "
                            "the customer's pricelist.",
                            line=line.name,
                        )
                    )
            orders -= on_site
        return super()._check_write_allowed(orders, vals)

    def _check_unlink_allowed(self):
        on_site_lines = self.filtered(
            lambda line: line.added_on_site
            and line.order_id.is_locked
            and line.order_id._is_recording_on_site()
        )
        return super(WorkOrderLine, self - on_site_lines)._check_unlink_allowed()

    # ------------------------------------------------------------------
    # Quantities
    # ------------------------------------------------------------------

    def _uom_rounding(self):
        self.ensure_one()
        return self.product_uom_id.rounding or 0.01

    def _get_done_quantity(self):
        """What was carried out: the recorded quantity, else (until Complete
        records it) the agreed quantity."""
        self.ensure_one()
        return self.qty_done if self.qty_done_recorded else self.product_uom_qty

    def _get_default_qty_done(self):
        """The quantity Complete records when nothing was: the agreed one; for
        a part the work order takes from stock, what was reserved and picked
        for it on its way to the customer (a pick done in Inventory counts
        through its delivery; a part never delivered defaults to nothing)."""
        self.ensure_one()
        if (
            self.display_type
            or not self.product_id.is_storable
            or self._is_delivered_by_sale_order()
        ):
            return self.product_uom_qty
        # sudo: technicians read what was reserved for their job, nothing more
        return sum(
            move.product_uom._compute_quantity(
                move.quantity, self.product_uom_id, round=False
            )
            for move in self.sudo()._get_moves_to_customer()
        )

    def _get_stock_quantity(self):
        # the stock delivers what was carried out
        self.ensure_one()
        return self._get_done_quantity()

    def _done_differs(self):
        """Whether what was carried out differs from what was agreed."""
        self.ensure_one()
        if self.display_type:
            return False
        if self.added_on_site:
            return True
        return bool(
            self.qty_done_recorded
            and float_compare(
                self.qty_done,
                self.product_uom_qty,
                precision_rounding=self._uom_rounding(),
            )
        )

    def _get_invoice_quantity(self):
        # the invoice bills what was carried out, at the agreed price
        return self._get_done_quantity()

    def _prepare_invoice_line_vals(self, sequence):
        # the customer's invoice says what was added on site, in their language
        vals = super()._prepare_invoice_line_vals(sequence)
        if self.added_on_site and not self.display_type:
            vals["name"] = self._get_added_on_site_label(vals.get("name"))
        return vals

    def _get_added_on_site_label(self, name):
        """``name`` marked as added on site, in the customer's language."""
        self.ensure_one()
        lang = self.order_id.partner_id.lang or self.env.lang
        suffix = self.with_context(lang=lang)._get_added_on_site_suffix()
        return f"{name or self.product_id.display_name} {suffix}"

    def _get_added_on_site_suffix(self):
        return _("(added on site)")

    def _is_left_off_invoice(self):
        """A line with nothing carried out is left off the invoice."""
        self.ensure_one()
        return bool(
            not self.display_type
            and self.qty_done_recorded
            and float_is_zero(self.qty_done, precision_rounding=self._uom_rounding())
        )

    def _take_unused_off_moves(self, later_moves, delivered_moves):
        """Take what goes beyond the quantity carried out off ``later_moves``
        (the open later steps of the line's delivery, which carry parts already
        picked); ``delivered_moves`` reached the customer. Returns what was
        taken: [(product, quantity in its unit, location where it waits)]."""
        self.ensure_one()
        product_uom = self.product_id.uom_id
        rounding = product_uom.rounding
        done_qty = self.product_uom_id._compute_quantity(
            self._get_stock_quantity(), product_uom, round=False
        )
        delivered = sum(
            move.product_uom._compute_quantity(move.quantity, product_uom, round=False)
            for move in delivered_moves
        )
        excess = sum(later_moves.mapped("product_qty")) - max(0.0, done_qty - delivered)
        taken = []
        for move in later_moves.sorted("id", reverse=True):
            if float_compare(excess, 0.0, precision_rounding=rounding) <= 0:
                break
            qty = min(excess, move.product_qty)
            move._do_unreserve()
            if float_compare(qty, move.product_qty, precision_rounding=rounding) >= 0:
                move._action_cancel()
            else:
                move.product_uom_qty -= product_uom._compute_quantity(
                    qty, move.product_uom, rounding_method="HALF-UP"
                )
            taken.append((move.product_id, qty, move.location_id))
            excess -= qty
        return taken
