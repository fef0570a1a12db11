"""Figures as ``make bench`` prints them and writes them to ``bench/results.json``."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

RESULTS_PATH = Path(__file__).with_name("results.json")


@dataclass(frozen=True)
class Summary:
    """min / median / max of repeated samples of one figure."""

    minimum: float
    median: float
    maximum: float
    samples: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        if not samples:
            raise ValueError("no samples")
        return cls(min(samples), statistics.median(samples), max(samples), len(samples))

    def spread(self, digits: int) -> str:
        return f"{self.minimum:.{digits}f} / {self.median:.{digits}f} / {self.maximum:.{digits}f}"


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str
    # "max": value must not exceed target; "min": must not fall below; None: reported only.
    bound: Literal["max", "min"] | None = None
    target: float | None = None
    summary: Summary | None = None
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if self.bound is None or self.target is None:
            return None
        return self.value <= self.target if self.bound == "max" else self.value >= self.target

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'≤' if self.bound == 'max' else '≥'} {self.target:g}"


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def table(metrics: Sequence[Metric]) -> str:
    rows = [("metric", "value", "target", "ok", "min / median / max", "unit")]
    for metric in metrics:
        ok = {True: "yes", False: "NO", None: ""}[metric.ok]
        spread = metric.summary.spread(2) if metric.summary else ""
        rows.append(
            (metric.name, f"{metric.value:.3g}", metric.target_text(), ok, spread, metric.unit)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def write(metrics: Sequence[Metric], machine: dict[str, object], path: Path = RESULTS_PATH) -> None:
    document = {
        "machine": machine,
        "metrics": {
            metric.name: {
                "value": round(metric.value, 4),
                "target": metric.target,
                "unit": metric.unit,
                "ok": metric.ok,
                **(
                    {
                        "min": round(metric.summary.minimum, 4),
                        "median": round(metric.summary.median, 4),
                        "max": round(metric.summary.maximum, 4),
                        "samples": metric.summary.samples,
                    }
                    if metric.summary
                    else {}
                ),
                **({"note": metric.note} if metric.note else {}),
            }
            for metric in metrics
        },
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def markdown(path: Path = RESULTS_PATH) -> str:
    """The results of a run as the README shows them (``python -m bench.report``)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    rows = ["| figure | value | target | holds | min / median / max |", "|---|---|---|---|---|"]
    for name, figure in document["metrics"].items():
        if name.startswith("  ") and figure.get("target") is None and "min" in figure:
            continue
        target = figure["target"]
        holds = {True: "yes", False: "**no**", None: ""}[figure["ok"]]
        spread = (
            f"{figure['min']:.2f} / {figure['median']:.2f} / {figure['max']:.2f}"
            if "min" in figure
            else ""
        )
        rows.append(
            f"| {name.strip()} | {figure['value']:.3g} {figure['unit']} | "
            f"{'' if target is None else f'{target:g}'} | {holds} | {spread} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown())
