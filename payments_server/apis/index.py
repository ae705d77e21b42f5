"""The API surfaces this gateway speaks, for the JSON index (GET /) and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Surface:
    """One API: its id, what it is, where it lives, and its page in the project's docs."""

    id: str
    title: str
    base_url: str
    docs: str

    def to_json(self, host_url: str) -> dict[str, str]:
        """As the index lists it, base_url absolute on the host the client used."""
        return {
            "id": self.id,
            "title": self.title,
            "base_url": host_url.rstrip("/") + self.base_url,
            "docs": self.docs,
        }


SURFACES = (
    Surface("gateway", "payments_server's own API", "/", "docs/api.md"),
    Surface(
        "article",
        "The article's hosted-payment gateway",
        "/article",
        "docs/article.md",
    ),
    Surface(
        "ticketing",
        "The ticketing platform's payment service",
        "/ticketing",
        "docs/ticketing.md",
    ),
    Surface(
        "cardloader",
        "The Braintree prepaid-card loader",
        "/cardloader",
        "docs/cardloader.md",
    ),
    Surface("psp", "The small PSP with payables", "/psp", "docs/psp.md"),
)


def surface_of(path: str) -> str:
    """The id of the API a request path belongs to."""
    for surface in SURFACES[1:]:
        if path == surface.base_url or path.startswith(surface.base_url + "/"):
            return surface.id
    return SURFACES[0].id
