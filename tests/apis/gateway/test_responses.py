from flask.testing import FlaskClient

from payments_server.apis.responses import json_response


def test_json_response_is_application_json_with_a_newline() -> None:
    response = json_response({"status": "success"}, 201)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.get_data() == b'{"status":"success"}\n'


def test_every_answer_says_no_sniffing(client: FlaskClient) -> None:
    session = client.post("/checkout/sessions", json={"order_id": "n", "amount": 1}).get_json()
    for answer in (
        client.get("/balance"),
        client.post("/pay", data="not json"),
        client.get("/nowhere"),
        client.get(f"/checkout/{session['session']['id']}"),
        client.get("/openapi.json"),
    ):
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.request.path
