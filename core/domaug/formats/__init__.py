"""File formats: readers and writers registered through the ``register_formats`` hook."""
