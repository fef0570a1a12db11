"""One cold import in a fresh process, for ``bench.cold_start``: standard library only, so
that nothing is imported before the clock starts.

    python -m bench.cold_import baseline
    python -m bench.cold_import <module> <code dir> [<layer dir> ...]
"""

import importlib
import json
import sys
import time


def peak_rss_kb() -> int:
    """This process's own high-water mark (getrusage's would include the parent's, from
    before the exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    started_cpu = time.process_time()
    if argv[0] == "baseline":
        import boto3  # noqa: PLC0415 - the import is what is measured

        boto3.client("dynamodb")
    else:
        sys.path[:0] = argv[1:]
        importlib.import_module(argv[0])
    figures = {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - started_cpu,
        "rss_kb": peak_rss_kb(),
    }
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
