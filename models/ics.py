"""A small iCalendar (RFC 5545) writer: one event, the visit of a work order.

Not a model: the work order builds the ``.ics`` file it attaches to the
e-mails about the visit with ``build_event_calendar``: the event itself
(METHOD:PUBLISH), or its cancellation (METHOD:CANCEL, RFC 5546), which a
calendar application applies to the event it has with the same UID.
"""

CRLF = "\r\n"
MAX_LINE_OCTETS = 75  # RFC 5545, 3.1: lines SHOULD NOT be longer than 75 octets
PRODID = "-//Work Orders for Odoo//Work Order Visit//EN"


def escape_text(value):
    """A TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and line
    breaks escaped."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def fold_line(line):
    """One content line folded into lines of at most 75 octets (RFC 5545, 3.1).

    A continuation line starts with a space, which counts in its 75 octets; a
    multi-byte UTF-8 character is never split.
    """
    parts = []
    current = []
    size = 0
    for char in line:
        char_size = len(char.encode("utf-8"))
        if size + char_size > MAX_LINE_OCTETS:
            parts.append("".join(current))
            current = []
            size = 1  # the leading space of the continuation line
        current.append(char)
        size += char_size
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def quote_param(value):
    """A parameter value (RFC 5545, 3.2) as a quoted string: without double
    quotes and control characters, which a quoted string cannot hold."""
    return '"{}"'.format("".join(c for c in (value or "") if c >= " " and c != '"'))


def format_utc(value):
    """A naive UTC ``datetime`` as an iCalendar UTC DATE-TIME."""
    return value.strftime("%Y%m%dT%H%M%SZ")


def build_event_calendar(
    *,
    uid,
    start,
    end,
    stamp,
    summary,
    sequence=0,
    location=None,
    description=None,
    url=None,
    status="CONFIRMED",
    organizer=None,
    cancel=False,
):
    """The bytes of an iCalendar file with one event (METHOD:PUBLISH), or with
    its cancellation (``cancel``: METHOD:CANCEL and STATUS:CANCELLED).

    ``start``, ``end`` and ``stamp`` are naive UTC datetimes; an ``end`` that is
    not after ``start`` is left out (an event without duration). A calendar
    application updates (or, for a cancellation, removes) the event it already
    has with the same ``uid`` when ``sequence`` is higher. ``organizer`` is a
    (name, e-mail) pair.
    """
    if cancel:
        status = "CANCELLED"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:CANCEL" if cancel else "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{format_utc(stamp)}",
        f"DTSTART:{format_utc(start)}",
    ]
    if end and end > start:
        lines.append(f"DTEND:{format_utc(end)}")
    lines += [f"SEQUENCE:{int(sequence)}", f"SUMMARY:{escape_text(summary)}"]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if url:
        # a URI value is not escaped, but must stay on its (folded) line
        lines.append("URL:" + "".join(c for c in url if c >= " "))
    name, email = organizer or (None, None)
    email = "".join(c for c in (email or "") if c > " " and c not in '"<>')
    if email:
        cn = f";CN={quote_param(name)}" if name else ""
        lines.append(f"ORGANIZER{cn}:mailto:{email}")
    lines += [f"STATUS:{status}", "END:VEVENT", "END:VCALENDAR"]
    return "".join(fold_line(line) + CRLF for line in lines).encode("utf-8")
