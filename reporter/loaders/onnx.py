"""An ONNX model file: its graph and initializers read and checked with `onnx`
(`reporter.extract.onnx_file`), then run with onnxruntime, on CUDA when the build runs there and
onnxruntime offers it, else on the CPU, over the evaluation rows: each row's features as the
graph's one input (an image's pixels reshaped to its shape), its first output as the scores."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reporter.errors import ModelFileError
from reporter.extract.onnx_file import OnnxGraph, read_onnx_graph, weight_names
from reporter.facts import ArchitectureFacts, InferenceFacts, NotReported
from reporter.formats.declaration import Capability, PathKind
from reporter.loaders.base import LoadRequest
from reporter.loaders.onnx_text import BATCH as TEXT_BATCH
from reporter.loaders.onnx_text import text_scorer
from reporter.runners.outcome import RunOutcome, described_file
from reporter.spec import LoadedSpec

BATCH = 256


class OnnxFormat:
    name: ClassVar[str] = "onnx"
    path_kind: ClassVar[PathKind] = "file"
    suffix: ClassVar[str | tuple[str, ...] | None] = ".onnx"
    publishable: ClassVar[bool] = True
    takes_module: ClassVar[bool] = False
    takes_tokenizer: ClassVar[bool] = True

    def offers(self, *, module: str | None) -> frozenset[Capability]:
        return frozenset({"score_rows"})

    def check(self, loaded: LoadedSpec, path: Path) -> None:
        """The graph parses, uses ONNX's own operators only and its initializers' bytes fit."""
        load = loaded.spec.source.load
        _graph(loaded, path, text=load is not None and load.tokenizer is not None)

    def load(self, request: LoadRequest) -> RunOutcome:
        """The graph described (initializers as weights; opset, producer and inputs as its
        architecture) and, with evaluation rows, run on them with onnxruntime."""
        from reporter.loaders.row_scoring import scored_outcome

        load = request.loaded.spec.source.load
        assert load is not None
        graph = _graph(request.loaded, request.path, text=load.tokenizer is not None)
        session, provider = _session(request)
        weights = weight_names(graph)
        text = None
        if load.tokenizer is None:
            score_rows = _scorer(session, graph, request.loaded)
            input_text = f"the evaluation features as the graph's input {graph.inputs[0][0]!r}, through onnxruntime"
        else:
            assert request.resolve is not None, "the build resolves the files a spec names"
            folder = request.resolve(load.tokenizer, "source.load.tokenizer")
            classes = request.evaluation.classes if request.evaluation is not None else None
            text = text_scorer(session, graph, request.loaded, folder, classes)
            score_rows, input_text = text.score_rows, text.input_text
        described = replace(
            described_file(request.path, _architecture(graph, provider)),
            parameter_names=weights,
            trainable_names=weights,
            inference=NotReported(not_reported="the spec declares no evaluation data"),
            score_rows=score_rows,
        )
        if request.evaluation is None:
            return described
        scored = scored_outcome(
            described,
            request,
            score_rows,
            field="source.load.file",
            input_text=f"{input_text} ({provider})",
            batch_size=BATCH if text is None else TEXT_BATCH,
        )
        inference = scored.inference
        if isinstance(inference, InferenceFacts) and text is not None:
            update = {"labels": text.labels, "max_length": text.max_length}
            return replace(scored, inference=inference.model_copy(update=update))
        return scored


def _graph(loaded: LoadedSpec, path: Path, *, text: bool) -> OnnxGraph:
    """The checked graph; one input of features, unless a tokenizer gives its token inputs."""
    if path.is_dir() or path.suffix != ".onnx":
        raise ModelFileError(f"{loaded.path}: source.load.file: {path} is not an .onnx file. Fix: name the model file")
    graph = read_onnx_graph(path)
    if len(graph.inputs) != 1 and not text:
        raise ModelFileError(
            f"{loaded.path}: source.load.file: {path} takes {len(graph.inputs)} inputs "
            f"({', '.join(name for name, _ in graph.inputs)}); reporter feeds one, the evaluation rows' features. "
            "Fix: export the model with one input, or for a text model name its tokenizer folder in "
            "`source.load.tokenizer`"
        )
    return graph


def _session(request: LoadRequest) -> tuple[Any, str]:
    """An onnxruntime session on the build's device: CUDA when asked and offered, else the CPU."""
    try:
        import onnxruntime
    except ImportError:
        raise ModelFileError(
            f"{request.loaded.path}: source.load.format: onnxruntime is not installed. "
            "Fix: pip install 'reporter[onnx]'"
        ) from None
    wanted = "CUDAExecutionProvider" if request.device.startswith("cuda") else "CPUExecutionProvider"
    provider = wanted if wanted in onnxruntime.get_available_providers() else "CPUExecutionProvider"
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(str(request.path), sess_options=options, providers=[provider])
    except Exception as exc:  # onnxruntime raises its own types for graphs it cannot run; name the file
        raise ModelFileError(
            f"{request.loaded.path}: source.load.file: onnxruntime cannot run {request.path}: {exc}. "
            "Fix: re-export the model with an opset onnxruntime supports"
        ) from None
    return session, provider


def _architecture(graph: OnnxGraph, provider: str) -> ArchitectureFacts:
    name, shape = graph.inputs[0]
    initializers = len(graph.model.graph.initializer)
    return ArchitectureFacts(
        source="load",
        recipe=None,
        module_class="ONNX graph",
        config={
            "opset": graph.opset,
            "producer": graph.producer,
            "input": f"{name} {[str(d) for d in shape]}",
            "nodes": len(graph.model.graph.node),
            "initializers": initializers,
            "initializers named by the exporter": graph.exporter_named,
            "runtime": f"onnxruntime ({provider})",
        },
    )


def _scorer(session: Any, graph: OnnxGraph, loaded: LoadedSpec) -> Any:
    from reporter.runners.shaped_inputs import model_inputs

    name, shape = graph.inputs[0]
    example = tuple(int(d) if isinstance(d, int) and d > 0 else -1 for d in shape[1:])
    if any(d < 0 for d in example):
        raise ModelFileError(
            f"{loaded.path}: source.load.file: the graph's input {name!r} has a dimension other than the batch's "
            f"that is not fixed ({shape}). Fix: export with a fixed input shape"
        )

    def score_rows(frame: Any) -> np.ndarray:
        inputs = model_inputs(frame, example, where=f"{loaded.path}: evaluation.features")
        outputs = [
            session.run(None, {name: inputs[start : start + BATCH]})[0] for start in range(0, len(inputs), BATCH)
        ]
        scores = np.concatenate(outputs).astype(np.float64)
        return scores[:, 0] if scores.ndim == 2 and scores.shape[1] == 1 else scores

    return score_rows
