"""Buyer emails through SES: the ``Mailer`` of ``domain.notification`` (SES v1
SendRawEmail, text and HTML in one multipart/alternative message), which SES errors are
worth another send, and how long to wait between sends."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from email.errors import MessageError
from email.header import Header
from email.headerregistry import Address
from email.utils import formataddr, make_msgid
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from adapters.buyer_email import RenderedEmail
from domain.notification import SendFailed
from domain.retry import Backoff, FullJitterBackoff

# SES errors that no retry will cure: this message or this address is refused. Errors of
# the sender's own setup (an unverified domain, paused sending) are not among them: once
# fixed, every pending email goes out, and the pending-age alarm says meanwhile.
PERMANENT_SES_ERRORS = frozenset({"MessageRejected", "InvalidParameterValue"})
# What the pauses between SES sends of one email scale with, unless the function's
# settings say otherwise (SES_RETRY_BASE_MILLISECONDS, whose default this is).
DEFAULT_SES_RETRY_BASE = timedelta(milliseconds=200)
CRLF = "\r\n"
BASE64_LINE = 76


class SesMailer:
    """SES v1 SendRawEmail with a multipart/alternative message (text and HTML)."""

    def __init__(self, client: Any, sender_name: str) -> None:
        self._client = client
        self._sender_name = sender_name

    def send(self, sender: str, recipient: str, email: RenderedEmail) -> str:
        try:
            raw = raw_message(self._sender_name, sender, recipient, email)
        except (ValueError, TypeError, AttributeError, IndexError, MessageError) as error:
            raise SendFailed(
                f"no valid message to {recipient!r}: {error}", permanent=True
            ) from error
        try:
            response = self._client.send_raw_email(
                Source=sender, Destinations=[recipient], RawMessage={"Data": raw}
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            raise SendFailed(
                code or "ClientError", permanent=code in PERMANENT_SES_ERRORS
            ) from error
        except (EndpointConnectionError, ConnectTimeoutError) as error:
            raise SendFailed(type(error).__name__, permanent=False) from error
        except BotoCoreError as error:
            # The request may have reached SES: assume it might have been sent.
            raise SendFailed(type(error).__name__, permanent=False, maybe_sent=True) from error
        return str(response["MessageId"])


def raw_message(sender_name: str, sender: str, recipient: str, email: RenderedEmail) -> bytes:
    """A multipart/alternative message: the text part, then the HTML part, each UTF-8 in
    base64; a ``ValueError`` (or another error of the ``email`` package) when no valid
    message can be written to ``recipient``.

    Written out here rather than through ``email.message.EmailMessage``, whose header
    registry costs more per message than the SES call itself; the ``email`` package still
    checks the address and encodes the subject and the sender's name.
    """
    for value in (sender_name, sender, recipient, email.subject):
        if "\r" in value or "\n" in value:
            raise ValueError(f"a header cannot hold a line break: {value!r}")
    Address(addr_spec=recipient)
    # "=_" never occurs in base64, so no part can hold the boundary.
    boundary = f"=_{uuid.uuid4().hex}"
    lines = [
        f"From: {formataddr((sender_name, sender))}",
        f"To: {recipient}",
        f"Subject: {Header(email.subject, header_name='Subject').encode(linesep=CRLF)}",
        f"Message-ID: {make_msgid(domain=sender.partition('@')[2] or None)}",
        "MIME-Version: 1.0",
        "Content-Type: multipart/alternative;",
        f' boundary="{boundary}"',
        "",
    ]
    for subtype, body in (("plain", email.text), ("html", email.html)):
        encoded = base64.b64encode(body.encode()).decode("ascii")
        lines += [
            f"--{boundary}",
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
            *(encoded[i : i + BASE64_LINE] for i in range(0, len(encoded), BASE64_LINE)),
        ]
    lines += [f"--{boundary}--", ""]
    return CRLF.join(lines).encode("ascii")


def ses_backoff(base: timedelta = DEFAULT_SES_RETRY_BASE) -> Backoff:
    """Between the sends of one email that SES throttled or failed to answer: four sends
    within ten seconds, pauses up to 2, 4 and 8 times ``base`` (0.4, 0.8 and 1.6 s by
    default; ``SES_RETRY_BASE_MILLISECONDS``), none with a base of zero."""
    return FullJitterBackoff(
        budget_seconds=10.0, base_seconds=base.total_seconds(), cap_seconds=2.0, max_attempts=4
    )
