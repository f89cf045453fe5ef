"""What a ``domaug run`` left in OUTPUT, in a form two runs can be compared by (test helper)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def output_files(root: Path) -> dict[str, bytes]:
    """Every file under OUTPUT except run.json and the manifest, as rel path → bytes."""
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), root)
            if rel not in ("run.json", "manifest.jsonl"):
                found[rel] = Path(folder, name).read_bytes()
    return found


def manifest_lines(root: Path, drop_timing: bool = True) -> list[dict]:
    """Manifest records, by default without the timing field (the only one that may differ between runs)."""
    lines = []
    for line in (root / "manifest.jsonl").read_text().splitlines():
        record = json.loads(line)
        if drop_timing:
            record.pop("duration_ms", None)
        lines.append(record)
    return lines
