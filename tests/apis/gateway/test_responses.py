from payments_server.apis.responses import json_response


def test_json_response_is_application_json_with_a_newline() -> None:
    response = json_response({"status": "success"}, 201)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.get_data() == b'{"status":"success"}\n'
