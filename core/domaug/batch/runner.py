"""One ``domaug run``: check everything first, then plan, execute and record.

:func:`prepare` (:mod:`.preflight`) does every check that can fail before work starts
(plugins, pipeline, INPUT/OUTPUT, resume compatibility, the plan) and raises
:class:`RunError` or another ``DomaugError`` (exit code 2). :func:`execute` then runs the
job; failures of single files are recorded, never raised.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from . import manifest, plan
from .executors import get_executor
from .plan import TEMP_PREFIX, RunError
from .preflight import MAX_VARIANTS, MAX_WORKERS, Job, RunOptions, prepare
from .records import ManifestRecord, Task

__all__ = ["MAX_VARIANTS", "MAX_WORKERS", "Interrupted", "Job", "RunOptions", "Summary", "execute", "prepare"]


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

    def counts(self, skipped: list[tuple[str, str]]) -> dict:
        """The ``counts`` of a complete run's run.json."""
        return {"files_ok": self.files_ok, "files_failed": self.files_failed, "files_skipped": self.files_skipped,
                "files_done_before": self.files_done_before, "outputs_written": self.outputs_written,
                "outputs_flagged": self.outputs_flagged, "skipped": [f"{r}: {why}" for r, why in skipped]}

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


def _resumable(job: Job, manifest_path: Path, dest: Path) -> set[tuple[str, int]]:
    """Keep (and rewrite the manifest with) the records still valid; their (input, variant) keys.

    A record is trusted only for a planned (input, variant) whose outputs are the planned
    paths, on disk with the recorded sha256: an edited or crafted manifest cannot redirect,
    skip or alias outputs (everything written is derived from INPUT). The lines are kept as
    read (plain JSON), so the rewrite changes nothing in them.
    """
    planned = {(it.rel, k): it for it in job.items for k in it.variants}
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
    return {manifest.record_key(r) for r in kept}


def _tasks(job: Job, done: set[tuple[str, int]]) -> tuple[list[Task], int]:
    """The tasks still to do, and how many items were complete already."""
    tasks, already = [], 0
    for item in job.items:
        todo = [k for k in item.variants if (item.rel, k) not in done]
        if not todo:
            if item.variants:
                already += 1
            continue
        outputs = {k: tuple(plan.output_rels(item, k)) for k in todo}
        tasks.append(Task(item.rel, tuple(item.rels), item.format, outputs, item.size))
    return tasks, already


def _make_folders(dest: Path, tasks: list[Task]) -> None:
    """Every output folder, made once by the parent (workers only write files)."""
    for task in tasks:
        for rels in task.outputs.values():
            for rel in rels:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)


class _Recorder:
    """Appends each finished task's records to the manifest and counts them (summary, progress bar)."""

    def __init__(self, job: Job, manifest_path: Path, summary: Summary, echo: Callable[[str], None],
                 progress: bool, total: int):
        self.summary, self.echo, self.debug = summary, echo, job.options.debug
        self.writer = manifest.ManifestWriter(manifest_path)
        self.recorded: set[str] = set()  # an executor draining after Ctrl-C may yield a task twice
        self.bar = None
        if progress and not job.options.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True)

    def record(self, task: Task, records: list[ManifestRecord]) -> None:
        if task.rel in self.recorded:
            return
        self.recorded.add(task.rel)
        failed = False
        for record in records:
            self.writer.write(record)
            if record.ok:
                self.summary.outputs_written += 1
                self.summary.outputs_flagged += bool(record.flagged)
            else:
                failed = True
                self.summary.failures.append((record.input, "failed" if record.error is None else record.error))
                if self.debug and record.traceback:
                    self.echo(record.traceback)
        self.summary.files_failed += failed
        self.summary.files_ok += not failed
        self.summary.bytes_in += task.size
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.writer.close()


@contextmanager
def _whole(recorder: _Recorder) -> Iterator[_Recorder]:
    """Ctrl-C while one task's records are written takes effect after its last one, so that
    no output already renamed into place is left out of the manifest (one task = all its
    variants). Main thread only (where Python delivers signals); elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield recorder
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield recorder
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt here


def _consume(stream, recorder: _Recorder) -> tuple[bool, ManifestRecord | None]:
    """Record every result of the executor; (interrupted by Ctrl-C?, the record that found OUTPUT full)."""
    full = None
    try:
        for task, records in stream:
            with _whole(recorder):
                recorder.record(task, records)
            full = next((r for r in records if r.output_error), None)
            if full is not None:  # OUTPUT full / read-only: every further file would fail too
                stream.close()
                break
    except KeyboardInterrupt:
        # Ctrl-C while recording (not inside the executor): let the executor drain too, so
        # files still being processed are finished and recorded, not left unrecorded
        try:
            item = stream.throw(KeyboardInterrupt())
            while True:
                with _whole(recorder):
                    recorder.record(*item)
                item = next(stream)
        except (KeyboardInterrupt, StopIteration):
            pass
        return True, full
    return False, full


def _sort_manifest(manifest_path: Path, full: ManifestRecord | None) -> None:
    """Rewrite the manifest sorted, one line per output (skipped when OUTPUT is full)."""
    try:
        manifest.rewrite(manifest_path, manifest.read(manifest_path))
    except OSError:
        if full is None:
            raise
        # OUTPUT is full: the appended manifest stays valid (unsorted); --resume sorts it


def _finish_run(job: Job, dest: Path, run: dict, summary: Summary, interrupted: bool,
                full: ManifestRecord | None) -> None:
    """Mark run.json interrupted (raises Interrupted), stopped (raises RunError) or complete."""
    if interrupted:
        run.update(finished=_now(), status="interrupted")
        manifest.write_run(dest, run)
        raise Interrupted(summary)
    if full is not None:
        run.update(finished=_now(), status="stopped", stop_reason=full.error)
        manifest.write_run(dest, run)
        raise RunError(f"{job.options.output}: cannot write OUTPUT ({full.error}, at {full.input}); "
                       f"stopped after {summary.outputs_written} outputs; make room and continue with --resume")
    run.update(finished=_now(), status="complete", counts=summary.counts(job.skipped))
    manifest.write_run(dest, run)


def execute(job: Job, echo: Callable[[str], None] = print, progress: bool = True) -> Summary:
    """Run a prepared job; returns the summary (failures included, never raised)."""
    dest = Path(job.config.output)
    dest.mkdir(parents=True, exist_ok=True)
    _clean_temporaries(dest)
    manifest_path = dest / manifest.MANIFEST
    done = _resumable(job, manifest_path, dest) if job.options.resume else set()
    tasks, already = _tasks(job, done)
    summary = Summary(files_skipped=len(job.skipped), files_done_before=already)
    run = dict(job.run_record, started=_now(), finished=None, status="running")
    manifest.write_run(dest, run)
    _make_folders(dest, tasks)
    recorder = _Recorder(job, manifest_path, summary, echo, progress, len(tasks))
    start = time.perf_counter()
    stream = get_executor(job.options.executor)(tasks, job.config, job.workers, job.options.scheduler)
    try:
        interrupted, full = _consume(stream, recorder)
    finally:
        recorder.close()
        summary.seconds = time.perf_counter() - start
    _sort_manifest(manifest_path, full)
    _clean_temporaries(dest)  # left by a worker that died mid-write
    _finish_run(job, dest, run, summary, interrupted, full)
    return summary
