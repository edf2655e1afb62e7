"""Module 5: production traffic batches, six like the training data and six drifted."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from coursedata.pokemon import STAT_MAX, STAT_MIN, STATS, pokemon_table
from coursedata.serialize import Files, csv_bytes, json_bytes

PRODUCTION_SEED = 61
PRODUCTION_BATCHES = 12
PRODUCTION_ROWS = 500
PRODUCTION_WORLDS = 8  # 8 x 800 rows >= 12 batches x 500 rows, each row used once
PRODUCTION_FIRST_DAY = dt.datetime(2026, 3, 2, 0, 0, 0)
FIRST_DRIFTED_BATCH = 6
PRODUCTION_COLUMNS = ["request_id", "timestamp", "Type 1", "Type 2", "Total", *STATS,
                      "Generation", "Legendary"]  # fmt: skip
# Drift grows batch by batch, like a real rollout of a new game version would.
DRIFT_SPEED_SHIFT = [12, 15, 18, 21, 24, 27]  # added to Speed in batches 06..11
DRIFT_FAIRY_SHARE = [0.20, 0.24, 0.28, 0.32, 0.36, 0.40]  # share of Type 1 forced to Fairy
DRIFT_TYPE2_MISSING = [0.70, 0.73, 0.76, 0.79, 0.82, 0.85]  # share with Type 2 empty
SCHEDULED = -1  # drift_step default: the published schedule (batches 06..11 drift, more each batch)


def _drift(rng: np.random.Generator, batch: pd.DataFrame, step: int) -> pd.DataFrame:
    batch = batch.copy()
    batch["Speed"] = np.clip(batch["Speed"] + DRIFT_SPEED_SHIFT[step], STAT_MIN, STAT_MAX)
    fairy = rng.random(len(batch)) < DRIFT_FAIRY_SHARE[step]
    batch.loc[fairy, "Type 1"] = "Fairy"
    # Blank Type 2 up to the target missing share (and where it would now repeat Type 1).
    single_now = (batch["Type 2"] == "").mean()
    extra = max(0.0, (DRIFT_TYPE2_MISSING[step] - single_now) / (1 - single_now))
    blank = (rng.random(len(batch)) < extra) | (batch["Type 2"] == batch["Type 1"])
    batch.loc[blank, "Type 2"] = ""
    batch["Total"] = batch[STATS].sum(axis=1)
    return batch


def production_pool(seed: int = PRODUCTION_SEED) -> pd.DataFrame:
    """Fresh Pokemon worlds made by the same process as pokemon.csv, shuffled into one pool.

    Several worlds, not one: a single world's type mix wobbles (families share types), and that
    wobble would look like drift in the clean batches. Another `seed` gives other worlds (hidden
    tests build batches a learner never saw).
    """
    rng = np.random.default_rng(seed)
    seeds = rng.integers(1_000_000, 2_000_000, PRODUCTION_WORLDS)
    pool = pd.concat([pokemon_table(int(seed)) for seed in seeds], ignore_index=True)
    return pool.iloc[rng.permutation(len(pool))].reset_index(drop=True)


def production_batch(
    pool: pd.DataFrame, number: int, seed: int = PRODUCTION_SEED, drift_step: int | None = SCHEDULED
) -> pd.DataFrame:
    """Batch `number` (0..11) of a pool; `drift_step` 0..5 drifts it like batch 06..11, None keeps it clean.

    The default follows the published schedule; hidden tests choose another drifted set.
    """
    rng = np.random.default_rng([seed, number])
    batch = pool.iloc[number * PRODUCTION_ROWS : (number + 1) * PRODUCTION_ROWS]
    batch = batch.reset_index(drop=True)
    if drift_step == SCHEDULED:
        drift_step = number - FIRST_DRIFTED_BATCH if number >= FIRST_DRIFTED_BATCH else None
    if drift_step is not None:
        batch = _drift(rng, batch, drift_step)
    start = PRODUCTION_FIRST_DAY + dt.timedelta(days=number)
    seconds = np.sort(rng.integers(0, 86_400, PRODUCTION_ROWS))
    batch.insert(0, "request_id", [f"req-{number:02d}-{i:05d}" for i in range(PRODUCTION_ROWS)])
    batch.insert(1, "timestamp", [(start + dt.timedelta(seconds=int(s))).isoformat() + "Z" for s in seconds])
    return batch[PRODUCTION_COLUMNS]


def production_manifest() -> dict[str, object]:
    batches = []
    for number in range(PRODUCTION_BATCHES):
        drifts: list[dict[str, object]] = []
        if number >= FIRST_DRIFTED_BATCH:
            step = number - FIRST_DRIFTED_BATCH
            drifts = [
                {
                    "column": "Speed",
                    "kind": "mean_shift",
                    "amount": DRIFT_SPEED_SHIFT[step],
                    "description": f"Speed is {DRIFT_SPEED_SHIFT[step]} higher (Total follows)",
                },
                {
                    "column": "Type 1",
                    "kind": "category_share",
                    "category": "Fairy",
                    "amount": DRIFT_FAIRY_SHARE[step],
                    "description": f"about {DRIFT_FAIRY_SHARE[step]:.0%} of rows are re-typed Fairy",
                },
                {
                    "column": "Type 2",
                    "kind": "missing_share",
                    "amount": DRIFT_TYPE2_MISSING[step],
                    "description": f"about {DRIFT_TYPE2_MISSING[step]:.0%} of rows have no Type 2",
                },
            ]
        batches.append(
            {
                "file": f"production/batch_{number:02d}.csv",
                "batch": number,
                "drifted": bool(drifts),
                "drift": drifts,
            }
        )
    return {
        "reference": "pokemon.csv",
        "rows_per_batch": PRODUCTION_ROWS,
        "first_drifted_batch": FIRST_DRIFTED_BATCH,
        "batches": batches,
    }


def build_production() -> Files:
    pool = production_pool()
    files = {
        f"production/batch_{n:02d}.csv": csv_bytes(production_batch(pool, n))
        for n in range(PRODUCTION_BATCHES)
    }
    files["instructor/production_batches.json"] = json_bytes(production_manifest())
    return files
