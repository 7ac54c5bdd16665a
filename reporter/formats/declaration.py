"""What a model file format declares about itself: the part of a format a spec is checked against
before anything is loaded (which capabilities it offers, whether it is a file or a folder). The
loading part is `reporter.loaders.base`."""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

Capability = Literal["score_rows", "embed_text", "tag_words", "language_model"]
"""What the build can ask a loaded model to do."""

CAPABILITY_TEXT: dict[Capability, str] = {
    "score_rows": "score the evaluation rows",
    "embed_text": "embed sentences",
    "tag_words": "tag the words of sentences",
    "language_model": "score and generate text as a language model",
}
"""Each capability as an error message says it."""

PathKind = Literal["file", "folder"]


class FormatDeclaration(Protocol):
    """A format's class attributes and what it offers. They are read while a spec is validated, so
    a format's module imports nothing heavy at its top: frameworks are imported inside `load`."""

    name: ClassVar[str]
    """The value of `source.load.format` that names this format."""
    path_kind: ClassVar[PathKind]
    """Whether `source.load.file` names a file or a folder."""
    suffix: ClassVar[str | tuple[str, ...] | None]
    """The file name's ending (or endings), for a file format (``.gguf``; ``(".pt", ".pth")``), or
    None: a spec naming a file with another ending is refused when it is checked."""
    publishable: ClassVar[bool]
    """Whether `published:` (the artifact a model trained in this project publishes) may be loaded as this format."""
    takes_module: ClassVar[bool]
    """Whether `source.load.module:` (trusted code in the model folder: a builder of the network the
    weights go into, or a Keras file's custom objects) applies."""

    # A format may also set ``takes_tokenizer: ClassVar[bool] = True`` when `source.load.tokenizer:`
    # (a tokenizer folder that turns text into the graph's inputs) applies; formats without it refuse it.

    def offers(self, *, module: str | None) -> frozenset[Capability]:
        """What a model of this format can be asked to do, given the network builder the spec
        names (`source.load.module`), if any."""
        ...
