"""The core's generic transforms (registered under the ``core.`` namespace)."""
