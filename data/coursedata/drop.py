"""Module 1 checkpoint: the "New Pokemon Data Drop" (changed schema + injected problems).

Writes the drop, the provider's schema document (what the learner is told), and the
instructor-only answer key listing every injected problem and the rows it is in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coursedata.pokemon import POKEMON_SEED, STATS, TYPES, NameMaker, build_dex, pokemon_table
from coursedata.serialize import Files, csv_bytes, json_bytes

DROP_SEED = 21
DROP_GENERATION = (7, 722, 1025, 12)  # 304 species; 4 of them become duplicate-id conflicts
DROP_CONFLICTS = 4
DROP_COLUMNS = ["pokemon_id", "name", "primary_type", "secondary_type", "total", "hp", "attack",
                "defense", "sp_attack", "sp_defense", "speed", "generation", "is_legendary",
                "capture_rate", "release_date"]  # fmt: skip
DROP_STATS = ["hp", "attack", "defense", "sp_attack", "sp_defense", "speed"]
DROP_FIRST_DATE = dt.date(2016, 11, 18)
DROP_LAST_DATE = dt.date(2019, 11, 14)
CAPTURE_RATE_RANGE = (3, 255)
GENERATION_RANGE = (1, 7)

# A typo per type that no amount of trimming or re-casing repairs (that is a different problem).
TYPE_TYPOS = {
    "Bug": "Bugg", "Dark": "Drak", "Dragon": "Dragoon", "Electric": "Electrik", "Fairy": "Fairie",
    "Fighting": "Figthing", "Fire": "Fir", "Flying": "Flyng", "Ghost": "Gohst", "Grass": "Gras",
    "Ground": "Groud", "Ice": "Ise", "Normal": "Normall", "Poison": "Posion", "Psychic": "Psychik",
    "Rock": "Rok", "Steel": "Steal", "Water": "Watr",
}  # fmt: skip


@dataclass(frozen=True)
class Issue:
    """One kind of injected problem; `apply` edits the chosen rows of the drop in place."""

    id: str
    kind: str
    column: str | None
    description: str
    count: int
    needs_second_type: bool = False


DROP_ISSUES = [
    Issue(
        "exact_duplicate_rows",
        "duplicate_row",
        None,
        "These rows appear twice, identical in every column (a double export).",
        5,
    ),
    Issue(
        "duplicate_pokemon_id",
        "duplicate_key",
        "pokemon_id",
        "Two different pokemon (different name and stats) share each of these pokemon_id "
        "values; pokemon_id must be unique.",
        DROP_CONFLICTS,
    ),
    Issue("missing_name", "missing_value", "name", "The name is empty.", 5),
    Issue(
        "nonpositive_hp",
        "out_of_range",
        "hp",
        "hp is zero or negative; every stat must be between 1 and 255.",
        4,
    ),
    Issue(
        "attack_out_of_range",
        "out_of_range",
        "attack",
        "attack is above 255 (999 is a sentinel for 'unknown' leaking from the source).",
        5,
    ),
    Issue(
        "total_mismatch",
        "inconsistent",
        "total",
        "total is not the sum of hp, attack, defense, sp_attack, sp_defense and speed.",
        6,
    ),
    Issue(
        "unknown_primary_type",
        "invalid_category",
        "primary_type",
        "primary_type is misspelled (e.g. 'Fir'); it is not one of the 18 types.",
        5,
    ),
    Issue(
        "secondary_type_format",
        "format",
        "secondary_type",
        "secondary_type has stray whitespace or wrong capitalisation (e.g. ' water', 'FIRE'); "
        "the value is a real type once trimmed and title-cased.",
        5,
        needs_second_type=True,
    ),
    Issue(
        "is_legendary_invalid",
        "invalid_category",
        "is_legendary",
        "is_legendary is not exactly 'yes' or 'no' (e.g. 'Y', 'TRUE').",
        5,
    ),
    Issue("generation_out_of_range", "out_of_range", "generation", "generation is outside 1-7.", 4),
    Issue(
        "release_date_unparseable",
        "format",
        "release_date",
        "release_date is not a valid YYYY-MM-DD calendar date (e.g. '18/11/2016', '2017-02-30').",
        5,
    ),
    Issue("capture_rate_out_of_range", "out_of_range", "capture_rate", "capture_rate is outside 3-255.", 5),
]


def _capture_rates(rng: np.random.Generator, totals: np.ndarray, legendary: np.ndarray) -> list:
    """Weak pokemon are easy to catch (255), strong ones hard (45), legendaries 3."""
    rates = 255 - (totals - 200) * 0.45 + rng.normal(0, 25, len(totals))
    rates = np.clip(np.rint(rates), 25, 255).astype(int)
    return [3 if is_legend else int(rate) for rate, is_legend in zip(rates, legendary, strict=True)]


def _release_dates(rng: np.random.Generator, size: int) -> list[str]:
    span = (DROP_LAST_DATE - DROP_FIRST_DATE).days
    offsets = rng.integers(0, span + 1, size)
    return [(DROP_FIRST_DATE + dt.timedelta(days=int(d))).isoformat() for d in offsets]


def _drop_frame(rng: np.random.Generator, dex: pd.DataFrame) -> pd.DataFrame:
    """Convert species rows to the provider's v2 schema (snake_case, yes/no, new columns)."""
    drop = pd.DataFrame(
        {
            "pokemon_id": dex["#"].to_numpy(),
            "name": dex["Name"].to_numpy(),
            "primary_type": dex["Type 1"].to_numpy(),
            "secondary_type": dex["Type 2"].to_numpy(),
            **{new: dex[old].to_numpy() for new, old in zip(DROP_STATS, STATS, strict=True)},
            "generation": dex["Generation"].to_numpy(),
            "is_legendary": np.where(dex["Legendary"], "yes", "no"),
        }
    )
    drop["total"] = drop[DROP_STATS].sum(axis=1)
    drop["capture_rate"] = _capture_rates(rng, drop["total"].to_numpy(), dex["Legendary"].to_numpy())
    drop["release_date"] = _release_dates(rng, len(drop))
    return drop[DROP_COLUMNS].astype({"name": object, "secondary_type": object})


