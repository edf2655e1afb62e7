"""Builders for every data set of the course; `data/generate_dataset.py` is the entry point.

Each module builds one data set as {relative path: bytes}: a pure, seeded function with no I/O,
so the command line, the checksums and the tests all see exactly the same bytes.
"""
