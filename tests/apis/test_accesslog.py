import logging

import pytest
from flask import Flask
from werkzeug.test import Client

from payments_server.apis.accesslog import AccessLog


def test_one_line_per_request_with_method_path_status_and_ms(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(AccessLog(app))
    remote = {"REMOTE_ADDR": "127.0.0.1"}
    with caplog.at_level(logging.INFO, logger="payments_server.access"):
        client.get("/transactions?limit=5", buffered=True, environ_base=remote)
        client.post("/pay", data="not json", buffered=True, environ_base=remote)
        client.get("/missing", buffered=True, environ_base=remote)
    lines = [r.getMessage() for r in caplog.records if r.name == "payments_server.access"]
    assert len(lines) == 3
    assert lines[0].startswith('127.0.0.1 "GET /transactions?limit=5" 200 ')
    assert lines[1].startswith('127.0.0.1 "POST /pay" 400 ')
    assert lines[2].startswith('127.0.0.1 "GET /missing" 404 ')
    assert all(line.endswith(" ms") for line in lines)


def test_paths_are_logged_as_sent_with_control_characters_escaped(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(AccessLog(app))
    with caplog.at_level(logging.INFO, logger="payments_server.access"):
        client.get("/payments/orders/caf%C3%A9%0Aforged%20line", buffered=True)
    [line] = [r.getMessage() for r in caplog.records if r.name == "payments_server.access"]
    assert '"GET /payments/orders/caf%C3%A9%0Aforged%20line" 404 ' in line
    assert "\n" not in line


def test_what_a_page_asks_for_by_itself_is_debug_and_what_a_person_asks_for_info(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(AccessLog(app))
    fetch = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_SEC_FETCH_MODE": "cors"}
    navigate = {"HTTP_SEC_FETCH_SITE": "none", "HTTP_SEC_FETCH_MODE": "navigate"}
    with caplog.at_level(logging.DEBUG, logger="payments_server.access"):
        client.get("/activity", buffered=True, environ_base=fetch)  # the dashboard's fetch
        client.get("/ui/static/dashboard.css", buffered=True)  # a page's file
        client.get("/dashboard", buffered=True, environ_base=navigate)  # a person opens it
        client.post("/pay", json={"amount": 1, "recipient": "r"}, buffered=True)  # curl
    levels = [(r.levelno, r.getMessage().split('"')[1]) for r in caplog.records]
    assert levels == [
        (logging.DEBUG, "GET /activity"),
        (logging.DEBUG, "GET /ui/static/dashboard.css"),
        (logging.INFO, "GET /dashboard"),
        (logging.INFO, "POST /pay"),
    ]


def test_a_stream_is_logged_as_a_stream_with_its_lifetime(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(AccessLog(app))
    with caplog.at_level(logging.DEBUG, logger="payments_server.access"):
        client.get("/callbacks?wait=0.05", buffered=True)
    [record] = [r for r in caplog.records if r.name == "payments_server.access"]
    assert record.levelno == logging.DEBUG
    assert ' stream "GET /callbacks?wait=0.05" 200 open for ' in record.getMessage()
    assert record.getMessage().endswith(" s")
