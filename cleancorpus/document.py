"""The one record type every reader, stage and writer speaks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

KEPT, DUPLICATE, EMPTY, ERROR = "kept", "duplicate", "empty", "error"


class DocumentError(Exception):
    """A problem with one document: it gets status ``error`` with this reason; the run goes on."""


@dataclass(slots=True)
class Document:
    id: str
    text: str | None = None
    raw: bytes | None = None  # original bytes, dropped once decoded
    group: str = ""  # source group for template-line detection (input dir or a JSONL field)
    path: str | None = None  # the input file, when the document is one (never overwritten)
    fields: dict[str, Any] = field(default_factory=dict)  # other JSONL fields, written back
    status: str = KEPT
    error: str | None = None
    encoding: str | None = None
    confidence: float | None = None
    duplicate_of: str | None = None
    cluster: str | None = None
    chars_in: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)  # per-run scratch (e.g. a dedup signature)

    @property
    def active(self) -> bool:
        """Stages only touch documents still in play."""
        return self.status == KEPT

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Documents cross process boundaries and are parked on disk between passes several
        # times a run: a plain tuple pickles in a third of the time of the dataclass's default.
        return Document, tuple(getattr(self, name) for name in _FIELDS)

    def fail(self, reason: str) -> Document:
        self.status, self.error, self.raw, self.text = ERROR, reason, None, None
        return self

    def manifest(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "encoding": self.encoding,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "duplicate_of": self.duplicate_of,
            "cluster": self.cluster,
            "error": self.error,
            "changes": dict(sorted(self.changes.items())),
            "chars_in": self.chars_in,
            "chars_out": len(self.text) if self.status == KEPT and self.text else 0,
        }


_FIELDS = tuple(f.name for f in fields(Document))
