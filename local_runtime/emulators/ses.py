"""SES on moto, in server mode on 127.0.0.1, and the outbox of what it has sent."""

from __future__ import annotations

import email
import email.policy
import logging
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from moto.ses.models import Message, RawMessage, ses_backends

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentEmail:
    to: list[str]
    subject: str
    text: str | None
    html: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class LocalSes:
    """A moto server for SES (v1 and v2) and anything else the functions might call."""

    def __init__(self, region: str = "us-east-1") -> None:
        self._region = region
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("moto is not started")
        return self._endpoint_url

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._endpoint_url = f"http://{host}:{port}"
        logger.info("SES (moto) ready at %s", self._endpoint_url)

    def stop(self) -> None:
        """Stops the server, first forgetting what it holds: moto keeps its state in the
        process, so the next stack started in it would otherwise find this one's secrets
        and emails (moto's documented reset endpoint)."""
        server, self._server = self._server, None
        if server is None:
            return
        try:
            reset = f"{self.endpoint_url}/moto-api/reset"
            request = urllib.request.Request(reset, method="POST")  # noqa: S310 (moto, loopback)
            urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 (moto, loopback)  # nosec B310
        finally:
            server.stop()

    def verify_identities(self, identities: Iterable[str]) -> None:
        """Verifies addresses (``orders@example.com``) and domains (``example.com``)."""
        client = boto3.client(
            "ses",
            endpoint_url=self.endpoint_url,
            region_name=self._region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 (moto checks no credentials)
        )
        for identity in identities:
            if "@" in identity:
                client.verify_email_identity(EmailAddress=identity)
            else:
                client.verify_domain_identity(Domain=identity)

    def outbox(self) -> list[SentEmail]:
        """The emails sent through this process's moto, oldest first."""
        sent: list[SentEmail] = []
        for regions in ses_backends.values():
            for backend in regions.values():
                sent.extend(
                    _as_sent_email(message)
                    for message in backend.sent_messages
                    if isinstance(message, Message | RawMessage)
                )
        return sent


def _as_sent_email(message: Message | RawMessage) -> SentEmail:
    if isinstance(message, RawMessage):
        return _parse_raw(message.raw_data)
    recipients = list(message.destinations.get("ToAddresses", []))
    # moto keeps one body of a simple message: the HTML part when there is one.
    is_html = message.body.lstrip().startswith("<")
    return SentEmail(
        to=recipients,
        subject=message.subject,
        text=None if is_html else message.body,
        html=message.body if is_html else None,
    )


def _parse_raw(raw_data: str) -> SentEmail:
    parsed = email.message_from_string(raw_data, policy=email.policy.default)
    if not isinstance(parsed, EmailMessage):
        raise TypeError("the default email policy parses into EmailMessage")
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return SentEmail(
        to=[address for _, address in getaddresses(parsed.get_all("To", []))],
        subject=str(parsed.get("Subject", "")),
        text=text_part.get_content() if isinstance(text_part, EmailMessage) else None,
        html=html_part.get_content() if isinstance(html_part, EmailMessage) else None,
    )
