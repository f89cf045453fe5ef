"""Executors: ``serial`` (in-process), ``process`` (default) and ``dask`` (optional extra).

Each is a generator ``run(tasks, config, workers, scheduler)`` yielding
``(task, records)`` as tasks complete. Workers get the serialized run config (pipeline
dict, ``--plugin`` modules) and rebuild everything themselves, so the outputs are the
same on every executor. Outputs are written by the workers directly into OUTPUT: with
a remote Dask cluster, INPUT and OUTPUT must be on a filesystem shared by all workers.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Iterator

from .plan import RunError
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


def _crashed(task: dict, exc: BaseException) -> list[dict]:
    """Records for a task whose worker died or raised outside the per-file guard."""
    return [{"input": task["rel"], "format": task["format"], "variant": None, "output": None,
             "status": "failed", "error": f"worker failed: {type(exc).__name__}: {exc}".strip()}]


def run_serial(tasks: list[dict], config: dict, workers: int = 1, scheduler: str | None = None) -> Iterator:
    init_worker(config)
    for task in tasks:
        yield task, process_item(task, config)


def _pool_init(config: dict) -> None:
    """Worker initializer: Ctrl-C is the parent's business (it drains and records), then init."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .allocator import keep_freed_memory

    keep_freed_memory()  # a worker process the engine owns (see allocator)
    init_worker(config)


def _died(task: dict) -> list[dict]:
    return [{"input": task["rel"], "format": task["format"], "variant": None, "output": None,
             "status": "failed", "error": "worker process died while processing this file (a crash in native "
                                          "code, os._exit, or killed by the system, e.g. out of memory)"}]


def run_process(tasks: list[dict], config: dict, workers: int, scheduler: str | None = None) -> Iterator:
    """A ProcessPoolExecutor; at most ``IN_FLIGHT × workers`` tasks queued at a time.

    A worker that dies (segfault, ``os._exit``, OOM kill) breaks the whole pool: every
    task that was in flight is then retried one at a time in a fresh pool, so only the
    task that kills its worker again is recorded as failed; the rest of the batch goes on
    in a new pool. On Ctrl-C (KeyboardInterrupt in the parent) queued tasks are cancelled,
    the running ones are finished and yielded (so they are recorded), then it re-raises.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    method = os.environ.get("DOMAUG_START_METHOD") or None
    context = multiprocessing.get_context(method)
    pending = iter(tasks)

    def new_pool(n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_pool_init, initargs=(config,))

    def isolated(suspects: list[dict]) -> Iterator:
        """Each suspect alone in a pool: the one that breaks it is the culprit."""
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

    while True:
        broken: list[dict] = []
        running: dict = {}
        pool = new_pool(workers)
        try:
            def top_up() -> None:
                while len(running) < IN_FLIGHT * workers:
                    task = next(pending, None)
                    if task is None:
                        return
                    running[pool.submit(process_item, task, config)] = task

            top_up()
            while running and not broken:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    try:
                        records = future.result()
                    except BrokenProcessPool:
                        broken.append(task)
                        continue
                    except Exception as exc:  # noqa: BLE001 - a failure outside the per-file guard
                        records = _crashed(task, exc)
                    yield task, records
                if not broken:
                    top_up()
        except KeyboardInterrupt:
            for future in running:
                future.cancel()
            for future, task in list(running.items()):
                if future.cancelled():
                    continue
                try:
                    records = future.result()
                except Exception as exc:  # noqa: BLE001
                    records = _died(task) if isinstance(exc, BrokenProcessPool) else _crashed(task, exc)
                yield task, records
            raise
        finally:
            for future in running:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        if not broken:
            return
        for future, task in running.items():  # in flight when the pool broke
            if future.done() and not future.cancelled() and future.exception() is None:
                yield task, future.result()
            else:
                broken.append(task)  # a suspect
        broken.sort(key=lambda t: t["rel"])
        yield from isolated(broken)


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


def _process_chunk(chunk: list[dict], config: dict) -> list[list[dict]]:
    """Several items in one Dask task: amortises the scheduler's per-task cost."""
    return [process_item(task, config) for task in chunk]


def run_dask(tasks: list[dict], config: dict, workers: int, scheduler: str | None = None) -> Iterator:
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
        owner: dict[str, list[dict]] = {}
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
