"""``domaug plugins``: installed plugins, their distributions, and what they provide."""

from __future__ import annotations

import click


@click.command("plugins")
def command():
    """List loaded plugins (name, distribution, version, transforms, formats) and broken ones."""
    from ..formats import registry as formats
    from ..plugins import owners, plugin_errors
    from ..registry import list_transforms, owner_of

    names = list_transforms()
    transforms: dict[str, int] = {}
    for name in names:
        owner = owner_of(name)
        transforms[owner] = transforms.get(owner, 0) + 1
    fmt_count: dict[str, int] = {}
    for fmt in formats.formats():
        owner = formats.format_owner(fmt.name)
        fmt_count[owner] = fmt_count.get(owner, 0) + 1
    rows = []
    seen = set()
    for plugin, label in sorted(owners.items()):
        dist, _, version = label.partition(" ")
        if dist == "module":  # a --plugin module or user code, not a distribution
            dist, version = f"(module {version})", ""
        if plugin.startswith("domaug.default_plugins"):
            plugin, version = "core", __import__("domaug").__version__
        if label in seen:
            continue
        seen.add(label)
        rows.append((plugin, dist, version or "-", str(transforms.get(label, 0)), str(fmt_count.get(label, 0))))
    header = ("plugin", "distribution", "version", "transforms", "formats")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for plugin, message in sorted(plugin_errors.items()):
        click.echo(f"broken: {plugin}: {message}")
