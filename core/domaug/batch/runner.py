"""One ``domaug run``: check everything first, then plan, execute and record.

:func:`prepare` does every check that can fail before work starts (plugins, pipeline,
INPUT/OUTPUT, resume compatibility, the plan) and raises :class:`RunError` or another
``DomaugError`` (exit code 2). :func:`execute` then runs the job; failures of single
files are recorded, never raised.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from . import manifest, plan, seeding
from .executors import default_workers, get_executor
from .plan import TEMP_PREFIX, Item, RunError


#: bounds on numbers from the command line (checked before any allocation or work)
MAX_VARIANTS = 10_000
MAX_WORKERS = 1024


@dataclass
class RunOptions:
    pipeline: str
    input: str
    output: str
    variants: int | None = None
    seed: int | None = None
    workers: int | None = None
    executor: str = "process"
    scheduler: str | None = None
    resume: bool = False
    include: Sequence[str] = ()
    balance_classes: bool = False
    plugins: Sequence[str] = ()
    quiet: bool = False
    max_distortion: float | None = None
    debug: bool = False
    quality: bool = True
    argv: Sequence[str] = ()


@dataclass
class Job:
    options: RunOptions
    config: dict
    items: list[Item]
    skipped: list[tuple[str, str]]
    balance_rows: list[dict] | None
    workers: int
    previous: dict | None = None
    run_record: dict = field(default_factory=dict)


@dataclass
class Summary:
    files_ok: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    files_done_before: int = 0
    outputs_written: int = 0
    outputs_flagged: int = 0
    bytes_in: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def line(self) -> str:
        rate = (self.files_ok + self.files_failed) / self.seconds if self.seconds else 0.0
        mbs = self.bytes_in / 1e6 / self.seconds if self.seconds else 0.0
        resumed = f", {self.files_done_before} already done" if self.files_done_before else ""
        flagged = f", {self.outputs_flagged} flagged" if self.outputs_flagged else ""
        return (f"domaug run: {self.files_ok} files ok, {self.files_failed} failed, "
                f"{self.files_skipped} skipped{resumed}; {self.outputs_written} outputs written{flagged} "
                f"in {self.seconds:.1f} s ({rate:.1f} files/s, {mbs:.1f} MB/s)")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`execute`: running files were finished and recorded, the
    manifest rewritten and run.json marked ``interrupted``; ``--resume`` continues."""

    def __init__(self, summary: "Summary"):
        super().__init__("interrupted")
        self.summary = summary


