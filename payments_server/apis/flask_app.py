"""The Flask class the gateway runs on: Flask, without two costs it pays on every request
for features the gateway does not use (async views, cookie sessions)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.sessions import NullSession, SessionInterface


class NoSessions(SessionInterface):
    """No cookie session: every request gets the same empty, read-only session.

    Flask's default would sign nothing (the app has no secret key) but still build a null
    session per request. Nothing here stores anything in a session."""

    null_session_class = NullSession

    def __init__(self) -> None:
        self._empty = NullSession()

    def open_session(self, app: Flask, request: Any) -> NullSession:
        """The one shared empty session (a NullSession refuses any write)."""
        return self._empty

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        """Nothing to save."""


class GatewayFlask(Flask):
    """Flask, with its per-request work for async views and sessions taken out."""

    session_interface = NoSessions()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer, remembered per function: it asks `inspect` for every hook and
        view of every request, about 9 times a request here."""
        try:
            return self._sync[func]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            return super().ensure_sync(func)
        chosen = super().ensure_sync(func)
        if inspect.isfunction(func):  # a bound method is made anew each time: not kept
            self._sync[func] = chosen
        return chosen
