from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class WorkOrder(models.Model):
    """The service address: one of the customer's own addresses."""

    _inherit = "work.order"

    service_address_summary = fields.Char(
        string="Address",
        compute="_compute_service_address_summary",
        help="Street and city of the service address.",
        groups="base.group_user",
    )

    @api.depends(
        "service_address_id.street",
        "service_address_id.city",
        "service_address_id.name",
    )
    def _compute_service_address_summary(self):
        for order in self:
            address = order.service_address_id
            order.service_address_summary = (
                ", ".join(part for part in (address.street, address.city) if part)
                or address.name
                or False
            )

    @api.constrains("partner_id", "service_address_id")
    def _check_service_address(self):
        for order in self:
            address = order.service_address_id
            if (
                address
                and address.commercial_partner_id
                != order.partner_id.commercial_partner_id
            ):
                raise ValidationError(
                    _(
                        "%(address)s is not an address of %(customer)s. Choose one of "
                        "the customer's own addresses, or create a new one for them.",
                        address=address.display_name,
                        customer=order.partner_id.commercial_partner_id.display_name,
                    )
                )
