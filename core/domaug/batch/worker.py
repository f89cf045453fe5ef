"""Read → augment → write one item; runs in worker processes (or in-process for ``serial``).

A worker receives the run *config* (the pipeline in its ``to_dict`` form, ``--plugin``
module names, the root seed, INPUT/OUTPUT) and one *task* (an item and the variants to
make). It reads and writes its own files and returns the manifest records; it never
touches the manifest. Every file is written under a temporary name in its final
folder, fsynced, hashed and renamed only when all files of the output are complete;
on failure the temporary files are removed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DomaugError, FormatError
from . import seeding
from .plan import TEMP_PREFIX

#: write errors that are OUTPUT's fault, not the file's: the run stops at the first one
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
#: redraws allowed by ``--max-distortion`` before an output is recorded as flagged
MAX_REDRAWS = 5

_state: dict[str, Any] = {}


def config_key(config: dict) -> str:
    """What :func:`init_worker` builds from: pipeline, plugin modules and the quality switch."""
    return json.dumps([config["pipeline_hash"], config.get("plugins", []), config.get("quality", True) is not False])


def init_worker(config: dict) -> None:
    """Load plugins and ``--plugin`` modules, rebuild the pipeline (idempotent per config)."""
    key = config_key(config)
    if _state.get("key") == key:
        return
    from ..plugins import load_plugin_module, load_plugins
    from ..serialize import as_pipeline, from_dict

    load_plugins()
    for module in config.get("plugins", []):
        load_plugin_module(module)
    _state["pipeline"] = as_pipeline(from_dict(config["pipeline"]))
    if config.get("quality", True) is False:
        _state["compare"] = None
    else:
        try:
            from . import quality_fast

            _state["compare"] = quality_fast.compare  # exact-PSNR, subsampled-SSIM estimate (cheap)
        except ImportError:
            _state["compare"] = None
    _state["key"] = key


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
        for d in {*dests, *written}:
            try:
                os.unlink(d)
            except OSError:
                pass
        for folder in {d.parent for d in dests}:  # sidecars the format did not report
            for stray in folder.glob(prefix + "*"):
                try:
                    os.unlink(stray)
                except OSError:
                    pass
        raise


def _provenance(config: dict, rel: str, variant: int, key: list, applied: list) -> dict:
    return {"domaug_version": config["domaug_version"], "pipeline_hash": config["pipeline_hash"],
            "root_seed": config["root_seed"], "seed_key": key, "input": rel, "variant": variant,
            "applied": applied}


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


def _windowed_variant(fmt, source, paths, rel, variant, out_rels, config) -> dict:
    from . import windowed

    key = seeding.seed_key(rel, variant)
    applied = windowed.draw_applied(_state["pipeline"], seeding.generator(config["root_seed"], key), source)
    provenance = _provenance(config, rel, variant, key, applied)

    def produce(dests):
        sink = fmt.create_windows(source, dests, sources=paths, provenance=provenance)
        try:
            windowed.apply_windows(source, sink, applied)
        except BaseException:
            sink.abort()
            raise
        return sink.close()

    files = write_output(fmt, produce, out_rels, Path(config["output"]))
    return {"seed_key": key, "applied": applied, "output_sha256": files[out_rels[0]], "files": files,
            "status": "ok", "ssim": None, "psnr": None, "windowed": True}


def _quality(compare, before: dict, after: dict) -> dict:
    """SSIM/PSNR of an output against its input (nulls when unavailable or not comparable)."""
    if compare is None:
        return {"ssim": None, "psnr": None}
    try:
        return dict(compare(before, after))
    except Exception:  # noqa: BLE001 - a metric failure must not fail the output
        return {"ssim": None, "psnr": None}


def _augment(sample: dict, rel: str, variant: int, config: dict) -> tuple[dict, list, dict]:
    """Run the pipeline, redrawing while SSIM < --max-distortion; returns (out, key, quality)."""
    from ..targets import validate_sample

    pipeline, compare = _state["pipeline"], _state["compare"]
    threshold = config.get("max_distortion")
    attempts = MAX_REDRAWS + 1 if threshold is not None else 1
    extra: dict[str, Any] = {}
    for attempt in range(attempts):
        key = seeding.seed_key(rel, variant, attempt)
        out = pipeline.run(validate_sample(sample), seeding.generator(config["root_seed"], key))
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


def process_item(task: dict, config: dict) -> list[dict]:
    """Make every requested variant of one item; one manifest record per output."""
    init_worker(config)
    from ..formats.registry import get_format

    input_root = Path(config["input"])
    rel = task["rel"]
    paths = [input_root / r for r in task["rels"]]
    start = time.perf_counter()
    base = {"input": rel, "format": task["format"]}
    if len(task["rels"]) > 1:
        base["inputs"] = list(task["rels"])
    source = None
    try:
        fmt = get_format(task["format"])
        source = _open_windowed(fmt, paths)
        sample = None if source is not None else fmt.read(paths)
        base["input_sha256"] = _sha256_files(paths)
    except Exception as exc:  # noqa: BLE001 - one broken file never stops the batch
        if source is not None:
            source.close()
        record = {**base, "variant": None, "output": None, "status": "failed",
                  "error": error_text(exc, input_root, paths[0]),
                  "duration_ms": round((time.perf_counter() - start) * 1000, 1)}
        if config.get("debug"):
            record["traceback"] = traceback.format_exc()
        return [record]
    read_ms = (time.perf_counter() - start) * 1000 / max(1, len(task["variants"]))
    records = []
    try:
        for variant in task["variants"]:
            t0 = time.perf_counter()
            out_rels = task["outputs"][str(variant)]
            record = {**base, "variant": variant, "output": out_rels[0]}
            if len(out_rels) > 1:
                record["outputs"] = list(out_rels)
            try:
                if source is not None:
                    record.update(_windowed_variant(fmt, source, paths, rel, variant, out_rels, config))
                else:
                    record.update(_variant(fmt, sample, paths, rel, variant, out_rels, config))
            except Exception as exc:  # noqa: BLE001
                record.update(status="failed", error=error_text(exc, input_root, paths[0]))
                if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
                    record["output_error"] = errno.errorcode.get(exc.errno, str(exc.errno))
                if config.get("debug"):
                    record["traceback"] = traceback.format_exc()
            record["duration_ms"] = round((time.perf_counter() - t0) * 1000 + read_ms, 1)
            records.append(record)
    finally:
        if source is not None:
            source.close()
    return records


def _variant(fmt, sample, paths, rel, variant, out_rels, config) -> dict:
    out, key, extra = _augment(sample, rel, variant, config)
    applied = out.pop("applied", [])
    provenance = _provenance(config, rel, variant, key, applied)
    files = write_output(fmt, lambda dests: fmt.write(out, dests, sources=paths, provenance=provenance),
                         out_rels, Path(config["output"]))
    return {"seed_key": key, "applied": applied, "output_sha256": files[out_rels[0]], "files": files,
            "status": "ok", **extra}