def _inject(
    rng: np.random.Generator, drop: pd.DataFrame, conflicts: pd.DataFrame, issue: Issue, rows: np.ndarray
) -> pd.DataFrame:
    """Apply one issue to `rows` (positional indices of `drop`); returns extra rows to append."""
    extra = drop.iloc[0:0]
    if issue.id == "exact_duplicate_rows":
        extra = drop.iloc[rows].copy()
    elif issue.id == "duplicate_pokemon_id":
        extra = conflicts.copy()
        extra["pokemon_id"] = drop["pokemon_id"].to_numpy()[rows]
    elif issue.id == "missing_name":
        drop.iloc[rows, drop.columns.get_loc("name")] = ""
    elif issue.id == "nonpositive_hp":
        drop.iloc[rows, drop.columns.get_loc("hp")] = [0, -1, -12, -40][: len(rows)]
    elif issue.id == "attack_out_of_range":
        drop.iloc[rows, drop.columns.get_loc("attack")] = [999, 300, 512, 999, 256][: len(rows)]
    elif issue.id == "total_mismatch":
        offsets = np.array([10, -25, 1, 100, -3, 40])[: len(rows)]
        drop.iloc[rows, drop.columns.get_loc("total")] += offsets
    elif issue.id == "unknown_primary_type":
        column = drop.columns.get_loc("primary_type")
        drop.iloc[rows, column] = [TYPE_TYPOS[t] for t in drop.iloc[rows, column]]
    elif issue.id == "secondary_type_format":
        column = drop.columns.get_loc("secondary_type")
        styles = [lambda t: " " + t.lower(), str.upper, lambda t: t + " ", str.lower,
                  lambda t: " " + t]  # fmt: skip
        drop.iloc[rows, column] = [styles[k % len(styles)](t) for k, t in enumerate(drop.iloc[rows, column])]
    elif issue.id == "is_legendary_invalid":
        drop.iloc[rows, drop.columns.get_loc("is_legendary")] = ["Y", "TRUE", "1", "Yes", "N"][: len(rows)]
    elif issue.id == "generation_out_of_range":
        drop.iloc[rows, drop.columns.get_loc("generation")] = [0, 8, 9, 17][: len(rows)]
    elif issue.id == "release_date_unparseable":
        drop.iloc[rows, drop.columns.get_loc("release_date")] = [
            "18/11/2016",
            "2017-02-30",
            "2017-13-01",
            "unknown",
            "2016.11.18",
        ][: len(rows)]
    elif issue.id == "capture_rate_out_of_range":
        drop.iloc[rows, drop.columns.get_loc("capture_rate")] = [0, 256, 300, 1, -5][: len(rows)]
    else:
        raise ValueError(f"no injector for issue {issue.id!r}")
    if issue.id in {"nonpositive_hp", "attack_out_of_range"}:
        # Keep total consistent, so these rows show exactly one problem each.
        drop.iloc[rows, drop.columns.get_loc("total")] = drop.iloc[rows][DROP_STATS].sum(axis=1)
    return extra


