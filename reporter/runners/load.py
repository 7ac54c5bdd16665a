"""Loading models trained elsewhere: transformers folders and safetensors files.

Remote code is never trusted, and pickle checkpoints are refused unless the spec opts in (then
they are loaded with ``weights_only=True`` and converted to safetensors before anything reads them).
"""

from __future__ import annotations

import json
from pathlib import Path

from reporter.errors import ModelFileError
from reporter.extract.safetensors_file import weight_files_in
from reporter.facts import ArchitectureFacts, NotReported
from reporter.runners.outcome import RunOutcome
from reporter.spec import LoadedSpec

CONFIG_KEYS = (
    "model_type",
    "architectures",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "hidden_act",
    "torch_dtype",
    "dtype",
)


def run_load(loaded: LoadedSpec, *, path: Path, device: str, convert_dir: Path) -> RunOutcome:
    """Load the model the spec names and describe it for the extractors."""
    load = loaded.spec.source.load
    assert load is not None
    if load.format == "safetensors":
        if path.is_dir() or path.suffix != ".safetensors":
            raise ModelFileError(
                f"{loaded.path}: source.load.file: {path} is not a .safetensors file. "
                "Fix: name the file, or use `format: transformers` for a folder"
            )
        return RunOutcome(
            weight_files=[path],
            parameter_names=None,
            trainable_names=None,
            architecture=ArchitectureFacts(source="load", recipe=None, module_class="(safetensors file)", config={}),
            training=NotReported(not_reported="the model was trained elsewhere; the spec loads a checkpoint"),
            evaluation_scores=None,
        )
    return _load_transformers(loaded, path, device=device, convert_dir=convert_dir)


def _load_transformers(loaded: LoadedSpec, folder: Path, *, device: str, convert_dir: Path) -> RunOutcome:
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if not (folder / "config.json").is_file():
        raise ModelFileError(
            f"{loaded.path}: source.load.file: {folder} has no config.json. Fix: point at a transformers model folder"
        )
    files = weight_files_in(folder)
    if not files:
        files = [_convert_pickle(loaded, folder, convert_dir)]
    config = AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    model = AutoModel.from_pretrained(
        folder,
        config=config,
        local_files_only=True,
        trust_remote_code=False,
        use_safetensors=files[0].parent == folder,
    ).to(device)
    raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    parameters = dict(model.named_parameters())
    prefix = getattr(model, "base_model_prefix", "")
    stored = _stored_names(files)
    # Checkpoints may or may not carry the base-model prefix; match names either way.
    names = {n for n in stored if n in parameters or n.removeprefix(f"{prefix}.") in parameters}
    return RunOutcome(
        weight_files=files,
        parameter_names=names,
        trainable_names=names,
        architecture=ArchitectureFacts(
            source="load",
            recipe=None,
            module_class=type(model).__name__,
            config={k: _plain(raw[k]) for k in CONFIG_KEYS if k in raw},
        ),
        training=NotReported(
            not_reported="the model was trained elsewhere; see its data sources for what its authors published"
        ),
        evaluation_scores=None,
    )


def _plain(value: object) -> object:
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


def _stored_names(files: list[Path]) -> set[str]:
    from reporter.extract.safetensors_file import read_header

    names: set[str] = set()
    for path in files:
        names.update(read_header(path)[0])
    return names


def _convert_pickle(loaded: LoadedSpec, folder: Path, convert_dir: Path) -> Path:
    """Refuse a pickle checkpoint unless allowed; if allowed, load weights-only and convert."""
    pickles = sorted(folder.glob("*.bin")) + sorted(folder.glob("*.pt"))
    if not pickles:
        raise ModelFileError(f"{folder}: no .safetensors weights found. Fix: add model.safetensors")
    if not loaded.spec.allow_pickle:
        raise ModelFileError(
            f"{pickles[0]}: pickle checkpoints can run code when loaded and are refused. "
            f"Fix: convert it to safetensors, or set `allow_pickle: true` in {loaded.path} "
            "(it is then loaded with weights_only=True)"
        )
    import torch
    from safetensors.torch import save_file

    state: dict[str, torch.Tensor] = {}
    for path in pickles:
        try:
            part = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for corrupt or unsafe pickles
            raise ModelFileError(
                f"{path}: cannot load weights-only ({type(exc).__name__}: {exc}). "
                "Fix: re-export the checkpoint as safetensors"
            ) from None
        state.update({k: v.contiguous() for k, v in part.items()})
    convert_dir.mkdir(parents=True, exist_ok=True)
    target = convert_dir / "model.safetensors"
    save_file(state, str(target))
    return target
