"""Band lookup for multi-band rasters: which channel is which band, its centre wavelength,
which pixels hold data (the footprint), and the helpers of 2-D frames.

A domain says how its rasters name their bands with one :class:`BandNaming` (the roles of
unnamed rasters by band count, the centre wavelength of each role, accepted spellings);
the lookup itself is the same for every domain:

- names: ``meta["band_names"]`` (or the other ``meta_keys``, in order), lower-cased and
  de-aliased, else the domain's default for that band count, else ``unknown``;
- wavelengths: ``meta["wavelengths_nm"]`` (one per band; ``None`` or 0 entries allowed),
  else the role's centre wavelength, else ``neutral_nm``;
- footprint: the pixels that hold data, i.e. ``valid`` (or not ``meta["nodata"]``), the
  ``alpha_mask`` target > 0 and an alpha band > 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import UnsupportedInputError
from ..targets import Layout, layout_of, valid_of

RGB = ("red", "green", "blue")


@dataclass(frozen=True)
class BandNaming:
    """How one domain names the bands of its rasters.

    Parameters
    ----------
    role_nm : role → centre wavelength (nm)
    by_count : band count → roles of a raster whose bands are not named (default: 3 bands = R, G, B)
    unknown : the role of a band that cannot be told
    aliases : accepted spelling (lower case) → role
    meta_keys : ``meta`` keys that name the bands, in order of precedence
    strict : a name list of the wrong length raises :class:`UnsupportedInputError` (else it is ignored)
    neutral_nm : wavelength of a band whose role has none
    """

    role_nm: Mapping[str, float]
    by_count: Mapping[int, tuple[str, ...]] = field(default_factory=lambda: {3: RGB})
    unknown: str = ""
    aliases: Mapping[str, str] = field(default_factory=dict)
    meta_keys: tuple[str, ...] = ("band_names",)
    strict: bool = False
    neutral_nm: float = 550.0

    def role_of(self, name: Any) -> str:
        """The role a band name stands for (``unknown`` for an empty one)."""
        text = str(name).strip().lower() if name else ""
        return self.aliases.get(text, text) or self.unknown

    def names(self, sample: Mapping[str, Any]) -> list[str]:
        """The role of every band of the sample's image."""
        n = _layout(sample).n_channels
        meta = sample.get("meta") or {}
        for key in self.meta_keys:
            given = meta.get(key)
            if given is None:
                continue
            if len(given) == n:
                return [self.role_of(name) for name in given]
            if self.strict:
                raise UnsupportedInputError(f"meta[{key!r}] names {len(given)} bands but the image has {n}")
        return list(self.by_count.get(n, (self.unknown,) * n))

    def roles(self, sample: Mapping[str, Any]) -> dict[str, int]:
        """Role → channel index (its first band) of every known role."""
        out: dict[str, int] = {}
        for i, role in enumerate(self.names(sample)):
            if role != self.unknown and role not in out:
                out[role] = i
        return out

    def wavelengths_nm(self, sample: Mapping[str, Any]) -> list[float]:
        """Centre wavelength (nm) of every band: ``meta["wavelengths_nm"]`` where it gives
        one (a list of one entry per band), else the role's, else ``neutral_nm``."""
        names = self.names(sample)
        given = (sample.get("meta") or {}).get("wavelengths_nm")
        if given is None or len(given) != len(names):
            given = [None] * len(names)
        return [float(value) if value else float(self.role_nm.get(role, self.neutral_nm))
                for value, role in zip(given, names)]


def _layout(sample: Mapping[str, Any]) -> Layout:
    """The sample's layout (the call context's cached one when ``sample`` is a context)."""
    cached = getattr(sample, "layout", None)
    return cached if isinstance(cached, Layout) else layout_of(sample)


def footprint(sample: Mapping[str, Any], alpha_band: int | None = None) -> np.ndarray | None:
    """Boolean H×W of the pixels that hold data, or None when all do.

    Inside = ``valid`` (or not ``meta["nodata"]``), ``alpha_mask`` > 0 (an alpha band read
    as its own target) and, when ``alpha_band`` is given, that channel of the image > 0.
    """
    valid = sample.valid if hasattr(type(sample), "valid") else valid_of(sample)
    alpha_mask = sample.get("alpha_mask")
    if alpha_mask is not None:
        valid = (alpha_mask > 0) if valid is None else (valid & (alpha_mask > 0))
    if alpha_band is not None:
        alpha_ok = sample["image"][..., alpha_band] > 0
        valid = alpha_ok if valid is None else (valid & alpha_ok)
    if valid is not None and valid.all():
        return None
    return valid


def as_hwc(image: np.ndarray) -> np.ndarray:
    """View a 2-D frame as H×W×C (a single band gets a channel axis)."""
    return image[..., None] if image.ndim == 2 else image


def require_2d(sample: Mapping[str, Any], message: str) -> None:
    """Refuse volumes with :class:`UnsupportedInputError` (``message`` may hold ``{shape}``)."""
    if _layout(sample).is_volume:
        raise UnsupportedInputError(message.format(shape=sample["image"].shape))
