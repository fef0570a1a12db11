"""Buyer emails, exactly once, and the reconciliation job: DynamoDB Local, the stream
poller and SES on moto, with SES failures injected by the local runtime, which puts the
function instances' SES calls to the tests (``intercept``)."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from local_runtime.functions.runtime import AwsError, FunctionError, InterceptedCall
from local_runtime.stack import LocalStack
from tests.integration.conftest import (
    ApiClient,
    DynamoDBCallRecorder,
    SellerClient,
    cancellation_key,
    items_request,
    line,
    order_input,
    package,
    stream_consumers_down,
)
from tests.unit.handlers.contract import CANCELLATION_FIELDS

NOTIFY = "NotifyFunction"
RECONCILE = "ReconcileFunction"
STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/OrdersTable/stream/2026-11-26T00:00:00.000"
)
# What these tests need of the two functions' settings: no pause between the SES sends of
# one email (the notifier's backoff waits up to seconds; the tests need not), and pending
# notifications overdue for the reconciler at once.
TEST_SETTINGS = {
    NOTIFY: {"SES_RETRY_BASE_MILLISECONDS": "0"},
    RECONCILE: {"SES_RETRY_BASE_MILLISECONDS": "0", "PENDING_NOTIFICATION_MINUTES": "0"},
}


def wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def emails_to(stack: LocalStack, address: str) -> list[Any]:
    return [message for message in stack.outbox() if address in message.to]


def notification_of(seller: SellerClient, order_id: str) -> dict[str, Any]:
    (cancellation,) = seller.cancellation_list(order_id)
    notification: dict[str, Any] = cancellation["notification"]
    return notification


def stream_batch(keys: list[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda-shaped DynamoDB Streams batch announcing these cancellation items."""
    return {
        "Records": [
            {
                "eventID": f"event-{index}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": int(time.time()),
                    "Keys": key,
                    "NewImage": {**key, "type": {"S": "CANCELLATION"}},
                    "SequenceNumber": str(1000 + index),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": STREAM_ARN,
            }
            for index, key in enumerate(keys)
        ]
    }


class SesFaults:
    """Makes SendRawEmail fail for the notify and reconcile functions' instances:
    ``rule(call_number, recipients)`` returns an SES error code, an exception to raise on
    the way (a timeout, say), or None to let the call through. The runtime puts each call
    to the rule here, in the test's process, before the instance makes it."""

    def __init__(
        self, stack: LocalStack, rule: Callable[[int, list[str]], str | Exception | None]
    ) -> None:
        self._functions = stack.functions
        self._rule = rule
        self._calls = itertools.count(1)
        self._lock = threading.Lock()
        self._intercepting = contextlib.ExitStack()
        self.injected: list[str] = []

    def _fail(self, call: InterceptedCall) -> AwsError | Exception | None:
        if call.function_id not in (NOTIFY, RECONCILE):
            return None
        with self._lock:
            code = self._rule(next(self._calls), list(call.params.get("Destinations", [])))
        if code is None:
            return None
        if isinstance(code, Exception):
            self.injected.append(type(code).__name__)
            return code
        self.injected.append(code)
        status = 400 if code in ("Throttling", "MessageRejected") else 503
        return AwsError(code, message=f"injected {code}", status=status)

    def __enter__(self) -> SesFaults:
        self._intercepting.enter_context(
            self._functions.intercept("ses.SendRawEmail", before=self._fail)
        )
        return self

    def __exit__(self, *_: object) -> None:
        self._intercepting.close()


@pytest.fixture(scope="module", autouse=True)
def functions_set_for_these_tests(local_stack: LocalStack) -> Iterator[None]:
    """The two functions run with ``TEST_SETTINGS`` while this module's tests run: what
    the stack does not set already (the conftest's environment overrides) is configured,
    as an update of a Lambda function's configuration is, at the cost of a cold start."""
    with contextlib.ExitStack() as configurations:
        for function_id, variables in TEST_SETTINGS.items():
            environment = local_stack.functions.functions[function_id].environment
            missing = {
                name: value for name, value in variables.items() if environment.get(name) != value
            }
            if missing:
                configurations.enter_context(local_stack.functions.configured(function_id, missing))
        yield


