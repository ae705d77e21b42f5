"""Braintree's sandbox, as its testing guide describes it: the test nonces, the amounts that
decline with a processor response equal to the amount, and the published response texts.

Plain data and one function: which outcome a load of `amount` paid with `nonce` gets before
the account is asked at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Nonces that pay (the outcome then follows the amount), by what they stand for.
VALID_NONCES = frozenset(
    {
        "fake-valid-nonce", "fake-valid-no-billing-address-nonce", "fake-valid-visa-nonce",
        "fake-valid-amex-nonce", "fake-valid-mastercard-nonce", "fake-valid-discover-nonce",
        "fake-valid-jcb-nonce", "fake-valid-maestro-nonce", "fake-valid-dinersclub-nonce",
        "fake-valid-prepaid-nonce", "fake-valid-commercial-nonce",
        "fake-valid-durbin-regulated-nonce", "fake-valid-healthcare-nonce",
        "fake-valid-debit-nonce", "fake-valid-payroll-nonce", "fake-valid-unknown-indicators-nonce",
        "fake-valid-country-of-issuance-usa-nonce", "fake-valid-country-of-issuance-cad-nonce",
        "fake-valid-issuing-bank-network-only-nonce", "fake-apple-pay-visa-nonce",
        "fake-apple-pay-mastercard-nonce", "fake-apple-pay-amex-nonce",
        "fake-android-pay-visa-nonce", "fake-android-pay-mastercard-nonce",
        "fake-android-pay-amex-nonce", "fake-android-pay-discover-nonce",
        "fake-paypal-one-time-nonce", "fake-paypal-billing-agreement-nonce",
        "fake-venmo-account-nonce",
    }
)  # fmt: skip
# Nonces of cards the processor declines (Do Not Honor) or fails on (network unavailable).
DECLINED_NONCES = frozenset(
    {
        "fake-processor-declined-visa-nonce", "fake-processor-declined-mastercard-nonce",
        "fake-processor-declined-amex-nonce", "fake-processor-declined-discover-nonce",
    }
)  # fmt: skip
FAILED_NONCES = frozenset({"fake-processor-failure-jcb-nonce"})
# Braintree's validation errors for nonces it will not take: no transaction is made.
NONCE_ERRORS = {
    "fake-consumed-nonce": ("91564", "Cannot use a payment_method_nonce more than once."),
    "fake-luhn-invalid-nonce": ("81715", "Credit card number is invalid."),
}
UNKNOWN_NONCE = ("91565", "Unknown payment_method_nonce.")
# Gateway rejections: a transaction is made, and rejected before the processor.
REJECTED_NONCES = {"fake-gateway-rejected-fraud-nonce": "fraud"}
APPLICATION_INCOMPLETE = Decimal("5001.00")

# The processor's authorization responses, as Braintree publishes them (2101 to 2999 that are
# not listed read "Processor Declined").
RESPONSES = {
    1000: "Approved", 2000: "Do Not Honor", 2001: "Insufficient Funds", 2002: "Limit Exceeded",
    2003: "Cardholder's Activity Limit Exceeded", 2004: "Expired Card",
    2005: "Invalid Credit Card Number", 2006: "Invalid Expiration Date", 2007: "No Account",
    2008: "Card Account Length Error", 2009: "No Such Issuer", 2010: "Card Issuer Declined CVV",
    2011: "Voice Authorization Required", 2012: "Processor Declined - Possible Lost Card",
    2013: "Processor Declined - Possible Stolen Card",
    2014: "Processor Declined - Fraud Suspected", 2015: "Transaction Not Allowed",
    2016: "Duplicate Transaction", 2017: "Cardholder Stopped Billing",
    2018: "Cardholder Stopped All Billing", 2019: "Invalid Transaction", 2020: "Violation",
    2021: "Security Violation", 2022: "Declined - Updated Cardholder Available",
    2023: "Processor Does Not Support This Feature", 2024: "Card Type Not Enabled",
    2025: "Set Up Error - Merchant", 2026: "Invalid Merchant ID", 2027: "Set Up Error - Amount",
    2028: "Set Up Error - Hierarchy", 2029: "Set Up Error - Card",
    2030: "Set Up Error - Terminal", 2031: "Encryption Error", 2032: "Surcharge Not Permitted",
    2033: "Inconsistent Data", 2034: "No Action Taken",
    2035: "Partial Approval For Amount In Group III Version",
    2036: "Authorization could not be found", 2037: "Already Reversed",
    2038: "Processor Declined", 2039: "Invalid Authorization Code", 2040: "Invalid Store",
    2041: "Declined - Call For Approval", 2042: "Invalid Client ID",
    2043: "Error - Do Not Retry, Call Issuer", 2044: "Declined - Call Issuer",
    2045: "Invalid Merchant Number", 2046: "Declined", 2047: "Call Issuer. Pick Up Card",
    2048: "Invalid Amount", 2049: "Invalid SKU Number", 2050: "Invalid Credit Plan",
    2051: "Credit Card Number does not match method of payment",
    2053: "Card reported as lost or stolen",
    2054: "Reversal amount does not match authorization amount",
    2055: "Invalid Transaction Division Number",
    2056: "Transaction amount exceeds the transaction division limit",
    2057: "Issuer or Cardholder has put a restriction on the card",
    2058: "Merchant not Mastercard SecureCode enabled", 2059: "Address Verification Failed",
    2060: "Address Verification and Card Security Code Failed",
    2061: "Invalid Transaction Data", 2062: "Invalid Tax Amount", 2064: "Invalid Currency Code",
    2065: "Refund Time Limit Exceeded", 2067: "Authorization Expired",
    2099: "Cardholder Authentication Required",
    3000: "Processor Network Unavailable - Try Again",
}  # fmt: skip
# The gateway's own decline codes (simulation, the account) as processor responses.
FROM_DECLINE_CODE = {
    "do_not_honor": 2000, "card_declined": 2046, "insufficient_funds": 2001,
    "limit_exceeded": 2002, "expired_card": 2004, "processing_error": 3000,
    "lost_card": 2012, "stolen_card": 2013,
}  # fmt: skip
DO_NOT_HONOR = 2000


@dataclass(frozen=True, slots=True)
class NonceError:
    """A nonce Braintree refuses outright: no transaction, nothing charged."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ProcessorDecline:
    """The processor declined (2000 to 2999) or failed (3000)."""

    response: int

    @property
    def text(self) -> str:
        """The published text of the response."""
        return response_text(self.response)


