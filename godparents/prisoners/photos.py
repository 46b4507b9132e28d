"""Prisoner photos: re-encoded before they are stored, and served publicly only with consent.

An uploaded file is never stored or served as sent. It is decoded with Pillow and written
anew as a small JPEG: that drops every piece of metadata (EXIF may hold the GPS position of
the camera, and the name of whoever took the picture) and anything hidden after the image.
"""

from __future__ import annotations

import struct
from io import BytesIO

from flask import Response, abort, current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageOps

from godparents.prisoners.models import PrisonerPhoto

MAX_BYTES = 5 * 1024 * 1024  # the default of the PHOTO_MAX_BYTES setting
MAX_SIDE = 800
JPEG_QUALITY = 85
# Decoding costs about four bytes a pixel. A JPEG is decoded at a reduced scale (its
# format allows it: 1/2 to 1/8), so even a 50-megapixel camera picture stays small; the
# other formats are decoded whole, so they get a lower ceiling (a 24-megapixel camera's).
MAX_PIXELS = 50_000_000
MAX_PIXELS_DECODED_WHOLE = 24_000_000
FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP"})
# What Pillow raises on a broken or hostile file varies with the format and the decoder.
# Pictures above MAX_PIXELS are refused before decoding; Pillow's own bomb check comes first
# when opening, and warns (an error where warnings are errors) or raises.
_UNREADABLE = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def max_photo_bytes() -> int:
    return int(current_app.config.get("PHOTO_MAX_BYTES", MAX_BYTES))


def size_in_mb(size: int) -> str:
    return format_decimal(round(size / 1024 / 1024, 1))


class PhotoError(ValueError):
    """A file that is not a photo this app accepts; the message is for the person uploading."""


def _unreadable() -> PhotoError:
    return PhotoError(
        _("This file is not a picture we can read. Please upload a JPEG, PNG, GIF or WebP image.")
    )


def _check(data: bytes, max_bytes: int) -> None:
    """Refuse files that are too large or not an image of an accepted format."""
    if len(data) > max_bytes:
        raise PhotoError(
            _("The picture is too large: at most %(size)s MB, please.", size=size_in_mb(max_bytes))
        )
    with Image.open(BytesIO(data)) as probe:
        if probe.format not in FORMATS:
            raise _unreadable()
        ceiling = MAX_PIXELS if probe.format == "JPEG" else MAX_PIXELS_DECODED_WHOLE
        if probe.width * probe.height > ceiling:
            raise PhotoError(_("The picture has too many pixels. Please upload a smaller one."))
        probe.verify()


def _flattened(image: Image.Image) -> Image.Image:
    """The picture as plain RGB on white, in a new image that carries no metadata."""
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def reencode(data: bytes, max_bytes: int = MAX_BYTES) -> bytes:
    """A JPEG of at most MAX_SIDE x MAX_SIDE pixels made from the uploaded bytes.

    Raises ``PhotoError`` for anything that is not a readable image, never another error.
    """
    try:
        _check(data, max_bytes)
        # verify() leaves the image unusable: open it again to decode it.
        with Image.open(BytesIO(data)) as image:
            # Made small first, while decoding (JPEG) or right after, so that no copy of
            # the full-size picture is ever made: a 7000 x 7000 PNG took 700 MB when it
            # was turned upright and converted at full size.
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            # Then upright, before the orientation tag goes with the rest of the metadata.
            upright = ImageOps.exif_transpose(image)
            flat = _flattened(upright)
    except PhotoError:
        raise
    except _UNREADABLE as error:
        raise _unreadable() from error
    out = BytesIO()
    flat.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def photo_response(photo: PrisonerPhoto | None, cache_control: str) -> Response:
    """A stored photo as a response, or 404. ``cache_control``: "private, no-store" for the
    team's and coordinators' pages, a short public lifetime for the public one."""
    if photo is None:
        abort(404)
    response = Response(photo.content, mimetype=photo.mimetype)
    response.headers["Cache-Control"] = cache_control
    if cache_control.startswith("private"):
        response.headers["Content-Disposition"] = "inline"
    return response
