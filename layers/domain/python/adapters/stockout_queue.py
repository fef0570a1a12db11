"""The stock-out's messages on SQS: the ``StockoutQueue`` of ``domain.stockouts``.

Two queues: planning steps (``PLAN_QUEUE_URL``) and segments to run (``WORK_QUEUE_URL``),
each read by its function through an event source mapping. A message names the seller,
the stock-out and the segment; every step and segment does only what is not recorded,
so a message delivered twice, or sent twice, changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from domain.ports import StorageUnavailable
from domain.stockouts import Stockout

# SendMessageBatch takes ten messages.
BATCH = 10


@dataclass(frozen=True, slots=True)
class StockoutMessage:
    seller_id: str
    stockout_id: str
    segment: int

    def body(self) -> str:
        return json.dumps(
            {"seller_id": self.seller_id, "stockout_id": self.stockout_id, "segment": self.segment},
            separators=(",", ":"),
        )

    @classmethod
    def of(cls, body: str | Mapping[str, Any]) -> StockoutMessage:
        """A message's body; ``ValueError`` (or ``KeyError``) when it is not one."""
        document = json.loads(body) if isinstance(body, str) else body
        segment = document["segment"]
        if not isinstance(segment, int) or segment < 0:
            raise ValueError(f"segment must be a whole number, not {segment!r}")
        return cls(str(document["seller_id"]), str(document["stockout_id"]), segment)


class SqsStockoutQueue:
    def __init__(self, client: Any, plan_queue_url: str, work_queue_url: str | None = None) -> None:
        self._client = client
        self._plan = plan_queue_url
        self._work = work_queue_url

    def plan(self, stockout: Stockout, segment: int) -> None:
        message = StockoutMessage(stockout.seller_id, stockout.stockout_id, segment)
        try:
            self._client.send_message(QueueUrl=self._plan, MessageBody=message.body())
        except (ClientError, BotoCoreError) as error:
            # A start answers 503: the same request again replays it and asks again.
            raise StorageUnavailable(
                f"the stock-out's planning was not asked for: {error}"
            ) from error

    def run(self, stockout: Stockout, segments: Iterable[int]) -> None:
        if self._work is None:
            raise RuntimeError("this function has no work queue")
        messages = [StockoutMessage(stockout.seller_id, stockout.stockout_id, s) for s in segments]
        for start in range(0, len(messages), BATCH):
            chunk = messages[start : start + BATCH]
            answer = self._client.send_message_batch(
                QueueUrl=self._work,
                Entries=[{"Id": str(i), "MessageBody": m.body()} for i, m in enumerate(chunk)],
            )
            failed = answer.get("Failed") or []
            if failed:
                # The planning step fails and is delivered again, which sends them again.
                codes = sorted({str(f.get("Code")) for f in failed})
                raise RuntimeError(f"{len(failed)} segment messages were not sent: {codes}")
