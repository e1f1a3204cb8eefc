from datetime import datetime, time

import pytz
from dateutil import rrule

from odoo import _, api, models
from odoo.tools.misc import format_date

from .work_order_recurrence import WEEKDAYS

RRULE_FREQUENCIES = {
    "day": rrule.DAILY,
    "week": rrule.WEEKLY,
    "month": rrule.MONTHLY,
    "year": rrule.YEARLY,
}


class WorkOrderRecurrence(models.Model):
    """The rule of a service agreement: its dates (``dateutil.rrule``, as
    Odoo's calendar recurrences) and the local time of each visit."""

    _inherit = "work.order.recurrence"

    def _get_tz(self):
        """The time zone of the visits, by the rule of every visit
        (``work.order._get_visit_tz_for``): the service address's, else the
        customer's, else the company's, else UTC."""
        self.ensure_one()
        return self.env["work.order"]._get_visit_tz_for(
            self.service_address_id, self.partner_id, self.company_id
        )

    def _get_time_of_day(self):
        """``time_of_day`` (hours) as a ``time``."""
        self.ensure_one()
        minutes = min(round(self.time_of_day * 60), 24 * 60 - 1)
        return time(minutes // 60, minutes % 60)

    def _get_rrule(self):
        """The dates of the series as a ``dateutil.rrule`` (midnight datetimes).

        Monthly on the 29th to 31st falls on the last day of shorter months
        (and yearly on 29 February on the 28th), rather than skipping them.
        """
        self.ensure_one()
        start = datetime.combine(self.start_date, time.min)
        kwargs = {
            "dtstart": start,
            "interval": self.repeat_interval,
            "wkst": rrule.MO,
        }
        if self.repeat_type == "until" and self.repeat_until:
            kwargs["until"] = datetime.combine(self.repeat_until, time.min)
        if self.repeat_unit == "week":
            days = [i for i, day in enumerate(WEEKDAYS) if self[day]]
            kwargs["byweekday"] = days or [start.weekday()]
        elif self.repeat_unit == "month":
            kwargs.update(self._get_rrule_month_day(self.month_day or start.day))
        elif self.repeat_unit == "year":
            kwargs["bymonth"] = start.month
            kwargs.update(self._get_rrule_month_day(start.day))
        return rrule.rrule(RRULE_FREQUENCIES[self.repeat_unit], **kwargs)

    @api.model
    def _get_rrule_month_day(self, day):
        if day <= 28:
            return {"bymonthday": day}
        # the day itself, or the month's last day when the month is shorter
        return {"bymonthday": (day, -1), "bysetpos": 1}

    def _get_occurrence_dates(self, date_from, date_to, rule=None):
        """Dates of the series from ``date_from`` to ``date_to`` (included)."""
        self.ensure_one()
        if date_from > date_to:
            return []
        return [
            occurrence.date()
            for occurrence in (rule or self._get_rrule()).between(
                datetime.combine(date_from, time.min),
                datetime.combine(date_to, time.min),
                inc=True,
            )
        ]

    def _get_visit_datetime(self, date):
        """The UTC datetime (naive, as stored) of the visit on local ``date``.

        The wall-clock time is localized on each date, so it stays the same
        across daylight-saving changes. A time that does not exist that day
        (skipped by the spring change) moves forward by the change; a time
        that exists twice (autumn) is the later one, in standard time.
        """
        self.ensure_one()
        tz = pytz.timezone(self._get_tz())
        local = tz.localize(
            datetime.combine(date, self._get_time_of_day()), is_dst=False
        )
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _get_schedule_summary(self):
        """E.g. "Every 2 weeks on Monday, Thursday at 09:00 (Europe/Paris)"."""
        self.ensure_one()
        if not (self.start_date and self.repeat_unit):
            return False
        units = {
            "day": (_("Every day"), _("Every %(count)s days")),
            "week": (_("Every week"), _("Every %(count)s weeks")),
            "month": (_("Every month"), _("Every %(count)s months")),
            "year": (_("Every year"), _("Every %(count)s years")),
        }
        one, many = units[self.repeat_unit]
        parts = [
            one if self.repeat_interval == 1 else many % {"count": self.repeat_interval}
        ]
        if self.repeat_unit == "week":
            names = dict(
                zip(
                    WEEKDAYS,
                    (
                        _("Monday"),
                        _("Tuesday"),
                        _("Wednesday"),
                        _("Thursday"),
                        _("Friday"),
                        _("Saturday"),
                        _("Sunday"),
                    ),
                    strict=True,
                )
            )
            days = [names[day] for day in WEEKDAYS if self[day]]
            if days:
                parts.append(_("on %(days)s", days=", ".join(days)))
        elif self.repeat_unit == "month":
            parts.append(_("on day %(day)s", day=self.month_day))
        elif self.repeat_unit == "year":
            parts.append(
                _(
                    "on %(date)s",
                    date=format_date(self.env, self.start_date, date_format="d MMMM"),
                )
            )
        visit_time = self._get_time_of_day()
        # computed apart: the translation extractor reads only plain arguments
        time_text = f"{visit_time.hour:02d}:{visit_time.minute:02d}"
        parts.append(_("at %(time)s (%(tz)s)", time=time_text, tz=self._get_tz()))
        summary = " ".join(parts)
        if self.repeat_type == "until" and self.repeat_until:
            summary = _(
                "%(schedule)s, until %(date)s",
                schedule=summary,
                date=format_date(self.env, self.repeat_until),
            )
        elif self.repeat_type == "count":
            summary = _(
                "%(schedule)s, %(count)s visits",
                schedule=summary,
                count=self.repeat_count,
            )
        return summary
