from decimal import Decimal

import pytest

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


def test_integers_too_long_for_int_still_parse_as_the_bound() -> None:
    digits = "9" * 5000
    assert jsonio.loads(f'{{"amount": {digits}, "neg": -{digits}}}') == {
        "amount": Decimal("1E+1000"),
        "neg": Decimal("-1E+1000"),
    }


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("1E+999999999", Decimal("1E+1000")),
        ("-1E+999999999", Decimal("-1E+1000")),
        ("1E-999999999", Decimal("1E-1000")),
        ("-2.5E-99999", Decimal("-1E-1000")),
        ("0E+999999999", Decimal("0E+999999999")),
        ("1E+1000", Decimal("1E+1000")),
        ("179.98", Decimal("179.98")),
    ],
)
def test_every_number_is_bounded_before_anything_can_compute_with_it(
    text: str, read: Decimal
) -> None:
    value = jsonio.loads(f"[{text}]")[0]
    assert value == read and str(value) == str(read)
    # What froze the server: an int() of a billion digits, or abs() overflowing.
    assert len(str(abs(int(value)))) <= 1001 and abs(value) >= 0


def test_numbers_written_as_text_are_bounded_the_same_way() -> None:
    assert jsonio.number_from_text("1E+999999999") == Decimal("1E+1000")
    assert jsonio.number_from_text("12.50") == Decimal("12.50")
    assert jsonio.number_from_text("twelve") is None
    nan = jsonio.number_from_text("NaN")
    assert nan is not None and nan.is_nan()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_an_api_whose_real_reader_has_no_constants_refuses_them(constant: str) -> None:
    with pytest.raises(jsonio.NotJsonConstantError, match=f"{constant.lstrip('-')} is not"):
        jsonio.loads(f'{{"amount": {constant}}}', constants=False)
    assert jsonio.loads('{"amount": 1.5}', constants=False) == {"amount": Decimal("1.5")}


def test_dumps_writes_decimals_exactly_as_they_are() -> None:
    payload = {"amount": Decimal("179.98"), "balance": Decimal("50000.0"), "n": 100}
    assert jsonio.dumps(payload) == '{"amount":179.98,"balance":50000.0,"n":100}'