@dataclass(frozen=True, slots=True)
class GatewayRejection:
    """The gateway rejected the transaction before the processor saw it."""

    reason: str


def response_text(code: int) -> str:
    """Braintree's text for a processor response code."""
    return RESPONSES.get(code, "Processor Declined")


def nonce_error(nonce: str) -> NonceError | None:
    """The validation error for a nonce Braintree would not take, or None."""
    if nonce in NONCE_ERRORS:
        return NonceError(*NONCE_ERRORS[nonce])
    known = VALID_NONCES | DECLINED_NONCES | FAILED_NONCES | REJECTED_NONCES.keys()
    return None if nonce in known else NonceError(*UNKNOWN_NONCE)


def outcome(nonce: str, amount: Decimal) -> ProcessorDecline | GatewayRejection | None:
    """What the sandbox does with a load it takes, before the account decides; None: it
    authorizes."""
    if nonce in REJECTED_NONCES:
        return GatewayRejection(REJECTED_NONCES[nonce])
    if nonce in DECLINED_NONCES:
        return ProcessorDecline(DO_NOT_HONOR)
    if nonce in FAILED_NONCES:
        return ProcessorDecline(3000)
    if Decimal(2000) <= amount < Decimal(3001):
        return ProcessorDecline(min(int(amount), 3000))
    if amount == APPLICATION_INCOMPLETE:
        return GatewayRejection("application_incomplete")
    return None


def from_decline_code(code: str | None) -> int:
    """The processor response for one of the gateway's own decline codes."""
    if code is not None and code.isdigit() and 2000 <= int(code) <= 3000:
        return int(code)
    return FROM_DECLINE_CODE.get(code or "", DO_NOT_HONOR)
