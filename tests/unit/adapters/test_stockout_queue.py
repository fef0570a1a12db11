"""The stock-out's messages on SQS: their body, batches of ten, and what a failed send
means for the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from adapters.stockout_queue import SqsStockoutQueue, StockoutMessage
from domain.ports import StorageUnavailable
from domain.stockout import StockoutRequest, StockoutStatus
from domain.stockouts import Stockout

STOCKOUT = Stockout(
    stockout_id="SO1",
    seller_id="S1",
    request=StockoutRequest("K1"),
    status=StockoutStatus.PLANNING,
    created_at=datetime(2026, 11, 20, tzinfo=UTC),
    created_by="maria",
)


class FakeSqs:
    def __init__(self, fail: Exception | None = None, failed_entries: int = 0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.batches: list[list[dict[str, Any]]] = []
        self.fail = fail
        self.failed_entries = failed_entries

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        self.sent.append((QueueUrl, MessageBody))
        return {"MessageId": "m"}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append(Entries)
        failed = [{"Id": e["Id"], "Code": "InternalError"} for e in Entries[: self.failed_entries]]
        return {"Successful": [], "Failed": failed}


def test_a_message_names_the_seller_the_stockout_and_the_segment() -> None:
    sqs = FakeSqs()

    SqsStockoutQueue(sqs, "plan-url", "work-url").plan(STOCKOUT, 3)

    ((url, body),) = sqs.sent
    assert url == "plan-url"
    assert StockoutMessage.of(body) == StockoutMessage("S1", "SO1", 3)


def test_segments_go_to_the_work_queue_ten_a_call() -> None:
    sqs = FakeSqs()

    SqsStockoutQueue(sqs, "plan-url", "work-url").run(STOCKOUT, range(23))

    assert [len(batch) for batch in sqs.batches] == [10, 10, 3]
    segments = [StockoutMessage.of(e["MessageBody"]).segment for b in sqs.batches for e in b]
    assert segments == list(range(23))


def test_a_segment_not_sent_fails_the_planning_step_so_that_it_is_delivered_again() -> None:
    with pytest.raises(RuntimeError, match="1 segment messages were not sent"):
        SqsStockoutQueue(FakeSqs(failed_entries=1), "plan-url", "work-url").run(STOCKOUT, [0])


@pytest.mark.parametrize(
    "failure",
    [
        ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage"),
        EndpointConnectionError(endpoint_url="https://sqs"),
    ],
)
def test_a_planning_step_not_asked_for_is_storage_unavailable(failure: Exception) -> None:
    with pytest.raises(StorageUnavailable):
        SqsStockoutQueue(FakeSqs(fail=failure), "plan-url").plan(STOCKOUT, 0)


@pytest.mark.parametrize(
    "body", ['{"seller_id":"S1","stockout_id":"SO1","segment":-1}', '{"seller_id":"S1"}', "[]"]
)
def test_a_body_that_is_no_message_is_refused(body: str) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        StockoutMessage.of(body)
