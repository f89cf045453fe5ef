"""Regenerate outputs from a manifest's recorded parameters and check them byte for byte.

For each ``ok`` line: read the input again (INPUT from ``run.json``, or ``input_root``),
apply the recorded ``applied`` list with :func:`domaug.replay` (no randomness), write
it with the same format and provenance into a scratch folder, and compare the sha256
of every file with the manifest. Nothing in OUTPUT or INPUT is touched.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import manifest
from .plan import RunError
from .records import ManifestRecord, provenance
from .worker import error_text, sha256_file


@dataclass
class ReplayResult:
    line: int
    output: str
    ok: bool
    detail: str = ""


def load_records(manifest_path: Path, line: int | None) -> tuple[dict, list[tuple[int, ManifestRecord]]]:
    """run.json and the ``(line number, record)`` pairs to replay (1-based lines)."""
    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise RunError(f"{manifest_path}: manifest not found")
    run = manifest.read_run(manifest_path.parent)
    if run is None:
        raise RunError(f"{manifest_path.parent / manifest.RUN}: run.json not found beside the manifest")
    records = [(n, ManifestRecord.from_json(r)) for n, r in enumerate(manifest.read(manifest_path), start=1)]
    if line is not None:
        if not 1 <= line <= len(records):
            raise RunError(f"--line {line}: the manifest has {len(records)} lines")
        records = [records[line - 1]]
        if not records[0][1].ok:
            raise RunError(f"--line {line}: that output failed in the run ({records[0][1].error}), "
                           "nothing to replay")
    return run, [(n, r) for n, r in records if r.ok]


def _unsafe_path(record: ManifestRecord) -> str | None:
    """The first path of the record that could name something outside its root (None if all are safe).

    Never read or write outside INPUT / the scratch folder for a crafted line."""
    files = record.files
    paths = [*record.input_rels, *record.output_rels, *(files if isinstance(files, dict) else [None])]
    return next((repr(r) for r in paths if not manifest.safe_rel(r)), None)


def _regenerate(fmt, record: ManifestRecord, paths: list[Path], dests: list[Path], made_by: dict) -> list:
    """Write the output again from the recorded parameters; the files written."""
    from ..replay import replay

    if record.windowed:
        return _replay_windowed(fmt, paths, dests, record.applied, made_by)
    out = replay(record.applied, **fmt.read(paths))
    out.pop("applied", None)
    return fmt.write(out, dests, sources=paths, provenance=made_by)


def _compare(written: list, scratch: Path, expected: dict) -> tuple[bool, str]:
    """The regenerated files against the recorded ones: (identical?, detail)."""
    got = {Path(p).relative_to(scratch).as_posix(): sha256_file(Path(p)) for p in written}
    if set(got) != set(expected):
        return False, f"files differ: recorded {sorted(expected)}, regenerated {sorted(got)}"
    bad = [rel for rel in expected if got[rel] != expected[rel]]
    if bad:
        return False, "bytes differ: " + ", ".join(bad)
    return True, ""


def replay_record(record: ManifestRecord, run: dict, input_root: Path, scratch: Path) -> tuple[bool, str]:
    """Regenerate one output into ``scratch``; (identical?, detail)."""
    from ..formats.registry import get_format

    unsafe = _unsafe_path(record)
    if unsafe is not None:
        return False, f"refused: unsafe path in the manifest: {unsafe}"
    try:
        fmt = get_format(str(record.format))
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot regenerate: {exc}"
    paths = [input_root / r for r in record.input_rels]
    made_by = provenance(run["domaug_version"], run["pipeline_hash"], run["root_seed"], record.seed_key,
                         record.input, record.variant, record.applied)
    dests = [scratch / o for o in record.output_rels]
    for d in dests:
        d.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = _regenerate(fmt, record, paths, dests, made_by)
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot regenerate: {error_text(exc, input_root, paths[0])}"
    return _compare(written, scratch, record.files)


def _replay_windowed(fmt, paths, dests, applied, provenance) -> list:
    """Regenerate an output made tile by tile the same way (the file layout may differ otherwise)."""
    from . import windowed

    source = fmt.open_windows(paths)
    try:
        sink = fmt.create_windows(source, dests, sources=paths, provenance=provenance)
        try:
            windowed.apply_windows(source, sink, applied)
        except BaseException:
            sink.abort()
            raise
        return sink.close()
    finally:
        source.close()


def version_changes(run: dict) -> list[str]:
    """``"name: recorded → now"`` for domaug and each plugin whose version differs from the run's.

    A transform may change its algorithm between versions (same physics, other draws from
    the same seed), so outputs of another version need not replay to the same bytes.
    """
    from .. import __version__
    from ..plugins import distributions

    changes = []
    if run.get("domaug_version") and run["domaug_version"] != __version__:
        changes.append(f"domaug {run['domaug_version']} → {__version__}")
    now = distributions()
    for name, label in sorted((run.get("plugins") or {}).items()):
        current = now.get(name)
        if current is not None and current != label:
            changes.append(f"{label} → {current.rpartition(' ')[2] or current}")
    return changes


def replay_manifest(manifest_path: Path, line: int | None = None, input_root: Path | None = None,
                    plugins: tuple[str, ...] | list[str] = ()):
    """Yield a :class:`ReplayResult` per replayed output.

    Only installed plugins and the ``plugins`` modules given here are loaded: module
    names recorded in run.json (``--plugin`` of the run) are never imported from the
    file, so a manifest/run.json received from elsewhere cannot make replay import code.
    """
    from ..plugins import load_plugin_module, load_plugins

    run, records = load_records(manifest_path, line)
    load_plugins()
    for module in plugins:
        load_plugin_module(module)
    missing = [m for m in run.get("plugin_modules", []) if m not in plugins]
    if missing and not plugins:
        import sys

        print(f"note: the run used --plugin {' '.join(missing)}; pass the same --plugin to replay its "
              "transforms (modules named in run.json are not imported)", file=sys.stderr)
    root = Path(input_root or run["input"])
    if not root.is_dir():
        raise RunError(f"{root}: INPUT folder of the run not found (pass --input)")
    with tempfile.TemporaryDirectory(prefix="domaug-replay-") as tmp:
        for n, record in records:
            scratch = Path(tmp) / str(n)
            ok, detail = replay_record(record, run, root, scratch)
            yield ReplayResult(n, record.output if manifest.safe_rel(record.output) else repr(record.output),
                               ok, detail)
