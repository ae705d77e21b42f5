"""Simulation settings and the decisions they lead to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments_server.core import rules
from payments_server.core.simulation import (
    DECLINE_CODES,
    Rule,
    SimulationError,
    SimulationSettings,
    Simulator,
)


def test_the_defaults_decline_nothing_and_add_no_latency() -> None:
    simulator = Simulator()
    assert [simulator.decline(order) for order in range(1000)] == [None] * 1000
    assert simulator.latency == 0
    assert simulator.settings.to_json() == {
        "decline_rate": 0.0,
        "seed": None,
        "decline_code": "card_declined",
        "latency_ms": 0,
        "rules": [],
        "limit_per_payment": None,
        "limit_per_day": None,
        "callback_faults": [],
        "pending_rate": 0.0,
    }


def test_the_seven_stripe_decline_codes_and_the_ticketing_classes_are_supported() -> None:
    assert set(DECLINE_CODES) == {
        "do_not_honor", "insufficient_funds", "card_declined", "expired_card",
        "processing_error", "lost_card", "stolen_card",
        # Each answers as the ticketing service does on its API (docs/ticketing.md).
        "order_not_found", "order_validation_failed", "reservation_validation_failed",
        "unauthorized", "internal_error",
    }  # fmt: skip


def test_a_rule_for_an_order_declines_every_payment_for_it_as_text() -> None:
    simulator = Simulator(
        SimulationSettings.from_json({"rules": [{"order_id": 42, "decline_code": "lost_card"}]})
    )
    assert [simulator.decline(o) for o in (42, "42", 43, None, 42)] == [
        "lost_card", "lost_card", None, None, "lost_card",
    ]  # fmt: skip


def test_a_count_rule_declines_the_next_n_payments_then_goes() -> None:
    simulator = Simulator(
        SimulationSettings.from_json({"rules": [{"next": 2, "decline_code": "expired_card"}]})
    )
    assert simulator.decline("a") == "expired_card"
    assert simulator.settings.to_json()["rules"] == [{"next": 1, "decline_code": "expired_card"}]
    assert simulator.decline(None) == "expired_card"
    assert simulator.settings.rules == ()
    assert simulator.decline("c") is None


def test_an_order_rule_wins_over_a_count_rule_which_is_then_not_used() -> None:
    simulator = Simulator(
        SimulationSettings.from_json(
            {"rules": [{"next": 1, "decline_code": "do_not_honor"},
                       {"order_id": "vip", "decline_code": "stolen_card"}]}
        )
    )  # fmt: skip
    assert simulator.decline("vip") == "stolen_card"
    assert simulator.decline("other") == "do_not_honor"
    assert simulator.decline("other") is None


def test_a_seeded_rate_declines_the_same_payments_on_every_run() -> None:
    settings = SimulationSettings.from_json(
        {"decline_rate": Decimal("0.3"), "seed": 7, "decline_code": "processing_error"}
    )
    runs = []
    for _ in range(2):
        simulator = Simulator(settings)
        runs.append([simulator.decline(order) for order in range(1000)])
    assert runs[0] == runs[1]
    declined = runs[0].count("processing_error")
    assert 240 <= declined <= 360
    assert set(runs[0]) == {None, "processing_error"}


def test_configuring_again_restarts_the_sequence_from_the_seed() -> None:
    settings = SimulationSettings.from_json({"decline_rate": Decimal("0.5"), "seed": 1})
    simulator = Simulator(settings)
    first = [simulator.decline() for _ in range(50)]
    simulator.configure(settings)
    assert [simulator.decline() for _ in range(50)] == first


@pytest.mark.parametrize("rate", [0, 1, Decimal("1.0")])
def test_rates_0_and_1_are_never_and_always(rate: object) -> None:
    simulator = Simulator(SimulationSettings.from_json({"decline_rate": rate}))
    assert {simulator.decline() for _ in range(200)} == ({None} if rate == 0 else {"card_declined"})


def test_latency_is_in_milliseconds() -> None:
    assert Simulator(SimulationSettings.from_json({"latency_ms": 250})).latency == 0.25


def test_an_empty_body_turns_everything_off() -> None:
    assert SimulationSettings.from_json({}) == SimulationSettings()


def test_settings_show_as_json_with_their_rules() -> None:
    settings = SimulationSettings.from_json(
        {"decline_rate": Decimal("0.25"), "seed": 3, "latency_ms": 100,
         "rules": [{"order_id": 7, "decline_code": "do_not_honor"},
                   {"next": 3, "decline_code": "card_declined"}]}
    )  # fmt: skip
    assert settings.rules == (Rule("do_not_honor", order_id=7), Rule("card_declined", count=3))
    assert settings.to_json() == {
        "decline_rate": 0.25,
        "seed": 3,
        "decline_code": "card_declined",
        "latency_ms": 100,
        "rules": [{"order_id": 7, "decline_code": "do_not_honor"},
                  {"next": 3, "decline_code": "card_declined"}],
        "limit_per_payment": None,
        "limit_per_day": None,
        "callback_faults": [],
        "pending_rate": 0.0,
    }  # fmt: skip


def test_integers_may_be_written_as_json_schema_allows() -> None:
    # JSON Schema calls 5.0 an integer, so the OpenAPI document does too.
    settings = SimulationSettings.from_json(
        {
            "seed": Decimal("7.0"),
            "latency_ms": Decimal("2.5E+2"),
            "rules": [
                {"next": Decimal("3.0"), "decline_code": "lost_card"},
                {"order_id": Decimal("42.00"), "decline_code": "lost_card"},
            ],
        }
    )
    assert settings.to_json() == {
        "decline_rate": 0.0,
        "seed": 7,
        "decline_code": "card_declined",
        "latency_ms": 250,
        "rules": [
            {"next": 3, "decline_code": "lost_card"},
            {"order_id": 42, "decline_code": "lost_card"},
        ],
        "limit_per_payment": None,
        "limit_per_day": None,
        "callback_faults": [],
        "pending_rate": 0.0,
    }


CODES = ", ".join(DECLINE_CODES)
RULE_SHAPE = "must be " + rules.RULE_SHAPE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"decline_rate": Decimal("1.5")}, "'decline_rate' must be a number from 0 to 1"),
        ({"decline_rate": -1}, "'decline_rate' must be a number from 0 to 1"),
        ({"decline_rate": "0.5"}, "'decline_rate' must be a number from 0 to 1"),
        ({"decline_rate": True}, "'decline_rate' must be a number from 0 to 1"),
        ({"decline_rate": Decimal("NaN")}, "'decline_rate' must be a number from 0 to 1"),
        ({"seed": Decimal("1.5")}, "'seed' must be an integer or null"),
        ({"seed": "7"}, "'seed' must be an integer or null"),
        ({"latency_ms": -1}, "'latency_ms' must be an integer from 0 to 60000"),
        ({"latency_ms": 60001}, "'latency_ms' must be an integer from 0 to 60000"),
        ({"latency_ms": Decimal("1.5")}, "'latency_ms' must be an integer from 0 to 60000"),
        ({"decline_code": "nope"}, f"'decline_code' must be one of {CODES}"),
        ({"rules": {}}, "'rules' must be a list of at most 1000 rules"),
        ({"rules": [{"next": 1}] * 1001}, "'rules' must be a list of at most 1000 rules"),
        ({"rules": ["x"]}, f"'rules[0]' {RULE_SHAPE}"),
        ({"rules": [{"order_id": 1}]}, f"'rules[0]' {RULE_SHAPE}"),
        ({"rules": [{"order_id": 1, "next": 2, "decline_code": "lost_card"}]},
         f"'rules[0]' {RULE_SHAPE}"),
        ({"rules": [{"next": 1, "decline_code": "lost_card"},
                    {"next": 0, "decline_code": "lost_card"}]},
         "'rules[1].next' must be a whole number of at least 1"),
        ({"rules": [{"order_id": "", "decline_code": "lost_card"}]},
         "'rules[0].order_id' must be a string of 1 to 255 characters or an integer of at most"
         " 255 digits"),
        ({"rules": [{"order_id": Decimal("1.5"), "decline_code": "lost_card"}]},
         "'rules[0].order_id' must be a string of 1 to 255 characters or an integer of at most"
         " 255 digits"),
        ({"rules": [{"next": Decimal("1E+999999999"), "decline_code": "lost_card"}]},
         "'rules[0].next' must be a whole number of at least 1"),
        ({"rules": [{"order_id": 1, "decline_code": "bad"}]},
         f"'rules[0].decline_code' must be one of {CODES}"),
        ({"decline_rat": 0.5},
         "'decline_rat' is not a simulation setting; use decline_rate, seed, decline_code,"
         " latency_ms, rules, limit_per_payment, limit_per_day, callback_faults, pending_rate,"
         " api_faults"),
        ({"limit_per_day": 0}, "'limit_per_day' must be a positive number or null"),
        ({"limit_per_payment": "500"}, "'limit_per_payment' must be a positive number or null"),
        ({"limit_per_payment": Decimal("1.001")},
         "'limit_per_payment' must have at most 2 decimal places or null"),
    ],
)  # fmt: skip
def test_invalid_settings_name_the_field(body: dict, message: str) -> None:
    with pytest.raises(SimulationError) as caught:
        SimulationSettings.from_json(body)
    assert str(caught.value) == message