@pytest.fixture
def reconcile(local_stack: LocalStack) -> Callable[..., Any]:
    """Run the reconciler once; pending notifications count as overdue at once
    (``TEST_SETTINGS``)."""

    def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = local_stack.functions.invoke(RECONCILE, event or {})
        return result

    return run


@pytest.fixture
def notify_dynamodb_calls(local_stack: LocalStack) -> Iterator[DynamoDBCallRecorder]:
    """The notify function's DynamoDB calls from now until the end of the test."""
    recorder = DynamoDBCallRecorder(local_stack, [NOTIFY])
    recorder.start()
    try:
        yield recorder
    finally:
        recorder.stop()


def calls_per_cancellation(
    recorder: DynamoDBCallRecorder, keys: list[dict[str, Any]]
) -> list[list[str]]:
    """The operations the recorder saw on each cancellation's partition, key by key."""
    return [
        [
            call.operation
            for call in recorder.calls
            if call.params.get("Key", {}).get("pk") == key["pk"]
        ]
        for key in keys
    ]


def deliveries_overlap(recorder: DynamoDBCallRecorder, keys: list[dict[str, Any]]) -> bool:
    """Whether one cancellation's DynamoDB calls (its claim to its record) and another's
    came interleaved, in the order the calls ended: their emails were in flight together."""
    partitions = [call.params.get("Key", {}).get("pk") for call in recorder.calls]
    spans = [
        (positions[0], positions[-1])
        for key in keys
        if (positions := [i for i, pk in enumerate(partitions) if pk == key["pk"]])
    ]
    return any(
        one[0] < other[1] and other[0] < one[1] for one, other in itertools.combinations(spans, 2)
    )


@contextlib.contextmanager
def captured_function_logs(
    stack: LocalStack, function_id: str, capfd: pytest.CaptureFixture[str]
) -> Iterator[io.StringIO]:
    """What the function's Powertools loggers write while the block runs. An instance
    prints on the stdout this process had when it started: the block replaces the
    function's instances, so that those it starts print where ``capfd`` captures."""
    buffer = io.StringIO()
    with stack.functions.configured(function_id, {}):
        capfd.readouterr()
        try:
            yield buffer
        finally:
            buffer.write(capfd.readouterr().out)


def ordered_and_cancelled(
    seller: SellerClient, unique_id: Callable[..., str], *, quantity: int = 1
) -> tuple[str, str, dict[str, Any]]:
    order_id = unique_id("ORD")
    email = f"{order_id.lower()}@example.com"
    seller.create_order(order_input(order_id, seller.seller_id, email=email))
    cancellation = seller.cancelled(order_id, items_request(("L1", quantity)))
    return order_id, email, cancellation


def test_a_partial_cancellation_puts_one_email_in_the_outbox(
    local_stack: LocalStack, api: ApiClient, seller: SellerClient, unique_id: Any
) -> None:
    order_id, email, _ = ordered_and_cancelled(seller, unique_id)

    def outbox_for_buyer() -> list[dict[str, Any]]:
        messages = api.get("/_local/outbox").json()["messages"]
        return [m for m in messages if email in m["to"]]

    (message,) = wait_for(outbox_for_buyer)
    assert order_id in message["subject"]
    assert "Mug" in message["text"]
    assert "<html" in message["html"].lower()
    assert wait_for(lambda: notification_of(seller, order_id)["status"] == "SENT")
    assert notification_of(seller, order_id)["sent_at"] is not None
    time.sleep(0.5)
    assert len(outbox_for_buyer()) == 1


def test_the_same_batch_delivered_three_times_sends_one_email(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any
) -> None:
    with stream_consumers_down(local_stack):
        order_id, email, cancellation = ordered_and_cancelled(seller, unique_id)
        batch = stream_batch([cancellation_key(seller.seller_id, cancellation)])

        responses = [local_stack.functions.invoke(NOTIFY, batch) for _ in range(3)]

    assert responses == [{"batchItemFailures": []}] * 3
    assert len(emails_to(local_stack, email)) == 1
    assert notification_of(seller, order_id)["status"] == "SENT"
    # The stream delivers it a fourth time once the consumer is back: still one email.
    assert local_stack.stream_poller is not None
    local_stack.stream_poller.drain()
    assert len(emails_to(local_stack, email)) == 1


