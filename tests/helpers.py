"""Helpers shared by the tests."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Num:
    """A JSON number kept as the exact text it was written with, so 100 != 100.0."""

    text: str


def exact_json(text: str | bytes) -> object:
    """Parse JSON keeping every number's literal text, to compare bodies digit for digit."""
    return json.loads(text, parse_float=Num, parse_int=Num)
