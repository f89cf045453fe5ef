"""Pipelines as data: ``to_dict`` / ``from_dict`` / ``save`` / ``load`` in YAML or JSON.

File layout (format version 1)::

    domaug_format: 1
    pipeline:
      name: Compose
      params: {seed: 7}
      transforms:
        - {name: driving.Fog, params: {visibility_m: [100, 600]}}

Loading uses YAML's safe loader only, never imports modules named in the file, and
rejects unknown keys and unknown transforms (with a close-match suggestion).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from .compose import CONTAINERS, Pipeline
from .errors import DomaugError, ParameterError, PipelineFileError, UnknownTransformError
from .registry import get_transform_class
from .transform import Transform

FORMAT_VERSION = 1
_NODE_KEYS = {"name", "params", "transforms"}
_TOP_KEYS = {"domaug_format", "pipeline"}


def to_dict(transform: Transform) -> dict:
    """The versioned dict form of a transform or pipeline."""
    return {"domaug_format": FORMAT_VERSION, "pipeline": transform.to_dict()}


def _unknown_keys(found: Mapping, allowed: set, where: str) -> None:
    extra = set(found) - allowed
    if extra:
        key = sorted(extra)[0]
        close = difflib.get_close_matches(key, sorted(allowed), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PipelineFileError(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))}){hint}")


def _build(node: Any, where: str) -> Transform:
    if not isinstance(node, Mapping):
        raise PipelineFileError(f"{where}: expected a mapping with 'name', got {node!r}")
    _unknown_keys(node, _NODE_KEYS, where)
    name = node.get("name")
    if not isinstance(name, str):
        raise PipelineFileError(f"{where}: 'name' must be a transform name, got {name!r}")
    params = node.get("params") or {}
    if not isinstance(params, Mapping):
        raise PipelineFileError(f"{where} ({name}): 'params' must be a mapping, got {params!r}")
    where = f"{where} ({name})"
    try:
        if name in CONTAINERS:
            children = node.get("transforms")
            if not isinstance(children, list):
                raise PipelineFileError(f"{where}: 'transforms' must be a list")
            built = [_build(child, f"{where}.transforms[{i}]") for i, child in enumerate(children)]
            return CONTAINERS[name](built, **params)
        if "transforms" in node:
            raise PipelineFileError(f"{where}: only Compose/OneOf/SomeOf/Sometimes take 'transforms'")
        cls = get_transform_class(name)
        return cls(**params)
    except UnknownTransformError as exc:
        raise UnknownTransformError(f"{where}: {exc}") from None
    except TypeError as exc:  # an unexpected keyword argument
        raise ParameterError(f"{where}: {exc}") from None
    except DomaugError as exc:
        if isinstance(exc, PipelineFileError):
            raise
        raise type(exc)(f"{where}: {exc}") from None


def from_dict(data: Mapping[str, Any]) -> Transform:
    """Rebuild a pipeline from :func:`to_dict` output (or a bare node ``{"name": ...}``)."""
    if not isinstance(data, Mapping):
        raise PipelineFileError(f"a pipeline must be a mapping, got {type(data).__name__}")
    if "pipeline" in data or "domaug_format" in data:
        _unknown_keys(data, _TOP_KEYS, "pipeline file")
        version = data.get("domaug_format")
        if version != FORMAT_VERSION:
            raise PipelineFileError(
                f"pipeline file: domaug_format must be {FORMAT_VERSION}, got {version!r}"
            )
        data = data.get("pipeline")
    return _build(data, "pipeline")


def dumps(transform: Transform, data_format: str = "yaml") -> str:
    """Text form of a pipeline in ``"yaml"`` or ``"json"``."""
    d = to_dict(transform)
    if data_format == "json":
        return json.dumps(d, indent=2) + "\n"
    if data_format == "yaml":
        import yaml

        return yaml.safe_dump(d, sort_keys=False, default_flow_style=None)
    raise ParameterError(f"data_format must be 'yaml' or 'json', got {data_format!r}")


def loads(text: str, source: str = "<string>") -> Transform:
    """Parse a pipeline from YAML or JSON text (JSON is YAML; safe loader only)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise PipelineFileError(f"{source}: not valid YAML/JSON: {first}") from None
    try:
        return from_dict(data)
    except DomaugError as exc:
        raise type(exc)(f"{source}: {exc}") from None


def save(transform: Transform, path: str | Path, data_format: str | None = None) -> Path:
    """Write a pipeline to ``path`` (format from ``data_format`` or the suffix)."""
    path = Path(path)
    fmt = data_format or ("json" if path.suffix.lower() == ".json" else "yaml")
    path.write_text(dumps(transform, fmt), encoding="utf-8")
    return path


def load(path: str | Path) -> Transform:
    """Read a pipeline file written by :func:`save` (YAML or JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineFileError(f"{path}: cannot read pipeline file: {exc}") from None
    return loads(text, source=str(path))


def pipeline_hash(transform: Transform) -> str:
    """SHA-256 of the canonical JSON form: the pipeline's identity in run records."""
    canonical = json.dumps(to_dict(transform), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def as_pipeline(transform: Transform) -> Pipeline:
    """Wrap a single transform in a Compose so every run has one shape."""
    from .compose import Compose

    return transform if isinstance(transform, Pipeline) else Compose([transform])
