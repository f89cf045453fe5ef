"""Ctrl-C between a finished task reaching the parent and its records being written: the
pool's drain yields it again, so outputs a worker already renamed into place are recorded."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from domaug.batch.executors import _PoolRound
from domaug.batch.records import Task


def _task(rel: str) -> Task:
    return Task(rel=rel, rels=(rel,), format="png", outputs={0: (rel + ".aug0.png",)}, size=1)


def _finished_round(pool, rel: str):
    """A pool round whose one running task (``rel``) has finished in a real worker process."""
    round_ = _PoolRound(pool, iter(()), config=None, workers=1)
    future = pool.submit(os.getpid)
    future.result()
    round_.running[future] = _task(rel)
    return round_, future


def test_a_task_interrupted_before_it_was_recorded_is_drained_again():
    with ProcessPoolExecutor(max_workers=1) as pool:
        round_, future = _finished_round(pool, "a.png")
        results = round_.completed({future})
        task, records = next(results)  # handed to the consumer ...
        assert task.rel == "a.png"
        with pytest.raises(KeyboardInterrupt):  # ... which is interrupted before recording it
            results.throw(KeyboardInterrupt())
        drained = [t.rel for t, _ in round_.drain()]
    assert drained == ["a.png"]


def test_a_recorded_task_leaves_the_round():
    with ProcessPoolExecutor(max_workers=1) as pool:
        round_, future = _finished_round(pool, "b.png")
        assert [t.rel for t, _ in round_.completed({future})] == ["b.png"]
        assert round_.running == {} and list(round_.drain()) == []
