"""Idempotency-Key on every route that charges, whatever its API: the view runs once per
key and its answer is replayed byte for byte after, as Stripe does."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Response, g, request

from ..core.idempotency import BadKeyError, Claim, IdempotencyConflictError, fingerprint, parse_key
from ..core.refusals import RefusedError
from .errors import ApiError, refused
from .responses import MIMETYPE, BufferedResponse
from .web import account, raw_body

View = Callable[..., Response]
# Set on flask.g by a view once it has asked the flow to charge: its answer, a 400
# decline included (the card loader's), is kept for the key from then on.
CHARGE_ATTEMPTED = "charge_attempted"


def idempotent(view: View) -> View:
    """Honour an Idempotency-Key header: run the view once per key, replay its answer after;
    a request refused as invalid is not kept."""
    return idempotent_within(None)(view)


def idempotent_within(scope: Callable[[], str] | None) -> Callable[[View], View]:
    """idempotent, with keys apart per `scope()` (the PSP's merchant, as Stripe keeps keys
    per account)."""
    return functools.partial(_wrap, scope=scope)


def _wrap(view: View, scope: Callable[[], str] | None) -> View:
    @functools.wraps(view)
    def wrapper(**arguments: str) -> Response:
        header = request.headers.get("Idempotency-Key")
        if header is None:
            return view(**arguments)
        try:
            key = parse_key(header)
        except BadKeyError as exc:
            raise ApiError(400, str(exc)) from None
        if scope is not None:
            # One merchant's key never replays another's answer.
            key = f"{scope()}\n{key}"
        store = account().idempotency
        try:
            claim = store.begin(key, fingerprint(request.path, raw_body()))
        except IdempotencyConflictError as exc:
            raise ApiError(exc.status, exc.message) from None
        if not isinstance(claim, Claim):
            replay = BufferedResponse(claim.body, status=claim.status, mimetype=MIMETYPE)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        try:
            try:
                response = view(**arguments)
            except ApiError as exc:
                response = exc.to_response()
            except RefusedError as exc:
                response = refused(exc)
        except BaseException:
            store.abandon(claim)
            raise
        # A request that was refused as invalid changed nothing, so it is not kept: the key
        # can be used again once the request is fixed.
        invalid = response.status_code == 400 and not g.get(CHARGE_ATTEMPTED, False)
        if invalid or response.status_code >= 500:
            store.abandon(claim)
        else:
            store.finish(claim, response.status_code, response.get_data())
        return response

    return wrapper
