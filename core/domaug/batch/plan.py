"""Walk INPUT, choose each file's format, group files into items, name the outputs.

The walk is recursive and sorted (deterministic). Hidden files and folders (names
starting with ``.``) and sidecar files (``x.mask.png``, ``x.boxes.json``, a plugin's
``x.depth.png``...) are not inputs; a plugin's field sidecar that pairs with no image is
reported as skipped. Symlinks are followed only when they resolve inside INPUT (each folder once).
A file that no format sniffs or claims by extension is *skipped* (reported, not an
error). Variant ``k`` of ``a/b/x.ext`` is written as ``a/b/x.aug{k}.ext`` (the
format's ``output_names``).
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence

from ..errors import DomaugError
from ..formats import registry
from ..formats.sidecar import is_sidecar, unpaired

TEMP_PREFIX = ".domaug-tmp-"


class RunError(DomaugError, ValueError):
    """A usage problem found before any work starts (exit code 2)."""


@dataclass
class Item:
    """One input item: one file, or several (a DICOM series, a multi-band capture)."""

    rel: str  # POSIX path of the first file relative to INPUT: the item's name
    rels: list[str]
    format: str
    size: int
    variants: list[int] = field(default_factory=list)

    @property
    def group(self) -> str | None:
        """The first-level folder (the class for ``--balance-classes``), None at top level."""
        parts = PurePosixPath(self.rel).parts
        return parts[0] if len(parts) > 1 else None


def _included(rel: str, name: str, include: Sequence[str]) -> bool:
    if not include:
        return True
    return any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in include)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def walk(root: Path, include: Sequence[str] = ()) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """Sorted ``(relative POSIX path, path)`` of candidate files, and ``(rel, reason)`` skipped."""
    root = root.resolve()
    files: list[tuple[str, Path]] = []
    skipped: list[tuple[str, str]] = []
    sidecars: list[tuple[str, Path]] = []
    seen_dirs = {root}

    def visit(folder: Path, rel_folder: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((rel_folder or ".", f"cannot list folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            path = folder / entry.name
            if entry.is_symlink():
                target = path.resolve()
                if not _inside(target, root):
                    skipped.append((rel, "symlink pointing outside INPUT, not followed"))
                    continue
            if entry.is_dir(follow_symlinks=True):
                real = path.resolve()
                if real in seen_dirs:
                    continue
                seen_dirs.add(real)
                visit(path, rel)
            elif entry.is_file(follow_symlinks=True):
                if is_sidecar(entry.name):
                    sidecars.append((rel, path))
                elif _included(rel, entry.name, include):
                    files.append((rel, path))
                else:
                    excluded.append(path)

    excluded: list[Path] = []  # images left out by --include still pair with their sidecars
    visit(root, "")
    if sidecars:
        rel_of = {p: r for r, p in sidecars}
        skipped.extend((rel_of[p], why) for p, why in unpaired([p for _, p in files] + excluded + list(rel_of)))
    return files, skipped


def plan(root: Path, include: Sequence[str] = (), variants: int = 1) -> tuple[list[Item], list[tuple[str, str]]]:
    """Items (sorted by name) with ``variants`` variants each, and the skipped files."""
    files, skipped = walk(root, include)
    by_format: dict[str, list[tuple[str, Path]]] = {}
    for rel, path in files:
        fmt = registry.sniff(path)
        if fmt is None:
            skipped.append((rel, "not a supported image format"))
            continue
        by_format.setdefault(fmt.name, []).append((rel, path))
    items: list[Item] = []
    for name, entries in by_format.items():
        fmt = registry.get_format(name)
        rel_of = {str(p): r for r, p in entries}
        for group in fmt.group([p for _, p in entries]):
            rels = [rel_of.get(str(p)) or Path(p).resolve().relative_to(root.resolve()).as_posix() for p in group]
            size = sum(os.path.getsize(p) for p in group)
            items.append(Item(rels[0], rels, name, size, list(range(variants))))
    items.sort(key=lambda it: it.rel)
    skipped.sort()
    return items, skipped


def output_rels(item: Item, variant: int) -> list[str]:
    """Relative output paths of one variant (the mirror of the item's folder)."""
    fmt = registry.get_format(item.format)
    names = fmt.output_names([Path(r) for r in item.rels], variant)
    folders = [str(PurePosixPath(r).parent) for r in item.rels]
    if len(folders) != len(names):
        folders = [folders[0]] * len(names)
    return [name if folder == "." else f"{folder}/{name}" for folder, name in zip(folders, names)]


def balance(items: list[Item], variants: int) -> list[dict]:
    """Give each class (first-level folder) enough variants to reach the largest class.

    Target size of every class = largest class × (1 + ``variants``); a class of n
    files needs target − n outputs, spread as evenly as possible (first files in name
    order get one more). Top-level files keep ``variants`` each. Returns the plan rows.

    A file that gets 0 variants (every file of the largest class when ``variants`` is 0)
    is not read at all, so a broken file there is not reported; it does not count as
    failed or skipped either. Run without ``--balance-classes`` to check every file.
    """
    classes: dict[str, list[Item]] = {}
    for item in items:
        if item.group is None:
            item.variants = list(range(variants))
        else:
            classes.setdefault(item.group, []).append(item)
    if not classes:
        raise RunError("--balance-classes needs class folders: INPUT has no first-level folder with files")
    largest = max(len(members) for members in classes.values())
    target = largest * (1 + variants)
    rows = []
    for name in sorted(classes):
        members = classes[name]
        extra = target - len(members)
        each, rest = divmod(extra, len(members))
        for i, item in enumerate(members):
            item.variants = list(range(each + (1 if i < rest else 0)))
        rows.append({"class": name, "files": len(members), "outputs": extra, "total": target,
                     "variants_per_file": f"{each}" if not rest else f"{each}-{each + 1}"})
    return rows


def format_balance(rows: list[dict]) -> str:
    """The plan as a small table."""
    lines = [f"{'class':<20} {'files':>7} {'variants/file':>14} {'outputs':>8} {'total':>7}"]
    for r in rows:
        lines.append(f"{r['class']:<20} {r['files']:>7} {r['variants_per_file']:>14} {r['outputs']:>8} {r['total']:>7}")
    return "\n".join(lines)
