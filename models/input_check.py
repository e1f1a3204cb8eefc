"""What a text or a number typed into the add-on may hold: the database (a NUL
byte), Python (an infinite quantity) or the documents (a title of millions of
characters) would otherwise refuse it with a raw error. Plain rules, shared by
the portal, the back office's models and their wizards
(``work.order.input.mixin``)."""

import math
import re
import struct
import zlib

from PIL import Image

# Characters no portal input may hold: the C0 and C1 control characters (NUL
# included) and DEL, lone surrogates (which PostgreSQL cannot store), and the
# bidirectional embedding, override and isolate marks (which let a name display
# as something else). Multi-line text keeps tab, line feed and carriage return.
_FORBIDDEN_BEYOND_C0 = r"\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
FORBIDDEN_CHARACTERS = re.compile(rf"[\x00-\x1f{_FORBIDDEN_BEYOND_C0}]")
FORBIDDEN_CHARACTERS_MULTILINE = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f{_FORBIDDEN_BEYOND_C0}]"
)

# A quantity (agreed or carried out) beyond this is a typing error.
QUANTITY_MAX = 1_000_000
# A unit price beyond this is a typing error (an amount Odoo still prints).
PRICE_MAX = 1_000_000_000
# Planned hours of one job beyond this are a typing error (a visit's end
# computed from them would no longer be a date).
DURATION_MAX = 10_000
# A work order's title: one line on the documents and the lists.
TITLE_MAX_LENGTH = 500
# What decoding a broken, truncated or hostile image file may raise (Pillow).
IMAGE_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)


def has_forbidden_characters(value, multiline=False):
    """Whether ``value`` (a str, or a list of them) holds a character no portal
    input may hold; tab, line feed and carriage return pass in ``multiline`` text.
    Anything that is not text holds none."""
    pattern = FORBIDDEN_CHARACTERS_MULTILINE if multiline else FORBIDDEN_CHARACTERS
    values = value if isinstance(value, list | tuple) else [value]
    return any(isinstance(item, str) and pattern.search(item) for item in values)


def is_number_within(value, maximum):
    """Whether ``value`` is a finite number (or its text) of at most
    ``maximum`` either side of zero; empty values pass."""
    if value is None or value is False:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return False
    if not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) <= maximum
