"""DynamoDB calls of buyer notification and reconciliation: the delivery state kept on each
cancellation item, the pending-notification and recently-updated indexes, and the
reconciler's checkpoint. Keys come from ``table_keys``; item shapes and error translation
from ``dynamodb_repository``.

Delivery is exactly once through a lease: a sender claims a pending cancellation with a
conditional write, sends, then records the result only if it still holds the claim. The
claim returns the cancellation and the ``BuyerNotice`` stored with it, so an email costs two
writes; only a cancellation stored before notices were (it has none) needs its order read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from adapters.dynamodb_repository import from_attributes, to_attributes, translated_errors
from adapters.records import (
    buyer_notice_from_dict,
    cancellation_from_dict,
    order_from_dict,
    sortable_time,
)
from adapters.table_keys import (
    BUYER_NOTICE,
    BY_PENDING_NOTIFICATION,
    BY_UPDATE,
    CANCELLATION_PREFIX,
    CHECKPOINT_KEY,
    ORDER_SK,
    PENDING_NOTIFICATIONS,
    day_of_updated_sk,
    pending_since,
    updated_pk_of_day,
)
from domain.cancellation import Cancellation
from domain.model import Order
from domain.notification import CancellationKey, Claim, ClaimRefusal
from domain.reconciliation import StoredOrder


class NotificationStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # -- delivery ---------------------------------------------------------------------
    def claim(self, key: CancellationKey, now: datetime, lease: timedelta) -> Claim | ClaimRefusal:
        token = uuid.uuid4().hex
        try:
            with translated_errors():
                response = self._client.update_item(
                    TableName=self._table,
                    Key=to_attributes({"pk": key.pk, "sk": key.sk}),
                    UpdateExpression=(
                        "SET #n.claim_token = :token, #n.claimed_until = :until "
                        "ADD #n.attempts :one"
                    ),
                    ConditionExpression=(
                        "attribute_exists(pk) AND #n.#status = :pending AND "
                        "(attribute_not_exists(#n.claimed_until) OR #n.claimed_until < :now)"
                    ),
                    ExpressionAttributeNames={"#n": "notification", "#status": "status"},
                    ExpressionAttributeValues=to_attributes(
                        {
                            ":token": token,
                            ":until": int((now + lease).timestamp()),
                            ":now": int(now.timestamp()),
                            ":one": 1,
                            ":pending": "PENDING",
                        }
                    ),
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = error.response.get("Item")
            if not item:
                return ClaimRefusal.MISSING
            status = from_attributes(item).get("notification", {}).get("status")
            if status == "SENT":
                return ClaimRefusal.ALREADY_SENT
            if status == "FAILED":
                return ClaimRefusal.ALREADY_FAILED
            return ClaimRefusal.IN_FLIGHT
        item = from_attributes(response["Attributes"])
        notice = item.get(BUYER_NOTICE)
        return Claim(
            pk=key.pk,
            sk=key.sk,
            token=token,
            cancellation=cancellation_from_dict(item),
            attempts=int(item["notification"].get("attempts", 1)),
            maybe_sent=bool(item["notification"].get("maybe_sent", False)),
            notice=buyer_notice_from_dict(notice) if notice else None,
        )

    def mark_sent(self, claim: Claim, message_id: str, sent_at: datetime) -> bool:
        """Record the delivery; False when the claim was lost (the lease ran out)."""
        return self._finish(
            claim,
            "SET #n.#status = :sent, #n.sent_at = :sent_at, #n.message_id = :message_id "
            "REMOVE #n.claim_token, #n.claimed_until, pending_pk, pending_sk, #notice",
            {":sent": "SENT", ":sent_at": sortable_time(sent_at), ":message_id": message_id},
        )

    def mark_failed(self, claim: Claim, reason: str) -> bool:
        return self._finish(
            claim,
            "SET #n.#status = :failed, #n.failure_reason = :reason "
            "REMOVE #n.claim_token, #n.claimed_until, pending_pk, pending_sk, #notice",
            {":failed": "FAILED", ":reason": reason[:500]},
        )

    def release(self, claim: Claim, last_error: str, *, maybe_sent: bool = False) -> bool:
        """Give the claim back, leaving the notification pending for a later attempt."""
        return self._finish(
            claim,
            "SET #n.last_error = :error, #n.maybe_sent = :maybe_sent "
            "REMOVE #n.claim_token, #n.claimed_until",
            {":error": last_error[:500], ":maybe_sent": maybe_sent or claim.maybe_sent},
        )

    def _finish(self, claim: Claim, update: str, values: dict[str, Any]) -> bool:
        names = {"#n": "notification"} | {
            name: attribute
            for name, attribute in (("#status", "status"), ("#notice", BUYER_NOTICE))
            if name in update
        }
        try:
            with translated_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=to_attributes({"pk": claim.pk, "sk": claim.sk}),
                    UpdateExpression=update,
                    ConditionExpression="#n.claim_token = :token",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_attributes({**values, ":token": claim.token}),
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def order_of(self, claim: Claim) -> Order | None:
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=to_attributes({"pk": claim.pk, "sk": ORDER_SK}),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return order_from_dict(from_attributes(item)) if item else None

    # -- reconciliation ---------------------------------------------------------------
    def pending_since_before(self, cutoff: datetime, limit: int) -> list[CancellationKey]:
        """Cancellations still waiting for their email that were created before ``cutoff``,
        oldest first."""
        with translated_errors():
            response = self._client.query(
                TableName=self._table,
                IndexName=BY_PENDING_NOTIFICATION,
                KeyConditionExpression="pending_pk = :pk AND pending_sk < :cutoff",
                ExpressionAttributeValues=to_attributes(
                    {":pk": PENDING_NOTIFICATIONS, ":cutoff": sortable_time(cutoff)}
                ),
                ScanIndexForward=True,
                Limit=limit,
            )
        return [
            CancellationKey(item["pk"], item["sk"])
            for item in (from_attributes(i) for i in response.get("Items", []))
        ]

    def oldest_pending_since(self) -> datetime | None:
        with translated_errors():
            response = self._client.query(
                TableName=self._table,
                IndexName=BY_PENDING_NOTIFICATION,
                KeyConditionExpression="pending_pk = :pk",
                ExpressionAttributeValues=to_attributes({":pk": PENDING_NOTIFICATIONS}),
                ScanIndexForward=True,
                Limit=1,
            )
        items = response.get("Items", [])
        if not items:
            return None
        return pending_since(from_attributes(items[0])["pending_sk"])

    def changed_orders(
        self, after: str | None, until: datetime, start: datetime, limit: int
    ) -> tuple[list[tuple[str, str]], bool]:
        """(updated_sk, pk) of orders changed after position ``after`` (or ``start``) and
        before ``until``, in order of change, at most ``limit``; and whether more remain."""
        lower = after or sortable_time(start)
        upper = sortable_time(until)
        if lower > upper:
            # A checkpoint ahead of this run's horizon (clocks differ between runs).
            return [], False
        found: list[tuple[str, str]] = []
        for day in _days(datetime.fromisoformat(day_of_updated_sk(lower)), until):
            page_start: dict[str, Any] | None = None
            while len(found) <= limit:
                kwargs: dict[str, Any] = {
                    "TableName": self._table,
                    "IndexName": BY_UPDATE,
                    "KeyConditionExpression": (
                        "updated_pk = :day AND updated_sk BETWEEN :lower AND :upper"
                    ),
                    "ExpressionAttributeValues": to_attributes(
                        {":day": updated_pk_of_day(day), ":lower": lower, ":upper": upper}
                    ),
                    "ScanIndexForward": True,
                    "Limit": limit - len(found) + 1,
                }
                if page_start:
                    kwargs["ExclusiveStartKey"] = page_start
                with translated_errors():
                    response = self._client.query(**kwargs)
                found.extend(
                    (item["updated_sk"], item["pk"])
                    for item in (from_attributes(i) for i in response.get("Items", []))
                    if item["updated_sk"] != after
                )
                page_start = response.get("LastEvaluatedKey")
                if not page_start:
                    break
            if len(found) > limit:
                return found[:limit], True
        return found[:limit], len(found) > limit

    def stored_order(self, pk: str) -> StoredOrder | None:
        """The order and all its cancellations, in one consistent query of its partition."""
        order: Order | None = None
        stored_status: str | None = None
        cancellations: list[Cancellation] = []
        for item in self._partition(pk):
            if item["sk"] == ORDER_SK:
                order = order_from_dict(item)
                stored_status = item.get("status")
            elif str(item["sk"]).startswith(CANCELLATION_PREFIX):
                cancellations.append(cancellation_from_dict(item))
        if order is None:
            return None
        return StoredOrder(order, stored_status, tuple(cancellations))

    def _partition(self, pk: str) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": to_attributes({":pk": pk}),
                "ConsistentRead": True,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            with translated_errors():
                response = self._client.query(**kwargs)
            yield from (from_attributes(i) for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return

    def checkpoint(self) -> str | None:
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table, Key=to_attributes(CHECKPOINT_KEY), ConsistentRead=True
            )
        item = response.get("Item")
        return str(from_attributes(item)["position"]) if item else None

    def advance_checkpoint(self, previous: str | None, position: str) -> bool:
        """Move the checkpoint forward; False when another run moved it first."""
        condition = (
            "attribute_not_exists(pk) OR #p < :position"
            if previous is None
            else "#p = :previous AND #p < :position"
        )
        values: dict[str, Any] = {":position": position}
        if previous is not None:
            values[":previous"] = previous
        try:
            with translated_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=to_attributes(CHECKPOINT_KEY),
                    UpdateExpression="SET #p = :position",
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#p": "position"},
                    ExpressionAttributeValues=to_attributes(values),
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _days(first: datetime, last: datetime) -> Iterator[str]:
    day = first.date()
    while day <= last.date():
        yield day.isoformat()
        day += timedelta(days=1)
