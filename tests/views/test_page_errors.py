"""A failure on an HTML page is shown as a page, never as the API's JSON envelope, and never
with a trace of the server's insides."""

import pytest
from tokens import csrf_token

LEAKS = ("Traceback", "psycopg", "SELECT", '"error"', "NUL byte")


def shown_as_page(response, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert not [leak for leak in LEAKS if leak in body]
    return body


@pytest.mark.parametrize(("path", "field"), [("/sign-in", "login"), ("/admin/sign-in", "name")])
def test_a_nul_in_a_sign_in_form_is_a_page_asking_to_check_the_input(client, path, field):
    token = csrf_token(client.get(path))

    response = client.post(
        path, data={field: "someone\x00else", "password": "secret", "csrf_token": token}
    )

    body = shown_as_page(response, 422)
    assert "Please check what you entered" in body


def test_a_nul_in_an_activation_link_is_an_invalid_link_page(client):
    body = shown_as_page(client.get("/activate/abc%00def"), 404)

    assert "This link is not valid any more" in body


def test_a_wrong_method_on_a_page_is_a_page_with_allow(client):
    response = client.put("/sign-in")

    shown_as_page(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_the_api_keeps_its_json_envelope(client):
    response = client.put("/v1/developer")

    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
