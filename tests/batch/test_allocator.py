"""Batch processes keep freed image-sized memory: repeated frames stop faulting pages in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or os.environ.get("GLIBC_TUNABLES"),
                                reason="glibc's mallopt is Linux-only (and the user's GLIBC_TUNABLES win)")

LOOP = """
import resource, sys
import numpy as np
from domaug.batch.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "on" else False
for _ in range(2):  # warm-up: the first images fault in either way
    a, b, c = (np.ones(4 << 20, np.float32) for _ in range(3))
    del a, b, c
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):  # per image: three 16 MiB working arrays, freed together at the end
    a, b, c = (np.ones(4 << 20, np.float32) for _ in range(3))
    del a, b, c
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str, **env) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k != "DOMAUG_KEEP_FREED_MEMORY" and not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", LOOP, mode], env={**clean, **env}, check=True, capture_output=True,
                         text=True).stdout.split()
    return out[0], int(out[1])


def test_freed_frames_are_reused_without_page_faults():
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt  # noqa: B018
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    applied, kept = _faults("on")
    _, returned = _faults("off")
    assert applied == "True"
    assert returned > 5000  # glibc trimmed the freed frames: every image faulted pages in again
    assert kept < returned // 20  # kept in the heap: (almost) no faults


def test_user_settings_and_opt_out_win():
    assert _faults("on", GLIBC_TUNABLES="glibc.malloc.trim_threshold=1000000")[0] == "False"
    assert _faults("on", DOMAUG_KEEP_FREED_MEMORY="0")[0] == "False"
