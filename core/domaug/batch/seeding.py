"""Per-output randomness that depends only on (root seed, input path, variant, attempt).

Each output gets ``np.random.SeedSequence(root_seed, spawn_key=key)`` with
``key = (stable_hash(relative input path), variant)`` (and a third entry ``attempt``
for redraws by ``--max-distortion``), so an output never depends on the worker
count, the executor, the processing order, or which other files exist.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(relative_path: str) -> int:
    """First 8 bytes of SHA-256 of the POSIX relative path, as an unsigned int."""
    return int.from_bytes(hashlib.sha256(relative_path.encode("utf-8")).digest()[:8], "big")


def seed_key(relative_path: str, variant: int, attempt: int = 0) -> list[int]:
    """The spawn key recorded in the manifest (attempt 0 omitted)."""
    key = [stable_hash(relative_path), int(variant)]
    if attempt:
        key.append(int(attempt))
    return key


def generator(root_seed: int, key: list[int]) -> np.random.Generator:
    """The generator of one output."""
    return np.random.default_rng(np.random.SeedSequence(int(root_seed), spawn_key=tuple(key)))


def fresh_root_seed() -> int:
    """A new root seed (128 bits of OS entropy) for runs without ``--seed``."""
    return int(np.random.SeedSequence().entropy)
