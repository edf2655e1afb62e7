"""Checkpoint 2: German-credit-like credit risk (credit.csv) and its cost matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from coursedata.serialize import Files, csv_bytes, json_bytes

CREDIT_SEED = 41
CREDIT_ROWS = 1000
CREDIT_BAD = 300  # exactly 70/30 good/bad, as in the original data set

# (values, probabilities, effect on the latent risk of each value)
CREDIT_CATEGORIES: dict[str, tuple[list[str], list[float], list[float]]] = {
    "checking_status": (["<0", "0<=X<200", ">=200", "no checking"],
                        [0.27, 0.27, 0.06, 0.40], [0.9, 0.5, -0.2, -0.9]),
    "credit_history": (["no credits/all paid", "all paid", "existing paid", "delayed previously",
                        "critical/other existing credit"],
                       [0.04, 0.05, 0.53, 0.09, 0.29], [1.0, 0.9, 0.1, 0.2, -0.6]),
    "purpose": (["new car", "used car", "furniture/equipment", "radio/tv", "domestic appliance",
                 "repairs", "education", "retraining", "business", "other"],
                [0.23, 0.10, 0.18, 0.28, 0.01, 0.02, 0.05, 0.01, 0.10, 0.02],
                [0.3, -0.6, 0.0, -0.3, 0.2, 0.3, 0.5, -0.5, 0.2, 0.2]),
    "savings_status": (["<100", "100<=X<500", "500<=X<1000", ">=1000", "no known savings"],
                       [0.60, 0.10, 0.06, 0.05, 0.19], [0.4, 0.2, -0.4, -0.6, -0.5]),
    "employment_since": (["unemployed", "<1", "1<=X<4", "4<=X<7", ">=7"],
                         [0.06, 0.17, 0.34, 0.17, 0.26], [0.2, 0.4, 0.0, -0.4, -0.2]),
    "personal_status": (["male div/sep", "female div/dep/mar", "male single", "male mar/wid"],
                        [0.05, 0.31, 0.55, 0.09], [0.3, 0.2, -0.2, 0.0]),
    "other_debtors": (["none", "co applicant", "guarantor"], [0.91, 0.04, 0.05],
                      [0.0, 0.4, -0.5]),
    "property": (["real estate", "life insurance", "car", "no known property"],
                 [0.28, 0.23, 0.33, 0.16], [-0.4, 0.0, 0.1, 0.5]),
    "other_payment_plans": (["bank", "stores", "none"], [0.14, 0.05, 0.81], [0.5, 0.4, -0.1]),
    "housing": (["rent", "own", "for free"], [0.18, 0.71, 0.11], [0.4, -0.2, 0.4]),
    "job": (["unemp/unskilled non res", "unskilled resident", "skilled",
             "high qualif/self emp/mgmt"], [0.02, 0.20, 0.63, 0.15], [0.0, -0.1, 0.0, 0.1]),
    "own_telephone": (["none", "yes"], [0.60, 0.40], [0.1, -0.1]),
    "foreign_worker": (["yes", "no"], [0.96, 0.04], [0.1, -1.0]),
}  # fmt: skip
CREDIT_COLUMNS = ["checking_status", "duration_months", "credit_history", "purpose",
                  "credit_amount", "savings_status", "employment_since", "installment_rate",
                  "personal_status", "other_debtors", "residence_since", "property", "age",
                  "other_payment_plans", "housing", "existing_credits", "job", "num_dependents",
                  "own_telephone", "foreign_worker", "risk"]  # fmt: skip


def credit_table(seed: int = CREDIT_SEED) -> pd.DataFrame:
    # Another seed gives fresh rows from the same process: hidden tests grade on rows no learner had.
    rng = np.random.default_rng(seed)
    n = CREDIT_ROWS
    frame: dict[str, object] = {}
    risk = np.zeros(n)
    for column, (values, probs, effects) in CREDIT_CATEGORIES.items():
        index = rng.choice(len(values), n, p=probs)
        frame[column] = np.array(values, dtype=object)[index]
        risk += np.array(effects)[index]
    duration = np.clip(np.rint(rng.gamma(3.0, 7.0, n)), 4, 72).astype(int)
    # Longer loans are bigger: amount grows with duration, log-normal spread (250 .. ~18,000).
    amount = np.exp(np.log(150 * duration**0.85) + rng.normal(0.3, 0.55, n))
    amount = np.clip(np.rint(amount), 250, 18424).astype(int)
    age = np.clip(np.rint(19 + rng.gamma(2.2, 7.5, n)), 19, 75).astype(int)
    frame.update(
        {
            "duration_months": duration,
            "credit_amount": amount,
            "installment_rate": rng.choice([1, 2, 3, 4], n, p=[0.14, 0.23, 0.16, 0.47]),
            "residence_since": rng.choice([1, 2, 3, 4], n, p=[0.13, 0.31, 0.15, 0.41]),
            "age": age,
            "existing_credits": rng.choice([1, 2, 3, 4], n, p=[0.63, 0.33, 0.03, 0.01]),
            "num_dependents": rng.choice([1, 2], n, p=[0.85, 0.15]),
        }
    )
    risk += (
        0.03 * (duration - 20)
        + 0.00008 * (amount - 3000)
        - 0.02 * (age - 35)
        + 0.15 * (frame["installment_rate"] - 2.5)
        + rng.normal(0, 0.9, n)
    )
    # The 300 highest-risk applicants are "bad": exactly 70/30, like the original.
    bad = np.zeros(n, dtype=bool)
    bad[np.argsort(-risk, kind="stable")[:CREDIT_BAD]] = True
    frame["risk"] = np.where(bad, "bad", "good")
    return pd.DataFrame(frame)[CREDIT_COLUMNS]


CREDIT_COST_MATRIX = {
    "description": (
        "Misclassification costs for the credit-risk model (the classic German credit cost "
        "matrix). Approving a customer who then defaults (predicting 'good' for an actual 'bad') "
        "costs 5; rejecting a customer who would have repaid (predicting 'bad' for an actual "
        "'good') costs 1; correct decisions cost 0."
    ),
    "target": "risk",
    "labels": ["good", "bad"],
    "positive_label": "bad",
    "costs": {
        "actual_good_predicted_good": 0,
        "actual_good_predicted_bad": 1,
        "actual_bad_predicted_good": 5,
        "actual_bad_predicted_bad": 0,
    },
    "matrix": {
        "rows": "actual",
        "columns": "predicted",
        "order": ["good", "bad"],
        "values": [[0, 1], [5, 0]],
    },
}


def build_credit() -> Files:
    return {
        "credit.csv": csv_bytes(credit_table()),
        "credit_cost_matrix.json": json_bytes(CREDIT_COST_MATRIX),
    }
