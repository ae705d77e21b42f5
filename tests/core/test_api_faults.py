"""API faults: what PUT /simulation may ask for, and which request meets which fault."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments_server.core.api_faults import ApiFaultError, ApiFaultPicker, parse_api_faults

ROUTE = "POST /payments/orders"


def test_each_kind_parses_and_shows_as_it_was_given() -> None:
    given = [
        {"route": ROUTE, "fault": "status", "status": 503, "retry_after": 2, "count": 1},
        {"route": ROUTE, "fault": "status", "status": 500, "order_id": "o-1"},
        {"route": ROUTE, "fault": "lost_answer", "status": 504, "answer": "status", "count": 2},
        {"route": "GET /balance", "fault": "latency",
         "delay_ms": {"distribution": "lognormal", "median_ms": 50, "sigma": 0.5},
         "rate": 0.5, "seed": 1},
        {"route": ROUTE, "fault": "hold", "delay_ms": 1000, "count": 1},
        {"route": ROUTE, "fault": "stall",
         "delay_ms": {"distribution": "uniform", "min_ms": 10, "max_ms": 20}, "count": 1},
        {"route": ROUTE, "fault": "status", "status": 429, "retry_after": 30,
         "headers": {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}, "count": 1},
    ]  # fmt: skip
    shown = [fault.to_json() for fault in parse_api_faults(given)]
    assert shown == [
        given[0], given[1], given[2], {**given[3], "rate": 0.5}, given[4], given[5], given[6],
    ]  # fmt: skip
    # Defaults: a 429's Retry-After is 1, a lost answer is a 502.
    (default,) = parse_api_faults([{"route": ROUTE, "fault": "status", "status": 429,
                                    "count": 1}])  # fmt: skip
    assert default.retry_after == 1
    (lost,) = parse_api_faults([{"route": ROUTE, "fault": "lost_answer", "count": 1}])
    assert (lost.status, lost.answer) == (502, "status")


@pytest.mark.parametrize(
    ("fault", "message"),
    [({"route": "payments", "fault": "status", "status": 500, "count": 1},
      "'api_faults[0].route' must be a method and a path, such as 'POST /payments/orders'"),
     ({"route": ROUTE, "fault": "explode", "count": 1},
      "'api_faults[0].fault' must be one of status, reset, empty, truncate, stall, hold,"
      " latency, lost_answer"),
     ({"route": ROUTE, "fault": "status", "status": 404, "count": 1},
      "'api_faults[0].status' must be one of 429, 500, 502, 503, 504"),
     ({"route": ROUTE, "fault": "status", "status": 500, "retry_after": 3, "count": 1},
      "'api_faults[0].retry_after' goes only with a 429 or a 503"),
     ({"route": ROUTE, "fault": "status", "status": 500},
      "'api_faults[0]' must be {\"route\": \"METHOD /path\", \"fault\": ..., and one of"
      " \"count\", \"order_id\" or \"rate\" (with \"seed\")}"),
     ({"route": ROUTE, "fault": "truncate", "count": 1, "rate": 0.5},
      "'api_faults[0]' must be {\"route\": \"METHOD /path\", \"fault\": ..., and one of"
      " \"count\", \"order_id\" or \"rate\" (with \"seed\")}"),
     ({"route": ROUTE, "fault": "hold", "delay_ms": 60_001, "count": 1},
      "'api_faults[0].delay_ms' must be a whole number of ms from 0 to 60000, or"
      ' {"distribution": "uniform", "min_ms", "max_ms"} or'
      ' {"distribution": "lognormal", "median_ms", "sigma"}'),
     ({"route": ROUTE, "fault": "truncate", "delay_ms": 5, "count": 1},
      "'api_faults[0].delay_ms' does not go with a truncate fault"),
     ({"route": ROUTE, "fault": "lost_answer", "status": 503, "count": 1},
      "'api_faults[0].status' must be 502 or 504"),
     ({"route": ROUTE, "fault": "status", "status": 429, "count": 1,
       "headers": {"X-Limit": "1\r\nSet-Cookie: a=b"}},
      "'api_faults[0].headers.X-Limit' must be a string of at most 256 visible ASCII"
      " characters"),
     ({"route": ROUTE, "fault": "status", "status": 429, "count": 1,
       "headers": {"Bad Name": "1"}},
      "'api_faults[0].headers' names must be HTTP tokens of 1 to 64 characters"),
     ({"route": ROUTE, "fault": "status", "status": 429, "count": 1,
       "headers": {"Content-Length": "0"}},
      "'api_faults[0].headers' may not set Content-Length: the answer sets it itself"),
     ({"route": ROUTE, "fault": "lost_answer", "answer": "reset", "count": 1,
       "headers": {"X-Limit": "1"}},
      "'api_faults[0].headers' go with an answer, not a closed connection"),
     ({"route": ROUTE, "fault": "hold", "delay_ms": 5, "count": 1, "headers": {}},
      "'api_faults[0].headers' does not go with a hold fault")],
)  # fmt: skip
def test_a_bad_fault_names_its_entry_and_the_rule(fault: dict[str, object], message: str) -> None:
    with pytest.raises(ApiFaultError) as raised:
        parse_api_faults([fault])
    assert str(raised.value) == message


def test_order_first_then_count_used_up_then_a_seeded_rate() -> None:
    picker = ApiFaultPicker(parse_api_faults([
        {"route": ROUTE, "fault": "status", "status": 500, "rate": 0.5, "seed": 3},
        {"route": ROUTE, "fault": "status", "status": 503, "count": 2},
        {"route": ROUTE, "fault": "status", "status": 502, "order_id": "o-1"},
    ]))  # fmt: skip

    def status(order_id: str | None = None) -> int | None:
        hit = picker.pick("POST", "/payments/orders", order_id)
        return None if hit is None else hit.fault.status

    assert status("o-1") == 502
    assert [status(), status()] == [503, 503]
    assert [fault.status for fault in picker.faults] == [500, 502]  # the count is used up
    again = ApiFaultPicker(parse_api_faults([
        {"route": ROUTE, "fault": "status", "status": 500, "rate": 0.5, "seed": 3}]))  # fmt: skip
    drawn = [status() for _ in range(12)]
    assert drawn == [
        None if hit is None else hit.fault.status
        for hit in (again.pick("POST", "/payments/orders", None) for _ in range(12))
    ]
    assert set(drawn) == {500, None}
    assert picker.pick("GET", "/balance", None) is None  # another route


def test_a_drawn_delay_stays_within_its_bounds() -> None:
    picker = ApiFaultPicker(parse_api_faults([
        {"route": ROUTE, "fault": "latency", "rate": 1, "seed": 9,
         "delay_ms": {"distribution": "uniform", "min_ms": 10, "max_ms": 20}},
        {"route": "GET /balance", "fault": "latency", "rate": 1, "seed": 9,
         "delay_ms": {"distribution": "lognormal", "median_ms": 100, "sigma": Decimal("0.25")}},
    ]))  # fmt: skip
    uniform = [picker.pick("POST", "/payments/orders", None) for _ in range(50)]
    assert all(hit is not None and 10 <= hit.delay_ms <= 20 for hit in uniform)
    lognormal = sorted(hit.delay_ms for hit in
                       (picker.pick("GET", "/balance", None) for _ in range(101)) if hit)  # fmt: skip
    assert 70 <= lognormal[50] <= 140  # the median, about 100
