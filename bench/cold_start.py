"""Cold import and peak memory of every function, each a ratio against
``import boto3; boto3.client("dynamodb")`` in a fresh process of its own, the two run
side by side (in a shuffled order) in every round.

The functions are imported as ``sam build`` packages them (``make bench`` builds first):
the handler's folder and the layer, compiled, since Lambda's read-only code directories
leave an interpreter no way to cache bytecode of its own.

The import's CPU time is the figure held to its target: on a shared machine the wall
time of a half-second import swings several-fold with the neighbours' load, its CPU time
hardly at all, and an import is all CPU once the files are in the page cache. The wall
time is reported beside it."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Mapping

from bench.report import Metric, Summary
from local_runtime import PROJECT_ROOT
from local_runtime.template import DEFAULT_TEMPLATE, FunctionSpec, load_template_document

ROUNDS = 15
BUILD_DIR = PROJECT_ROOT / ".aws-sam" / "build"
# Measured beside the functions, not one of them: the stack's own share of a cold import.
STACK_FLOOR = "the stack alone (bench/stack_floor)"
STACK_FLOOR_DIR = PROJECT_ROOT / "bench" / "stack_floor"
_LAYER_TYPE = "AWS::Serverless::LayerVersion"


def built_folders(spec: FunctionSpec) -> list[str]:
    """The function's folder and its layers' ``python`` folders (what Lambda puts on
    ``sys.path``) in the ``sam build`` output."""
    resources = load_template_document(DEFAULT_TEMPLATE)["Resources"]
    layer_ids = {
        (DEFAULT_TEMPLATE.parent / resource["Properties"]["ContentUri"]).resolve(): logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") == _LAYER_TYPE
    }
    folders = [BUILD_DIR / spec.logical_id]
    folders += [BUILD_DIR / layer_ids[layer.resolve()] / "python" for layer in spec.layer_dirs]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise FileNotFoundError(f"not built (run make build): {', '.join(missing)}")
    return [str(folder) for folder in folders]


def _measure(argv: list[str], environment: Mapping[str, str]) -> dict[str, float]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.cold_import", *argv],
        cwd=PROJECT_ROOT,
        env=dict(environment),
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def measure(functions: Mapping[str, FunctionSpec], environment: Mapping[str, str]) -> list[Metric]:
    baseline_environment = {**os.environ, **environment}
    names = [*functions, STACK_FLOOR]
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    layer = built_folders(next(spec for spec in functions.values() if spec.layer_dirs))[1:]
    for _ in range(ROUNDS):
        order = ["baseline", *names]
        random.shuffle(order)
        figures: dict[str, dict[str, float]] = {}
        for name in order:
            if name == "baseline":
                figures[name] = _measure(["baseline"], baseline_environment)
                continue
            if name == STACK_FLOOR:
                figures[name] = _measure(
                    ["stack_floor_handler", str(STACK_FLOOR_DIR), *layer],
                    {**baseline_environment, "LAMBDA_TASK_ROOT": str(STACK_FLOOR_DIR)},
                )
                continue
            spec = functions[name]
            folders = built_folders(spec)
            function_environment = {
                **baseline_environment,
                **spec.environment,
                "LAMBDA_TASK_ROOT": folders[0],
            }
            figures[name] = _measure([spec.module_name, *folders], function_environment)
        base = figures["baseline"]
        for name in names:
            runs[name].append(
                (
                    figures[name]["cpu_seconds"] / base["cpu_seconds"],
                    figures[name]["rss_kb"] / base["rss_kb"],
                    figures[name]["seconds"] / base["seconds"],
                )
            )
    metrics: list[Metric] = []
    worst_import = max(functions, key=lambda name: Summary.of([r[0] for r in runs[name]]).median)
    worst_rss = max(functions, key=lambda name: Summary.of([r[1] for r in runs[name]]).median)
    for label, index, worst, target in (
        ("cold import CPU time", 0, worst_import, 1.5),
        ("peak RSS", 1, worst_rss, 1.4),
        ("cold import wall time", 2, worst_import, None),
    ):
        summary = Summary.of([r[index] for r in runs[worst]])
        metrics.append(
            Metric(
                f"{label}, worst function ({worst}) ÷ boto3 + DynamoDB client",
                summary.median,
                "ratio",
                "max" if target else None,
                target,
                summary,
            )
        )
        for name in sorted(runs):
            if name != worst:
                each = Summary.of([r[index] for r in runs[name]])
                metrics.append(Metric(f"  {label}, {name}", each.median, "ratio", summary=each))
    return metrics
