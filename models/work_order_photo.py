import base64
import binascii
import io

from PIL import Image, ImageOps

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.image import IMAGE_MAX_RESOLUTION
from odoo.tools.mimetypes import guess_mimetype

from .input_check import IMAGE_DECODE_ERRORS, has_forbidden_characters

PHOTO_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
PHOTO_MAX_BYTES = 25 * 1024 * 1024
PHOTO_MAX_SIDE = 1920
PHOTO_JPEG_QUALITY = 85
CAPTION_MAX_LENGTH = 256


class WorkOrderPhoto(models.Model):
    """A photo taken on the job: before, after, or anything worth keeping.

    Internal unless ``show_to_customer``: only those reach the portal, the
    service report and the customer's e-mails. Every image is decoded and
    encoded afresh as a JPEG at most 1920 pixels a side (no metadata kept).
    """

    _name = "work.order.photo"
    _description = "Work Order Photo"
    _order = "order_id, taken_on, id"
    _check_company_auto = True

    order_id = fields.Many2one(
        "work.order",
        string="Work Order",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    image = fields.Image(
        required=True, max_width=PHOTO_MAX_SIDE, max_height=PHOTO_MAX_SIDE
    )
    image_1024 = fields.Image(
        string="Image 1024",
        related="image",
        max_width=1024,
        max_height=1024,
        store=True,
    )
    image_256 = fields.Image(
        string="Image 256", related="image", max_width=256, max_height=256, store=True
    )
    name = fields.Char(string="Caption")
    kind = fields.Selection(
        [("before", "Before"), ("after", "After"), ("other", "Other")],
        required=True,
        default="other",
    )
    show_to_customer = fields.Boolean(
        string="Show to Customer",
        help="Shown in the customer portal, on the service report and in the "
        "customer's e-mails. Other photos stay internal.",
    )
    taken_by = fields.Many2one(
        "res.users",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
        index=True,
    )
    taken_on = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now
    )

    @api.model_create_multi
    def create(self, vals_list):
        clean_vals_list = []
        for vals in vals_list:
            vals = self._clean_vals(vals)
            if not self.env.su:
                # who and when are the server's to say
                vals.update(taken_by=self.env.uid, taken_on=fields.Datetime.now())
            if "image" in vals:
                vals["image"] = self._process_image(vals["image"])
            clean_vals_list.append(vals)
        orders = self.env["work.order"].browse(
            {vals["order_id"] for vals in clean_vals_list if vals.get("order_id")}
        )
        for order in orders:
            self._check_can_add(order)
        return super().create(clean_vals_list)

    def write(self, vals):
        vals = self._clean_vals(vals)
        if not self.env.su:
            frozen = {"order_id", "image", "taken_by", "taken_on"}.intersection(vals)
            if frozen:
                raise UserError(
                    _(
                        "A photo's image, work order, author and time cannot be "
                        "changed. Delete the photo and take a new one instead."
                    )
                )
            self._check_can_change()
        elif "image" in vals:
            vals["image"] = self._process_image(vals["image"])
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_not_allowed(self):
        if self.env.su or self._is_manager():
            return
        for photo in self:
            if photo.taken_by != self.env.user:
                raise UserError(
                    _(
                        "Only a manager or the person who took it can delete the "
                        "photo “%(photo)s”.",
                        photo=photo.display_name,
                    )
                )
            if photo.order_id._is_closed_for_photos():
                raise UserError(
                    _(
                        "%(order)s is %(state)s: its photos are part of the record. "
                        "Ask a manager to delete one.",
                        order=photo.order_id.name,
                        state=photo.order_id._state_label(),
                    )
                )

    @api.depends("name", "kind", "order_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for photo in self:
            photo.display_name = photo.name or _(
                "%(kind)s photo of %(order)s",
                kind=kinds.get(photo.kind, ""),
                order=photo.order_id.name or "",
            )

    def _get_customer_label(self):
        """How the customer's documents name the photo: its kind and caption."""
        self.ensure_one()
        kind = dict(self._fields["kind"]._description_selection(self.env))[self.kind]
        if not self.name:
            return kind
        return _("%(kind)s: %(caption)s", kind=kind, caption=self.name)

    # ------------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------------

    def _is_manager(self):
        return self.env.user.has_group("work_order.group_work_order_manager")

    @api.model
    def _check_can_add(self, order):
        """Refuse a new photo on ``order`` unless the user works on it (its
        technicians, anyone while nobody is assigned) and the work is not over;
        managers may always add one."""
        if self.env.su or self._is_manager():
            return
        if order._is_closed_for_photos():
            raise UserError(
                _(
                    "%(order)s is %(state)s: photos are taken until the work is "
                    "completed. Ask a manager to add one.",
                    order=order.name,
                    state=order._state_label(),
                )
            )
        self._check_crew(order)

    def _check_can_change(self):
        if self.env.su or self._is_manager():
            return
        for order in self.order_id:
            if order._is_closed_for_photos():
                raise UserError(
                    _(
                        "%(order)s is %(state)s: only a manager can change its "
                        "photos now.",
                        order=order.name,
                        state=order._state_label(),
                    )
                )
            self._check_crew(order)

    @api.model
    def _check_crew(self, order):
        """The crew rule of checks and timers: only the technicians of
        ``order`` (anyone while nobody is assigned) or a manager."""
        crew = order._get_crew()
        if crew and self.env.user not in crew:
            raise UserError(
                _(
                    "Only the technicians of %(order)s or a manager can add or "
                    "change its photos.",
                    order=order.name,
                )
            )

    @api.model
    def _clean_vals(self, vals):
        """``vals`` with the caption checked and stripped."""
        if "name" not in vals:
            return vals
        name = vals["name"]
        if name not in (None, False) and not isinstance(name, str):
            raise UserError(_("The caption must be text."))
        name = (name or "").strip()
        if has_forbidden_characters(name):
            raise UserError(
                _(
                    "The caption contains characters that are not allowed (control "
                    "characters such as a NUL byte). Please remove them and try "
                    "again."
                )
            )
        if len(name) > CAPTION_MAX_LENGTH:
            raise UserError(
                _(
                    "The caption is too long: %(max)s characters at most.",
                    max=CAPTION_MAX_LENGTH,
                )
            )
        return {**vals, "name": name or False}

    @api.model
    def _process_image(self, value):
        """``value`` (base64) decoded, checked and encoded afresh as a JPEG no
        larger than the field keeps, or a UserError saying what to do."""
        invalid = _(
            "The photo could not be read. Take it again, or choose a JPEG, PNG or "
            "WebP image."
        )
        if not value:
            raise UserError(_("Take a photo or choose an image first."))
        if isinstance(value, str):
            value = value.encode("ascii", errors="replace")
        if not isinstance(value, bytes):
            raise UserError(invalid)
        if len(value) > (PHOTO_MAX_BYTES + 2) // 3 * 4 + 4:
            raise UserError(self._too_large_message())
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(invalid) from None
        image_format = PHOTO_FORMATS.get(guess_mimetype(data, default=""))
        if not image_format:
            raise UserError(invalid)
        try:
            image = Image.open(io.BytesIO(data), formats=(image_format,))
            width, height = image.size
            if width * height > IMAGE_MAX_RESOLUTION:
                raise UserError(self._too_large_message())
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                background = Image.new("RGB", image.size, "white")
                background.paste(image, mask=image.getchannel("A"))
                image = background
            elif image.mode != "RGB":
                image = image.convert("RGB")
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
        except IMAGE_DECODE_ERRORS:
            raise UserError(invalid) from None
        return base64.b64encode(buffer.getvalue())

    @api.model
    def _too_large_message(self):
        return _(
            "The photo is too large: %(size)s MB and %(pixels)s million pixels at "
            "most.",
            size=PHOTO_MAX_BYTES // (1024 * 1024),
            pixels=int(IMAGE_MAX_RESOLUTION / 1e6),
        )
