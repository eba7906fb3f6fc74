"""The built files: SHA256SUMS, the reproducible build, publishing them, verifying an index's."""
