"""HTML pages: the hosted payment page and the dashboard. Jinja templates and plain static
files, no build step."""

from __future__ import annotations

from flask import Flask

from . import dashboard, pages


def register_ui(app: Flask) -> None:
    """Register the pages."""
    app.register_blueprint(pages.bp)
    app.register_blueprint(dashboard.bp)
