"""Pages elsewhere cannot move money or change settings, nor reach the gateway by another
name; curl and a store's server are not affected (apis/guard.py)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server import Settings
from payments_server.config import ConfigError

PAY = {"amount": 10, "recipient": "shop"}


def balance(client: FlaskClient) -> float:
    return client.get("/balance").get_json()["balance"]  # type: ignore[no-any-return]


def test_a_write_from_a_page_elsewhere_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    answer = client.post("/pay", json=PAY, headers={"Origin": "http://localhost:8000"})
    assert (answer.status_code, answer.get_json()) == (403, {
        "status": "failed",
        "message": "Cross-site request refused: a page at http://localhost:8000 may not change"
        " this gateway; allow it with --allowed-origins http://localhost:8000",
    })  # fmt: skip
    refused = client.post("/reset", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    assert balance(client) == 50000.0


def test_curl_its_own_pages_and_reads_are_not_affected(client: FlaskClient) -> None:
    assert client.post("/pay", json=PAY).status_code == 200  # no Origin: curl, a server
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/pay", json=PAY, headers=own).status_code == 200
    # The checkout page's own forms: Origin "null" (no-referrer policy), same-origin fetch.
    form = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/pay", json=PAY, headers=form).status_code == 200
    assert client.post("/pay", json=PAY, headers={"Origin": "null"}).status_code == 403
    # A read is answered: the browser keeps a page elsewhere from reading it (no CORS).
    assert client.get("/balance", headers={"Origin": "http://evil.example"}).status_code == 200
    assert balance(client) == 49970.0


def test_an_allowed_origin_may_write(make_client: MakeClient) -> None:
    client = make_client(allowed_origins=("http://localhost:8000",))
    answer = client.post("/pay", json=PAY, headers={"Origin": "http://LOCALHOST:8000"})
    assert answer.status_code == 200
    other = client.post("/pay", json=PAY, headers={"Origin": "http://localhost:8001"})
    assert other.status_code == 403


@pytest.mark.parametrize(
    ("host", "allowed", "status"),
    [("localhost:5000", (), 200), ("127.0.0.1:5000", (), 200), ("[::1]:5000", (), 200),
     ("shop.localhost", (), 200), ("10.0.0.7", (), 200), ("payments:5000", (), 403),
     ("payments:5000", ("payments",), 200), ("rebind.evil.example", ("payments",), 403),
     ("anything.example", ("*",), 200)],
)  # fmt: skip
def test_only_local_or_allowed_host_names_are_answered(
    make_client: MakeClient, host: str, allowed: tuple[str, ...], status: int
) -> None:
    answer = make_client(allowed_hosts=allowed).get("/balance", headers={"Host": host})
    assert answer.status_code == status
    if status == 403:
        assert answer.get_json()["message"] == (
            f"Host {host!r} is not a name this gateway answers to: it answers to localhost"
            " and IP addresses; allow another with --allowed-hosts"
        )


def test_the_secret_is_not_in_the_dashboard_and_only_its_own_page_gets_it(
    client: FlaskClient,
) -> None:
    secret = Settings().webhook_secret
    page = client.get("/dashboard").get_data(as_text=True)
    assert secret not in page
    own = client.get("/dashboard/secret", headers={"Sec-Fetch-Site": "same-origin"})
    assert own.get_json() == {"status": "success", "secret": secret}
    elsewhere = client.get("/dashboard/secret", headers={"Sec-Fetch-Site": "cross-site"})
    assert elsewhere.status_code == 403 and secret not in elsewhere.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"allowed_origins": ("http://shop.test/path",)},
      "--allowed-origins (PAYMENTS_ALLOWED_ORIGINS) must be origins such as http://localhost:8000"
      " (scheme, host and port only), separated by commas, got 'http://shop.test/path'"),
     ({"allowed_hosts": ("payments:5000",)},
      "--allowed-hosts (PAYMENTS_ALLOWED_HOSTS) must be host names (no scheme, port or path)"
      " separated by commas, got 'payments:5000'")],
)  # fmt: skip
def test_bad_allowances_are_refused_at_start(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings(**changes)  # type: ignore[arg-type]
    assert str(refused.value) == message
