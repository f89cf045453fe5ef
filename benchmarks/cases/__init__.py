"""Benchmark cases, one module per room; each exposes ``cases(quick: bool) -> list[Case]``."""
