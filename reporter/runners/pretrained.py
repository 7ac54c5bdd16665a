"""transformers' `from_pretrained`, made to fail the way every other model file fails: with a
located error naming the folder and a fix, never a traceback, and never a tokenizer without a
real vocabulary.

transformers builds a tokenizer of special tokens only when a folder holds no vocabulary file, and
a model run with it reads every word as the unknown token: the build would publish figures
computed from nothing. So a tokenizer is checked against the folder's files and against the
model's embedding rows before anything is scored with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reporter.errors import ModelFileError
from reporter.extract.transformers_folder import TOKENIZER_VOCABULARY_FILES

MIN_VOCABULARY_SHARE = 0.5
"""A tokenizer must cover at least this share of the model's embedding rows. Real checkpoints pad
their embedding matrix by well under 10 % (to a multiple of 64 or 128); a byte-level tokenizer
covers about two thirds; a tokenizer of special tokens only covers a few thousandths."""


def from_pretrained(auto: Any, folder: Path, *, where: str, **options: Any) -> Any:
    """``auto.from_pretrained(folder)`` from local files only, never with remote code.

    Raises:
        ModelFileError: transformers could not build the model, config or tokenizer from the files.
    """
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the build shows its own progress and errors
    hf_logging.disable_progress_bar()
    try:
        return auto.from_pretrained(folder, local_files_only=True, trust_remote_code=False, **options)
    except Exception as exc:  # files from a stranger make transformers fail in many ways
        raise ModelFileError(
            f"{where}: {folder} cannot be loaded by transformers' {auto.__name__} ({type(exc).__name__}: "
            f"{str(exc)[:300]}). Fix: save the model again with save_pretrained, or restore the folder's files"
        ) from None


def require_vocabulary(folder: Path, *, where: str) -> None:
    """Refuse a folder without a tokenizer vocabulary file (checked without importing transformers).

    Raises:
        ModelFileError: naming the folder, the files looked for and the fix.
    """
    if not any((folder / name).is_file() for name in TOKENIZER_VOCABULARY_FILES):
        raise ModelFileError(
            f"{where}: {folder} has no tokenizer vocabulary (none of {', '.join(TOKENIZER_VOCABULARY_FILES)}); "
            "transformers would build a tokenizer of special tokens only and read every word as unknown. "
            "Fix: save the model's tokenizer into the folder (tokenizer.save_pretrained)"
        )


def load_tokenizer(folder: Path, *, where: str, fast: bool = False, **options: Any) -> Any:
    """A folder's tokenizer, refused when the folder holds no vocabulary file (and, with ``fast``,
    when it is not a fast tokenizer: only those say which word each token is from)."""
    from transformers import AutoTokenizer

    if not options.get("gguf_file"):
        require_vocabulary(folder, where=where)
    tokenizer = from_pretrained(AutoTokenizer, folder, where=where, **options)
    if fast and not tokenizer.is_fast:
        raise ModelFileError(
            f"{where}: {folder} has only a slow tokenizer, which cannot map sub-word tokens to words. "
            "Fix: save a fast tokenizer (tokenizer.json) into the folder"
        )
    return tokenizer


def check_vocabulary(tokenizer: Any, model: Any, *, where: str) -> None:
    """The tokenizer is the model's: its ids fit the embedding rows, and it covers most of them.

    Raises:
        ModelFileError: naming the sizes (tokenizer, embedding rows, config.vocab_size) and the fix.
    """
    size = len(tokenizer)
    rows = int(model.get_input_embeddings().num_embeddings)
    declared = getattr(model.config, "vocab_size", None)
    sizes = f"the tokenizer has {size:,} tokens, the model's embedding {rows:,} rows" + (
        f" and config.json declares vocab_size {declared:,}" if isinstance(declared, int) else ""
    )
    if size > rows:
        raise ModelFileError(
            f"{where}: {sizes}: token ids past the embedding would be read as other tokens or fail. "
            "Fix: save the tokenizer the model was trained with, or resize the embedding (resize_token_embeddings)"
        )
    if size < MIN_VOCABULARY_SHARE * rows:
        raise ModelFileError(
            f"{where}: {sizes}: the tokenizer covers under {MIN_VOCABULARY_SHARE:.0%} of the model's vocabulary, "
            "so it is not the tokenizer the model was trained with. Fix: save the model's own tokenizer into "
            "the folder (tokenizer.save_pretrained)"
        )


def load_base_model(
    auto: Any, folder: Path, *, where: str, device: str, fast: bool = False, **options: Any
) -> tuple[Any, Any]:
    """A base model to fine-tune and its tokenizer, from a checked folder: the tokenizer checked
    to be the model's, the model on ``device``."""
    from reporter.extract.transformers_folder import checked_folder

    checked_folder(folder, where=where)
    tokenizer = load_tokenizer(folder, where=where, fast=fast)
    network = from_pretrained(auto, folder, where=where, use_safetensors=True, **options).to(device)
    check_vocabulary(tokenizer, network, where=where)
    return tokenizer, network
