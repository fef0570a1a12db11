"""The raw message the SES mailer sends, read back by the standard library's parser."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from adapters.buyer_email import RenderedEmail, render_cancellation_email
from adapters.ses_mailer import SesMailer, raw_message
from domain.model import Buyer
from domain.notification import SendFailed
from tests.unit.domain.builders import apply, items_request, line
from tests.unit.email.helpers import MUG, order_for

SENDER = "orders@example.com"


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def japanese_email() -> RenderedEmail:
    buyer = Buyer(name="山田 花子", email="hanako@example.jp", locale="ja-JP")
    given = order_for(buyer, line("L1", product_name="湯呑み", sku_name="藍色", quantity=3))
    after, cancellation = apply(given, items_request(("L1", 2)))
    return render_cancellation_email(after, cancellation)


def test_the_message_reads_back_as_the_rendered_email() -> None:
    after, cancellation = apply(
        order_for(Buyer("Ana", "ana@example.com"), MUG), items_request(("L1", 2))
    )
    rendered = render_cancellation_email(after, cancellation)

    message = parsed(raw_message("ACME Marketplace", SENDER, "ana@example.com", rendered))

    assert message["Subject"] == rendered.subject
    assert message["From"] == f"ACME Marketplace <{SENDER}>"
    assert message["To"] == "ana@example.com"
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert parts(message) == (rendered.text, rendered.html)


def test_non_ascii_subjects_names_and_bodies_survive() -> None:
    rendered = japanese_email()
    long_subject = RenderedEmail(rendered.subject + " 湯呑み" * 40, rendered.text, rendered.html)

    raw = raw_message("ACME Märkte", SENDER, "hanako@example.jp", long_subject)
    message = parsed(raw)

    assert message["Subject"] == long_subject.subject
    assert message["From"].addresses[0].display_name == "ACME Märkte"
    assert parts(message) == (rendered.text, rendered.html)
    assert raw.isascii()
    assert max(len(row) for row in raw.split(b"\r\n")) <= 78


def test_every_message_has_a_boundary_of_its_own() -> None:
    rendered = japanese_email()

    first, second = (
        parsed(raw_message("Shop", SENDER, "a@example.com", rendered)) for _ in range(2)
    )

    assert first.get_boundary() != second.get_boundary()


@pytest.mark.parametrize(
    "recipient",
    ["x@[b", "foo", "a b@example.com", "ä@example.com", "a@example.com\r\nBcc: eve@example.com"],
)
def test_an_address_no_message_can_be_written_to_is_a_permanent_failure(recipient: str) -> None:
    class NeverCalled:
        def send_raw_email(self, **_: object) -> dict[str, str]:
            raise AssertionError("nothing is sent")

    with pytest.raises(SendFailed) as failure:
        SesMailer(NeverCalled(), "Shop").send(SENDER, recipient, japanese_email())

    assert failure.value.permanent


def test_a_line_break_in_the_subject_is_refused() -> None:
    rendered = japanese_email()

    with pytest.raises(ValueError, match="line break"):
        raw_message("Shop", SENDER, "a@example.com", RenderedEmail("Hi\r\nBcc: x", "t", "h"))
    assert raw_message("Shop", SENDER, "a@example.com", rendered)
