"""Helpers shared by the tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# Values that differ on every run: ids, clock times and durations. The README shows
# realistic ones; the test compares their type and leaves the rest exact.
VOLATILE_KEYS = {"id", "at", "created_at", "last_used_at", "next_attempt_at", "duration_ms", "paid_at",
                 "expires_at", "seq", "last_seq", "webhook-timestamp", "webhook-signature", "curl",
                 # The clock's (docs/clock.md).
                 "now", "due_at",
                 # A signature check: the signed string holds the timestamp, and so signs.
                 "signed_content", "sent_signature", "checked_signature",
                 # Where the test's store listens: a free port, not 8000.
                 "url", "Host",
                 # A checkout session's id, and the page's URL that holds it.
                 "session_id", "payment_url",
                 # The ticketing service's payment times (docs/ticketing.md).
                 "createdAt", "processedAt"}  # fmt: skip
MESSAGE_ID = re.compile(r"msg_[0-9a-f]{24}")
SESSION_ID = re.compile(r"cs_[0-9a-f]{32}")
GATEWAY_URL = re.compile(r"^http://(localhost|127\.0\.0\.1):\d+/")
# A card load's order (docs/cardloader.md), and the PSP's ids (docs/psp.md): random UUIDs.
CARD_LOAD = re.compile(r"card-([0-9]+)-load-[0-9a-f]{8}")
# The ticketing service's simulated transaction id (docs/ticketing.md).
TXN_ID = re.compile(r"txn_[0-9a-f]{16}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def masked(value: Any, key: str | None = None) -> Any:
    """The value with volatile parts replaced by their type."""
    if key in VOLATILE_KEYS:
        return ("volatile", "number" if isinstance(value, Num) else type(value).__name__)
    if isinstance(value, dict):
        return {name: masked(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        # A session's page is on the host the client used: the test's port, not 5000.
        value = GATEWAY_URL.sub("http://<gateway>/", value)
        if key == "transaction_id" and UUID.fullmatch(value):
            return ("volatile", "str")
        value = CARD_LOAD.sub(r"card-\1-load-<id>", value)
        value = TXN_ID.sub("txn_<id>", value)
        return SESSION_ID.sub("cs_<id>", MESSAGE_ID.sub("msg_<id>", value))
    return value


def run_curl(command: str, documented: str, base: str) -> tuple[int, object]:
    """Run a document's curl command with its base URL `documented` replaced by `base`:
    the status and the JSON body."""
    result = subprocess.run(
        ["bash", "-c", command.replace(documented, base) + " -s -w '\\n%{http_code}'"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body)


# A store project's plugins are its own: this suite's (fuzzing, property tests, async) only
# slow each pytester subprocess's start, by a second or two apiece.
STORE_PROJECT_PLUGINS = (
    "-p", "no:randomly", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:anyio",
)  # fmt: skip


def build_site(into: Path) -> subprocess.CompletedProcess[str]:
    """Build the documentation site from docs/ and mkdocs.yml into `into`/site, strict."""
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "docs", into / "docs")
    shutil.copy(root / "mkdocs.yml", into)
    zensical = Path(sys.executable).with_name("zensical")
    return subprocess.run(
        [str(zensical), "build", "--strict"], cwd=into, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
