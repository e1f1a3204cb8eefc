from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero


class WorkOrder(models.Model):
    """The parts: stock availability and the delivery that reserves them."""

    _inherit = "work.order"

    # Technicians (group_work_order_user) have no stock rights, yet their
    # actions on the work order reserve, deliver and cancel its parts. The
    # methods below therefore run the stock side as superuser, only on the
    # delivery of a work order the user has just been allowed to change.

    picking_ids = fields.One2many(
        "stock.picking",
        "work_order_id",
        string="Transfers",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        compute="_compute_warehouse_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        check_company=True,
        help="Stock is checked in this warehouse. From Approved or Scheduled, a "
        "delivery from it reserves the storable parts and follows the lines; "
        "Complete delivers them, Cancel cancels the delivery. A part still short "
        "at Complete is delivered as far as reserved and the rest waits in a "
        "backorder named in the chatter: stock never goes negative.",
        groups="base.group_user",
    )
    has_stock_shortage = fields.Boolean(
        string="Parts Short",
        compute="_compute_stock_warning",
        search="_search_has_stock_shortage",
        help="The forecast of at least one part does not cover its quantity.",
        groups="base.group_user",
    )
    has_low_stock = fields.Boolean(
        string="Low Stock",
        compute="_compute_stock_warning",
        help="At least one part is short or falls below its reorder minimum.",
        groups="base.group_user",
    )
    stock_warning = fields.Text(
        compute="_compute_stock_warning", groups="base.group_user"
    )
    picking_count = fields.Integer(
        string="Transfers Count",
        compute="_compute_picking_count",
        groups="base.group_user",
    )

    def _get_stock_sync_states(self):
        """States in which the delivery of the parts exists and follows the lines."""
        return ("approved", "scheduled")

    def _get_stock_closed_states(self):
        """States whose parts are settled (consumed, or never to be taken): no
        stock status on their lines."""
        return ("completed", "invoiced", "cancelled", "rejected")

    def _get_stock_order_fields(self):
        """Work order fields copied onto its delivery."""
        return {"warehouse_id", "partner_id", "service_address_id", "scheduled_date"}

    def _get_delivery_partner(self):
        """Where the parts go: the service address, else the customer."""
        self.ensure_one()
        return self.service_address_id or self.partner_id

    @api.depends("company_id")
    def _compute_warehouse_id(self):
        for order in self:
            if order.warehouse_id.company_id == order.company_id:
                continue
            order.warehouse_id = self.env["stock.warehouse"].search(
                [("company_id", "=", order.company_id.id)], limit=1
            )

    @api.depends(
        "line_ids.stock_status",
        "line_ids.qty_forecast",
        "line_ids.product_uom_qty",
        "warehouse_id",
    )
    def _compute_stock_warning(self):
        for order in self:
            short = order.line_ids.filtered(lambda line: line.stock_status == "short")
            low = order.line_ids.filtered(lambda line: line.stock_status == "low")
            order.has_stock_shortage = bool(short)
            order.has_low_stock = bool(short or low)
            messages = []
            if short:
                messages.append(
                    _(
                        "Parts short in %(warehouse)s: %(parts)s.",
                        warehouse=order.warehouse_id.name,
                        parts=", ".join(line._stock_summary() for line in short),
                    )
                )
            if low:
                messages.append(
                    _(
                        "Below the reorder minimum after this work order: %(parts)s.",
                        parts=", ".join(line._stock_summary() for line in low),
                    )
                )
            order.stock_warning = "\n".join(messages) or False

    def _search_has_stock_shortage(self, operator, value):
        """Work orders with a short part, for the "Parts short" filter.

        The status depends on live stock levels, so it is not stored: the lines
        of the open work orders are evaluated in one batch (a constant number
        of queries per thousand lines).
        """
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search “Parts Short” with “is set” or “is not set”."))
        lines = self.env["work.order.line"].search(
            [
                ("order_id.state", "not in", self._get_stock_closed_states()),
                ("display_type", "=", False),
                ("product_id.is_storable", "=", True),
            ]
        )
        short_orders = lines.filtered(
            lambda line: line.stock_status == "short"
        ).order_id
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", short_orders.ids)]

    @api.depends("picking_ids")
    def _compute_picking_count(self):
        counts = dict(
            self.env["stock.picking"]._read_group(
                [("work_order_id", "in", self.ids)], ["work_order_id"], ["__count"]
            )
        )
        for order in self:
            order.picking_count = counts.get(order._origin, 0)

    def write(self, vals):
        result = super().write(vals)
        if "state" not in vals and self._get_stock_order_fields().intersection(vals):
            self._sync_stock_pickings_while_editable()
        return result

    def _action_approve(self):
        result = super()._action_approve()
        self._sync_stock_pickings()
        return result

    def _action_schedule(self, scheduled_date, technician=None):
        result = super()._action_schedule(scheduled_date, technician=technician)
        self._sync_stock_pickings()
        return result

    def _action_complete(self):
        self._validate_stock_pickings()
        return super()._action_complete()

    def _action_cancel(self):
        result = super()._action_cancel()
        self._cancel_stock_pickings()
        return result

    def action_view_pickings(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "stock.action_picking_tree_all"
        )
        action["domain"] = [("work_order_id", "=", self.id)]
        action["context"] = {"create": False}
        if len(self.picking_ids) == 1:
            action["views"] = [(self.env.ref("stock.view_picking_form").id, "form")]
            action["res_id"] = self.picking_ids.id
        return action

    def _get_stock_lines(self):
        """Lines whose product is storable, with a positive quantity.

        A line copied from a sale order line that already has its own stock moves
        (the sale order's delivery, made by sale_stock on confirmation) is left to
        that delivery, so the same parts are never reserved twice.
        """
        return self.line_ids.filtered(
            lambda line: not line.display_type
            and line.product_id.is_storable
            and not line._is_delivered_by_sale_order()
            and float_compare(
                line.product_uom_qty,
                0.0,
                precision_rounding=line.product_uom_id.rounding or 0.01,
            )
            > 0
        )

    def _sync_stock_pickings_while_editable(self):
        """Keep the delivery in step with lines changed while Approved/Scheduled."""
        self.filtered(
            lambda order: order.state in self._get_stock_sync_states()
        )._sync_stock_pickings()

    def _sync_stock_pickings(self):
        """Create or update the delivery that reserves the parts.

        One delivery per work order (the warehouse's delivery type, from its
        stock to the customer), one move per storable line for the quantity not
        delivered yet. Changed lines update their move, removed lines cancel
        it, new lines add one; everything still open is reserved again. A
        change of warehouse cancels the moves of the old one.
        """
        for order in self:
            # sudo: see the comment above this section.
            order = order.sudo()
            picking_type = order.warehouse_id.out_type_id
            stock_lines = order._get_stock_lines()
            moves = order.picking_ids.move_ids
            open_moves = moves.filtered(lambda m: m.state not in ("done", "cancel"))
            done_moves = moves.filtered(lambda m: m.state == "done")
            stale = open_moves.filtered(
                lambda m, lines=stock_lines, ptype=picking_type: m.picking_type_id
                != ptype
                or m.work_order_line_id not in lines
                or m.product_id != m.work_order_line_id.product_id
                or m.product_uom != m.work_order_line_id.product_uom_id
            )
            open_moves -= stale
            to_create = []
            for line in stock_lines:
                uom = line.product_uom_id
                line_moves = open_moves.filtered(
                    lambda m, ln=line: m.work_order_line_id == ln
                )
                stale |= line_moves[1:]
                move = line_moves[:1]
                done_qty = sum(
                    m.product_uom._compute_quantity(m.quantity, uom, round=False)
                    for m in done_moves
                    if m.work_order_line_id == line
                )
                remaining = line.product_uom_qty - done_qty
                if float_compare(remaining, 0.0, precision_rounding=uom.rounding) <= 0:
                    stale |= move
                elif not move:
                    to_create.append(order._prepare_stock_move_vals(line, remaining))
                elif float_compare(
                    move.product_uom_qty, remaining, precision_rounding=uom.rounding
                ):
                    move.product_uom_qty = remaining
            stale._action_cancel()
            pickings = order.picking_ids.filtered(
                lambda p, ptype=picking_type: p.state not in ("done", "cancel")
                and p.picking_type_id == ptype
            )
            if to_create:
                picking = pickings[:1]
                if not picking:
                    picking = (
                        self.env["stock.picking"]
                        .sudo()
                        .create(order._prepare_picking_vals())
                    )
                    pickings |= picking
                for vals in to_create:
                    vals["picking_id"] = picking.id
                new_moves = self.env["stock.move"].sudo().create(to_create)
                # No merge: each move stays tied to its own line.
                new_moves._action_confirm(merge=False)
            if pickings:
                pickings.write(order._prepare_picking_update_vals(pickings))
            pickings.move_ids.filtered(
                lambda m: m.state in ("confirmed", "partially_available", "waiting")
            )._action_assign()

    def _prepare_picking_vals(self):
        self.ensure_one()
        picking_type = self.warehouse_id.out_type_id
        if not picking_type:
            raise UserError(
                _(
                    "The warehouse %(warehouse)s has no delivery operation type: "
                    "the parts of %(order)s cannot be reserved.",
                    warehouse=self.warehouse_id.name,
                    order=self.name,
                )
            )
        partner = self._get_delivery_partner()
        return {
            "picking_type_id": picking_type.id,
            "partner_id": partner.id,
            "origin": self.name,
            "work_order_id": self.id,
            "company_id": self.company_id.id,
            "location_id": self.warehouse_id.lot_stock_id.id,
            "location_dest_id": self._get_customer_location().id,
            "scheduled_date": self.scheduled_date or fields.Datetime.now(),
            "move_type": "direct",
        }

    def _prepare_picking_update_vals(self, pickings):
        """Values to write on the open deliveries when the work order changes."""
        partner = self._get_delivery_partner()
        vals = {}
        if pickings.partner_id != partner:
            vals["partner_id"] = partner.id
        if self.scheduled_date and any(
            p.scheduled_date != self.scheduled_date for p in pickings
        ):
            vals["scheduled_date"] = self.scheduled_date
        return vals

    def _get_customer_location(self):
        self.ensure_one()
        partner = self._get_delivery_partner()
        return (
            partner.with_company(self.company_id).property_stock_customer
            or self.warehouse_id.out_type_id.default_location_dest_id
        )

    def _prepare_stock_move_vals(self, line, quantity):
        self.ensure_one()
        return {
            "name": line.name or line.product_id.display_name,
            "description_picking": line.name,
            "product_id": line.product_id.id,
            "product_uom_qty": quantity,
            "product_uom": line.product_uom_id.id,
            "location_id": self.warehouse_id.lot_stock_id.id,
            "location_dest_id": self._get_customer_location().id,
            "picking_type_id": self.warehouse_id.out_type_id.id,
            "partner_id": self._get_delivery_partner().id,
            "company_id": self.company_id.id,
            "origin": self.name,
            "date": self.scheduled_date or fields.Datetime.now(),
            "work_order_line_id": line.id,
            "warehouse_id": self.warehouse_id.id,
        }

    def _validate_stock_pickings(self):
        """Deliver the parts on Complete: the stock is consumed.

        Each move is validated with its line quantity. Shortage rule: stock is
        never driven negative. If the warehouse cannot cover a part, what is
        reserved is delivered and, following Odoo's backorder logic, the
        missing quantity stays in a backorder linked to the work order (or,
        when nothing at all could be reserved, in the open delivery itself);
        the chatter names the short parts and the transfer that still waits
        for them. Validate that transfer in Inventory once the parts arrive,
        or cancel it there. An operation type set to never create backorders
        drops the missing quantities instead, as Odoo does.
        """
        for order in self:
            order._sync_stock_pickings()
            # sudo: see the comment above this section.
            order_sudo = order.sudo()
            pickings = order_sudo.picking_ids.filtered(
                lambda p: p.state not in ("done", "cancel")
            )
            if not pickings:
                continue
            moves = pickings.move_ids.filtered(
                lambda m: m.state not in ("done", "cancel")
            )
            moves.filtered(lambda m: m.state != "assigned")._action_assign()
            shortages = []
            for move in moves:
                rounding = move.product_uom.rounding
                missing = move.product_uom_qty - move.quantity
                if float_compare(missing, 0.0, precision_rounding=rounding) > 0:
                    shortages.append((move.product_id, missing, move.product_uom))
                if not float_is_zero(move.quantity, precision_rounding=rounding):
                    move.picked = True
            to_validate = pickings.filtered(lambda p: any(p.move_ids.mapped("picked")))
            if to_validate:
                to_validate.with_context(
                    skip_backorder=True, skip_sms=True, cancel_backorder=False
                ).button_validate()
                not_done = to_validate.filtered(lambda p: p.state != "done")
                if not_done:
                    raise UserError(
                        _(
                            "The transfer %(transfers)s of %(order)s could not be "
                            "validated. Open it in Inventory, finish it, then "
                            "complete the work order.",
                            transfers=", ".join(not_done.mapped("name")),
                            order=order.name,
                        )
                    )
            if shortages:
                order._post_stock_shortage(shortages)

    def _post_stock_shortage(self, shortages):
        self.ensure_one()
        waiting = self.sudo().picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        parts = ", ".join(
            _(
                "%(product)s (%(qty)s %(uom)s missing)",
                product=product.display_name,
                qty=self.env["work.order.line"]._format_qty(qty),
                uom=uom.name,
            )
            for product, qty, uom in shortages
        )
        if waiting:
            body = _(
                "Completed with parts short: %(parts)s. Only the reserved stock was "
                "delivered; the missing quantities wait in %(transfers)s. Validate "
                "it once the parts arrive, or cancel it in Inventory.",
                parts=parts,
                transfers=", ".join(waiting.mapped("name")),
            )
        else:
            body = _(
                "Completed with parts short: %(parts)s. Only the reserved stock was "
                "delivered; the delivery type creates no backorders, so the missing "
                "quantities were dropped.",
                parts=parts,
            )
        self.message_post(body=body)

    def _cancel_stock_pickings(self):
        """Cancel the open deliveries; done ones stay as they are."""
        # sudo: see the comment above this section (managers have no stock
        # rights either).
        self.sudo().picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        ).action_cancel()

    def _get_pick_list(self):
        """The goods to take to the job: [(product, quantity, uom)].

        Storable parts follow the delivery once it exists: the quantities
        reserved on its open moves (nothing for a part not reserved) and, after
        completion, the quantities delivered; before approval, the lines as
        entered. Other goods (consumables, parts the sale order delivers) come
        as entered on their lines.
        """
        self.ensure_one()
        stock_lines = self._get_stock_lines()
        other_goods = (
            self.line_ids.filtered(
                lambda line: not line.display_type and line.product_id.type == "consu"
            )
            - stock_lines
        )
        # sudo: technicians print the work sheet without stock rights.
        moves = self.sudo().picking_ids.move_ids.filtered(lambda m: m.state != "cancel")
        if moves:
            pick_list = [
                (
                    move.product_id.with_env(self.env),
                    move.quantity,
                    move.product_uom.with_env(self.env),
                )
                for move in moves.sorted(
                    lambda m: (m.work_order_line_id.sequence, m.id)
                )
                if not float_is_zero(
                    move.quantity, precision_rounding=move.product_uom.rounding
                )
            ]
        else:
            pick_list = [
                (line.product_id, line.product_uom_qty, line.product_uom_id)
                for line in stock_lines
            ]
        return pick_list + [
            (line.product_id, line.product_uom_qty, line.product_uom_id)
            for line in other_goods
        ]
