"""``OUTPUT/run.json`` and ``OUTPUT/manifest.jsonl``: what was run, and one line per output.

The manifest is written by the parent process only: each record is appended as one
JSON line and flushed as soon as its worker returns, so a killed run leaves every
completed output recorded (a torn last line is ignored when reading). At the end of a
run the manifest is rewritten, atomically, with one line per ``(input, variant)``
(the latest record wins) sorted by input path then variant (a failed read, variant
``null``, first). Hence a run killed at any point and resumed with ``--resume`` ends
with the same lines as an uninterrupted run, except ``duration_ms``.

The engine writes :class:`~.records.ManifestRecord` objects; lines read back (``--resume``,
``domaug replay``) are untrusted JSON: they stay plain dicts here, checked key by key
(:func:`record_key`, :func:`still_valid`) and rewritten exactly as read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Iterable

from .records import ManifestRecord

MANIFEST = "manifest.jsonl"
RUN = "run.json"


def dumps(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False, default=str)


def record_key(record: dict) -> tuple[str, int]:
    variant = record.get("variant")
    return (str(record.get("input")), -1 if variant is None else int(variant))


def read(path: Path) -> list[dict]:
    """Every complete, valid JSON line of a manifest (torn or garbled lines are skipped)."""
    records = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return records
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "input" in record:
            records.append(record)
    return records


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # e.g. a full disk: the old file stays as it was, no stray temporary
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def rewrite(path: Path, records: Iterable[dict]) -> list[dict]:
    """Atomically replace the manifest with one sorted line per (input, variant)."""
    latest: dict[tuple[str, int], dict] = {}
    for record in records:
        latest[record_key(record)] = record
    ordered = [latest[k] for k in sorted(latest)]
    _atomic_write(Path(path), "".join(dumps(r) + "\n" for r in ordered))
    return ordered


class ManifestWriter:
    """Appends records line by line, flushed (crash-safe), from the parent process only."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file: IO[str] = open(self.path, "a", encoding="utf-8")

    def write(self, record: ManifestRecord) -> None:
        self._file.write(dumps(record.to_json()) + "\n")
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


def safe_rel(rel: object) -> bool:
    """A manifest path that can only name something inside its root: a non-empty relative
    POSIX path without ``..``, ``.`` or empty parts, backslashes, drive letters or control
    characters. Manifests are data a user may edit or receive: nothing else is trusted."""
    if not isinstance(rel, str) or not rel or len(rel) > 4096:
        return False
    if rel.startswith("/") or "\\" in rel or ":" in rel.split("/", 1)[0]:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in rel):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def still_valid(record: dict, output_root: Path, expected: list[str] | None = None) -> bool:
    """An ok record whose files are all on disk with the recorded sha256 (and, when
    ``expected`` is given, whose outputs are exactly the planned relative paths)."""
    from .worker import sha256_file

    if record.get("status") != "ok":
        return False
    files = record.get("files") or {}
    if not isinstance(files, dict) or not files:
        return False
    if not all(safe_rel(rel) for rel in files):
        return False
    if expected is not None:
        outs = record.get("outputs") or [record.get("output")]
        if list(outs) != list(expected) or not set(expected) <= set(files):
            return False
    for rel, digest in files.items():
        path = output_root / rel
        if not path.is_file() or sha256_file(path) != digest:
            return False
    return True


def write_run(output_root: Path, data: dict) -> None:
    _atomic_write(Path(output_root) / RUN, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_run(output_root: Path) -> dict | None:
    try:
        return json.loads((Path(output_root) / RUN).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
