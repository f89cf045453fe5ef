"""``domaug demo``: run example pipelines on built-in samples, no download, no input."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--out", "out_dir", default="demo-out", type=click.Path(file_okay=False), show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
def command(out_dir, seed):
    """Augment built-in sample images and write the results to OUT."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from ..compose import Compose
    from ..registry import get_transform

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image = data.astronaut()
    pipeline = Compose([get_transform("core.Flip"), get_transform("core.Rotate90")], seed=seed)
    Image.fromarray(image).save(out / "astronaut.png")
    for k in range(3):
        result = pipeline(image=image)
        Image.fromarray(np.asarray(result["image"])).save(out / f"astronaut.aug{k}.png")
    click.echo(f"wrote 4 images to {out}/")