def test_concurrent_deliveries_of_one_cancellation_send_one_email(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any
) -> None:
    with stream_consumers_down(local_stack):
        _order_id, email, cancellation = ordered_and_cancelled(seller, unique_id)
        batch = stream_batch([cancellation_key(seller.seller_id, cancellation)])
        threads = [
            threading.Thread(target=local_stack.functions.invoke, args=(NOTIFY, batch))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(emails_to(local_stack, email)) == 1


def test_throttling_on_a_third_of_the_calls_loses_no_email(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any, reconcile: Any
) -> None:
    emails: list[str] = []
    sends_to: Counter[str] = Counter()

    # Every third SendRawEmail is throttled, and the first four to each of the first two
    # buyers outright, so that their cancellations run out of attempts in their invocation
    # and are left pending. (Counted by buyer, as the deliveries' sends interleave.)
    def rule(number: int, to: list[str]) -> str | None:
        sends_to.update(to)
        outright = any(address in emails[:2] and sends_to[address] <= 4 for address in to)
        return "Throttling" if number % 3 == 0 or outright else None

    with SesFaults(local_stack, rule) as faults:
        assert local_stack.stream_poller is not None
        with stream_consumers_down(local_stack):
            keys = []
            for _ in range(6):
                _order_id, email, cancellation = ordered_and_cancelled(seller, unique_id)
                emails.append(email)
                keys.append(cancellation_key(seller.seller_id, cancellation))
            # This invocation stands for the stream's delivery of these six records.
            local_stack.functions.invoke(NOTIFY, stream_batch(keys))
            local_stack.stream_poller.discard_pending()
        left_pending = [e for e in emails if not emails_to(local_stack, e)]
        assert "Throttling" in faults.injected
        assert left_pending, "the injected throttling left some emails for the reconciler"

        summary = reconcile()

    assert summary["notifications"].get("SENT", 0) >= len(left_pending)
    assert [len(emails_to(local_stack, e)) for e in emails] == [1] * 6


def test_a_batch_is_emailed_several_at_a_time_and_only_the_failed_record_is_handed_back(
    local_stack: LocalStack,
    seller: SellerClient,
    unique_id: Any,
    notify_dynamodb_calls: DynamoDBCallRecorder,
) -> None:
    emails: list[str] = []
    keys = []
    with stream_consumers_down(local_stack):
        for _ in range(8):
            _order_id, email, cancellation = ordered_and_cancelled(seller, unique_id)
            emails.append(email)
            keys.append(cancellation_key(seller.seller_id, cancellation))
        broken = emails[5]

        def rule(_number: int, to: list[str]) -> Exception | None:
            return RuntimeError("the SES client broke") if broken in to else None

        notify_dynamodb_calls.clear()
        with SesFaults(local_stack, rule):
            response = local_stack.functions.invoke(NOTIFY, stream_batch(keys))
        local_stack.stream_poller.discard_pending()  # type: ignore[union-attr]
        several_at_a_time = deliveries_overlap(notify_dynamodb_calls, keys)

    assert response == {"batchItemFailures": [{"itemIdentifier": "1005"}]}
    assert [len(emails_to(local_stack, e)) for e in emails] == [1] * 5 + [0] + [1] * 2
    assert several_at_a_time, calls_per_cancellation(notify_dynamodb_calls, keys)
    # The failed record's claim was given back: its redelivery sends it at once.
    assert local_stack.functions.invoke(NOTIFY, stream_batch(keys)) == {"batchItemFailures": []}
    assert [len(emails_to(local_stack, e)) for e in emails] == [1] * 8


def test_a_rejected_address_ends_failed_and_is_never_retried(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any, reconcile: Any
) -> None:
    with SesFaults(
        local_stack,
        lambda _n, to: "MessageRejected" if any("rejected" in a for a in to) else None,
    ) as faults:
        order_id = unique_id("ORD")
        email = f"rejected-{order_id.lower()}@example.com"
        seller.create_order(order_input(order_id, seller.seller_id, email=email))
        seller.cancelled(order_id, items_request(("L1", 1)))

        assert wait_for(lambda: notification_of(seller, order_id)["status"] == "FAILED")
        tried = len(faults.injected)
        reconcile()

    assert tried == 1
    assert len(faults.injected) == 1
    assert notification_of(seller, order_id) == {"status": "FAILED", "sent_at": None}
    assert emails_to(local_stack, email) == []


def test_a_cancellation_whose_stream_record_was_lost_is_emailed_by_the_next_reconcile(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any, reconcile: Any
) -> None:
    assert local_stack.stream_poller is not None
    with stream_consumers_down(local_stack):
        order_id, email, _ = ordered_and_cancelled(seller, unique_id)
        assert local_stack.stream_poller.discard_pending() >= 1

    local_stack.stream_poller.drain()
    assert emails_to(local_stack, email) == []
    assert notification_of(seller, order_id)["status"] == "PENDING"

    reconcile()

    assert len(emails_to(local_stack, email)) == 1
    assert notification_of(seller, order_id)["status"] == "SENT"


def test_an_order_tampered_with_in_the_table_is_reported_not_repaired(
    local_stack: LocalStack,
    seller: SellerClient,
    unique_id: Any,
    reconcile: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(
        order_input(
            order_id,
            seller.seller_id,
            packages=[package("PK1")],
            lines=[line("L1", "PK1", quantity=3)],
        )
    )
    seller.cancelled(order_id, items_request(("L1", 1)))
    key = {"pk": {"S": f"SELLER#{seller.seller_id}#ORDER#{order_id}"}, "sk": {"S": "ORDER"}}
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.table_name,
        Key=key,
        UpdateExpression="SET #lines[0].cancelled_quantity = :two",
        ExpressionAttributeNames={"#lines": "lines"},
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    now = datetime.now(UTC)
    window = {
        "window": {
            "from": (now - timedelta(minutes=5)).isoformat(),
            "to": (now + timedelta(minutes=1)).isoformat(),
        }
    }

    with captured_function_logs(local_stack, RECONCILE, capfd) as logs:
        summary = reconcile(window)

    assert summary["violations"] >= 1
    reports = [
        json.loads(entry)
        for entry in logs.getvalue().splitlines()
        if entry.startswith("{") and order_id in entry and "does not add up" in entry
    ]
    assert {report["check"] for report in reports} == {"cancelled_matches_cancellations"}
    (report,) = reports
    assert report["level"] == "ERROR"
    assert report["numbers"] == {"line_id": "L1", "recorded": 2, "from_cancellations": 1}
    # Reported, not repaired: the table still holds the tampered number.
    assert seller.order(order_id)["lines"][0]["cancelled_quantity"] == 2


def test_scheduled_runs_check_each_changed_order_once_and_resume_from_a_checkpoint(
    local_stack: LocalStack,
    seller: SellerClient,
    unique_id: Any,
    reconcile: Any,
) -> None:
    ordered_and_cancelled(seller, unique_id)

    # Writes count as settled at once, so that this test's own are checked.
    with local_stack.functions.configured(RECONCILE, {"RECONCILE_SETTLE_SECONDS": "0"}):
        runs = [reconcile()]
        while runs[-1]["more"] and len(runs) < 20:
            runs.append(reconcile())
        again = reconcile()

    assert not runs[-1]["more"]
    assert sum(run["orders_checked"] for run in runs) >= 1
    assert all(run["checkpoint_advanced"] for run in runs if run["orders_checked"])
    assert again["orders_checked"] == 0
    assert again["checkpoint_advanced"] is False


def test_an_email_whose_outcome_was_lost_is_sent_again_never_not_at_all(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any, reconcile: Any
) -> None:
    lost = ReadTimeoutError(endpoint_url="https://email.local")
    with SesFaults(local_stack, lambda n, _to: lost if n == 1 else None) as faults:
        with stream_consumers_down(local_stack):
            order_id, email, cancellation = ordered_and_cancelled(seller, unique_id)
            local_stack.functions.invoke(
                NOTIFY, stream_batch([cancellation_key(seller.seller_id, cancellation)])
            )
            local_stack.stream_poller.discard_pending()  # type: ignore[union-attr]
        # The timeout ended the attempt: no retry within it, the notification stays pending.
        assert faults.injected == ["ReadTimeoutError"]
        assert notification_of(seller, order_id)["status"] == "PENDING"

        reconcile()

    assert len(emails_to(local_stack, email)) == 1
    assert notification_of(seller, order_id)["status"] == "SENT"


# Where the notifier reads the address: the notice stored with the cancellation, or the
# order of a cancellation stored before notices were.
@pytest.mark.parametrize("address_in", ["notice", "order"])
def test_an_address_no_message_can_be_written_to_fails_for_good_without_blocking_others(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any, reconcile: Any, address_in: str
) -> None:
    dynamodb = local_stack.client("dynamodb")
    with stream_consumers_down(local_stack):
        broken_order, _, broken = ordered_and_cancelled(seller, unique_id)
        if address_in == "notice":
            dynamodb.update_item(
                TableName=local_stack.table_name,
                Key=cancellation_key(seller.seller_id, broken),
                UpdateExpression="SET buyer_notice.buyer.email = :email",
                ExpressionAttributeValues={":email": {"S": "x@[b"}},
            )
        else:
            dynamodb.update_item(
                TableName=local_stack.table_name,
                Key=cancellation_key(seller.seller_id, broken),
                UpdateExpression="REMOVE buyer_notice",
            )
            dynamodb.update_item(
                TableName=local_stack.table_name,
                Key={
                    "pk": {"S": f"SELLER#{seller.seller_id}#ORDER#{broken_order}"},
                    "sk": {"S": "ORDER"},
                },
                UpdateExpression="SET buyer.email = :email",
                ExpressionAttributeValues={":email": {"S": "x@[b"}},
            )
        _fine_order, fine_email, fine = ordered_and_cancelled(seller, unique_id)
        batch = stream_batch(
            [
                cancellation_key(seller.seller_id, broken),
                cancellation_key(seller.seller_id, fine),
            ]
        )
        response = local_stack.functions.invoke(NOTIFY, batch)
        local_stack.stream_poller.discard_pending()  # type: ignore[union-attr]

    assert response == {"batchItemFailures": []}
    assert notification_of(seller, broken_order)["status"] == "FAILED"
    assert len(emails_to(local_stack, fine_email)) == 1
    reconcile()
    assert notification_of(seller, broken_order)["status"] == "FAILED"


def test_an_order_the_code_cannot_read_is_reported_and_the_others_still_checked(
    local_stack: LocalStack,
    seller: SellerClient,
    unique_id: Any,
    reconcile: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    unreadable, _, _ = ordered_and_cancelled(seller, unique_id)
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.table_name,
        Key={"pk": {"S": f"SELLER#{seller.seller_id}#ORDER#{unreadable}"}, "sk": {"S": "ORDER"}},
        UpdateExpression="SET packages[0].#status = :lost",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":lost": {"S": "LOST"}},
    )
    readable, _, _ = ordered_and_cancelled(seller, unique_id)
    now = datetime.now(UTC)
    window = {
        "window": {
            "from": (now - timedelta(minutes=1)).isoformat(),
            "to": (now + timedelta(minutes=1)).isoformat(),
        }
    }

    with captured_function_logs(local_stack, RECONCILE, capfd) as logs:
        summary = reconcile(window)

    reports = [
        json.loads(entry)
        for entry in logs.getvalue().splitlines()
        if entry.startswith("{") and "does not add up" in entry
    ]
    unreadable_reports = [r for r in reports if unreadable in r.get("pk", "")]
    assert [r["check"] for r in unreadable_reports] == ["readable"]
    assert summary["orders_checked"] >= 2
    assert summary["violations"] >= 1
    assert not any(readable in json.dumps(r) for r in reports)


def test_a_window_that_ends_before_it_starts_is_refused(local_stack: LocalStack) -> None:
    with pytest.raises(FunctionError, match=r"window\.from must come before window\.to") as refused:
        local_stack.functions.invoke(
            RECONCILE,
            {"window": {"from": "2026-11-26T10:00:00Z", "to": "2026-11-25T10:00:00Z"}},
        )
    assert refused.value.error["errorType"] == "ValueError"


def test_each_email_of_a_batch_costs_two_dynamodb_calls(
    local_stack: LocalStack,
    seller: SellerClient,
    unique_id: Any,
    notify_dynamodb_calls: DynamoDBCallRecorder,
) -> None:
    with stream_consumers_down(local_stack):
        cancelled = [ordered_and_cancelled(seller, unique_id, quantity=1 + n % 3) for n in range(6)]
        keys = [cancellation_key(seller.seller_id, c) for o, _, c in cancelled]
        notify_dynamodb_calls.clear()

        response = local_stack.functions.invoke(NOTIFY, stream_batch(keys))
        local_stack.stream_poller.discard_pending()  # type: ignore[union-attr]

    assert response == {"batchItemFailures": []}
    assert calls_per_cancellation(notify_dynamodb_calls, keys) == [["UpdateItem"] * 2] * 6
    assert len(notify_dynamodb_calls.operations(NOTIFY)) == 2 * 6
    for order_id, email, _ in cancelled:
        (message,) = emails_to(local_stack, email)
        assert order_id in message.subject
        assert notification_of(seller, order_id)["status"] == "SENT"
    # The notice served its email: the item no longer holds the buyer's details twice.
    stored = local_stack.client("dynamodb").get_item(
        TableName=local_stack.table_name, Key=keys[0], ConsistentRead=True
    )["Item"]
    assert "buyer_notice" not in stored


def test_what_the_email_needs_is_stored_with_the_cancellation_but_never_shown(
    local_stack: LocalStack, seller: SellerClient, unique_id: Any
) -> None:
    order_id = unique_id("ORD")
    seller.create_order(order_input(order_id, seller.seller_id, email="kim@example.com"))
    with stream_consumers_down(local_stack):
        created = seller.cancelled(order_id, items_request(("L1", 2)), key=f"key-{order_id}")
        stored = local_stack.client("dynamodb").get_item(
            TableName=local_stack.table_name,
            Key=cancellation_key(seller.seller_id, created),
            ConsistentRead=True,
        )["Item"]
        replay = seller.cancel(order_id, items_request(("L1", 2)), key=f"key-{order_id}")
        listed = seller.cancellation_list(order_id)

    assert stored["buyer_notice"]["M"]["buyer"]["M"]["email"] == {"S": "kim@example.com"}
    assert stored["buyer_notice"]["M"]["items_left"]["L"] == [
        {"M": {"product_name": {"S": "Mug"}, "sku_name": {"S": "Blue"}, "quantity": {"N": "1"}}}
    ]
    assert replay.headers["idempotent-replayed"] == "true"
    for cancellation in (created, replay.json(), *listed):
        assert set(cancellation) == CANCELLATION_FIELDS


def without_order_id(message: Any, order_id: str) -> list[str]:
    return [
        (part or "").replace(order_id, "O")
        for part in (message.subject, message.text, message.html)
    ]


def test_a_cancellation_stored_before_notices_is_emailed_from_its_order(
    local_stack: LocalStack,
    seller: SellerClient,
    unique_id: Any,
    notify_dynamodb_calls: DynamoDBCallRecorder,
) -> None:
    with stream_consumers_down(local_stack):
        current, current_email, current_cancellation = ordered_and_cancelled(
            seller, unique_id, quantity=2
        )
        legacy, legacy_email, legacy_cancellation = ordered_and_cancelled(
            seller, unique_id, quantity=2
        )
        keys = [
            cancellation_key(seller.seller_id, current_cancellation),
            cancellation_key(seller.seller_id, legacy_cancellation),
        ]
        local_stack.client("dynamodb").update_item(
            TableName=local_stack.table_name,
            Key=keys[1],
            UpdateExpression="REMOVE buyer_notice",
            ConditionExpression="attribute_exists(buyer_notice)",
        )
        notify_dynamodb_calls.clear()

        response = local_stack.functions.invoke(NOTIFY, stream_batch(keys))
        local_stack.stream_poller.discard_pending()  # type: ignore[union-attr]

    assert response == {"batchItemFailures": []}
    assert calls_per_cancellation(notify_dynamodb_calls, keys) == [
        ["UpdateItem", "UpdateItem"],
        ["UpdateItem", "GetItem", "UpdateItem"],
    ]
    (from_notice,) = emails_to(local_stack, current_email)
    (from_order,) = emails_to(local_stack, legacy_email)
    assert notification_of(seller, legacy)["status"] == "SENT"
    assert "- Mug (Blue) \u00d7 2: $20.00" in (from_order.text or "")
    assert "- Mug (Blue) \u00d7 1" in (from_order.text or "")
    assert without_order_id(from_order, legacy) == without_order_id(from_notice, current)
