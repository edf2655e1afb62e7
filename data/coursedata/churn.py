"""Checkpoint 1: Telco-like customer churn (churn.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from coursedata.serialize import Files, csv_bytes, fmt_float

CHURN_SEED = 31
CHURN_ROWS = 2000
CHURN_RATE = 0.265  # the real Telco data set churns 26.5%
ADD_ONS = ["OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
           "StreamingMovies"]  # fmt: skip
ADD_ON_PRICE = {"OnlineSecurity": 5.0, "OnlineBackup": 5.0, "DeviceProtection": 5.0,
                "TechSupport": 5.0, "StreamingTV": 10.0, "StreamingMovies": 10.0}  # fmt: skip
PAYMENT_METHODS = ["Electronic check", "Mailed check", "Bank transfer (automatic)",
                   "Credit card (automatic)"]  # fmt: skip


def _yes_no(flags: np.ndarray) -> np.ndarray:
    return np.where(flags, "Yes", "No")


def _customer_ids(rng: np.random.Generator, size: int) -> list[str]:
    """Telco-style ids such as '7590-VHVEG', unique."""
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < size:
        candidate = f"{int(rng.integers(0, 10000)):04d}-" + "".join(rng.choice(letters, 5))
        if candidate not in seen:
            seen.add(candidate)
            ids.append(candidate)
    return ids


def _intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    """Bisection for the intercept that makes the mean churn probability equal `rate`."""
    low, high = -20.0, 20.0
    for _ in range(100):
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def churn_table(seed: int = CHURN_SEED) -> pd.DataFrame:
    # Another seed gives fresh rows from the same process: hidden tests grade on rows no learner had.
    rng = np.random.default_rng(seed)
    n = CHURN_ROWS
    senior = rng.random(n) < 0.16
    partner = rng.random(n) < 0.48
    dependents = rng.random(n) < np.where(partner, 0.5, 0.1)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.21, 0.24])
    # Long contracts go with long tenure: tenure 0-72 months, skewed by contract.
    tenure_scale = np.select([contract == "Month-to-month", contract == "One year"], [0.25, 0.55], 0.8)
    tenure = np.rint(72 * rng.beta(0.9 + 3 * tenure_scale, 3.2 - 2.4 * tenure_scale)).astype(int)
    tenure[rng.random(n) < 0.004] = 0  # a few brand-new customers (no bill yet)
    phone = rng.random(n) < 0.9
    multiple = np.where(phone, _yes_no(rng.random(n) < 0.45), "No phone service")
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    has_net = internet != "No"
    add_on_p = {"OnlineSecurity": 0.37, "OnlineBackup": 0.44, "DeviceProtection": 0.44,
                "TechSupport": 0.37, "StreamingTV": 0.49, "StreamingMovies": 0.5}  # fmt: skip
    add_ons = {name: has_net & (rng.random(n) < p) for name, p in add_on_p.items()}
    paperless = rng.random(n) < 0.59
    payment = rng.choice(PAYMENT_METHODS, n, p=[0.34, 0.23, 0.22, 0.21])

    monthly = (
        np.where(phone, 20.0, 0.0)
        + np.where(multiple == "Yes", 5.0, 0.0)
        + np.select([internet == "Fiber optic", internet == "DSL"], [50.0, 25.0], 0.0)
        + sum(ADD_ON_PRICE[a] * add_ons[a] for a in ADD_ONS)
        + rng.normal(0, 2.0, n)
    )
    monthly = np.clip(monthly, 18.25, 118.75)
    # Total billed drifts a little from tenure * today's price (price changes over the years).
    total = tenure * monthly * rng.normal(1.0, 0.05, n)

    logit = (
        1.3 * (contract == "Month-to-month")
        - 1.2 * (contract == "Two year")
        - 0.035 * tenure
        + 1.1 * (internet == "Fiber optic")
        - 0.5 * (internet == "No")
        + 0.8 * (payment == "Electronic check")
        + 0.35 * senior
        + 0.3 * paperless
        - 0.45 * add_ons["OnlineSecurity"]
        - 0.45 * add_ons["TechSupport"]
        - 0.15 * partner
        - 0.2 * dependents
    )
    logit = logit + _intercept_for_rate(logit, CHURN_RATE)
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    churn[tenure == 0] = False  # a customer who has not received a bill has not left yet

    frame = pd.DataFrame(
        {
            "customerID": _customer_ids(rng, n),
            "gender": rng.choice(["Female", "Male"], n),
            "SeniorCitizen": senior.astype(int),
            "Partner": _yes_no(partner),
            "Dependents": _yes_no(dependents),
            "tenure": tenure,
            "PhoneService": _yes_no(phone),
            "MultipleLines": multiple,
            "InternetService": internet,
            **{a: np.where(has_net, _yes_no(add_ons[a]), "No internet service") for a in ADD_ONS},
            "Contract": contract,
            "PaperlessBilling": _yes_no(paperless),
            "PaymentMethod": payment,
            "MonthlyCharges": fmt_float(monthly, 2),
            # Like the real data: a string column whose new customers have a single-space value,
            # so a naive float conversion fails and the learner has to decide what " " means.
            "TotalCharges": [" " if t == 0 else v for t, v in zip(tenure, fmt_float(total, 2), strict=True)],
            "Churn": _yes_no(churn),
        }
    )
    return frame


def build_churn() -> Files:
    return {"churn.csv": csv_bytes(churn_table())}
