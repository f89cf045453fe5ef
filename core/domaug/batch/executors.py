"""Executors: ``serial`` (in-process), ``process`` (default) and ``dask`` (optional extra).

Each is a generator ``run(tasks, config, workers, scheduler)`` yielding
``(task, records)`` (a :class:`~.records.Task` and its :class:`~.records.ManifestRecord`
list) as tasks complete. Workers get the :class:`~.records.RunConfig` (pipeline dict,
``--plugin`` modules) and rebuild everything themselves, so the outputs are the
same on every executor. Outputs are written by the workers directly into OUTPUT: with
a remote Dask cluster, INPUT and OUTPUT must be on a filesystem shared by all workers.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any, Callable, Iterator

from .plan import RunError
from .records import ManifestRecord, RunConfig, Task
from .worker import init_worker, process_item

EXECUTORS = ("process", "serial", "dask")
#: tasks queued per worker (bounded memory for millions of files, quick Ctrl-C)
IN_FLIGHT = 4
#: at most this many items per Dask task
DASK_CHUNK = 8
#: dask settings for the LocalCluster we start (a user's own DASK_* environment wins)
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.multiprocessing-method": "fork" if sys.platform.startswith("linux") else None,
    "distributed.worker.profile.enabled": False,
    "distributed.worker.profile.interval": "1s",
    "distributed.worker.profile.cycle": "10s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "2s",
}


def _local_cluster_config() -> dict:
    def env_name(key: str) -> str:
        return "DASK_" + key.upper().replace(".", "__").replace("-", "_")

    return {k: v for k, v in LOCAL_CLUSTER_CONFIG.items() if v is not None and env_name(k) not in os.environ}


def default_workers() -> int:
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return max(1, count or 1)


def _failed(task: Task, error: str) -> list[ManifestRecord]:
    return [ManifestRecord(task.rel, task.format, error=error)]


def _crashed(task: Task, exc: BaseException) -> list[ManifestRecord]:
    """Records for a task whose worker died or raised outside the per-file guard."""
    return _failed(task, f"worker failed: {type(exc).__name__}: {exc}".strip())


def _died(task: Task) -> list[ManifestRecord]:
    return _failed(task, "worker process died while processing this file (a crash in native "
                         "code, os._exit, or killed by the system, e.g. out of memory)")


def run_serial(tasks: list[Task], config: RunConfig, workers: int = 1, scheduler: str | None = None) -> Iterator:
    init_worker(config)
    for task in tasks:
        yield task, process_item(task, config)


def _pool_init(config: RunConfig) -> None:
    """Worker initializer: Ctrl-C is the parent's business (it drains and records), then init."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .allocator import keep_freed_memory

    keep_freed_memory()  # a worker process the engine owns (see allocator)
    init_worker(config)


def _pool_factory(config: RunConfig) -> Callable[[int], Any]:
    """``new_pool(n)``: a ProcessPoolExecutor of n workers initialised with the run config."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context(os.environ.get("DOMAUG_START_METHOD") or None)

    def new_pool(n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_pool_init, initargs=(config,))

    return new_pool


def _outcome(future, task: Task) -> list[ManifestRecord]:
    """The records of a finished future; a dead worker or an exception becomes a failed record."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        return _died(task)
    except Exception as exc:  # noqa: BLE001 - a failure outside the per-file guard
        return _crashed(task, exc)


def _isolated(suspects: list[Task], new_pool, config: RunConfig) -> Iterator:
    """Each suspect alone in a pool: the one that breaks it is the culprit (recorded as died)."""
    from concurrent.futures.process import BrokenProcessPool

    pool = new_pool(1)
    try:
        for task in suspects:
            future = pool.submit(process_item, task, config)
            try:
                records = future.result()
            except BrokenProcessPool:
                records = _died(task)
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool(1)
            except Exception as exc:  # noqa: BLE001
                records = _crashed(task, exc)
            yield task, records
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _PoolRound:
    """One pool working through the pending tasks until they are done or the pool breaks."""

    def __init__(self, pool, pending: Iterator[Task], config: RunConfig, workers: int):
        self.pool, self.pending, self.config = pool, pending, config
        self.limit = IN_FLIGHT * workers
        self.running: dict = {}  # future -> task
        self.broken: list[Task] = []  # tasks whose future reported a broken pool

    def top_up(self) -> None:
        while len(self.running) < self.limit:
            task = next(self.pending, None)
            if task is None:
                return
            self.running[self.pool.submit(process_item, task, self.config)] = task

    def completed(self, done) -> Iterator:
        """``(task, records)`` of the finished futures; a broken pool's tasks go to ``broken``."""
        from concurrent.futures.process import BrokenProcessPool

        for future in done:
            task = self.running[future]
            try:
                records = future.result()
            except BrokenProcessPool:
                del self.running[future]
                self.broken.append(task)
                continue
            except Exception as exc:  # noqa: BLE001 - a failure outside the per-file guard
                records = _crashed(task, exc)
            # still in ``running`` while the consumer records it: a Ctrl-C landing anywhere
            # before it is recorded makes ``drain`` yield it again (the recorder skips a
            # task it has already written), so its outputs, already renamed into place by
            # the worker, never stay unrecorded
            yield task, records
            del self.running[future]

    def run(self) -> Iterator:
        """Yield results until the tasks run out or the pool breaks (then ``broken`` is not empty)."""
        from concurrent.futures import FIRST_COMPLETED, wait

        self.top_up()
        while self.running and not self.broken:
            done, _ = wait(self.running, return_when=FIRST_COMPLETED)
            yield from self.completed(done)
            if not self.broken:
                self.top_up()

    def drain(self) -> Iterator:
        """On Ctrl-C: cancel what is queued, yield what was already running or finished but not
        yet recorded (possibly once more: the recorder skips a task it has written)."""
        for future in self.running:
            future.cancel()
        for future, task in list(self.running.items()):
            if not future.cancelled():
                yield task, _outcome(future, task)

    def close(self) -> None:
        for future in self.running:
            future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def suspects(self) -> Iterator:
        """After a break: yield the in-flight tasks that finished anyway; the rest join ``broken``."""
        for future, task in self.running.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                yield task, future.result()
            else:
                self.broken.append(task)


