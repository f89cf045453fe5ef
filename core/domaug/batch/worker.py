"""Read → augment → write one item; runs in worker processes (or in-process for ``serial``).

A worker receives the :class:`~.records.RunConfig` (the pipeline in its ``to_dict`` form,
``--plugin`` module names, the root seed, INPUT/OUTPUT) and one :class:`~.records.Task`
(an item and the variants to make). It reads and writes its own files and returns one
:class:`~.records.ManifestRecord` per output; it never touches the manifest. Every file is written under a temporary name in its final
folder, fsynced, hashed and renamed only when all files of the output are complete;
on failure the temporary files are removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DomaugError, FormatError
from . import seeding
from .plan import TEMP_PREFIX
from .records import ManifestRecord, RunConfig, Task, provenance

#: write errors that are OUTPUT's fault, not the file's: the run stops at the first one
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
#: redraws allowed by ``--max-distortion`` before an output is recorded as flagged
MAX_REDRAWS = 5

_state: dict[str, Any] = {}


def init_worker(config: RunConfig) -> None:
    """Load plugins and ``--plugin`` modules, rebuild the pipeline (idempotent per config)."""
    if _state.get("key") == config.worker_key:
        return
    from ..plugins import load_plugin_module, load_plugins
    from ..serialize import as_pipeline, from_dict

    load_plugins()
    for module in config.plugins:
        load_plugin_module(module)
    _state["pipeline"] = as_pipeline(from_dict(config.pipeline))
    _state["compare"] = _quality_metric(config)
    _state["key"] = config.worker_key


def _quality_metric(config: RunConfig):
    """The SSIM/PSNR function recorded per output, or None (``--no-quality``, or unavailable)."""
    if not config.quality:
        return None
    try:
        from . import quality_fast
    except ImportError:
        return None
    return quality_fast.compare  # exact-PSNR, subsampled-SSIM estimate (cheap)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sha256_files(paths: list[Path]) -> str:
    if len(paths) == 1:
        return sha256_file(paths[0])
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def error_text(exc: BaseException, input_root: Path, item_path: Path) -> str:
    """One line: a FormatError's reason (naming a sidecar when it is the culprit), else the message."""
    if isinstance(exc, FormatError):
        culprit = Path(exc.path)
        if culprit != item_path and culprit.is_absolute():
            try:
                return f"{culprit.relative_to(input_root).as_posix()}: {exc.reason}"
            except ValueError:
                return f"{culprit}: {exc.reason}"
        return exc.reason
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, DomaugError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _commit(written: list[Path], prefix: str, output_root: Path) -> dict[str, str]:
    """fsync, hash and rename temporary files into place; returns final rel path → sha256."""
    hashes: dict[str, str] = {}
    finals = []
    for tmp in written:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        final = tmp.with_name(tmp.name[len(prefix):])
        hashes[final.relative_to(output_root).as_posix()] = sha256_file(tmp)
        finals.append((tmp, final))
    for tmp, final in sorted(finals, key=lambda pair: -len(pair[1].name)):  # sidecars before main
        os.replace(tmp, final)
    return dict(sorted(hashes.items()))


def write_output(fmt, produce, out_rels: list[str], output_root: Path) -> dict[str, str]:
    """Write one output atomically: ``produce(temporary dests)`` returns the files it wrote."""
    prefix = f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(3)}."
    dests = [output_root / Path(rel).parent / (prefix + Path(rel).name) for rel in out_rels]
    for d in dests:
        d.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        written = [Path(p) for p in produce(dests)]
        for p in written:
            if not p.name.startswith(prefix):
                raise FormatError(p, f"format {fmt.name!r} wrote a file without the engine's temporary prefix")
        return _commit(written, prefix, output_root)
    except BaseException:
        _remove_temporaries(prefix, dests, written)
        raise


def _remove_temporaries(prefix: str, dests: list[Path], written: list[Path]) -> None:
    """Remove every temporary file of a failed output, including sidecars the format did not report."""
    for d in {*dests, *written}:
        try:
            os.unlink(d)
        except OSError:
            pass
    for folder in {d.parent for d in dests}:
        for stray in folder.glob(prefix + "*"):
            try:
                os.unlink(stray)
            except OSError:
                pass


def _provenance(config: RunConfig, record: ManifestRecord, key: list, applied: list) -> dict:
    return provenance(config.domaug_version, config.pipeline_hash, config.root_seed, key, record.input,
                      record.variant, applied)


@dataclass
class _Input:
    """One item as read: its format, paths, and either the whole sample or a windowed source."""

    fmt: Any
    paths: list[Path]
    sample: dict | None = None
    source: Any = None  # a WindowedSource when the item is processed tile by tile


def _open_windowed(fmt, paths: list[Path]):
    """The format's windowed source when this item should be processed tile by tile, else None."""
    from . import windowed

    if not windowed.wants_windows(fmt, _state["pipeline"]):
        return None
    source = fmt.open_windows(paths)
    if source is None:  # the format declined (e.g. sidecars, an unsupported layout)
        return None
    shape = tuple(source.shape)
    if int(np.prod(shape[:2], dtype=np.float64)) <= windowed.window_pixels():
        source.close()
        return None
    return source


