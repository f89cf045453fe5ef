"""What the batch engine hands from step to step: a task, the run configuration, a manifest record.

- :class:`Task`: one input item to process (its files, format, size) and, for each
  variant still to make, the output paths; built by the runner, processed by a worker.
- :class:`RunConfig`: what every worker needs to rebuild the run by itself (pipeline,
  ``--plugin`` modules, root seed, INPUT/OUTPUT, switches); sent once to each worker.
- :class:`ManifestRecord`: one line of ``manifest.jsonl`` (one output, or one input that
  could not be read); :meth:`ManifestRecord.to_json` gives exactly the keys of the line.

All three are plain data and pickle to the worker processes (and Dask workers).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping


@dataclass(frozen=True)
class Task:
    """One input item to process and the variants still to make."""

    rel: str  # POSIX path of the item's first file relative to INPUT: its name in the manifest
    rels: tuple[str, ...]  # every file of the item, relative to INPUT
    format: str
    outputs: dict[int, tuple[str, ...]]  # variant -> output paths relative to OUTPUT (main file first)
    size: int  # bytes read from INPUT

    @property
    def variants(self) -> list[int]:
        """The variants to make, in order."""
        return list(self.outputs)


@dataclass(frozen=True)
class RunConfig:
    """The run as every worker rebuilds it (the pipeline in its ``to_dict`` form, not objects)."""

    pipeline: dict
    pipeline_hash: str
    root_seed: int
    input: str  # INPUT folder, absolute
    output: str  # OUTPUT folder, absolute
    domaug_version: str
    plugins: tuple[str, ...] = ()  # ``--plugin`` modules imported in every worker
    max_distortion: float | None = None  # minimum SSIM before an output is redrawn (``--max-distortion``)
    debug: bool = False  # record tracebacks of failures
    quality: bool = True  # compute SSIM/PSNR per output

    @property
    def worker_key(self) -> tuple:
        """What a worker's loaded state is built from: pipeline, plugin modules, the quality switch."""
        return (self.pipeline_hash, tuple(self.plugins), bool(self.quality))


def provenance(domaug_version: Any, pipeline_hash: Any, root_seed: Any, seed_key: Any, input: Any,
               variant: Any, applied: Any) -> dict:
    """What a format embeds in an output file (e.g. a PNG text chunk) to say how it was made."""
    return {"domaug_version": domaug_version, "pipeline_hash": pipeline_hash, "root_seed": root_seed,
            "seed_key": seed_key, "input": input, "variant": variant, "applied": applied}


#: keys on every manifest line
_ALWAYS = ("input", "format", "variant", "output", "status")
#: keys on the line of an output written ok (``ssim``/``psnr`` may be null)
_WHEN_OK = ("seed_key", "applied", "output_sha256", "files", "ssim", "psnr")


@dataclass(frozen=True)
class ManifestRecord:
    """One manifest line: an output (``variant`` k) or an input that failed (``variant`` None).

    Optional keys (multi-file ``inputs``/``outputs``, ``flagged``, ``attempts``,
    ``windowed``, ``error``, ``output_error``, ``traceback``, ``duration_ms``...) are
    written only when set.
    """

    input: Any  # the item's name (``Task.rel``); Any: a record read back from a file is untrusted
    format: Any = None
    variant: Any = None
    output: Any = None
    status: str = "failed"
    inputs: Any = None  # every file of a multi-file item
    outputs: Any = None  # every file of a multi-file output
    input_sha256: str | None = None
    seed_key: Any = None
    applied: Any = field(default_factory=list)  # the drawn parameters, as recorded by Pipeline.run
    output_sha256: str | None = None
    files: Any = None  # output path relative to OUTPUT -> sha256, every file of the output
    ssim: float | None = None
    psnr: float | None = None
    flagged: bool | None = None  # with --max-distortion: still below the threshold after the redraws
    attempts: int | None = None  # draws made, when more than one
    windowed: bool | None = None  # made tile by tile (True only)
    error: str | None = None
    output_error: str | None = None  # errno name when OUTPUT itself failed (full, read-only)
    traceback: str | None = None  # with --debug
    duration_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def input_rels(self) -> list:
        """Every input file of the record (relative to INPUT)."""
        return list(self.inputs or [self.input])

    @property
    def output_rels(self) -> list:
        """Every file of the output (relative to OUTPUT), the main file first."""
        return list(self.outputs or [self.output])

    def failed(self, error: str, **extra: Any) -> "ManifestRecord":
        """This record, marked failed with a one-line ``error`` (and e.g. ``traceback``)."""
        return replace(self, status="failed", error=error, **extra)

    def written(self, seed_key: list, applied: list, files: dict[str, str], **extra: Any) -> "ManifestRecord":
        """This record for an output whose ``files`` were written (``extra``: ssim, psnr, flagged...)."""
        return replace(self, status="ok", seed_key=seed_key, applied=applied, files=files,
                       output_sha256=files[self.output], **extra)

    def to_json(self) -> dict:
        """The manifest line as a dict: the always-present keys, the ok keys, the optional keys set."""
        data = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _ALWAYS or (f.name in _WHEN_OK and self.ok) or (f.name not in _WHEN_OK and value is not None):
                data[f.name] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ManifestRecord":
        """A line read back from a manifest, values as found (checked by whoever trusts them)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
