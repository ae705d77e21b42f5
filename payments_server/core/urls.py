"""The URLs the gateway is given: where callbacks go, where a customer is sent back."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_http_url(url: str) -> bool:
    """True for an absolute http:// or https:// URL with a host, a valid port and no spaces."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError when the port is not a number in range
        # A name no resolver could look up (a label over 63 characters, say) is refused here
        # rather than failing every callback.
        (parts.hostname or "").encode("idna")
    except ValueError:  # UnicodeError is one
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and not any(char.isspace() for char in url)
    )


def is_origin(text: str) -> bool:
    """True for a browser origin: http(s)://host[:port], nothing after it."""
    return is_http_url(text) and text.isascii() and urlsplit(text).path == "" and "?" not in text


def is_callback_url(url: str) -> bool:
    """True for an http URL a callback can be sent to: its request line and Host header
    carry ASCII only, so any other character must come percent-encoded."""
    return url.isascii() and is_http_url(url)
