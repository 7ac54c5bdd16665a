"""A content-addressed cache of facts, so unchanged models are never trained twice.

The key covers everything that can change a figure: the spec (all but the model card's prose,
which the pipeline takes from the spec on every build), every file it names, reporter's own
code (which holds the built-in recipes and the metric definitions), user recipe code, library
versions and the device. Entries carry a checksum and are validated when read; a corrupt entry is
rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from pydantic import ValidationError

import reporter
from reporter.extract.provenance import library_versions
from reporter.extract.weights import sha256_file
from reporter.facts import SCHEMA_VERSION, FactsRecord
from reporter.files import write_atomically

RACY_SECONDS = 2.0
"""A file changed this recently before it was hashed is not remembered: a write within the file
system's timestamp granularity could leave its signature unchanged (git's "racily clean" rule)."""


class FileHashes:
    """SHA-256 of input files, remembered between builds by each file's stat signature.

    A build served from the cache would otherwise read every file its specs name (hundreds of
    megabytes of weights) only to learn that nothing changed. As in git's index, a file whose size,
    inode and modification and change times (nanoseconds) are the ones recorded is taken to hold
    the recorded bytes: an edit, a copy over it or `touch` changes one of them.
    """

    def __init__(self, memo: Path | None) -> None:
        self.memo, self.changed = memo, False
        self.known: dict[str, list[object]] = {}
        if memo is not None:
            try:
                loaded = json.loads(memo.read_text(encoding="utf-8"))
                self.known = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.known = {}

    def file(self, path: Path) -> str:
        """SHA-256 of one file's bytes."""
        stat = path.stat()
        signature: list[object] = [stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns]
        key = str(path.resolve())
        remembered = self.known.get(key)
        if isinstance(remembered, list) and remembered[:-1] == signature:
            return str(remembered[-1])
        digest = sha256_file(path)
        if time.time_ns() - stat.st_mtime_ns > RACY_SECONDS * 1e9:
            self.known[key], self.changed = [*signature, digest], True
        return digest

    def path(self, path: Path) -> str:
        """SHA-256 of a file, or of every file in a folder (relative names and contents, sorted)."""
        if path.is_file():
            return self.file(path)
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode() + b"\0" + self.file(child).encode())
        return digest.hexdigest()

    def save(self) -> None:
        """Write what was learnt, for the next build (nothing when nothing new was hashed)."""
        if self.memo is not None and self.changed:
            write_atomically(self.memo, json.dumps(self.known, sort_keys=True).encode())
            self.changed = False


FACT_CODE = (
    "runners",
    "loaders",
    "formats",
    "tasks",
    "extract",
    "datasets.py",
    "facts",
    "compute.py",
    "jobs.py",
    "spec",
)


def reporter_code_hash() -> str:
    """Hash of the reporter sources that compute facts (recipes, extractors, metric definitions).

    Rendering code is left out: a template or plot change re-renders pages, it never retrains.
    """
    package = Path(reporter.__file__).parent
    digest = hashlib.sha256()
    sources = [
        p
        for part in FACT_CODE
        for p in ((package / part).rglob("*.py") if (package / part).is_dir() else [package / part])
    ]
    for source in sorted(sources):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    for plugin in plugin_versions():
        digest.update(plugin.encode() + b"\0")
    return digest.hexdigest()


PLUGIN_GROUPS = ("reporter.formats", "reporter.tasks")


def plugin_versions() -> list[str]:
    """Each format and task another package adds, with that package's name and version: a new
    version of a plug-in may compute other facts, so it must not be served from the cache."""
    from importlib.metadata import entry_points

    found = []
    for group in PLUGIN_GROUPS:
        for point in entry_points(group=group):
            dist = point.dist
            release = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
            found.append(f"{group}:{point.name}={point.value} ({release})")
    return sorted(found)


def cache_key(
    *,
    spec_bytes: bytes,
    input_files: list[Path],
    extra_code: list[Path],
    device: str,
    settings: dict[str, object],
    hashes: FileHashes | None = None,
) -> str:
    """The content hash that identifies one model's facts."""
    hashes = hashes or FileHashes(None)
    parts = {
        "schema": SCHEMA_VERSION,
        "spec": hashlib.sha256(spec_bytes).hexdigest(),
        "inputs": [hashes.path(p) for p in input_files],
        "code": reporter_code_hash(),
        "user_code": [hashes.path(p) for p in extra_code],
        "libraries": library_versions(),
        "device": device,
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class FactsCache:
    """Facts records stored by cache key under ``<build>/cache``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, slug: str, key: str) -> Path:
        return self.folder / slug / f"{key}.json"

    def get(self, slug: str, key: str) -> FactsRecord | None:
        """The cached facts, or None when absent, corrupt or from another schema."""
        path = self._path(slug, key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            facts_json = entry["facts"]
            if hashlib.sha256(facts_json.encode()).hexdigest() != entry["sha256"]:
                return None
            return FactsRecord.model_validate_json(facts_json)
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None

    def put(self, slug: str, key: str, facts: FactsRecord) -> None:
        facts_json = facts.to_json()
        entry = {"sha256": hashlib.sha256(facts_json.encode()).hexdigest(), "facts": facts_json}
        write_atomically(self._path(slug, key), json.dumps(entry).encode())
