"""The README's commands as a newcomer meets them: what `make dev` installs, `make help`."""

from __future__ import annotations

import shutil
import subprocess

from local_runtime import PROJECT_ROOT

MAKE = shutil.which("make") or "make"


def _make(*arguments: str) -> str:
    completed = subprocess.run(  # noqa: S603 (make on the project's own Makefile)
        [MAKE, "--no-print-directory", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout


def test_make_dev_never_installs_aws_sam_cli() -> None:
    # --always-make: every step a fresh clone would run, without running any of them.
    planned = _make("--dry-run", "--always-make", "dev")

    assert "npm ci" in planned  # the plan is the whole set-up
    assert "pip install" in planned
    assert "aws-sam-cli" not in planned
    assert ".venv-sam" not in planned


def test_make_test_builds_and_validates_with_aws_sam_cli() -> None:
    planned = _make("--dry-run", "--always-make", "test")

    assert "aws-sam-cli" in planned
    assert "validate --lint" in planned


def test_make_help_lists_every_target_in_plain_words() -> None:
    shown = _make("help")

    assert "$" not in shown
    for target in ("dev", "test", "token", "invoke", "reconcile", "bench", "build"):
        assert f"make {target} " in shown
