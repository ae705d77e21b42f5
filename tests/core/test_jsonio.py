from decimal import Decimal

from payments_server.core import jsonio


def test_numbers_that_are_not_integers_parse_as_decimal_and_integers_as_int() -> None:
    body = jsonio.loads(b'{"a": 179.98, "b": 100, "c": 1e2, "d": NaN, "e": -Infinity}')
    nan = body.pop("d")
    assert body == {
        "a": Decimal("179.98"),
        "b": 100,
        "c": Decimal("1E+2"),
        "e": Decimal("-Infinity"),
    }
    assert [type(value) for value in body.values()] == [Decimal, int, Decimal, Decimal]
    assert isinstance(nan, Decimal)
    assert nan.is_nan()


def test_integers_too_long_for_int_still_parse() -> None:
    digits = "9" * 5000
    assert jsonio.loads(f'{{"amount": {digits}}}') == {"amount": Decimal(digits)}


def test_dumps_writes_decimals_exactly_as_they_are() -> None:
    payload = {"amount": Decimal("179.98"), "balance": Decimal("50000.0"), "n": 100}
    assert jsonio.dumps(payload) == '{"amount":179.98,"balance":50000.0,"n":100}'
