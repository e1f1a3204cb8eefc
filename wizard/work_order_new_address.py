from odoo import _, api, fields, models
from odoo.exceptions import UserError


class WorkOrderNewAddress(models.TransientModel):
    """A new service address for the work order's customer.

    Office users may have no right to create contacts: the address is created
    as a child contact of the customer's company with sudo, but only once the
    work order itself may be written by the user, is still editable and has a
    customer. The new address becomes the work order's service address.
    """

    _name = "work.order.new.address"
    _inherit = "work.order.input.mixin"
    _description = "New Service Address"

    order_id = fields.Many2one(
        "work.order", string="Work Order", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(related="order_id.partner_id", string="Customer")
    name = fields.Char(
        string="Site Name",
        help="Optional, e.g. Pool house. Without one, the address shows by its "
        "street and city.",
    )
    street = fields.Char()
    street2 = fields.Char()
    zip = fields.Char()
    city = fields.Char()
    state_id = fields.Many2one(
        "res.country.state",
        string="State",
        domain="[('country_id', '=?', country_id)]",
    )
    country_id = fields.Many2one(
        "res.country",
        string="Country",
        default=lambda self: self.env.company.country_id,
    )

    def _get_checked_text_fields(self):
        return {
            **super()._get_checked_text_fields(),
            **dict.fromkeys(("name", "street", "street2", "zip", "city")),
        }

    @api.onchange("state_id")
    def _onchange_state_id(self):
        if self.state_id:
            self.country_id = self.state_id.country_id

    def action_create(self):
        self.ensure_one()
        order = self.order_id
        address = order._create_service_address(self._prepare_address_vals())
        return {"type": "ir.actions.act_window_close", "infos": {"id": address.id}}

    def _prepare_address_vals(self):
        self.ensure_one()
        vals = {
            fname: (self[fname] or "").strip()
            for fname in ("name", "street", "street2", "zip", "city")
        }
        if not vals["street"] or not vals["city"]:
            raise UserError(_("Enter at least the street and the city of the address."))
        if (
            self.state_id
            and self.country_id
            and self.state_id.country_id != (self.country_id)
        ):
            raise UserError(
                _(
                    "%(state)s is not in %(country)s.",
                    state=self.state_id.name,
                    country=self.country_id.name,
                )
            )
        vals.update(
            state_id=self.state_id.id,
            country_id=(self.country_id or self.state_id.country_id).id,
        )
        return {key: value or False for key, value in vals.items()}
