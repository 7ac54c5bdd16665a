"""A loaded decoder language model bound for the language extractors (perplexity, bias probe,
sample outputs), whichever format its weights came in."""

from __future__ import annotations

from dataclasses import replace

from reporter.facts import NotReported
from reporter.loaders.base import LoadRequest
from reporter.runners.outcome import RunOutcome

LANGUAGE_MODEL_RUN = "the build runs this language model on the text and prompts the spec declares (see Metrics)"


def with_language_model(described: RunOutcome, request: LoadRequest, *, gguf: bool) -> RunOutcome:
    """``described`` (checked by its format before transformers reads a byte) with the model loaded
    through transformers and its scoring functions attached."""
    from reporter.runners.language_model import language_scoring, load_causal_lm

    options = request.loaded.spec.language_model
    assert options is not None
    model, tokenizer = load_causal_lm(request.path, gguf=gguf, spec_path=request.loaded.path, device=request.device)
    scoring = language_scoring(
        model,
        tokenizer,
        batch_size=options.batch_size,
        max_new_tokens=options.max_new_tokens,
        chat_template=options.chat_template,
    )
    module_class = f"{type(model).__name__} {described.architecture.module_class}".strip()
    return replace(
        described,
        architecture=described.architecture.model_copy(update={"module_class": module_class}),
        inference=NotReported(not_reported=LANGUAGE_MODEL_RUN),
        language=scoring,
    )
