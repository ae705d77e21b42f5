"""The APIs the gateway speaks: one line each, the gateway's own first (it owns every path
no other base URL claims). An API is a folder under apis/ and a Surface here."""

from __future__ import annotations

from .article import Article
from .cardloader import CardLoader
from .gateway import GatewayApi
from .psp import Psp
from .surface import Surface
from .ticketing import Ticketing

SURFACES: tuple[Surface, ...] = (GatewayApi(), Article(), Ticketing(), CardLoader(), Psp())
