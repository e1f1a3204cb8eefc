from odoo import Command, _, api, models
from odoo.exceptions import ValidationError
from odoo.tools import formatLang

from .input_check import has_forbidden_characters, is_number_within


class WorkOrderInputMixin(models.AbstractModel):
    """Friendly refusals for what the database or Python would refuse with a
    raw error: control characters (a NUL byte) in text, text beyond its length
    and numbers that are not finite or beyond any job (1e20, inf). The models
    name their fields; ``create`` and ``write`` check them before anything is
    stored, for the form, RPC and imports alike."""

    _name = "work.order.input.mixin"
    _description = "Work Order Input Checks"

    def _get_checked_text_fields(self):
        """Text fields to check: field name -> the most characters it may hold
        (``None``: no limit). Extend with super()."""
        return {}

    def _get_checked_number_fields(self):
        """Number fields to check: field name -> the largest value either side
        of zero. Extend with super()."""
        return {}

    @api.model
    def _check_input_values(self, vals):
        self._check_text_values(vals)
        self._check_number_values(vals)
        self._check_sub_record_values(vals)

    @api.model
    def _check_text_values(self, vals):
        for fname, max_length in self._get_checked_text_fields().items():
            value = vals.get(fname)
            if not isinstance(value, str):
                continue
            field = self._fields[fname]
            if has_forbidden_characters(value, multiline=field.type != "char"):
                raise ValidationError(
                    _(
                        "%(field)s contains characters that are not allowed "
                        "(control characters such as a NUL byte). Please remove "
                        "them and try again.",
                        field=field._description_string(self.env),
                    )
                )
            if max_length and len(value) > max_length:
                raise ValidationError(
                    _(
                        "%(field)s is too long: %(length)s characters, at most "
                        "%(max)s.",
                        field=field._description_string(self.env),
                        length=formatLang(self.env, len(value), digits=0),
                        max=formatLang(self.env, max_length, digits=0),
                    )
                )

    @api.model
    def _check_number_values(self, vals):
        for fname, maximum in self._get_checked_number_fields().items():
            if fname in vals and not is_number_within(vals[fname], maximum):
                raise ValidationError(
                    _(
                        "%(field)s must be a number between -%(max)s and %(max)s.",
                        field=self._fields[fname]._description_string(self.env),
                        max=formatLang(self.env, maximum, digits=0),
                    )
                )

    @api.model
    def _check_sub_record_values(self, vals):
        """The lines written with the record (the form, RPC, the form's live
        update), by their own model's rules: they are converted before the
        lines' own create or write would see them."""
        for fname, commands in vals.items():
            field = self._fields.get(fname)
            if not (field and field.type == "one2many"):
                continue
            lines = self.env[field.comodel_name]
            if not isinstance(lines, self.pool["work.order.input.mixin"]):
                continue
            for command in commands if isinstance(commands, list | tuple) else ():
                if (
                    isinstance(command, list | tuple)
                    and len(command) == 3
                    and command[0] in (Command.CREATE, Command.UPDATE)
                    and isinstance(command[2], dict)
                ):
                    lines._check_input_values(command[2])

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_input_values(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_input_values(vals)
        return super().write(vals)

    def onchange(self, values, field_names, fields_spec):
        """The form's live update refuses what saving would, with the same
        message, before any computation runs on it (an infinite quantity would
        fail there with a raw error). Only the fields just changed are checked."""
        self._check_input_values(
            {fname: values[fname] for fname in field_names if fname in values}
        )
        return super().onchange(values, field_names, fields_spec)
