"""``python -m local_runtime`` (``make dev``): the product on this machine until Ctrl-C.

Environment: ``PORT`` (3000), ``SEED`` (1: load ``scripts.demo_data`` if it exists),
``SELLER`` (the seller of the printed token, seller-acme), ``LOCAL_JWT_SECRET``,
``LOCAL_STACK_FILE`` (where to describe the running stack, .local/stack.json),
``LOG_FORMAT`` (the functions' log format, ``Text`` or ``JSON`` as in AWS; Text),
``INSTANCES`` (how many instances of a function may run at once, 4).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

from local_runtime.emulators.dynamodb_local import DynamoDBLocalError
from local_runtime.functions.runtime import DEFAULT_MAX_INSTANCES
from local_runtime.stack import DEMO_SELLER, OPENAPI_PATH, LocalStack, stack_file_path
from local_runtime.template import TemplateError

SELLER_SCOPES = ("orders.read", "orders.write")


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _banner(stack: LocalStack, seller: str) -> str:
    token = stack.mint_token(seller, SELLER_SCOPES)
    startup = stack.dynamodb.startup_seconds or 0.0
    return f"""
Local stack ready in {stack.startup_seconds or 0.0:.1f} s (DynamoDB Local: {startup:.1f} s)
  Console      {stack.base_url}/  (choose a seller)
  API          {stack.base_url}
  DynamoDB     {stack.dynamodb_endpoint}  table {stack.table_name}
  SES (moto)   {stack.ses_endpoint}  sent mail: {stack.base_url}/_local/outbox
  OpenAPI      {stack.base_url}{OPENAPI_PATH}

Token for {seller} ({" ".join(SELLER_SCOPES)}), valid 12 h:
  export TOKEN={token}
  curl -H "Authorization: Bearer $TOKEN" {stack.base_url}/orders

Other tokens: make token SELLER=... SCOPES="orders.read orders.admin"
Ctrl-C stops everything.
"""


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Where boto3 found its endpoint, once per client: noise at INFO.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # moto's access log: every SES call the notify function makes.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    seller = os.environ.get("SELLER") or DEMO_SELLER
    stack = LocalStack(
        port=int(os.environ.get("PORT") or 3000),
        seed=os.environ.get("SEED", "1").lower() not in ("0", "false", "no", ""),
        stack_file=stack_file_path(),
        schedule_interval_seconds=float(os.environ.get("RECONCILE_INTERVAL_SECONDS") or 60),
        log_format=os.environ.get("LOG_FORMAT") or "Text",
        max_instances=int(os.environ.get("INSTANCES") or DEFAULT_MAX_INSTANCES),
    )
    # SIGINT too: a shell starting this in the background would otherwise leave it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        stack.start()
        sys.stdout.write(_banner(stack, seller))
        sys.stdout.flush()
        while True:
            signal.pause()
    except KeyboardInterrupt:
        return 0
    except (OSError, DynamoDBLocalError, TemplateError) as error:
        logging.getLogger("local_runtime").error("%s", error)
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()
        logging.getLogger("local_runtime").info("local stack stopped")


if __name__ == "__main__":
    sys.exit(main())
