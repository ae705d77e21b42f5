"""payments_server as a WSGI factory for other servers (gunicorn, granian) in the benchmark.

Settings come from the PAYMENTS_* environment, as the CLI reads them."""

from __future__ import annotations

import os

from flask import Flask

from payments_server import Settings, create_app


def make_app() -> Flask:
    """The gateway app with settings from the environment."""
    return create_app(Settings.from_sources({}, os.environ))
