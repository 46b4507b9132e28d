"""GET /healthz tells a load balancer whether the database answers."""

from __future__ import annotations

from flask.testing import FlaskClient

from godparents import create_app


def test_healthz_is_ok_and_public(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_says_unavailable_when_the_database_does_not_answer() -> None:
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/dir/godparents.db"}
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert "nonexistent" not in response.text
