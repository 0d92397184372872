"""Where the month-end close keeps the documents it downloads: electronic receipts and tax certificates.

One folder per service provider and month, on any fsspec URL (a local folder by default, ``s3://…``,
``memory://…`` in tests)::

    <root>/<taxBaseCode>/<yyyy-MM>/receipts/<outOrderNo>.pdf
    <root>/<taxBaseCode>/<yyyy-MM>/tax-certificates/<certificateNo>.pdf
    <root>/<taxBaseCode>/<yyyy-MM>/manifest.json      every file: its size, SHA-256 and what it proves
    <root>/<taxBaseCode>/<yyyy-MM>/summary.md         the close's summary, for people

The root is ``LINGONG_DOCUMENTS_URL`` or ``.state/receipts``. A document is *stored* when the manifest
lists it and the file is there with the manifest's size and hash: then it is never fetched again; a
missing or damaged file is fetched again. Names hold business numbers only, never personal data.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs

DOCUMENTS_URL_ENV = "LINGONG_DOCUMENTS_URL"
DEFAULT_ROOT = Path(".state") / "receipts"
RECEIPTS, CERTIFICATES = "receipts", "tax-certificates"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def default_root() -> str:
    return os.environ.get(DOCUMENTS_URL_ENV) or str(DEFAULT_ROOT.absolute())


def safe_name(number: str) -> str:
    """A file name from a business number: letters, digits, ``_ . -`` kept; anything else hashed away."""
    cleaned = _SAFE.sub("_", number)[:80]
    if cleaned != number or not cleaned or cleaned.startswith("."):
        cleaned = f"{cleaned.lstrip('.')[:60]}_{hashlib.sha256(number.encode()).hexdigest()[:12]}"
    return cleaned


@dataclass(frozen=True, slots=True)
class Stored:
    name: str  # relative to the month folder, e.g. receipts/PAY-1.pdf
    size: int
    sha256: str


class MonthFolder:
    """The documents of one provider and month, and the manifest that vouches for them."""

    MANIFEST = "manifest.json"

    def __init__(self, tax_base_code: str, month: str, root: str | None = None) -> None:
        self.root = (root or default_root()).rstrip("/")
        self.url = f"{self.root}/{safe_name(tax_base_code)}/{month}"
        self.fs, self.path = url_to_fs(self.url)
        self.entries: dict[str, dict[str, Any]] = self._read_manifest()

    def _full(self, name: str) -> str:
        return f"{self.path}/{name}"

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.fs.cat_file(self._full(self.MANIFEST)))
        except FileNotFoundError:
            return {}
        files = data.get("files", {}) if isinstance(data, dict) else {}
        return {k: v for k, v in files.items() if isinstance(v, dict)}

    def stored(self, name: str) -> Stored | None:
        """The manifest's record of ``name`` if the file is there and matches it (size, then hash)."""
        entry = self.entries.get(name)
        if entry is None:
            return None
        full = self._full(name)
        try:
            if self.fs.info(full).get("size") != entry.get("size"):
                return None
            data = self.fs.cat_file(full)
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            return None
        return Stored(name, int(entry["size"]), str(entry["sha256"]))

    def put(self, name: str, data: bytes, **facts: Any) -> Stored:
        """Write the file and record its size and hash in the manifest (a torn write fails the hash check)."""
        full = self._full(name)
        self.fs.makedirs(full.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(full, data)
        record = Stored(name, len(data), hashlib.sha256(data).hexdigest())
        self.entries[name] = {"size": record.size, "sha256": record.sha256, **facts}
        return record

    def note(self, name: str, **facts: Any) -> None:
        """Add facts to a stored file's manifest entry (e.g. that its order bounced since)."""
        if name in self.entries:
            self.entries[name].update(facts)

    def save(self, summary_markdown: str | None = None) -> None:
        """Write the manifest (and the summary) next to the files."""
        self.fs.makedirs(self.path, exist_ok=True)
        merged = {**self._read_manifest(), **self.entries}  # another writer's entries are kept
        self.entries = merged
        manifest = {"folder": self.url, "files": dict(sorted(merged.items()))}
        self.fs.pipe_file(self._full(self.MANIFEST), json.dumps(manifest, ensure_ascii=False, indent=2).encode())
        if summary_markdown is not None:
            self.fs.pipe_file(self._full("summary.md"), summary_markdown.encode())
