"""Upload the seller console to a deployed stack and write the ``config.json`` it reads.

    python scripts/deploy_console.py --stack order-cancellations [--region eu-west-1]

(``make deploy-console STACK=…``.) Reads the stack's outputs, uploads the files of
``console/`` that make up the site to its private bucket, writes ``config.json`` (the API
URL, the Cognito sign-in domain and app client), and invalidates CloudFront's copy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_runtime.gateway.console_site import (
    CONSOLE_DIR,
    content_type,
    deployed_files,
)

# What a managed-login token is asked for; the API's scopes come from the seller user's
# groups, which the stack's pre token generation trigger puts into the access token.
SIGN_IN_SCOPES = ("openid", "email")
# The files have no content hash in their names: browsers and CloudFront revalidate them.
CACHE_CONTROL = "no-cache"


class MissingOutput(Exception):
    pass


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def console_config(outputs: Mapping[str, str]) -> dict[str, Any]:
    """``config.json`` for the console in AWS, from the stack's outputs."""
    needed = ("ApiUrl", "ConsoleUrl", "SignInDomain", "UserPoolClientId")
    missing = [name for name in needed if not outputs.get(name)]
    if missing:
        raise MissingOutput(
            f"the stack has no {', '.join(missing)} output: the console signs in through "
            "the stack's own user pool, so deploy it without JwtIssuer"
        )
    return {
        "api_url": outputs["ApiUrl"],
        "auth": {
            "mode": "cognito",
            "domain": outputs["SignInDomain"],
            "client_id": outputs["UserPoolClientId"],
            "redirect_uri": outputs["ConsoleUrl"],
            "scopes": list(SIGN_IN_SCOPES),
        },
    }


def upload(
    s3: Any,
    bucket: str,
    config: Mapping[str, Any],
    root: Path = CONSOLE_DIR,
    files: Sequence[Path] | None = None,
) -> list[str]:
    """Put the site's files and ``config.json`` in ``bucket``; the keys written."""
    written: list[str] = []
    for relative in files if files is not None else deployed_files(root):
        key = relative.as_posix()
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=(root / relative).read_bytes(),
            ContentType=content_type(key),
            CacheControl=CACHE_CONTROL,
        )
        written.append(key)
    s3.put_object(
        Bucket=bucket,
        Key="config.json",
        Body=(json.dumps(config, indent=2) + "\n").encode(),
        ContentType=content_type("config.json"),
        CacheControl=CACHE_CONTROL,
    )
    written.append("config.json")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy_console.py", description=__doc__)
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", help="the stack's region (default: the AWS config's)")
    arguments = parser.parse_args(argv)
    session = boto3.Session(region_name=arguments.region)
    outputs = stack_outputs(session.client("cloudformation"), arguments.stack)
    try:
        config = console_config(outputs)
    except MissingOutput as error:
        sys.stderr.write(f"{error}\n")
        return 2
    written = upload(session.client("s3"), outputs["ConsoleBucketName"], config)
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"deploy-console-{time.time_ns()}",
        },
    )
    sys.stdout.write(f"uploaded {len(written)} files; the console is at {outputs['ConsoleUrl']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
