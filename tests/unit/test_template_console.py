"""The console's hosting in template.yaml: a private bucket read only through CloudFront,
HTTPS only, strict security headers, an API that only the console's origin may call from a
browser, and a public sign-in client with the authorization code flow."""

from __future__ import annotations

from typing import Any

from local_runtime.template import SamTemplate, load_template_document

DOCUMENT = load_template_document()
RESOURCES: dict[str, Any] = DOCUMENT["Resources"]


def _of_type(resource_type: str) -> dict[str, Any]:
    (found,) = [r for r in RESOURCES.values() if r["Type"] == resource_type]
    return found["Properties"]


def test_the_bucket_is_private_and_only_cloudfront_reads_it() -> None:
    bucket = _of_type("AWS::S3::Bucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    policy = _of_type("AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allows[0]["Condition"]["StringEquals"]
    denies = [s for s in policy if s["Effect"] == "Deny"]
    assert denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": False}}


def test_cloudfront_serves_https_only_through_origin_access_control() -> None:
    config = _of_type("AWS::CloudFront::Distribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "ConsoleSecurityHeaders"}


def test_the_content_security_policy_allows_nothing_from_elsewhere_but_the_api_and_sign_in() -> (
    None
):
    security = _of_type("AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    text, variables = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = dict(d.strip().split(" ", 1) for d in text.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self' ${ApiOrigins} ${SignInOrigin}"
    assert directives["frame-ancestors"] == "'none'"
    assert set(variables) == {"ApiOrigins", "SignInOrigin"}
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


def test_the_local_site_sends_the_same_policy_without_the_aws_origins() -> None:
    headers = dict(SamTemplate.load().site_headers)

    assert headers["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self'")
    assert "connect-src 'self';" in headers["Content-Security-Policy"]
    assert "${" not in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers


def test_the_api_allows_only_the_consoles_origin_from_a_browser() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    cors = api["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}"}]
    assert {"authorization", "idempotency-key", "if-match"} <= set(cors["AllowHeaders"])
    assert "etag" in cors["ExposeHeaders"]


def test_the_console_signs_in_with_the_code_flow_as_a_public_client() -> None:
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}/"}]
    assert RESOURCES["UserPoolDomain"]["Properties"]["ManagedLoginVersion"] == 2
