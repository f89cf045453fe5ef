"""Replay a recorded ``applied`` list: same params, same input → bit-identical output."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .errors import PipelineFileError
from .registry import get_transform_class
from .targets import validate_sample


def replay(applied: Iterable[Mapping[str, Any]], **targets: Any) -> dict:
    """Apply each recorded ``{"name", "params"}`` in order, with no randomness.

    >>> out = pipeline(image=img)
    >>> again = domaug.replay(out["applied"], image=img)   # identical to out
    """
    sample = validate_sample(targets)
    sample.setdefault("applied", [])
    for i, record in enumerate(applied):
        if not isinstance(record, Mapping) or "name" not in record or "params" not in record:
            raise PipelineFileError(f"applied[{i}] must be {{'name': ..., 'params': ...}}, got {record!r}")
        transform = get_transform_class(record["name"])()
        transform.check_input(sample)
        params = dict(record["params"])
        out = transform.apply(sample, params)
        out["applied"] = list(sample["applied"]) + [{"name": record["name"], "params": params}]
        sample = out
    return sample
