"""SHA256SUMS: reading, writing and verifying in the standard `sha256sum` format.

The format is "<64 lowercase hex>  <relative path>" per line, sorted by path, so a maintainer can
also check the data with `cd data && sha256sum -c SHA256SUMS`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_HEX = set("0123456789abcdef")


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_sums(sums_path: Path) -> dict[str, str]:
    """{relative path: digest}; raises with the file and line number on a malformed line."""
    if not sums_path.is_file():
        raise FileNotFoundError(f"checksum file {sums_path} does not exist")
    sums: dict[str, str] = {}
    for number, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or not name or len(digest) != 64 or not set(digest) <= _HEX:
            raise ValueError(f"{sums_path}:{number}: expected '<sha256 hex>  <path>', got {line!r}")
        sums[name] = digest
    return sums


def format_sums(sums: dict[str, str]) -> str:
    return "".join(f"{sums[name]}  {name}\n" for name in sorted(sums))


def verify(folder: Path, sums_path: Path, only: Iterable[str] | None = None) -> list[str]:
    """One message per file that is unlisted, missing or different; empty when all match.

    `only` restricts the check to some files; by default every file the checksum file lists.
    """
    expected = read_sums(sums_path)
    names = sorted(expected) if only is None else sorted(only)
    problems = []
    for name in names:
        path = folder / name
        if name not in expected:
            problems.append(f"{name}: not listed in {sums_path}")
        elif not path.is_file():
            problems.append(f"{name}: missing (expected at {path})")
        elif sha256_hex(path.read_bytes()) != expected[name]:
            problems.append(f"{name}: sha256 differs from {sums_path.name}")
    return problems
