"""Run one function on one event against the running local stack, like ``sam local invoke``.

    python -m local_runtime.commands.invoke ListOrdersFunction events/list_orders.json
    python -m local_runtime.commands.invoke list_orders - < events/list_orders.json

The response goes to stdout, the function's logs to stderr, and then, for a function
that emails buyers (or whenever an email went out while it ran), the emails the local
outbox received meanwhile.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local_runtime.functions.runtime import FunctionError, FunctionRuntime
from local_runtime.stack import OUTBOX_PATH, StackInfo, stack_file_path
from local_runtime.template import DEFAULT_TEMPLATE, SamTemplate, TemplateError


class StackNotRunning(Exception):
    pass


def running_stack(stack_file: Path) -> StackInfo:
    hint = "start it with `make dev` (in another terminal) first"
    if not stack_file.exists():
        raise StackNotRunning(f"no local stack is running ({stack_file} is missing): {hint}")
    info = StackInfo.read(stack_file)
    try:
        with urllib.request.urlopen(f"{info.base_url}/_local/health", timeout=3) as response:  # noqa: S310 (the local stack's own URL)  # nosec B310
            healthy = response.status == 200
    except (urllib.error.URLError, OSError):
        healthy = False
    if not healthy:
        raise StackNotRunning(
            f"the local stack in {stack_file} does not answer at {info.base_url}: {hint}"
        )
    return info


def _load_event(source: str) -> dict[str, Any]:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    event = json.loads(text)
    if not isinstance(event, dict):
        raise ValueError("the event must be a JSON object")
    return event


def _outbox(info: StackInfo) -> list[dict[str, Any]] | None:
    """The emails the stack has sent, oldest first; None when it cannot say."""
    try:
        with urllib.request.urlopen(f"{info.base_url}{OUTBOX_PATH}", timeout=3) as response:  # noqa: S310 (the local stack's own URL)  # nosec B310
            messages = json.loads(response.read())["messages"]
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError):
        return None
    return messages if isinstance(messages, list) else None


def _emails_sent(messages: Sequence[dict[str, Any]]) -> str:
    if not messages:
        return "emails sent while it ran: none\n"
    lines = [f"emails sent while it ran: {len(messages)}"]
    lines.extend(
        f"  to {', '.join(message.get('to') or [])}: {message.get('subject')}"
        for message in messages
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime.commands.invoke", description=__doc__
    )
    parser.add_argument("function", help="logical id (ListOrdersFunction) or folder (list_orders)")
    parser.add_argument("event", help="a JSON event file, or - for stdin")
    arguments = parser.parse_args(argv)
    try:
        info = running_stack(stack_file_path())
        template = SamTemplate.load(DEFAULT_TEMPLATE, region=info.region)
        spec = template.function(arguments.function)
        event = _load_event(arguments.event)
    except (StackNotRunning, TemplateError, OSError, ValueError) as error:
        sys.stderr.write(f"{error}\n")
        return 2
    # One instance, with the stack's environment; what it prints goes to stderr.
    runtime = FunctionRuntime([spec], info.region, stdout=sys.stderr.fileno())
    runtime.start(info.environment)
    before = _outbox(info)
    try:
        document, status = runtime.invoke(spec.logical_id, event), 0
    except FunctionError as error:
        document, status = error.error, 1
    finally:
        runtime.stop()
    after = _outbox(info)
    if before is not None and after is not None:
        sent = after[len(before) :]
        if sent or "EMAIL_SENDER" in spec.environment:
            sys.stderr.write(_emails_sent(sent))
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
