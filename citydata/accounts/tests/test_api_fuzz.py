"""Property-based fuzzing of every /api/v1 operation from the OpenAPI document (schemathesis).

Whatever the generated input, the API must answer without a server error, with a status the
document declares or a 4xx in the shared error shape."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from citydata.wsgi import application

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
schema = schemathesis.openapi.from_path(str(SCHEMA_PATH))
schema.app = application


@pytest.fixture
def api_key(db, make_user):
    from citydata.accounts import services

    _, secret = services.apikey_create(by=make_user(), name="fuzz")
    return secret


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case, api_key):
    response = case.call(app=application, headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()) == {"code", "message", "details"}, (
            case.method,
            case.path,
            response.status_code,
            response.text[:300],
        )
