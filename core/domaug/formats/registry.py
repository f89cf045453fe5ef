"""The format registry: every plugin's ``register_formats`` hook, and choosing a format for a file.

Choice rule: read the first 4096 bytes; among formats whose ``sniff`` says yes the
highest ``priority`` wins (ties: registration order, core first). If none sniffs the
file, the first format claiming its extension is chosen (its reader then reports
precisely what is wrong). Otherwise the file is not a supported image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import FormatError, RegistrationError
from .base import Format

HEAD_BYTES = 4096

_formats: list[Format] = []
_owners: dict[str, str] = {}


def _add(plugin: str, owner: str, fmt: Format) -> None:
    if isinstance(fmt, type) and issubclass(fmt, Format):
        fmt = fmt()
    if not isinstance(fmt, Format):
        raise RegistrationError(f"{owner} registered {fmt!r} as a format, which is not a domaug Format instance")
    if not fmt.name:
        raise RegistrationError(f"{owner} registered {type(fmt).__qualname__} with an empty name")
    for existing in _formats:
        if existing.name == fmt.name:
            if type(existing) is type(fmt):
                return
            raise RegistrationError(
                f"format name {fmt.name!r} is claimed twice: by {_owners[fmt.name]} and by {owner}"
            )
    _formats.append(fmt)
    _owners[fmt.name] = owner


def formats() -> list[Format]:
    """Every registered format (loads the plugins on first use; asks plugins loaded since)."""
    from .. import plugins

    plugins.load_plugins()
    plugins.collect("register_formats", _add)
    return list(_formats)


def format_owner(name: str) -> str:
    formats()
    return _owners[name]


def get_format(name: str) -> Format:
    """The format registered under ``name`` (``"png"``, ``"geotiff"``...)."""
    for fmt in formats():
        if fmt.name == name:
            return fmt
    raise FormatError(name, f"no format named {name!r} (known: {', '.join(f.name for f in formats())})")


def sniff(path: Path, head: bytes | None = None) -> Format | None:
    """The format for ``path`` by content, then extension; None when nothing fits."""
    path = Path(path)
    if head is None:
        try:
            with open(path, "rb") as f:
                head = f.read(HEAD_BYTES)
        except OSError:
            head = b""
    best: Format | None = None
    for fmt in formats():
        try:
            ok = bool(head) and fmt.sniff(path, head)
        except Exception:  # noqa: BLE001 - a buggy sniffer must not break the walk
            ok = False
        if ok and (best is None or fmt.priority > best.priority):
            best = fmt
    if best is not None:
        return best
    suffix = path.suffix.lower()
    for fmt in formats():
        if suffix in fmt.extensions:
            return fmt
    return None


def choose(path: Path, head: bytes | None = None) -> Format:
    """Like :func:`sniff` but raises ``FormatError(path, "not a supported image format (...)")``."""
    fmt = sniff(path, head)
    if fmt is None:
        known = sorted({e for f in formats() for e in f.extensions})
        raise FormatError(path, f"not a supported image format (known: {', '.join(known)})")
    return fmt


def read(paths: Iterable[Path], fmt: Format | None = None) -> dict:
    """Read one item with its format (chosen from its first file when not given)."""
    paths = [Path(p) for p in paths]
    fmt = fmt or choose(paths[0])
    from .common import check_sample

    return check_sample(paths[0], fmt.read(paths))
