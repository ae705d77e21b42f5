"""Helpers shared by the tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask.testing import FlaskClient

# A time as the API writes it: ISO 8601 in UTC with milliseconds.
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

# make_client(**settings changed) -> a test client of a fresh gateway (see conftest.py).
MakeClient = Callable[..., FlaskClient]
# open_gateway(**settings changed) -> a client of a gateway started on the state file
# (tests/core/conftest.py), as a restart would.
StartGateway = Callable[..., FlaskClient]


@dataclass(frozen=True)
class Num:
    """A JSON number kept as the exact text it was written with, so 100 != 100.0."""

    text: str


def exact_json(text: str | bytes) -> object:
    """Parse JSON keeping every number's literal text, to compare bodies digit for digit."""
    return json.loads(text, parse_float=Num, parse_int=Num)
