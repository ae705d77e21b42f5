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
