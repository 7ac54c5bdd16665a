"""Run a benchmark's timed route in fresh processes, so that each run's peak memory is its own."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys


def median_of_children(script: str, arguments: list[str], repeats: int) -> dict[str, object]:
    """Run ``script arguments`` ``repeats`` times, each printing one JSON object with `seconds`,
    `peak_mb` and `data_mb`; the median seconds, the largest memory figures, and every other key
    of the first run (the counts each route must agree on)."""
    command = [sys.executable, script, *arguments]
    results = [
        json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout) for _ in range(repeats)
    ]
    return {
        **results[0],
        "seconds": statistics.median(r["seconds"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
        "data_mb": max(r["data_mb"] for r in results),
    }
