"""Generate every data set of the course, deterministically, with no downloads.

Run it from the repository root:

    uv run python data/generate_dataset.py                   # write everything into data/, verify
    uv run python data/generate_dataset.py --verify          # only check data/ against SHA256SUMS
    uv run python data/generate_dataset.py --only pokemon    # one data set (see --help for names)
    uv run python data/generate_dataset.py --write-checksums # maintainers: refresh SHA256SUMS

Why deterministic: the course grades learners against numbers computed on this data ("the baseline
scores about 65%"), so every learner, on every machine, must get the same bytes. Each data set has
its own fixed seed for numpy's `default_rng`, every float is rounded and formatted explicitly, CSVs
use "\\n" line endings, JSON keys are sorted, and nothing depends on the clock.

The builders live in the `coursedata` package beside this file, one module per data set. Each
returns {relative path: bytes}; this script only writes, checksums and verifies.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
SUMS_FILE = "SHA256SUMS"

# Run as a script, Python already puts this folder on sys.path; imported from elsewhere (the tests,
# the course CLI) it does not, and `coursedata` must still resolve to the package beside us.
if str(DATA_DIR) not in sys.path:
    sys.path.insert(0, str(DATA_DIR))

from coursedata import cards, churn, credit, drop, pokemon, production  # noqa: E402
from coursedata.checksums import format_sums, read_sums, sha256_hex, verify  # noqa: E402
from coursedata.serialize import Files  # noqa: E402


@dataclass(frozen=True)
class Dataset:
    name: str
    build: Callable[[], Files]
    about: str


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset("pokemon", pokemon.build_pokemon, "pokemon.csv, the Competitive target"),
        Dataset("pokemon_drop_v2", drop.build_pokemon_drop,
                "Module 1 checkpoint: new data drop, its schema, the instructor's issue list"),
        Dataset("churn", churn.build_churn, "churn.csv, Telco-like customer churn"),
        Dataset("credit", credit.build_credit, "credit.csv and its cost matrix"),
        Dataset("pokemon_cards", cards.build_cards, "pokemon_cards.csv, capstone card prices"),
        Dataset("production", production.build_production,
                "Module 5 production batches 00-11 and the instructor's drift manifest"),
    ]
}  # fmt: skip


def build(names: Iterable[str]) -> Files:
    files: Files = {}
    for name in names:
        files.update(DATASETS[name].build())
    return files


def write(out_dir: Path, files: Files) -> None:
    for relative, content in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generate (and verify) every data set of the ML-engineering course.",
        epilog="data sets: " + "; ".join(f"{d.name} ({d.about})" for d in DATASETS.values()),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DATA_DIR,
        help="folder to write into / verify (default: this script's folder)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="do not generate; check the files in --out against the checksums",
    )
    parser.add_argument(
        "--only", choices=sorted(DATASETS), action="append", help="restrict to one data set (repeatable)"
    )
    parser.add_argument(
        "--sums",
        type=Path,
        default=DATA_DIR / SUMS_FILE,
        help=f"checksum file (default: {SUMS_FILE} beside this script)",
    )
    parser.add_argument(
        "--write-checksums",
        action="store_true",
        help="maintainers: generate everything and rewrite the checksum file",
    )
    args = parser.parse_args(argv)
    if args.verify and args.write_checksums:
        parser.error("--verify and --write-checksums are exclusive: verify checks, write rewrites")
    if args.write_checksums and args.only:
        parser.error("--write-checksums regenerates every data set; drop --only")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status: 0 all good, 1 some file missing or different, 2 unusable checksum file."""
    args = parse_args(argv)
    out_dir: Path = args.out.resolve()

    if args.verify:
        # With --only, the file names come from building those data sets (cheap, no writing).
        only = sorted(build(args.only)) if args.only else None
        try:
            problems = verify(out_dir, args.sums, only)
            count = len(only) if only is not None else len(read_sums(args.sums))
        except (FileNotFoundError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return report(problems, count)

    files = build(args.only or DATASETS)
    write(out_dir, files)
    print(f"wrote {len(files)} files into {out_dir}")
    if args.write_checksums:
        args.sums.write_text(format_sums({n: sha256_hex(c) for n, c in files.items()}),
                             encoding="utf-8")  # fmt: skip
        print(f"wrote {args.sums} ({len(files)} files)")
        return 0
    if not args.sums.is_file():
        print(f"note: no checksum file at {args.sums}, so nothing was verified", file=sys.stderr)
        return 0
    # Generating also verifies, so the one command a learner runs proves their data is right.
    try:
        return report(verify(out_dir, args.sums, sorted(files)), len(files))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def report(problems: list[str], count: int) -> int:
    if problems:
        for problem in problems:
            print(f"FAILED {problem}", file=sys.stderr)
        print(f"{len(problems)} of {count} files failed verification. If you changed the "
              "generator on purpose, run it with --write-checksums.", file=sys.stderr)  # fmt: skip
        return 1
    print(f"verified {count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
