"""The PSP's book: fees rounded up to the cent as the PSP rounds, dates and settlement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments_server.apis.psp.payables import (
    Payable,
    PspBook,
    PspTransaction,
    payable_for,
    receivable,
)

T0 = datetime(2020, 7, 19, 22, 26, 23, 693000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "fee", "expected"),
    [(2500, 5, 2375), (2500, 3, 2425), (999, 3, 970), (1, 5, 1), (101, 5, 96), (20, 5, 19)],
)
def test_the_receivable_is_the_amount_less_the_fee_rounded_up(
    amount: int, fee: int, expected: int
) -> None:
    assert receivable(amount, fee) == expected


def transaction(method: str, amount: int = 2500) -> PspTransaction:
    return PspTransaction("t-1", "123", "Lightsaber", amount, method, "Luke", T0, "1111",
                          "pending_payment", T0, T0)  # fmt: skip


def test_a_credit_payable_is_due_30_days_later_and_a_debit_one_is_paid_at_once() -> None:
    credit = payable_for(transaction("credit_card"), "p-1", T0 + timedelta(seconds=1))
    assert (credit.status, credit.fee, credit.receivable_amount) == ("waiting_funds", 5, 2375)
    assert credit.payment_date == T0 + timedelta(days=30)
    assert credit.created_at == T0 + timedelta(seconds=1)
    debit = payable_for(transaction("debit_card"), "p-2", T0)
    assert (debit.status, debit.fee, debit.payment_date) == ("paid", 3, T0)


def test_settling_pays_the_payable_and_its_transaction_once() -> None:
    book = PspBook()
    book.add_transaction(transaction("credit_card"))
    book.add_payable(payable_for(transaction("credit_card"), "p-1", T0))
    assert book.balance("123") == {"available": 0, "waiting_funds": 2375}
    later = T0 + timedelta(days=30)
    settled = book.settle("p-1", later)
    assert settled is not None and (settled.status, settled.updated_at) == ("paid", later)
    assert book.transactions("123")[0].status == "paid"
    assert book.settle("p-1", later) is None
    assert book.balance("123") == {"available": 2375, "waiting_funds": 0}
    assert book.balance("456") == {"available": 0, "waiting_funds": 0}


def test_records_read_back_from_their_json() -> None:
    made = transaction("debit_card")
    assert PspTransaction.from_json(made.to_json()) == made
    payable = payable_for(made, "p-9", T0)
    assert Payable.from_json(payable.to_json()) == payable
    with pytest.raises(ValueError, match="a payable without its fields"):
        Payable.from_json({"id": "p"})
