"""Pure kernels shared by transforms and plugins: no randomness, no I/O."""
