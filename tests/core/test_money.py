from decimal import Decimal

import pytest

from payments_server.core.money import Amount, AmountError, format_balance, parse_amount


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (100, Decimal("100")),
        (Decimal("179.98"), Decimal("179.98")),
        (Decimal("0.01"), Decimal("0.01")),
        (Decimal("1E+2"), Decimal("100")),
        (Decimal("12.50"), Decimal("12.5")),
        (Decimal("1.000"), Decimal("1")),
        (1_000_000_000_000, Decimal("1000000000000")),
    ],
)
def test_valid_amounts_keep_exact_value_and_what_was_sent(raw: object, value: Decimal) -> None:
    amount = parse_amount(raw)
    assert amount == Amount(value, raw)
    assert amount.sent is raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (True, "Amount must be a positive number"),
        (False, "Amount must be a positive number"),
        ("100", "Amount must be a positive number"),
        (None, "Amount must be a positive number"),
        ([100], "Amount must be a positive number"),
        ({"value": 1}, "Amount must be a positive number"),
        (100.0, "Amount must be a positive number"),  # a float never gets in
        (Decimal("NaN"), "Amount must be a positive number"),
        (Decimal("Infinity"), "Amount must be a positive number"),
        (Decimal("-Infinity"), "Amount must be a positive number"),
        (0, "Amount must be a positive number"),
        (Decimal("0.00"), "Amount must be a positive number"),
        (-1, "Amount must be a positive number"),
        (Decimal("-0.01"), "Amount must be a positive number"),
        (Decimal("0.001"), "Amount must have at most 2 decimal places"),
        (Decimal("10.005"), "Amount must have at most 2 decimal places"),
        (Decimal("1E-999999"), "Amount must have at most 2 decimal places"),
        (1_000_000_000_001, "Amount must be at most 1000000000000"),
        (Decimal("1000000000000.01"), "Amount must be at most 1000000000000"),
        (Decimal("1E+400"), "Amount must be at most 1000000000000"),
        (Decimal("9" * 5000), "Amount must be at most 1000000000000"),
    ],
)
def test_invalid_amounts_are_refused_with_the_rule_they_break(raw: object, message: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(raw)
    assert str(caught.value) == message


def test_zero_is_allowed_only_when_asked_and_the_message_names_the_value() -> None:
    assert parse_amount(0, name="Balance", allow_zero=True).value == 0
    with pytest.raises(AmountError) as caught:
        parse_amount(-5, name="Balance", allow_zero=True)
    assert str(caught.value) == "Balance must be zero or a positive number"
    assert caught.value.rule == "must be zero or a positive number"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("50000", "50000.0"),
        ("50000.00", "50000.0"),
        ("49820.02", "49820.02"),
        ("49999.70", "49999.7"),
        ("0", "0.0"),
        ("0.05", "0.05"),
        ("1000000000000.00", "1000000000000.0"),
    ],
)
def test_balances_show_at_most_two_decimals_and_at_least_one(value: str, shown: str) -> None:
    assert str(format_balance(Decimal(value))) == shown


def test_decimal_arithmetic_is_exact_where_float_is_not() -> None:
    balance = Decimal("50000.00")
    for _ in range(3):
        balance -= parse_amount(Decimal("0.1")).value
    assert str(format_balance(balance)) == "49999.7"
    assert 50000.0 - 0.1 - 0.1 - 0.1 != 49999.7  # what floats would have shown
