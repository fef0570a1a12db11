"""The least an HTTP function of this stack imports: a DynamoDB client, Powertools' logger,
metrics and HTTP resolver with request validation, and one route whose body is a pydantic
model. ``make bench`` imports it beside the real functions, from the same compiled layer,
to show how much of their cold import is the stack's and how much is the product's."""

from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

dynamodb = boto3.client("dynamodb")
logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)


class CancellationRequest(BaseModel):
    reason: str


@app.post("/orders/<order_id>/cancellations")
def create_cancellation(order_id: str, request: Annotated[CancellationRequest, Body()]) -> str:
    return order_id


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
