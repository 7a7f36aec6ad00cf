"""The real Airflow API app (``create_app()``) with the salescast plugin loaded from
``plugins/`` by Airflow's plugin manager, SimpleAuthManager users with known passwords, and
the SQLite metadata DB of the test session."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import pytest

# name -> SimpleAuthManager role; "nobody" can log in but has no role, so no permission
USERS = {"admin": "admin", "viewer": "viewer", "nobody": ""}
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


@dataclass
class Airflow:
    client: object  # fastapi.testclient.TestClient
    passwords: dict[str, str]

    def token(self, user: str) -> str:
        """A JWT issued by SimpleAuthManager's own login endpoint, as the UI gets it."""
        response = self.client.post("/auth/token", json={"username": user, "password": self.passwords[user]})
        assert response.status_code == 201, response.text
        return response.json()["access_token"]

    def as_user(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def as_browser(self, user: str) -> dict[str, str]:
        """The cookie the Airflow UI sets after login (what an iframe page sends)."""
        return {"Cookie": f"_token={self.token(user)}"}


@pytest.fixture(scope="session")
def airflow(airflow_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("simple-auth")
    passwords = {name: secrets.token_urlsafe(12) for name in USERS}
    (folder / "passwords.json").write_text(json.dumps(passwords))
    env = {
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{name}:{role}" for name, role in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(folder / "passwords.json"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        from airflow.api_fastapi.app import create_app
        from fastapi.testclient import TestClient

        with TestClient(create_app(), base_url="http://localhost:8080") as client:
            yield Airflow(client, passwords)


@pytest.fixture
def empty_lake(tmp_path, monkeypatch):
    """The dashboard pointed at a lake with nothing published."""
    monkeypatch.setenv("SALESCAST_LAKE_URI", (tmp_path / "lake").as_uri())
    return tmp_path / "lake"
