"""Benchmark: reporter's weight pass over a large Keras file and a large ONNX file with external data,
against the naive route (load the model with its framework, convert every tensor with numpy).

Two files of 1.07 GB are generated once into ``--folder`` (four 8192 × 8192 float32 matrices and
their biases, seeded):

- ``model.keras``: a Keras 3 Sequential of four Dense layers, saved by Keras;
- ``model.onnx`` + ``model.onnx.data``: a chain of four MatMul + Add nodes whose initializers are
  kept as external data, saved by `onnx`.

Each route runs ``--repeats`` times, each in a fresh process so its peak RSS is its own; imports
happen before the clock starts:

- **reporter**: ``tensor_statistics`` (the statistics of the weights page), reading each tensor
  through ``reporter.extract.keras_file`` (h5py, no Keras) or ``reporter.extract.onnx_file``
  (the graph checked, external data memory-mapped), one tensor per core;
- **naive** (the baseline): ``keras.saving.load_model`` then ``np.asarray(weight.numpy())`` for
  every weight, or ``onnx.load`` (which reads the external data into the graph) then
  ``numpy_helper.to_array`` for every initializer; the same figures in float64 numpy.

The figures of both routes are compared (relative 1e-9) before the table is printed. Targets:
reporter ≥ 3× faster than the naive route, and its peak RSS ≤ 3 × the largest tensor + 0.5 GB.

Usage: ``.venv/bin/python bench/formats.py [--repeats 3] [--folder /tmp/reporter-formats-bench]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("KERAS_BACKEND", "torch")

SIDE = 8192
LAYERS = 4
COMPARED = ("mean", "std", "min", "max", "abs_max", "l2_norm", "zero_fraction", "small_fraction")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike `ru_maxrss`, not carried over from the
    parent through exec, which generated the files)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(folder: Path) -> None:
    """The two files, unless they are there already."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    if not (folder / "model.keras").is_file():
        import keras

        keras.utils.set_random_seed(0)
        layers = [keras.Input((SIDE,))] + [keras.layers.Dense(SIDE) for _ in range(LAYERS)]
        keras.Sequential(layers).save(folder / "model.keras")
    if not (folder / "model.onnx").is_file():
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        initializers, nodes, previous = [], [], "x"
        for index in range(LAYERS):
            weight = (rng.standard_normal((SIDE, SIDE), dtype=np.float32) / math.sqrt(SIDE)).astype(np.float32)
            initializers += [
                numpy_helper.from_array(weight, f"layer{index}.weight"),
                numpy_helper.from_array(rng.standard_normal(SIDE).astype(np.float32), f"layer{index}.bias"),
            ]
            nodes += [
                helper.make_node("MatMul", [previous, f"layer{index}.weight"], [f"m{index}"]),
                helper.make_node("Add", [f"m{index}", f"layer{index}.bias"], [f"y{index}"]),
            ]
            previous = f"y{index}"
        graph = helper.make_graph(
            nodes,
            "chain",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", SIDE])],
            [helper.make_tensor_value_info(previous, TensorProto.FLOAT, ["batch", SIDE])],
            initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.save_model(model, str(folder / "model.onnx"), save_as_external_data=True, location="model.onnx.data")


def figures_of(values) -> dict:  # noqa: ANN001 - a numpy array
    import numpy as np

    values = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(values.min()), float(values.max())
    np.histogram(values, bins=64, range=(low, high) if high > low else (low - 0.5, low + 0.5))
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": low,
        "max": high,
        "abs_max": float(np.abs(values).max()),
        "l2_norm": math.sqrt(float(np.dot(values, values))),
        "zero_fraction": float((values == 0).sum()) / values.size,
        "small_fraction": float((np.abs(values) < 1e-6).sum()) / values.size,
    }


def run_reporter(path: Path) -> dict:
    import numpy as np

    from reporter.extract import weights as w
    from reporter.extract.elementwise import summarise_elements

    summarise_elements(np.ones(1 << 17, dtype=np.float32), "F32", small=1e-6, bins=64)  # load the kernels
    import h5py  # noqa: F401 - imported by the reader; not part of the timed pass
    import onnx  # noqa: F401

    started = time.perf_counter()
    tensors = w.tensor_statistics([path], w.WeightOptions())
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_mb": peak_rss_mb(),
        "figures": {t.name: {key: getattr(t, key) for key in COMPARED} for t in tensors},
    }


def run_naive(path: Path) -> dict:
    import numpy as np

    if path.suffix == ".keras":
        import keras

        started = time.perf_counter()
        model = keras.saving.load_model(path)
        named = {f"{layer.name}/{v.name}": np.asarray(v.numpy()) for layer in model.layers for v in layer.weights}
    else:
        import onnx
        from onnx import numpy_helper

        started = time.perf_counter()
        graph = onnx.load(str(path))
        named = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.graph.initializer}
    figures = {name: figures_of(value) for name, value in named.items()}
    largest = max(value.nbytes for value in named.values())
    return {"seconds": time.perf_counter() - started, "rss_mb": peak_rss_mb(), "figures": figures, "largest": largest}


ROUTES = {"reporter": run_reporter, "naive (baseline)": run_naive}


def in_fresh_process(route: str, path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", route, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys(), (sorted(ours), sorted(theirs))
    for name, figures in ours.items():
        for key in COMPARED:
            assert math.isclose(figures[key], theirs[name][key], rel_tol=1e-9, abs_tol=1e-12), (name, key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/reporter-formats-bench"))
    parser.add_argument("--child", nargs=2, metavar=("ROUTE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        route, path = args.child
        print(json.dumps(ROUTES[route](Path(path))))
        return
    generate(args.folder)
    for name in ("model.keras", "model.onnx"):
        path = args.folder / name
        runs = {route: [in_fresh_process(route, path) for _ in range(args.repeats)] for route in ROUTES}
        compare(runs["reporter"][0]["figures"], runs["naive (baseline)"][0]["figures"])
        size = sum(p.stat().st_size for p in args.folder.glob(name + "*")) / 1e9
        largest = runs["naive (baseline)"][0]["largest"] / 2**20
        baseline = statistics.median(r["seconds"] for r in runs["naive (baseline)"])
        print(f"\n{name} ({size:.2f} GB, {len(runs['reporter'][0]['figures'])} tensors; figures agree to 1e-9)")
        print(f"largest tensor {largest:.0f} MiB; RSS target {3 * largest + 512:.0f} MiB; medians of {args.repeats}")
        print(f"| {'route':<18} | {'seconds':>8} | {'speed-up':>8} | {'peak RSS MiB':>12} |")
        print(f"| {'-' * 18} | {'-' * 7}: | {'-' * 7}: | {'-' * 11}: |")
        for route, results in runs.items():
            seconds = statistics.median(r["seconds"] for r in results)
            rss = max(r["rss_mb"] for r in results)
            print(f"| {route:<18} | {seconds:>8.2f} | {baseline / seconds:>7.2f}x | {rss:>12.0f} |")


if __name__ == "__main__":
    main()