def _windowed_variant(item: _Input, record: ManifestRecord, config: RunConfig) -> ManifestRecord:
    from . import windowed

    key = seeding.seed_key(record.input, record.variant)
    applied = windowed.draw_applied(_state["pipeline"], seeding.generator(config.root_seed, key), item.source)
    made_by = _provenance(config, record, key, applied)

    def produce(dests):
        sink = item.fmt.create_windows(item.source, dests, sources=item.paths, provenance=made_by)
        try:
            windowed.apply_windows(item.source, sink, applied)
        except BaseException:
            sink.abort()
            raise
        return sink.close()

    files = write_output(item.fmt, produce, record.output_rels, Path(config.output))
    return record.written(key, applied, files, ssim=None, psnr=None, windowed=True)


def _quality(compare, before: dict, after: dict) -> dict:
    """SSIM/PSNR of an output against its input (nulls when unavailable or not comparable)."""
    if compare is None:
        return {"ssim": None, "psnr": None}
    try:
        return dict(compare(before, after))
    except Exception:  # noqa: BLE001 - a metric failure must not fail the output
        return {"ssim": None, "psnr": None}


def _augment(sample: dict, rel: str, variant: int, config: RunConfig) -> tuple[dict, list, dict]:
    """Run the pipeline, redrawing while SSIM < --max-distortion; returns (out, key, record fields:
    ssim, psnr, and with --max-distortion flagged, attempts)."""
    from ..targets import validate_sample

    pipeline, compare = _state["pipeline"], _state["compare"]
    threshold = config.max_distortion
    attempts = MAX_REDRAWS + 1 if threshold is not None else 1
    extra: dict[str, Any] = {}
    for attempt in range(attempts):
        key = seeding.seed_key(rel, variant, attempt)
        out = pipeline.run(validate_sample(sample), seeding.generator(config.root_seed, key))
        quality = _quality(compare, sample, out)
        extra = dict(quality)
        if threshold is None or quality.get("ssim") is None or quality["ssim"] >= threshold:
            if threshold is not None:
                extra["flagged"] = False
            break
    else:
        extra["flagged"] = True
    if attempt:
        extra["attempts"] = attempt + 1
    return out, key, extra


def _variant(item: _Input, record: ManifestRecord, config: RunConfig) -> ManifestRecord:
    out, key, extra = _augment(item.sample, record.input, record.variant, config)
    applied = out.pop("applied", [])
    made_by = _provenance(config, record, key, applied)
    files = write_output(item.fmt, lambda dests: item.fmt.write(out, dests, sources=item.paths, provenance=made_by),
                         record.output_rels, Path(config.output))
    return record.written(key, applied, files, **extra)


def _read(task: Task, paths: list[Path]) -> tuple[_Input, str]:
    """The item read (whole, or opened for windows) and the sha256 of its files."""
    from ..formats.registry import get_format

    item = _Input(get_format(task.format), paths)
    item.source = _open_windowed(item.fmt, paths)
    try:
        if item.source is None:
            item.sample = item.fmt.read(paths)
        return item, _sha256_files(paths)
    except BaseException:
        if item.source is not None:
            item.source.close()
        raise


def _failure_extra(exc: BaseException, config: RunConfig) -> dict:
    """``output_error`` when OUTPUT itself failed (full, read-only), ``traceback`` with --debug."""
    extra = {}
    if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
        extra["output_error"] = errno.errorcode.get(exc.errno, str(exc.errno))
    if config.debug:
        extra["traceback"] = traceback.format_exc()
    return extra


def _one_variant(item: _Input, record: ManifestRecord, config: RunConfig, read_ms: float) -> ManifestRecord:
    """Make one output; its record (failed with the reason when anything went wrong)."""
    t0 = time.perf_counter()
    try:
        if item.source is not None:
            record = _windowed_variant(item, record, config)
        else:
            record = _variant(item, record, config)
    except Exception as exc:  # noqa: BLE001 - one broken output never stops the batch
        record = record.failed(error_text(exc, Path(config.input), item.paths[0]), **_failure_extra(exc, config))
    return replace(record, duration_ms=round((time.perf_counter() - t0) * 1000 + read_ms, 1))


def process_item(task: Task, config: RunConfig) -> list[ManifestRecord]:
    """Make every requested variant of one item; one manifest record per output."""
    init_worker(config)
    input_root = Path(config.input)
    paths = [input_root / r for r in task.rels]
    start = time.perf_counter()
    base = ManifestRecord(task.rel, task.format, inputs=list(task.rels) if len(task.rels) > 1 else None)
    try:
        item, digest = _read(task, paths)
    except Exception as exc:  # noqa: BLE001 - one broken file never stops the batch
        extra = {"traceback": traceback.format_exc()} if config.debug else {}
        return [base.failed(error_text(exc, input_root, paths[0]),
                            duration_ms=round((time.perf_counter() - start) * 1000, 1), **extra)]
    base = replace(base, input_sha256=digest)
    read_ms = (time.perf_counter() - start) * 1000 / max(1, len(task.variants))
    try:
        return [_one_variant(item, replace(base, variant=variant, output=rels[0],
                                           outputs=list(rels) if len(rels) > 1 else None), config, read_ms)
                for variant, rels in task.outputs.items()]
    finally:
        if item.source is not None:
            item.source.close()
