"""Composition: Compose, OneOf, SomeOf, Sometimes.

Containers draw *which* children run from the same generator the children draw their
parameters from, so one seed fixes everything. Only leaf transforms appear in the
output's ``applied`` list: replaying it needs no container.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from .errors import ParameterError
from .params import check_number, check_range, sample_int
from .plain import plain
from .targets import validate_sample
from .transform import Transform, as_generator

CONTAINER_NAMES = ("Compose", "OneOf", "SomeOf", "Sometimes")


def _check_children(transforms: Any, owner: str) -> list[Transform]:
    if isinstance(transforms, Transform):
        transforms = [transforms]
    if not isinstance(transforms, (list, tuple)):
        raise ParameterError(f"{owner} takes a list of transforms, got {type(transforms).__name__}")
    for t in transforms:
        if not isinstance(t, Transform):
            raise ParameterError(f"{owner} children must be domaug transforms, got {t!r}")
    return list(transforms)


class Pipeline(Transform):
    """Base of the containers: holds child transforms and serializes them."""

    transforms: list[Transform]

    def __init__(self, transforms: Sequence[Transform], p: float = 1.0, seed: int | None = None) -> None:
        super().__init__(p=p)
        self.transforms = _check_children(transforms, type(self).__name__)
        if seed is not None:
            seed = int(check_number(seed, "seed", low=0, integer=True))
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __call__(self, *, rng: Any = None, **targets: Any) -> dict:
        """Augment one sample; a ``seed`` given at construction drives successive calls."""
        sample = validate_sample(targets)
        if rng is None and self._rng is not None:
            generator = self._rng
        else:
            generator = as_generator(rng)
        return self.run(sample, generator)

    def reset(self, seed: int | None = None) -> None:
        """Restart the pipeline's own generator (from ``seed`` or the construction seed)."""
        seed = self.seed if seed is None else seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def run(self, sample: dict, rng: np.random.Generator) -> dict:
        if self.p < 1.0 and rng.random() >= self.p:
            out = dict(sample)
            out["applied"] = list(sample.get("applied", ()))
            return out
        out = dict(sample)
        out.setdefault("applied", [])
        for child in self.choose(rng):
            out = child.run(out, rng)
        return out

    def choose(self, rng: np.random.Generator) -> list[Transform]:
        return self.transforms

    def name_for_records(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict:
        """``{"name": "Compose", "params": {...}, "transforms": [child dicts]}``."""
        params = {k: v for k, v in self._init_args.items() if k != "transforms"}
        return {
            "name": type(self).__name__,
            "params": plain(params),
            "transforms": [t.to_dict() for t in self.transforms],
        }

    def __iter__(self) -> Iterable[Transform]:
        return iter(self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(t).replace("\n", "\n  ") for t in self.transforms)
        return f"{type(self).__name__}([\n  {inner}\n], p={self.p})"


class Compose(Pipeline):
    """Apply every child in order."""


class OneOf(Pipeline):
    """Apply exactly one child, drawn with ``weights`` (equal by default)."""

    def __init__(self, transforms: Sequence[Transform], weights: Sequence[float] | None = None,
                 p: float = 1.0, seed: int | None = None) -> None:
        super().__init__(transforms, p=p, seed=seed)
        if not self.transforms:
            raise ParameterError("OneOf needs at least one transform")
        if weights is None:
            weights = [1.0] * len(self.transforms)
        if len(weights) != len(self.transforms):
            raise ParameterError(
                f"OneOf weights must have one entry per transform ({len(self.transforms)}), got {len(weights)}"
            )
        w = np.array([check_number(x, "weights", low=0) for x in weights], dtype=float)
        if w.sum() <= 0:
            raise ParameterError(f"OneOf weights must not all be zero, got {list(weights)}")
        self.weights = w / w.sum()

    def choose(self, rng: np.random.Generator) -> list[Transform]:
        return [self.transforms[int(rng.choice(len(self.transforms), p=self.weights))]]


class SomeOf(Pipeline):
    """Apply ``n`` distinct children (``n`` fixed or a (low, high) range), in list order."""

    def __init__(self, transforms: Sequence[Transform], n: int | Sequence[int] = 1,
                 p: float = 1.0, seed: int | None = None) -> None:
        super().__init__(transforms, p=p, seed=seed)
        self.n_range = check_range(n, "n", low=0, high=len(self.transforms), integer=True)

    def choose(self, rng: np.random.Generator) -> list[Transform]:
        n = sample_int(rng, self.n_range)
        picked = sorted(rng.choice(len(self.transforms), size=n, replace=False).tolist()) if n else []
        return [self.transforms[i] for i in picked]


class Sometimes(Pipeline):
    """Apply the child (or children, in order) with probability ``p`` (default 0.5)."""

    def __init__(self, transforms: Sequence[Transform] | Transform, p: float = 0.5,
                 seed: int | None = None) -> None:
        super().__init__(transforms, p=p, seed=seed)


CONTAINERS: dict[str, type[Pipeline]] = {
    "Compose": Compose,
    "OneOf": OneOf,
    "SomeOf": SomeOf,
    "Sometimes": Sometimes,
}
