import pytz
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time

from odoo import _, api, models
from odoo.tools.misc import babel_locale_parse


class WorkOrder(models.Model):
    """The time zone of a visit, and the visit's times as the customer and the
    technician read them: one rule for the portal, the agreement page, the
    e-mails, the calendar file, On My Way and My Day."""

    _inherit = "work.order"

    @api.model
    def _get_visit_tz_for(self, address=None, partner=None, company=None):
        """The time zone of a visit at ``address`` for ``partner`` by
        ``company``: the service address's, else the customer's, else the
        company's (its partner's), else UTC. A zone pytz does not know is
        skipped."""
        company = company or self.env.company
        for candidate in (address, partner, company.partner_id):
            tz = candidate and candidate.tz
            if tz and tz in pytz.all_timezones_set:
                return tz
        return "UTC"

    def _get_visit_tz(self):
        """The time zone of the work order's visit (``_get_visit_tz_for``)."""
        self.ensure_one()
        # the zone is no secret: read whoever shows the time (portal included)
        order = self.sudo()
        return self._get_visit_tz_for(
            order.service_address_id, order.partner_id, order.company_id
        )

    def _to_visit_tz(self, value):
        """``value`` (naive UTC) as an aware datetime in the visit's time zone."""
        self.ensure_one()
        return pytz.utc.localize(value).astimezone(pytz.timezone(self._get_visit_tz()))

    def _get_visit_locale(self):
        return babel_locale_parse(self.env.lang or "en_US")

    def _with_visit_tz_name(self, text):
        """``text`` (a time) followed by the name of the visit's time zone."""
        self.ensure_one()
        return _("%(when)s (%(tz)s)", when=text, tz=self._get_visit_tz())

    def _format_visit_moment(self, value, date_format="medium"):
        """``value`` (naive UTC) as a date and a time in the visit's time zone,
        with the zone's name: "May 4, 2027, 9:00 AM (Europe/Paris)"."""
        self.ensure_one()
        if not value:
            return ""
        local = self._to_visit_tz(value)
        locale = self._get_visit_locale()
        return self._with_visit_tz_name(
            _(
                "%(day)s, %(time)s",
                day=babel_format_date(local.date(), format=date_format, locale=locale),
                time=babel_format_time(local.time(), format="short", locale=locale),
            )
        )

    def _format_visit_time_of_day(self, value):
        """``value`` (naive UTC) as a time in the visit's time zone, with the
        zone's name: "9:30 AM (Europe/Paris)"."""
        self.ensure_one()
        if not value:
            return ""
        local = self._to_visit_tz(value)
        return self._with_visit_tz_name(
            babel_format_time(
                local.time(), format="short", locale=self._get_visit_locale()
            )
        )
