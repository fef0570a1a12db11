"""Print an access token for the local stack (``make token``).

python -m local_runtime.commands.token --seller seller-acme --scopes "orders.read orders.write"
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta

from local_runtime.gateway.tokens import DEFAULT_LIFETIME, mint_token


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime.commands.token",
        description="Print an access token for the local stack (make token).",
    )
    parser.add_argument("--seller", required=True, help="the seller (tenant) id")
    parser.add_argument(
        "--scopes",
        default="orders.read orders.write",
        help='space separated, e.g. "orders.read orders.write orders.admin"',
    )
    parser.add_argument("--sub", help="the acting user (default: user-<seller>)")
    parser.add_argument(
        "--hours", type=float, default=DEFAULT_LIFETIME.total_seconds() / 3600, help="lifetime"
    )
    arguments = parser.parse_args(argv)
    token = mint_token(
        arguments.seller,
        arguments.scopes.split(),
        sub=arguments.sub,
        lifetime=timedelta(hours=arguments.hours),
    )
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
