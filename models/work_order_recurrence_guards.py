from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .input_check import has_forbidden_characters
from .work_order_recurrence import WEEKDAYS

# The agreement's own methods write its lifecycle fields in an environment whose
# context holds this object (the same idea as work_order_workflow.py).
AGREEMENT_CONTEXT_KEY = "work_order_recurrence_workflow"
_AGREEMENT_MARK = object()
# The largest numbers of a rule (an interval of 2**31 fails in the database,
# a negative one in the date rules).
MAX_REPEAT_INTERVAL = 999
MAX_REPEAT_COUNT = 9999


class WorkOrderRecurrence(models.Model):
    """The agreement's rules (transitions, protected fields) and the guards
    that hold every write to them: input checks, lifecycle, row locks."""

    _inherit = "work.order.recurrence"

    # ------------------------------------------------------------------
    # Rules: data other modules extend with super()
    # ------------------------------------------------------------------

    def _get_transitions(self):
        """Button method -> the states it may be called from."""
        return {
            "action_start": ("draft",),
            "action_pause": ("running",),
            "action_resume": ("paused",),
            "action_end": ("running", "paused"),
        }

    def _get_protected_fields(self):
        """Fields only the agreement's own methods write (``_agreement_write``)."""
        return {
            "state",
            "generated_until",
            "next_generation_date",
            "period_invoiced_until",
            "next_invoicing_date",
        }

    def _get_regeneration_fields(self):
        """Fields whose change regenerates the upcoming visits that have not
        started: the rule and what each visit copies."""
        return {
            "start_date",
            "time_of_day",
            "repeat_interval",
            "repeat_unit",
            "month_day",
            "repeat_type",
            "repeat_until",
            "repeat_count",
            "horizon_days",
            "title",
            "service_address_id",
            "template_id",
            "user_id",
            *WEEKDAYS,
        }

    def _get_fixed_once_started_fields(self):
        """Fields that make another agreement rather than a change of this one."""
        return {"partner_id", "company_id"}

    def _get_upcoming_visit_states(self):
        """States of the visits that have not started (and are regenerated)."""
        return ("draft", "approved", "scheduled")

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------

    def _is_agreement_call(self):
        return (
            self.env.context.get(AGREEMENT_CONTEXT_KEY) is _AGREEMENT_MARK
            or self.env.is_superuser()
        )

    def _agreement_write(self, vals):
        return self.with_context(**{AGREEMENT_CONTEXT_KEY: _AGREEMENT_MARK}).write(vals)

    @api.model
    def _check_input(self, vals):
        """Refuse, saying which field, what the database would refuse with a
        raw error: text with control characters (a NUL byte) and links to
        records that do not exist (an id sent over RPC)."""
        for fname, value in vals.items():
            field = self._fields.get(fname)
            if field is None:
                continue
            if field.type in ("char", "text") and has_forbidden_characters(
                value, multiline=field.type == "text"
            ):
                raise ValidationError(
                    _(
                        "%(field)s contains characters that are not allowed "
                        "(control characters such as a NUL byte). Please remove "
                        "them and try again.",
                        field=field._description_string(self.env),
                    )
                )
            if field.required and field.type == "many2one" and not value:
                raise ValidationError(
                    _(
                        "%(field)s is required.",
                        field=field._description_string(self.env),
                    )
                )
            if field.type == "date" and value:
                try:
                    fields.Date.to_date(value)
                except (TypeError, ValueError):
                    raise ValidationError(
                        _(
                            "%(field)s: %(value)s is not a valid date.",
                            field=field._description_string(self.env),
                            value=repr(value)[:40],
                        )
                    ) from None
            if field.type in ("integer", "float") and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                if value is False and not field.required:
                    continue
                raise ValidationError(
                    _(
                        "%(field)s: %(value)s is not a number.",
                        field=field._description_string(self.env),
                        value=repr(value)[:40],
                    )
                )
            bounds = self._get_input_bounds().get(fname)
            if bounds and not bounds[0] <= value <= bounds[1]:
                raise ValidationError(bounds[2])
            if field.type == "many2one" and value:
                if isinstance(value, models.BaseModel):
                    continue  # a record: the ORM writes its id
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not 0 < value < 2**31  # PostgreSQL's integer
                    or not self.env[field.comodel_name].sudo().browse(value).exists()
                ):
                    raise ValidationError(
                        _(
                            "%(field)s: the record %(value)s does not exist (it may "
                            "have been deleted). Choose another one.",
                            field=field._description_string(self.env),
                            value=repr(value)[:40],
                        )
                    )

    def _get_input_bounds(self):
        """{field: (lowest, highest, message)} of the numbers of the rule,
        checked before anything is written (the visits follow the rule at
        once)."""
        return {
            "repeat_interval": (
                1,
                MAX_REPEAT_INTERVAL,
                _(
                    "The visits repeat every 1 to %(max)s days, weeks, months or "
                    "years.",
                    max=MAX_REPEAT_INTERVAL,
                ),
            ),
            "time_of_day": (
                0,
                24 - 1 / 3600,
                _("The time of the visits is between 00:00 and 23:59."),
            ),
            "month_day": (1, 31, _("The day of the month is between 1 and 31.")),
            "horizon_days": (1, 366, _("The look-ahead is between 1 and 366 days.")),
            "repeat_count": (
                0,
                MAX_REPEAT_COUNT,
                _(
                    "The number of visits is between 1 and %(max)s.",
                    max=MAX_REPEAT_COUNT,
                ),
            ),
        }

    @api.constrains("partner_id", "service_address_id")
    def _check_service_address(self):
        for agreement in self:
            address = agreement.service_address_id
            if (
                address
                and address.commercial_partner_id
                != agreement.partner_id.commercial_partner_id
            ):
                raise ValidationError(
                    _(
                        "%(address)s is not an address of %(customer)s. Choose one of "
                        "the customer's own addresses, or create a new one for them.",
                        address=address.display_name,
                        customer=agreement.partner_id.commercial_partner_id.display_name,
                    )
                )

    @api.constrains("user_id")
    def _check_technician(self):
        group = "work_order.group_work_order_user"
        for agreement in self:
            user = agreement.user_id
            if user and (user.share or not user.has_group(group)):
                raise ValidationError(
                    _(
                        "%(user)s has no access to Work Orders and cannot be the "
                        "technician of %(agreement)s. Give them the Work Orders "
                        "User role in Settings ▸ Users first.",
                        user=user.name,
                        agreement=agreement.name,
                    )
                )

    def _check_protected_fields(self, vals):
        if self._is_agreement_call():
            return
        protected = self._get_protected_fields().intersection(vals)
        if protected:
            self.check_access("write")
            raise UserError(
                _(
                    "“%(field)s” is set by the agreement's buttons (Start, Pause, "
                    "Resume, End) and cannot be written directly.",
                    field=self._fields[sorted(protected)[0]]._description_string(
                        self.env
                    ),
                )
            )

    def _check_editable(self, vals):
        business = {
            fname
            for fname in vals
            if fname not in self._get_protected_fields()
            and not fname.startswith(("message_", "activity_", "website_message"))
            and fname != "access_token"
        }
        if not business:
            return
        ended = self.filtered(lambda a: a.state == "ended")
        if ended:
            raise UserError(
                _(
                    "%(agreement)s has ended and can no longer be changed.",
                    agreement=ended[0].name,
                )
            )
        fixed = self._get_fixed_once_started_fields().intersection(business)
        started = self.filtered(lambda a: a.state != "draft")
        if fixed and started:
            raise UserError(
                _(
                    "The customer and the company of %(agreement)s cannot change once "
                    "it has started: end it and create a new agreement.",
                    agreement=started[0].name,
                )
            )

    def _check_state(self, action):
        """Raise unless every agreement is in a state that allows ``action``."""
        self.check_access("write")
        allowed_from = self._get_transitions()[action]
        record = (
            self
            if self.env.lang
            else self.with_context(lang=self.env["res.users"].context_get().get("lang"))
        )
        labels = dict(self._fields["state"]._description_selection(record.env))
        for agreement in self:
            if agreement.state not in allowed_from:
                raise UserError(
                    _(
                        "%(agreement)s is %(state)s: this is only possible when it is "
                        "%(allowed)s.",
                        agreement=agreement.name,
                        state=labels[agreement.state],
                        allowed=_(" or ").join(labels[s] for s in allowed_from),
                    )
                )

    def _lock_agreements(self, skip_locked=False):
        """Lock the agreement rows until the end of the transaction and read them
        afresh; with ``skip_locked``, return only the rows not locked elsewhere."""
        if not self:
            return self
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR UPDATE%s",
                SQL.identifier(self._table),
                tuple(self.ids),
                SQL(" SKIP LOCKED") if skip_locked else SQL(),
            )
        )
        locked = self.browse([row[0] for row in self.env.cr.fetchall()])
        self.invalidate_recordset()
        return locked

    # ------------------------------------------------------------------
