"""WSGI middleware that logs one line per request: client, method, path, status, milliseconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from werkzeug.wsgi import ClosingIterator

from ..core.card_data import SUSPECT, redact_text

log = logging.getLogger("payments_server.access")

PATH_SAFE = "/:@!$&'()*+,;=-._~"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_stream(environ: dict[str, Any]) -> bool:
    """An event stream or a long poll: a request held open while its client watches."""
    path = environ.get("PATH_INFO", "")
    return path.endswith("/events") or (
        path == "/callbacks" and "wait=" in environ.get("QUERY_STRING", "")
    )


def is_page_background(environ: dict[str, Any]) -> bool:
    """What a page of the gateway's own asks for by itself (the dashboard's fetches, a
    page's static files), not what a person asked for: logged at DEBUG, so that a short
    run logs a line per request a user made."""
    if environ.get("PATH_INFO", "").startswith("/ui/static/"):
        return True
    return (
        environ.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        and environ.get("HTTP_SEC_FETCH_MODE", "navigate") != "navigate"
    )


class AccessLog:
    """Wraps a WSGI app; the line is written once the body is ready (a streamed body: once
    it has been sent)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Run the wrapped app and log the request when its response is closed."""
        started = time.perf_counter()
        status = ["-"]

        def recording_start_response(line: str, headers: list[Any], exc_info: Any = None) -> Any:
            status[0] = line.split(" ", 1)[0]
            return start_response(line, headers, exc_info)

        def write_line() -> None:
            # PATH_INFO holds the decoded bytes as latin-1; quoting them again gives the path
            # as the client wrote it, and keeps control characters from breaking the line.
            # A namespace's prefix was moved to SCRIPT_NAME: the line shows the path as sent.
            sent = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
            path = quote(sent.encode("latin-1"), safe=PATH_SAFE)
            query = environ.get("QUERY_STRING", "")
            if query:
                suspect = SUSPECT.search(query.encode("latin-1", "replace"))
                path += "?" + (redact_text(query) if suspect else query)
            elapsed = (time.perf_counter() - started) * 1000
            method, client = environ.get("REQUEST_METHOD", "-"), environ.get("REMOTE_ADDR", "-")
            if is_stream(environ):
                # A stream is open for as long as its client watches: not a slow request.
                log.debug('%s stream "%s %s" %s open for %.1f s', client, method, path,
                          status[0], elapsed / 1000)  # fmt: skip
                return
            level = logging.DEBUG if is_page_background(environ) else logging.INFO
            log.log(level, '%s "%s %s" %s %.1f ms', client, method, path, status[0], elapsed)

        body = self.app(environ, recording_start_response)
        if isinstance(body, list):
            # A body in memory is written whole by the server: kept a list, it stays fast.
            write_line()
            return body
        return ClosingIterator(body, write_line)
