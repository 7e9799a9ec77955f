"""Credentials: resolution order, masking, and OAuth 1.0a signatures that oauthlib's server side accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

from xhooks.client import ActivityFilter, BaseClient, Credentials
from xhooks.client import endpoints as api
from xhooks.config import Settings
from xhooks.errors import ConfigError

OAUTH1 = {
    "consumer_key": "ck",
    "consumer_secret": "cs-secret-value",
    "access_token": "at",
    "access_token_secret": "as-secret-value",
}


class _Validator(RequestValidator):
    enforce_ssl = False
    dummy_client = "dummy"
    dummy_access_token = "dummy"

    def check_client_key(self, key: str) -> bool:
        return True

    def check_access_token(self, token: str) -> bool:
        return True

    def check_nonce(self, nonce: str) -> bool:
        return True

    def validate_client_key(self, key: str, request: Any) -> bool:
        return key == "ck"

    def validate_access_token(self, key: str, token: str, request: Any) -> bool:
        return token == "at"

    def validate_timestamp_and_nonce(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def get_client_secret(self, key: str, request: Any) -> str:
        return "cs-secret-value"

    def get_access_token_secret(self, key: str, token: str, request: Any) -> str:
        return "as-secret-value"


def test_oauth1_signature_verifies_with_oauthlib() -> None:
    request = BaseClient(Credentials(**OAUTH1), base_url="http://127.0.0.1:9").build_request(api.add_subscription("7"))
    assert request.headers["authorization"].startswith("OAuth ")
    valid, _ = SignatureOnlyEndpoint(_Validator()).validate_request(
        str(request.url), request.method, None, dict(request.headers)
    )
    assert valid


def test_oauth1_signature_fails_for_another_url() -> None:
    request = BaseClient(Credentials(**OAUTH1), base_url="http://127.0.0.1:9").build_request(api.add_subscription("7"))
    valid, _ = SignatureOnlyEndpoint(_Validator()).validate_request(
        "http://127.0.0.1:9/2/account_activity/webhooks/8/subscriptions/all", "POST", None, dict(request.headers)
    )
    assert not valid


def test_oauth1_wins_over_an_oauth2_user_token() -> None:
    request = BaseClient(Credentials(**OAUTH1, user_token="u")).build_request(api.send_dm("1", "hi"))
    assert request.headers["authorization"].startswith("OAuth ")


def test_activity_create_prefers_user_context_and_falls_back_to_the_app() -> None:
    call = api.create_activity_subscription("post.create", ActivityFilter(user_id="1"))
    assert BaseClient(Credentials(bearer_token="b", user_token="u")).build_request(call).headers["authorization"] == (
        "Bearer u"
    )
    assert BaseClient(Credentials(bearer_token="b")).build_request(call).headers["authorization"] == "Bearer b"


@pytest.mark.parametrize(
    ("credentials", "call", "names"),
    [
        pytest.param(Credentials(), api.list_webhooks(), "XHOOKS_BEARER_TOKEN", id="app"),
        pytest.param(Credentials(bearer_token="b"), api.add_subscription("1"), "XHOOKS_USER_TOKEN", id="user"),
    ],
)
def test_missing_credentials_say_which_to_set(credentials: Credentials, call: Any, names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        BaseClient(credentials).build_request(call)


def test_repr_masks_every_secret() -> None:
    shown = repr(Credentials(**OAUTH1, bearer_token="AAAAbearer-token-value"))
    assert "cs-secret-value" not in shown and "as-secret-value" not in shown and "bearer-token-value" not in shown
    assert "bearer_token=AAAA" in shown


def test_load_takes_flags_then_environment_then_file(tmp_path: Path) -> None:
    path = tmp_path / "xhooks.toml"
    path.write_text('bearer_token = "from-file"\naccess_token = "file-at"\nconsumer_secret = ["new", "old"]\n')
    settings = Settings.load(path, environ={"XHOOKS_BEARER_TOKEN": "from-env", "XHOOKS_CONSUMER_KEY": "env-ck"})
    creds = Credentials.load(settings, consumer_key="flag-ck")
    assert (creds.bearer_token, creds.consumer_key, creds.access_token) == ("from-env", "flag-ck", "file-at")
    assert creds.consumer_secret == "new"
    assert Credentials.load(settings, consumer_secret="flag-cs").consumer_secret == "flag-cs"
