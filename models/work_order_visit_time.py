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

        def zones():
            yield address and address.tz
            yield partner and partner.tz
            # only then the company's: reading its partner costs a query
            yield (company or self.env.company).partner_id.tz

        return next(
            (tz for tz in zones() if tz and tz in pytz.all_timezones_set), "UTC"
        )

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
        return self._get_visit_moment_formatter(date_format)(self, value)

    def _format_visit_moments(self, fname, date_format="medium"):
        """{work order id: its datetime ``fname`` as ``_format_visit_moment``
        writes it}, for a list of work orders: the locale and the wording are
        looked up once, not once a row."""
        self._fetch_visit_tz_sources()
        format_moment = self._get_visit_moment_formatter(date_format)
        return {
            order.id: format_moment(order, order[fname])
            for order in self
            if order[fname]
        }

    def _fetch_visit_tz_sources(self):
        """Read what the visits' time zones come from (``_get_visit_tz``) for
        all these work orders at once: the work orders as the ORM loads them
        (the one query a list makes of them anyway), then the time zones of
        their partners and companies and nothing else of those: two small
        queries for a whole list."""
        orders = self.sudo()
        orders.company_id.fetch(["partner_id"])
        partners = orders.service_address_id | orders.partner_id
        (partners | orders.company_id.partner_id).fetch(["tz"])

    def _get_visit_moment_formatter(self, date_format="medium"):
        """A function (work order, naive UTC datetime) -> the moment in the
        work order's visit time zone, with the zone's name."""
        locale = self._get_visit_locale()
        day_and_time = _("%(day)s, %(time)s")
        with_tz_name = _("%(when)s (%(tz)s)")

        def format_moment(order, value):
            tz = order._get_visit_tz()
            local = pytz.utc.localize(value).astimezone(pytz.timezone(tz))
            when = day_and_time % {
                "day": babel_format_date(
                    local.date(), format=date_format, locale=locale
                ),
                "time": babel_format_time(local.time(), format="short", locale=locale),
            }
            return with_tz_name % {"when": when, "tz": tz}

        return format_moment

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
