from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class WorkOrder(models.Model):
    """The service address: one of the customer's own addresses, or a new one
    added from the form (New Address) by any user who may edit the work order,
    without the right to create contacts."""

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

    def action_new_service_address(self):
        """The New Address dialog: a new address of the customer becomes the
        service address."""
        self._check_new_service_address()
        return self._get_wizard_action("work.order.new.address", _("New Address"))

    def _check_new_service_address(self):
        """Refuse unless the user may edit this work order and it has a
        customer."""
        self.ensure_one()
        self.check_access("write")
        if self.is_locked:
            raise UserError(
                _(
                    "%(order)s is %(state)s: its service address can no longer change.",
                    order=self.name,
                    state=self._state_label(),
                )
            )
        if not self.partner_id:
            raise UserError(_("Choose the customer before adding a new address."))

    def _create_service_address(self, vals):
        """Create ``vals`` (street, city, ... of ``res.partner``) as a new
        address of the customer's company and make it the service address."""
        self._check_new_service_address()
        customer = self.partner_id.commercial_partner_id
        # sudo: the user may edit this work order (checked above) but may have
        # no right to create contacts; the address is the customer's own
        address = (
            self.env["res.partner"]
            .sudo()
            .create(
                {
                    **vals,
                    "parent_id": customer.id,
                    "type": "delivery",
                    "company_id": customer.company_id.id,
                }
            )
        )
        self.service_address_id = address.sudo(False)
        return address.sudo(False)
