"""Subscribing to the personal calendar feed without knowing what a feed is.

The page that shows a new link (shown once: only its hash is kept) offers it three ways:
a "Subscribe" button with the ``webcal://`` form of the link, which calendar apps on
computers and iPhones take as "subscribe to this"; a QR code of the same for a phone's
camera, drawn here as SVG (the link never goes to another service); and the link itself to
paste into Outlook or Google Calendar, which ask for it in their own settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno


@dataclass(frozen=True)
class Subscription:
    url: str  # the feed as https:// (or http:// on a server without TLS)
    webcal: str  # the same for calendar apps: webcal://
    qr_code: str  # the webcal link as a QR code, an SVG data: URI for an <img>

    @property
    def is_https(self) -> bool:
        """Google Calendar subscribes to https:// links only."""
        return self.url.startswith("https://")


def webcal(url: str) -> str:
    """The ``webcal://`` form of an http(s) link (the scheme calendar apps subscribe with)."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url


def subscription(url: str) -> Subscription:
    """The ways to subscribe to the feed at ``url``. The QR code is drawn as SVG with
    attributes only (no style element or attribute, which the CSP would refuse)."""
    link = webcal(url)
    return Subscription(
        url=url,
        webcal=link,
        qr_code=segno.make(link, error="m").svg_data_uri(scale=5, border=2),
    )