def _inside(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


def _load_pipeline(options: RunOptions) -> tuple[Any, dict, str]:
    from ..serialize import as_pipeline, from_dict, load, pipeline_hash, to_dict

    path = Path(options.pipeline)
    if not path.is_file():
        raise RunError(f"{options.pipeline}: pipeline file not found")
    pipeline = as_pipeline(load(path))
    data = to_dict(pipeline)  # fails here if a transform is not registered
    from_dict(data)  # the form workers rebuild must be valid too
    return pipeline, data, pipeline_hash(pipeline)


def prepare(options: RunOptions) -> Job:
    """Every check before work starts; raises RunError / DomaugError (exit code 2)."""
    from .. import __version__
    from ..plugins import distributions, load_plugin_module, load_plugins

    load_plugins()
    for module in options.plugins:
        load_plugin_module(module)
    _pipeline, data, digest = _load_pipeline(options)
    source, dest = Path(options.input), Path(options.output)
    if not source.is_dir():
        raise RunError(f"{options.input}: INPUT folder not found" if not source.exists()
                       else f"{options.input}: INPUT must be a folder")
    source, dest = source.resolve(), dest.resolve()
    if _inside(dest, source):
        raise RunError(f"{options.output}: OUTPUT is inside INPUT ({options.input}); "
                       "domaug never writes inside INPUT, choose another folder")
    if _inside(source, dest):
        raise RunError(f"{options.output}: OUTPUT contains INPUT; choose a folder outside {options.input}")
    if dest.exists() and not dest.is_dir():
        raise RunError(f"{options.output}: OUTPUT exists and is not a folder")
    previous = manifest.read_run(dest) if dest.is_dir() else None
    has_manifest = (dest / manifest.MANIFEST).exists()
    if (previous or has_manifest) and not options.resume:
        raise RunError(f"{options.output}: OUTPUT already holds a run (run.json/manifest.jsonl); "
                       "use --resume to continue it, or choose an empty folder")
    seed = options.seed
    if options.resume and previous:
        if previous.get("pipeline_hash") != digest:
            raise RunError(f"--resume: the pipeline differs from the one of the run in {options.output} "
                           f"(hash {previous.get('pipeline_hash', '?')[:12]} vs {digest[:12]})")
        if seed is not None and seed != previous.get("root_seed"):
            raise RunError(f"--resume: --seed {seed} differs from the run's seed {previous.get('root_seed')}")
        seed = previous.get("root_seed")
        if options.variants is None and not options.balance_classes:
            options.variants = previous.get("variants")
            options.balance_classes = bool(previous.get("balance_classes"))
        if not options.include:
            options.include = tuple(previous.get("include") or ())
    if seed is None:
        seed = seeding.fresh_root_seed()
    if options.max_distortion is not None:
        if not options.quality:
            raise RunError("--max-distortion needs the quality metrics; it cannot be used with --no-quality")
        if not 0 < options.max_distortion <= 1:
            raise RunError(f"--max-distortion must be an SSIM in (0, 1], got {options.max_distortion}")
        try:
            from .. import quality  # noqa: F401
        except ImportError:
            raise RunError("--max-distortion needs domaug.quality (SSIM), which is not available") from None
    if options.executor == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise RunError("--executor dask needs dask.distributed; install the extra: "
                           "pip install 'domaug[dask]'") from None
    get_executor(options.executor)
    if options.scheduler and options.executor != "dask":
        raise RunError("--scheduler is only used with --executor dask")
    workers = 1 if options.executor == "serial" else (options.workers or default_workers())
    if workers < 1:
        raise RunError(f"--workers must be at least 1, got {workers}")
    variants = options.variants if options.variants is not None else (0 if options.balance_classes else 1)
    if variants < 0:
        raise RunError(f"--variants must be >= 0, got {variants}")
    if variants > MAX_VARIANTS:
        raise RunError(f"--variants {variants} is above the limit of {MAX_VARIANTS} variants per file")
    if workers > MAX_WORKERS:
        raise RunError(f"--workers {workers} is above the limit of {MAX_WORKERS} worker processes")
    items, skipped = plan.plan(source, options.include, variants)
    rows = plan.balance(items, variants) if options.balance_classes else None
    config = {
        "pipeline": data, "pipeline_hash": digest, "plugins": list(options.plugins), "root_seed": int(seed),
        "input": str(source), "output": str(dest), "max_distortion": options.max_distortion,
        "debug": options.debug, "domaug_version": __version__, "quality": bool(options.quality),
    }
    import numpy

    record = {
        "domaug_version": __version__, "plugins": distributions(), "plugin_modules": list(options.plugins),
        "python": platform.python_version(), "numpy": numpy.__version__, "platform": platform.platform(),
        "argv": list(options.argv), "pipeline": data, "pipeline_hash": digest, "root_seed": int(seed),
        "input": str(source), "output": str(dest), "executor": options.executor, "workers": workers,
        "scheduler": options.scheduler, "variants": variants, "include": list(options.include),
        "balance_classes": bool(options.balance_classes), "max_distortion": options.max_distortion,
    }
    return Job(options, config, items, skipped, rows, workers, previous, record)


def _clean_temporaries(dest: Path) -> None:
    for folder, dirs, files in os.walk(dest):
        for name in files:
            if name.startswith(TEMP_PREFIX):
                try:
                    os.unlink(os.path.join(folder, name))
                except OSError:
                    pass


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _tasks(job: Job, done: set[tuple[str, int]]) -> tuple[list[dict], int]:
    tasks, already = [], 0
    for item in job.items:
        todo = [k for k in item.variants if (item.rel, k) not in done]
        if not todo:
            if item.variants:
                already += 1
            continue
        outputs = {str(k): plan.output_rels(item, k) for k in todo}
        tasks.append({"rel": item.rel, "rels": item.rels, "format": item.format, "variants": todo,
                      "outputs": outputs, "size": item.size})
    return tasks, already


def execute(job: Job, echo: Callable[[str], None] = print, progress: bool = True) -> Summary:
    """Run a prepared job; returns the summary (failures included, never raised)."""
    dest = Path(job.config["output"])
    dest.mkdir(parents=True, exist_ok=True)
    _clean_temporaries(dest)
    manifest_path = dest / manifest.MANIFEST
    kept: list[dict] = []
    planned = {(it.rel, k): it for it in job.items for k in it.variants}
    if job.options.resume:
        # a record is trusted only for a planned (input, variant) whose outputs are the
        # planned paths, on disk with the recorded sha256: an edited or crafted manifest
        # cannot redirect, skip or alias outputs (everything written is derived from INPUT)
        kept = []
        for r in manifest.read(manifest_path):
            try:
                key = manifest.record_key(r)
            except (TypeError, ValueError):
                continue
            item = planned.get(key)
            if item is not None and manifest.still_valid(r, dest, plan.output_rels(item, key[1])):
                kept.append(r)
        manifest.rewrite(manifest_path, kept)
    done = {manifest.record_key(r) for r in kept}
    tasks, already = _tasks(job, done)
    summary = Summary(files_skipped=len(job.skipped), files_done_before=already)
    run = dict(job.run_record, started=_now(), finished=None, status="running")
    manifest.write_run(dest, run)
    for task in tasks:
        for rels in task["outputs"].values():
            for rel in rels:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
    writer = manifest.ManifestWriter(manifest_path)
    bar = None
    if progress and not job.options.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="file", file=sys.stderr, dynamic_ncols=True)
    start = time.perf_counter()
    executor = get_executor(job.options.executor)
    interrupted = False

    def record_task(task: dict, records: list[dict]) -> None:
        failed = False
        for record in records:
            writer.write(record)
            if record["status"] == "ok":
                summary.outputs_written += 1
                summary.outputs_flagged += bool(record.get("flagged"))
            else:
                failed = True
                summary.failures.append((record["input"], record.get("error", "failed")))
                if job.options.debug and record.get("traceback"):
                    echo(record["traceback"])
        summary.files_failed += failed
        summary.files_ok += not failed
        summary.bytes_in += task["size"]
        if bar is not None:
            bar.update(1)

    stream = executor(tasks, job.config, job.workers, job.options.scheduler)
    full = None
    try:
        for task, records in stream:
            record_task(task, records)
            full = next((r for r in records if r.get("output_error")), None)
            if full is not None:  # OUTPUT full / read-only: every further file would fail too
                stream.close()
                break
    except KeyboardInterrupt:
        interrupted = True
        # Ctrl-C while recording (not inside the executor): let the executor drain too, so
        # files still being processed are finished and recorded, not left unrecorded
        try:
            item = stream.throw(KeyboardInterrupt())
            while True:
                record_task(*item)
                item = next(stream)
        except (KeyboardInterrupt, StopIteration):
            pass
    finally:
        if bar is not None:
            bar.close()
        writer.close()
        summary.seconds = time.perf_counter() - start
    try:
        manifest.rewrite(manifest_path, manifest.read(manifest_path))
    except OSError:
        if full is None:
            raise
        # OUTPUT is full: the appended manifest stays valid (unsorted); --resume sorts it
    _clean_temporaries(dest)  # left by a worker that died mid-write
    if interrupted:
        run.update(finished=_now(), status="interrupted")
        manifest.write_run(dest, run)
        raise Interrupted(summary)
    if full is not None:
        run.update(finished=_now(), status="stopped", stop_reason=full["error"])
        manifest.write_run(dest, run)
        raise RunError(f"{job.options.output}: cannot write OUTPUT ({full['error']}, at {full['input']}); "
                       f"stopped after {summary.outputs_written} outputs; make room and continue with --resume")
    run.update(finished=_now(), status="complete", counts={
        "files_ok": summary.files_ok, "files_failed": summary.files_failed, "files_skipped": summary.files_skipped,
        "files_done_before": summary.files_done_before, "outputs_written": summary.outputs_written,
        "outputs_flagged": summary.outputs_flagged, "skipped": [f"{r}: {why}" for r, why in job.skipped]})
    manifest.write_run(dest, run)
    return summary
