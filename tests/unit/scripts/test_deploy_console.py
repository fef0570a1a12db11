"""Deploying the console: the config.json it writes from the stack's outputs, and what it
uploads (on moto's S3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_runtime.gateway.console_site import CONSOLE_DIR, deployed_files
from scripts.deploy_console import MissingOutput, console_config, upload

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "ConsoleUrl": "https://d111111abcdef8.cloudfront.net/",
    "SignInDomain": "https://sellers-123456789012.auth.eu-west-1.amazoncognito.com",
    "UserPoolClientId": "client-1",
    "ConsoleBucketName": "console-bucket",
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="console-bucket")
        yield client


def test_the_config_names_the_api_and_the_stacks_sign_in() -> None:
    assert console_config(OUTPUTS) == {
        "api_url": "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "auth": {
            "mode": "cognito",
            "domain": "https://sellers-123456789012.auth.eu-west-1.amazoncognito.com",
            "client_id": "client-1",
            "redirect_uri": "https://d111111abcdef8.cloudfront.net/",
            "scopes": ["openid", "email"],
        },
    }


def test_a_stack_without_its_own_user_pool_cannot_host_the_console() -> None:
    without_pool = {k: v for k, v in OUTPUTS.items() if k not in ("SignInDomain",)}

    with pytest.raises(MissingOutput, match="SignInDomain"):
        console_config(without_pool)


def test_the_site_and_its_config_are_uploaded_with_their_types(s3: Any) -> None:
    written = upload(s3, "console-bucket", console_config(OUTPUTS))

    keys = {item["Key"] for item in s3.list_objects_v2(Bucket="console-bucket")["Contents"]}
    assert keys == set(written)
    assert {"index.html", "styles.css", "config.json"} <= keys
    assert not {key for key in keys if key.startswith("test/") or key.endswith(".md")}
    assert "package.json" not in keys
    page = s3.get_object(Bucket="console-bucket", Key="index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == "no-cache"
    assert page["Body"].read() == (CONSOLE_DIR / "index.html").read_bytes()
    script = next(str(p) for p in deployed_files() if p.suffix == ".js")
    assert s3.get_object(Bucket="console-bucket", Key=script)["ContentType"].startswith(
        "text/javascript"
    )
    config = json.loads(s3.get_object(Bucket="console-bucket", Key="config.json")["Body"].read())
    assert config["auth"]["client_id"] == "client-1"