def run_process(tasks: list[Task], config: RunConfig, workers: int, scheduler: str | None = None) -> Iterator:
    """A ProcessPoolExecutor; at most ``IN_FLIGHT × workers`` tasks queued at a time.

    A worker that dies (segfault, ``os._exit``, OOM kill) breaks the whole pool: every
    task that was in flight is then retried one at a time in a fresh pool, so only the
    task that kills its worker again is recorded as failed; the rest of the batch goes on
    in a new pool. On Ctrl-C (KeyboardInterrupt in the parent) queued tasks are cancelled,
    the running ones are finished and yielded (so they are recorded), then it re-raises.
    """
    new_pool = _pool_factory(config)
    pending = iter(tasks)
    while True:
        round_ = _PoolRound(new_pool(workers), pending, config, workers)
        try:
            yield from round_.run()
        except KeyboardInterrupt:
            yield from round_.drain()
            raise
        finally:
            round_.close()
        if not round_.broken:
            return
        yield from round_.suspects()
        yield from _isolated(sorted(round_.broken, key=lambda t: t.rel), new_pool, config)


def _dask_client(workers: int, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RunError(
            "--executor dask needs dask.distributed; install the extra: pip install 'domaug[dask]'"
        ) from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except OSError as exc:
            raise RunError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
    import logging

    import dask

    # Our LocalCluster's workers run one CPU-bound batch. Forked workers inherit the imported
    # libraries and the loaded pipeline instead of importing numpy/scipy/OpenCV/plugins again
    # (≈1.5 s per worker: a 200-file run was 50 % slower than the process pool), and dask's
    # 10 ms profiler and 100 ms monitors are pure overhead here.
    with dask.config.set(_local_cluster_config()):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _process_chunk(chunk: list[Task], config: RunConfig) -> list[list[ManifestRecord]]:
    """Several items in one Dask task: amortises the scheduler's per-task cost."""
    return [process_item(task, config) for task in chunk]


def run_dask(tasks: list[Task], config: RunConfig, workers: int, scheduler: str | None = None) -> Iterator:
    """dask.distributed: a LocalCluster on loopback, or the cluster at ``scheduler``.

    Items travel in chunks (a few per task, fewer when the batch is small) so that the
    scheduler's round trip per task does not dominate small files.
    """
    if scheduler is None:
        init_worker(config)  # plugins and pipeline loaded once, inherited by the forked workers
    client, cluster = _dask_client(workers, scheduler)
    try:
        from dask.distributed import as_completed

        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
        size = max(1, min(DASK_CHUNK, len(tasks) // (n_workers * IN_FLIGHT * 2)))
        chunks = enumerate([tasks[i:i + size] for i in range(0, len(tasks), size)])
        owner: dict[str, list[Task]] = {}
        run_token = secrets.token_hex(4)  # keys unique even when runs share a scheduler

        def submit():
            item = next(chunks, None)
            if item is None:
                return None
            i, chunk = item
            future = client.submit(_process_chunk, chunk, config, pure=False, key=f"domaug-{run_token}-{i}")
            owner[future.key] = chunk
            return future

        first = [f for f in (submit() for _ in range(IN_FLIGHT * n_workers)) if f is not None]
        queue = as_completed(first)
        for future in queue:
            chunk = owner.pop(future.key)
            try:
                results = future.result()
            except Exception as exc:  # noqa: BLE001 - the whole chunk's worker failed
                results = [_crashed(task, exc) for task in chunk]
            for task, records in zip(chunk, results):
                yield task, records
            nxt = submit()
            if nxt is not None:
                queue.add(nxt)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def get_executor(name: str):
    try:
        return {"serial": run_serial, "process": run_process, "dask": run_dask}[name]
    except KeyError:
        raise RunError(f"--executor must be one of {', '.join(EXECUTORS)}, got {name!r}") from None
