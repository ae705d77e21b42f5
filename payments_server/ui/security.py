"""The headers every page gets: a strict Content-Security-Policy, no caching."""

from __future__ import annotations

from flask import Response

# No inline script and nothing from elsewhere; forms may send the customer back to the
# store. No site may frame a page (a card form under another site's overlay is how a
# customer is tricked); Cypress, which runs pages in a frame, drops this header itself.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self' http: https:; frame-ancestors 'none';"
    " base-uri 'none'"
)


def secure(response: Response) -> Response:
    """After each page: the Content-Security-Policy, no caching, no referrer."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    # For browsers older than frame-ancestors.
    response.headers["X-Frame-Options"] = "DENY"
    return response