def pokemon_drop(seed: int = DROP_SEED) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """The v2 drop with problems injected, and the answer key listing them.

    Another seed gives a fresh drop from the same process (new pokemon, the same kinds of problem in
    other rows): hidden tests grade a validation pipeline on a drop no learner had.
    """
    rng = np.random.default_rng(seed)
    taken = pokemon_table(POKEMON_SEED)["Name"]  # new pokemon must not reuse an old name
    dex = build_dex(rng, [DROP_GENERATION], NameMaker(rng, taken))
    spare = rng.choice(np.flatnonzero(~dex["Legendary"].to_numpy()), DROP_CONFLICTS, replace=False)
    conflicts = _drop_frame(rng, dex.iloc[np.sort(spare)])
    drop = _drop_frame(rng, dex.drop(index=dex.index[spare]).reset_index(drop=True))

    # Disjoint row sets: rows needing a second type are taken from dual-typed rows first.
    dual = rng.permutation(np.flatnonzero(drop["secondary_type"].to_numpy() != ""))
    pool = [int(i) for i in rng.permutation(len(drop))]
    chosen: dict[str, np.ndarray] = {}
    for issue in sorted(DROP_ISSUES, key=lambda i: not i.needs_second_type):
        source = [int(i) for i in dual if int(i) in pool] if issue.needs_second_type else pool
        rows = source[: issue.count]
        pool = [i for i in pool if i not in set(rows)]
        chosen[issue.id] = np.array(rows)

    extras = [_inject(rng, drop, conflicts, issue, chosen[issue.id]) for issue in DROP_ISSUES]
    ids = drop["pokemon_id"].to_numpy()
    key = [
        {
            "id": issue.id,
            "kind": issue.kind,
            "column": issue.column,
            "row_ids": sorted(int(ids[i]) for i in chosen[issue.id]),
            "description": issue.description,
        }
        for issue in DROP_ISSUES
    ]
    drop = pd.concat([drop, *extras], ignore_index=True)
    # The provider exports in no particular order; a fixed shuffle keeps it deterministic.
    drop = drop.iloc[rng.permutation(len(drop))].reset_index(drop=True)
    return drop, key


def drop_schema_markdown() -> str:
    low, high = GENERATION_RANGE
    cr_low, cr_high = CAPTURE_RATE_RANGE
    stat = ("integer", "1-255")
    columns = [
        ("pokemon_id", "integer", "national dex number; **unique** (one row per pokemon)"),
        ("name", "string", "required (never empty); **unique**"),
        (
            "primary_type",
            "string",
            "one of the 18 types below, spelled exactly as listed (Title Case, no spaces)",
        ),
        (
            "secondary_type",
            "string",
            "empty for a single-typed pokemon, otherwise one of the 18 types spelled exactly as "
            "listed, and different from `primary_type`",
        ),
        ("total", "integer", "must equal `hp + attack + defense + sp_attack + sp_defense + speed`"),
        *[(name, *stat) for name in DROP_STATS],
        ("generation", "integer", f"{low}-{high}"),
        ("is_legendary", "string", "exactly `yes` or `no` (lower case)"),
        ("capture_rate", "integer", f"{cr_low}-{cr_high} (higher = easier to catch)"),
        (
            "release_date",
            "string",
            "the date the pokemon was first released: ISO 8601 `YYYY-MM-DD`, a real calendar date",
        ),
    ]
    renames = [
        ("`#`", "`pokemon_id`", "renamed; no longer shared by mega forms (the drop has none)"),
        ("`Name`", "`name`", "renamed"),
        ("`Type 1`", "`primary_type`", "renamed"),
        ("`Type 2`", "`secondary_type`", "renamed"),
        ("`Total`", "`total`", "renamed"),
        ("`HP`, `Attack`, `Defense`", "`hp`, `attack`, `defense`", "renamed"),
        ("`Sp. Atk`, `Sp. Def`", "`sp_attack`, `sp_defense`", "renamed"),
        ("`Speed`", "`speed`", "renamed"),
        ("`Generation`", "`generation`", "renamed; generation 7 is new"),
        ("`Legendary` (`True`/`False`)", "`is_legendary` (`yes`/`no`)", "renamed and re-encoded"),
        ("–", "`capture_rate`", "new"),
        ("–", "`release_date`", "new"),
        ("`Competitive`", "–", "not provided (it is our own label)"),
    ]
    lines = [
        "# Pokemon data drop v2: schema",
        "",
        "From the data provider. This drop contains **new** pokemon only (their `pokemon_id`",
        "values do not occur in `pokemon.csv`). The export format changed from v1; the column",
        "mapping is at the end.",
        "",
        'One row per pokemon. Comma-separated, UTF-8, header row, an empty cell means "no value".',
        "",
        "| column | type | valid values |",
        "|---|---|---|",
        *[f"| `{name}` | {kind} | {valid} |" for name, kind, valid in columns],
        "",
        "The 18 types: " + ", ".join(f"`{t}`" for t in TYPES) + ".",
        "",
        "No two rows are identical.",
        "",
        "## Changes from v1 (`pokemon.csv`)",
        "",
        "| v1 column | v2 column | change |",
        "|---|---|---|",
        *[f"| {old} | {new} | {change} |" for old, new, change in renames],
    ]
    return "\n".join(lines) + "\n"


def build_pokemon_drop() -> Files:
    drop, key = pokemon_drop()
    return {
        "pokemon_drop_v2.csv": csv_bytes(drop),
        "pokemon_drop_v2_schema.md": drop_schema_markdown().encode("utf-8"),
        "instructor/pokemon_drop_v2_issues.json": json_bytes(key),
    }
