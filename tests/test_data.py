"""Tests for data/generate_dataset.py: determinism, checksums, and that each data set teaches.

The generator runs once per test session into a temporary folder (through its command line, as a
learner would run it); every test reads from there, so the committed data/ folder is never touched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, ks_2samp
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "data" / "generate_dataset.py"
COMMITTED_SUMS = ROOT / "data" / "SHA256SUMS"

# Written out here rather than imported, so the tests check the generator against an independent
# statement of what the data should be.
TYPES = ["Bug", "Dark", "Dragon", "Electric", "Fairy", "Fighting", "Fire", "Flying", "Ghost",
         "Grass", "Ground", "Ice", "Normal", "Poison", "Psychic", "Rock", "Steel", "Water"]  # fmt: skip
STATS = ["HP", "Attack", "Defense", "Sp. Atk", "Sp. Def", "Speed"]
POKEMON_COLUMNS = ["#", "Name", "Type 1", "Type 2", "Total", *STATS, "Generation", "Legendary",
                   "Competitive"]  # fmt: skip


def run_generator(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


@pytest.fixture(scope="session")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_dataset", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_dataset"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("data")
    result = run_generator("--out", out)
    return out, result


@pytest.fixture(scope="session")
def out_dir(generated: tuple[Path, subprocess.CompletedProcess]) -> Path:
    out, result = generated
    assert result.returncode == 0, f"generator failed:\n{result.stdout}\n{result.stderr}"
    return out


def sums_in(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def all_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ determinism and checksums


def test_fresh_generation_matches_committed_checksums(generated, out_dir: Path) -> None:
    _, result = generated
    committed = sums_in(COMMITTED_SUMS)
    assert f"verified {len(committed)} files" in result.stdout
    assert all_files(out_dir) == set(committed), "SHA256SUMS must list every generated file"
    for name, digest in committed.items():
        assert hashlib.sha256((out_dir / name).read_bytes()).hexdigest() == digest, name


def test_checksum_file_is_sorted_sha256sum_format() -> None:
    lines = COMMITTED_SUMS.read_text(encoding="utf-8").splitlines()
    assert lines, "SHA256SUMS is empty"
    assert all(re.fullmatch(r"[0-9a-f]{64}  [\w./-]+", line) for line in lines), lines
    names = [line.split("  ", 1)[1] for line in lines]
    assert names == sorted(names)


def test_building_in_process_gives_the_same_bytes(gen: ModuleType, out_dir: Path) -> None:
    # A second, independent run (this process, not the CLI's) must agree byte for byte.
    for dataset in gen.DATASETS.values():
        for name, content in dataset.build().items():
            assert content == (out_dir / name).read_bytes(), f"{name} differs between runs"


def test_generating_twice_gives_identical_bytes(tmp_path: Path, out_dir: Path) -> None:
    assert run_generator("--out", tmp_path, "--only", "pokemon").returncode == 0
    assert (tmp_path / "pokemon.csv").read_bytes() == (out_dir / "pokemon.csv").read_bytes()


def test_files_use_unix_line_endings(out_dir: Path) -> None:
    for name in all_files(out_dir):
        assert b"\r" not in (out_dir / name).read_bytes(), name


# The remaining command-line tests call main() in this process: the same code path as the
# script, without paying a fresh interpreter start (and pandas import) for each case.


def test_only_writes_the_named_data_set(gen: ModuleType, tmp_path: Path, capsys) -> None:
    assert gen.main(["--out", str(tmp_path), "--only", "credit"]) == 0
    assert all_files(tmp_path) == {"credit.csv", "credit_cost_matrix.json"}
    assert "verified 2 files" in capsys.readouterr().out


def test_verify_passes_on_fresh_output(out_dir: Path) -> None:
    result = run_generator("--verify", "--out", out_dir)
    assert result.returncode == 0, result.stderr
    assert f"verified {len(sums_in(COMMITTED_SUMS))} files" in result.stdout


def test_verify_only_checks_the_named_data_set(gen: ModuleType, out_dir: Path, capsys) -> None:
    assert gen.main(["--verify", "--out", str(out_dir), "--only", "churn"]) == 0
    assert "verified 1 files" in capsys.readouterr().out


@pytest.fixture
def copy_of_data(out_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(out_dir, copy)
    return copy


def test_verify_names_a_tampered_file(gen: ModuleType, copy_of_data: Path, capsys) -> None:
    target = copy_of_data / "production" / "batch_03.csv"
    target.write_bytes(target.read_bytes().replace(b"False", b"True", 1))
    assert gen.main(["--verify", "--out", str(copy_of_data)]) == 1
    err = capsys.readouterr().err
    assert "production/batch_03.csv: sha256 differs" in err
    assert "1 of 21 files failed verification" in err  # only the tampered file is reported


def test_verify_names_a_missing_file(gen: ModuleType, copy_of_data: Path, capsys) -> None:
    (copy_of_data / "churn.csv").unlink()
    (copy_of_data / "instructor" / "pokemon_drop_v2_issues.json").unlink()
    assert gen.main(["--verify", "--out", str(copy_of_data)]) == 1
    err = capsys.readouterr().err
    assert "churn.csv: missing" in err
    assert "instructor/pokemon_drop_v2_issues.json: missing" in err
    assert "2 of 21 files failed verification" in err


def test_verify_rejects_a_malformed_checksum_file(
    gen: ModuleType, out_dir: Path, tmp_path: Path, capsys
) -> None:
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("not-a-digest  pokemon.csv\n", encoding="utf-8")
    assert gen.main(["--verify", "--out", str(out_dir), "--sums", str(sums)]) == 2
    assert f"{sums}:1: expected '<sha256 hex>  <path>'" in capsys.readouterr().err


def test_verify_without_a_checksum_file_says_so(gen: ModuleType, out_dir: Path, capsys) -> None:
    missing = out_dir / "no-such-SHA256SUMS"
    assert gen.main(["--verify", "--out", str(out_dir), "--sums", str(missing)]) == 2
    assert f"checksum file {missing} does not exist" in capsys.readouterr().err


def test_write_checksums_lists_every_file(gen: ModuleType, tmp_path: Path) -> None:
    sums = tmp_path / "SUMS"
    assert gen.main(["--out", str(tmp_path / "d"), "--write-checksums", "--sums", str(sums)]) == 0
    assert sums.read_text(encoding="utf-8") == COMMITTED_SUMS.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--verify", "--write-checksums"], "exclusive"),
        (["--write-checksums", "--only", "churn"], "drop --only"),
        (["--only", "pokemons"], "invalid choice: 'pokemons'"),
    ],
)
def test_bad_arguments_are_refused(gen: ModuleType, capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gen.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_csv_writer_refuses_unformatted_floats(gen: ModuleType) -> None:
    from coursedata.serialize import csv_bytes  # importable once the generator is loaded

    with pytest.raises(TypeError, match="column 'x' is float"):
        csv_bytes(pd.DataFrame({"x": [0.1]}))


def test_generator_sources_are_not_git_ignored() -> None:
    # data/* is ignored (generated files are not committed); the generator's own sources must
    # not be, or a fresh clone could not generate anything.
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    sources = [SCRIPT, ROOT / "data" / "SHA256SUMS", ROOT / "data" / "README.md",
               *sorted((ROOT / "data" / "coursedata").glob("*.py"))]  # fmt: skip
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *map(str, sources)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    assert ignored == [], f"git ignores generator sources: {ignored}"


# ------------------------------------------------------------------------------ pokemon.csv


@pytest.fixture(scope="session")
def pokemon(out_dir: Path) -> pd.DataFrame:
    return pd.read_csv(out_dir / "pokemon.csv")


def test_pokemon_columns_and_dtypes(pokemon: pd.DataFrame) -> None:
    assert list(pokemon.columns) == POKEMON_COLUMNS
    assert 760 <= len(pokemon) <= 840
    for column in ["#", "Total", *STATS, "Generation"]:
        assert pd.api.types.is_integer_dtype(pokemon[column]), column
    assert pokemon["Legendary"].dtype == bool
    assert pokemon["Competitive"].dtype == bool


def test_pokemon_values_are_valid(pokemon: pd.DataFrame) -> None:
    assert (pokemon["Total"] == pokemon[STATS].sum(axis=1)).all()
    assert (pokemon[STATS] >= 1).all().all()
    assert pokemon["Defense"].min() >= 5
    assert pokemon[STATS].max().max() <= 255
    assert pokemon["Generation"].between(1, 6).all()
    assert set(pokemon["Generation"]) == set(range(1, 7))
    assert pokemon["Name"].is_unique
    assert pokemon["Type 1"].isin(TYPES).all()
    type2 = pokemon["Type 2"].dropna()
    assert type2.isin(TYPES).all()
    assert (pokemon.loc[type2.index, "Type 1"] != type2).all(), "Type 2 repeats Type 1"


def test_pokemon_shares_look_like_the_real_table(pokemon: pd.DataFrame) -> None:
    assert 0.40 <= pokemon["Type 2"].isna().mean() <= 0.56  # ~48% single-typed
    assert 0.05 <= pokemon["Legendary"].mean() <= 0.11  # ~8% legendary
    assert 0.40 <= pokemon["Competitive"].mean() <= 0.60
    # Type shapes stats: walls are walls, psychics hit with special attacks, electrics are fast.
    means = pokemon.groupby("Type 1")[STATS].mean()
    assert means.loc["Steel", "Defense"] > pokemon["Defense"].mean() + 15
    assert means.loc["Psychic", "Sp. Atk"] > means.loc["Psychic", "Attack"] + 10
    assert means.loc["Electric", "Speed"] > pokemon["Speed"].mean() + 5
    legendary = pokemon.groupby("Legendary")["Total"].mean()
    assert legendary[True] > legendary[False] + 100


def test_mega_forms_share_the_id_of_their_base_form(pokemon: pd.DataFrame) -> None:
    megas = pokemon[pokemon["Name"].str.startswith("Mega ")]
    assert len(megas) > 20
    base = pokemon.drop(index=megas.index).set_index("#")
    assert base.index.is_unique
    for _, mega in megas.iterrows():
        assert "Mega " + base.loc[mega["#"], "Name"] == mega["Name"]


# The Module 2 competition: the fixed model, the fixed split, and features as the only lever.
def competition_model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def baseline_features(df: pd.DataFrame) -> pd.DataFrame:
    return df[STATS].astype(float)


def engineered_features(df: pd.DataFrame) -> pd.DataFrame:
    """What a careful EDA finds: a speed tier, specialisation, typing, dual typing."""
    x = df[STATS].astype(float).copy()
    type2 = df["Type 2"].fillna("")
    x["fast"] = (df["Speed"] >= 100).astype(float)
    x["offence_ratio"] = np.maximum(df["Attack"], df["Sp. Atk"]) / ((df["Defense"] + df["Sp. Def"]) / 2)
    for t in TYPES:
        x[f"type_{t}"] = ((df["Type 1"] == t) | (type2 == t)).astype(float)
    x["dual_type"] = (type2 != "").astype(float)
    return x


def strong_type_features(df: pd.DataFrame) -> pd.DataFrame:
    """A different route: hand-made strong/weak type flags instead of one-hots, plus bulk."""
    x = df[STATS].astype(float).copy()
    type2 = df["Type 2"].fillna("")
    strong = ["Dragon", "Steel", "Fairy", "Ground", "Ghost"]
    weak = ["Bug", "Ice", "Normal", "Grass"]
    x["strong_type"] = (df["Type 1"].isin(strong) | type2.isin(strong)).astype(float)
    x["weak_type"] = df["Type 1"].isin(weak).astype(float)
    x["fast"] = (df["Speed"] >= 100).astype(float)
    x["attack_ratio"] = np.maximum(df["Attack"], df["Sp. Atk"]) / df[["Defense", "Sp. Def"]].mean(axis=1)
    x["bulk"] = df["HP"] * df["Defense"]
    x["dual_type"] = (type2 != "").astype(float)
    return x


def speed_and_types(df: pd.DataFrame) -> pd.DataFrame:
    x = df[STATS].astype(float).copy()
    x["fast"] = (df["Speed"] >= 100).astype(float)
    onehot = pd.get_dummies(df["Type 1"], prefix="t1", dtype=float)
    onehot2 = pd.get_dummies(df["Type 2"], prefix="t2", dtype=float)  # NaN row = all zeros
    return pd.concat([x, onehot, onehot2], axis=1)


def split_accuracy(x: pd.DataFrame, y: pd.Series) -> float:
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y,
                                                        random_state=42)  # fmt: skip
    return competition_model().fit(x_train, y_train).score(x_test, y_test)


def cv_accuracy(x: pd.DataFrame, y: pd.Series) -> float:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return float(cross_val_score(competition_model(), x, y, cv=folds).mean())


def test_baseline_scores_about_65_percent(pokemon: pd.DataFrame) -> None:
    x, y = baseline_features(pokemon), pokemon["Competitive"]
    assert 0.62 <= split_accuracy(x, y) <= 0.68
    assert 0.62 <= cv_accuracy(x, y) <= 0.68, "the fixed split is not a lucky one"


@pytest.mark.parametrize(
    "features", [engineered_features, strong_type_features, speed_and_types],
    ids=["reference", "strong_types", "speed_and_one_hots"],
)  # fmt: skip
def test_feature_engineering_beats_75_percent(pokemon: pd.DataFrame,
                                              features: Callable) -> None:  # fmt: skip
    x, y = features(pokemon), pokemon["Competitive"]
    split, cv = split_accuracy(x, y), cv_accuracy(x, y)
    assert split > 0.75, f"fixed split {split:.3f}"
    assert cv > 0.75, f"5-fold CV {cv:.3f}"
    assert split < 0.95 and cv < 0.95, "label noise should keep everyone well below 100%"


def test_no_single_engineered_feature_is_magic(pokemon: pd.DataFrame) -> None:
    # The target is spread over several signals: adding only one of them is not enough.
    y = pokemon["Competitive"]
    full = engineered_features(pokemon)
    for group in ["fast", "offence_ratio", "dual_type"]:
        x = pd.concat([baseline_features(pokemon), full[[group]]], axis=1)
        assert cv_accuracy(x, y) < 0.75, group


def test_the_label_is_noisy_even_for_the_true_rule(gen: ModuleType, pokemon: pd.DataFrame) -> None:
    frame = pokemon.assign(**{"Type 2": pokemon["Type 2"].fillna("")})
    from coursedata.pokemon import viability_score

    score = viability_score(frame)
    accuracy = ((score > np.median(score)) == pokemon["Competitive"]).mean()
    assert 0.80 <= accuracy <= 0.93


# ------------------------------------------------------------------- the v2 data drop


@pytest.fixture(scope="session")
def drop(out_dir: Path) -> pd.DataFrame:
    return pd.read_csv(out_dir / "pokemon_drop_v2.csv")


@pytest.fixture(scope="session")
def issues(out_dir: Path) -> list[dict]:
    return json.loads((out_dir / "instructor" / "pokemon_drop_v2_issues.json").read_text())


DROP_STATS = ["hp", "attack", "defense", "sp_attack", "sp_defense", "speed"]


def ids(df: pd.DataFrame, mask: pd.Series) -> set[int]:
    return {int(i) for i in df.loc[mask, "pokemon_id"]}


def _deduplicated(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop_duplicates()


# Each problem's detection rule, exactly as the schema document states the constraint.
DETECTION_RULES: dict[str, Callable[[pd.DataFrame], set[int]]] = {
    "exact_duplicate_rows": lambda d: ids(d, d.duplicated(keep=False)),
    "duplicate_pokemon_id": lambda d: ids(
        _deduplicated(d), _deduplicated(d)["pokemon_id"].duplicated(keep=False)
    ),
    "missing_name": lambda d: ids(d, d["name"].isna() | (d["name"].astype(str).str.strip() == "")),
    "nonpositive_hp": lambda d: ids(d, d["hp"] < 1),
    "attack_out_of_range": lambda d: ids(d, ~d["attack"].between(1, 255)),
    "total_mismatch": lambda d: ids(d, d["total"] != d[DROP_STATS].sum(axis=1)),
    "unknown_primary_type": lambda d: ids(d, ~d["primary_type"].isin(TYPES)),
    "secondary_type_format": lambda d: ids(d, d["secondary_type"].notna() & ~d["secondary_type"].isin(TYPES)),
    "is_legendary_invalid": lambda d: ids(d, ~d["is_legendary"].isin(["yes", "no"])),
    "generation_out_of_range": lambda d: ids(d, ~d["generation"].between(1, 7)),
    "release_date_unparseable": lambda d: ids(
        d, pd.to_datetime(d["release_date"], format="%Y-%m-%d", errors="coerce").isna()
    ),
    "capture_rate_out_of_range": lambda d: ids(d, ~d["capture_rate"].between(3, 255)),
}

# Schema constraints with no injected problem: they must hold for every row.
CLEAN_RULES: dict[str, Callable[[pd.DataFrame], set[int]]] = {
    "other stats out of 1-255": lambda d: ids(
        d,
        (d[["hp", "defense", "sp_attack", "sp_defense", "speed"]] > 255).any(axis=1)
        | (d[["defense", "sp_attack", "sp_defense", "speed"]] < 1).any(axis=1),
    ),
    "secondary repeats primary": lambda d: ids(d, d["secondary_type"] == d["primary_type"]),
    "duplicate name": lambda d: ids(
        _deduplicated(d).dropna(subset=["name"]),
        _deduplicated(d).dropna(subset=["name"])["name"].duplicated(keep=False),
    ),
}


def test_drop_schema_changed_as_documented(drop: pd.DataFrame, out_dir: Path) -> None:
    columns = ["pokemon_id", "name", "primary_type", "secondary_type", "total", *DROP_STATS,
               "generation", "is_legendary", "capture_rate", "release_date"]  # fmt: skip
    assert list(drop.columns) == columns
    schema = (out_dir / "pokemon_drop_v2_schema.md").read_text(encoding="utf-8")
    for column in columns:
        assert f"`{column}`" in schema, column
    for needle in ["1-255", "1-7", "3-255", "YYYY-MM-DD", "unique", "`yes` or `no`"]:
        assert needle in schema, needle
    assert all(f"`{t}`" in schema for t in TYPES)


def test_drop_pokemon_are_new(drop: pd.DataFrame, pokemon: pd.DataFrame) -> None:
    assert not set(drop["pokemon_id"]) & set(pokemon["#"])
    assert not set(drop["name"].dropna()) & set(pokemon["Name"])
    assert drop["pokemon_id"].nunique() >= 280


def test_issue_key_format(issues: list[dict]) -> None:
    assert 8 <= len(issues) <= 12
    assert [i["id"] for i in issues] == list(DETECTION_RULES)
    for issue in issues:
        assert set(issue) == {"id", "kind", "column", "row_ids", "description"}
        assert issue["row_ids"] == sorted(issue["row_ids"]) and issue["row_ids"]
        assert all(isinstance(i, int) for i in issue["row_ids"])
        assert issue["description"]


@pytest.mark.parametrize("issue_id", list(DETECTION_RULES))
def test_each_issue_is_exactly_where_the_key_says(drop: pd.DataFrame, issues: list[dict],
                                                  issue_id: str) -> None:  # fmt: skip
    listed = next(i for i in issues if i["id"] == issue_id)
    found = DETECTION_RULES[issue_id](drop)
    assert found == set(listed["row_ids"]), f"{issue_id}: rule finds {sorted(found)}"
    if listed["column"] is not None:
        assert listed["column"] in drop.columns


def test_problems_are_disjoint_and_the_rest_is_clean(drop: pd.DataFrame,
                                                     issues: list[dict]) -> None:  # fmt: skip
    seen: set[int] = set()
    for issue in issues:
        assert not seen & set(issue["row_ids"]), f"{issue['id']} overlaps another issue"
        seen |= set(issue["row_ids"])
    for name, rule in CLEAN_RULES.items():
        assert rule(drop) == set(), name
    clean = drop[~drop["pokemon_id"].isin(seen)]
    assert len(clean) > 200
    assert not any(rule(clean) for rule in DETECTION_RULES.values())


def test_type_format_problems_are_repairable_and_typos_are_not(drop: pd.DataFrame,
                                                               issues: list[dict]) -> None:  # fmt: skip
    by_id = {i["id"]: set(i["row_ids"]) for i in issues}
    fmt = drop[drop["pokemon_id"].isin(by_id["secondary_type_format"])]["secondary_type"]
    assert fmt.str.strip().str.title().isin(TYPES).all()
    typo = drop[drop["pokemon_id"].isin(by_id["unknown_primary_type"])]["primary_type"]
    assert not typo.str.strip().str.title().isin(TYPES).any()


# ------------------------------------------------------------------------------ churn.csv


@pytest.fixture(scope="session")
def churn(out_dir: Path) -> pd.DataFrame:
    return pd.read_csv(out_dir / "churn.csv")


def test_churn_shape_and_values(churn: pd.DataFrame) -> None:
    assert churn.shape == (2000, 21)
    assert list(churn.columns[:3]) == ["customerID", "gender", "SeniorCitizen"]
    assert churn.columns[-1] == "Churn"
    assert churn["customerID"].is_unique
    assert churn["customerID"].str.fullmatch(r"\d{4}-[A-Z]{5}").all()
    assert 0.22 <= (churn["Churn"] == "Yes").mean() <= 0.30
    assert churn["tenure"].between(0, 72).all()
    no_net = churn["InternetService"] == "No"
    assert (churn.loc[no_net, "TechSupport"] == "No internet service").all()
    assert (churn.loc[~no_net, "TechSupport"].isin(["Yes", "No"])).all()


def test_churn_total_charges_is_a_string_with_blanks_for_new_customers(churn: pd.DataFrame) -> None:
    assert churn["TotalCharges"].dtype == object
    blank = churn["TotalCharges"].str.strip() == ""
    assert 1 <= blank.sum() <= 20
    assert (churn.loc[blank, "tenure"] == 0).all() and (churn.loc[~blank, "tenure"] > 0).all()
    assert pd.to_numeric(churn.loc[~blank, "TotalCharges"]).gt(0).all()


def test_churn_has_the_expected_drivers(churn: pd.DataFrame) -> None:
    rate = (churn["Churn"] == "Yes").groupby
    by_contract = rate(churn["Contract"]).mean()
    assert by_contract["Month-to-month"] > by_contract["Two year"] + 0.25
    by_net = rate(churn["InternetService"]).mean()
    assert by_net["Fiber optic"] > by_net["DSL"] + 0.05
    by_pay = rate(churn["PaymentMethod"]).mean()
    assert by_pay.idxmax() == "Electronic check"
    assert rate(churn["tenure"] <= 12).mean()[True] > rate(churn["tenure"] > 48).mean()[True] + 0.3


# ------------------------------------------------------------------------------ credit.csv


@pytest.fixture(scope="session")
def credit(out_dir: Path) -> pd.DataFrame:
    return pd.read_csv(out_dir / "credit.csv")


def test_credit_shape_and_balance(credit: pd.DataFrame) -> None:
    assert credit.shape == (1000, 21)
    assert credit["risk"].value_counts().to_dict() == {"good": 700, "bad": 300}
    assert credit["age"].between(18, 80).all()
    assert credit["duration_months"].between(4, 72).all()
    assert credit["credit_amount"].gt(0).all()
    assert credit.notna().all().all()


def test_credit_risk_is_learnable(credit: pd.DataFrame) -> None:
    x = credit.drop(columns="risk")
    categorical = list(x.select_dtypes(include="object").columns)
    x = pd.get_dummies(x, columns=categorical, dtype=float)
    y = credit["risk"] == "bad"
    auc = cross_val_score(competition_model(), x, y, scoring="roc_auc",
                          cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()  # fmt: skip
    assert 0.70 <= auc <= 0.95, auc
    bad_rate = (credit["risk"] == "bad").groupby(credit["checking_status"]).mean()
    assert bad_rate["<0"] > bad_rate["no checking"] + 0.2


def test_credit_cost_matrix(out_dir: Path) -> None:
    matrix = json.loads((out_dir / "credit_cost_matrix.json").read_text())
    costs = matrix["costs"]
    assert costs == {"actual_good_predicted_good": 0, "actual_good_predicted_bad": 1,
                     "actual_bad_predicted_good": 5, "actual_bad_predicted_bad": 0}  # fmt: skip
    grid = matrix["matrix"]
    assert (grid["rows"], grid["columns"]) == ("actual", "predicted")
    for i, actual in enumerate(grid["order"]):
        for j, predicted in enumerate(grid["order"]):
            assert grid["values"][i][j] == costs[f"actual_{actual}_predicted_{predicted}"]


# ------------------------------------------------------------------------ pokemon_cards.csv


@pytest.fixture(scope="session")
def cards(out_dir: Path) -> pd.DataFrame:
    return pd.read_csv(out_dir / "pokemon_cards.csv")


def test_cards_shape_and_values(cards: pd.DataFrame) -> None:
    assert list(cards.columns) == ["card_id", "name", "set_name", "release_year", "rarity",
                                   "card_type", "hp", "is_holo", "is_first_edition", "condition",
                                   "psa_grade", "price_usd"]  # fmt: skip
    assert len(cards) == 3000 and cards["card_id"].is_unique
    assert cards["price_usd"].gt(0).all()
    assert cards["psa_grade"].dropna().between(1, 10).all()
    assert 0.3 <= cards["psa_grade"].isna().mean() <= 0.9
    assert (cards["hp"].isna() == (cards["card_type"] != "Pokemon")).all()
    assert not cards.loc[cards["release_year"] > 2002, "is_first_edition"].any()


def test_card_prices_are_right_skewed_and_learnable(cards: pd.DataFrame) -> None:
    price = cards["price_usd"]
    assert price.mean() > 2 * price.median()
    assert price.skew() > 3 and np.log(price).skew() < 1
    x = cards[["rarity", "condition", "card_type"]]
    encoded = OneHotEncoder(sparse_output=False).fit_transform(x)
    numeric = cards[["release_year", "is_holo", "is_first_edition"]].astype(float).to_numpy()
    graded = cards["psa_grade"].notna().to_numpy(float)[:, None]
    grade = cards["psa_grade"].fillna(0).to_numpy(float)[:, None]
    features = np.hstack([encoded, numeric, graded, grade])
    r2 = LinearRegression().fit(features, np.log(price)).score(features, np.log(price))
    assert 0.6 <= r2 <= 0.95, r2


# -------------------------------------------------------------------- production batches


@pytest.fixture(scope="session")
def manifest(out_dir: Path) -> dict:
    return json.loads((out_dir / "instructor" / "production_batches.json").read_text())


def batch(out_dir: Path, number: int) -> pd.DataFrame:
    return pd.read_csv(out_dir / "production" / f"batch_{number:02d}.csv")


def test_production_batch_format(out_dir: Path, pokemon: pd.DataFrame) -> None:
    expected = ["request_id", "timestamp", *[c for c in POKEMON_COLUMNS
                                             if c not in {"#", "Name", "Competitive"}]]  # fmt: skip
    request_ids: set[str] = set()
    for number in range(12):
        frame = batch(out_dir, number)
        assert list(frame.columns) == expected and len(frame) == 500
        assert (frame["Total"] == frame[STATS].sum(axis=1)).all()
        times = pd.to_datetime(frame["timestamp"], format="%Y-%m-%dT%H:%M:%SZ")
        assert times.is_monotonic_increasing
        request_ids |= set(frame["request_id"])
    assert len(request_ids) == 12 * 500


def test_manifest_says_which_batches_drifted(manifest: dict) -> None:
    assert [b["drifted"] for b in manifest["batches"]] == [False] * 6 + [True] * 6
    assert [b["file"] for b in manifest["batches"]] == [f"production/batch_{n:02d}.csv" for n in range(12)]
    for entry in manifest["batches"][6:]:
        assert {d["column"] for d in entry["drift"]} == {"Speed", "Type 1", "Type 2"}


def test_drifted_batches_really_drift(out_dir: Path, pokemon: pd.DataFrame,
                                      manifest: dict) -> None:  # fmt: skip
    reference_single = pokemon["Type 2"].isna().mean()
    for entry in manifest["batches"][6:]:
        frame = batch(out_dir, entry["batch"])
        assert ks_2samp(pokemon["Speed"], frame["Speed"]).pvalue < 0.01, entry["file"]
        shift = next(d["amount"] for d in entry["drift"] if d["column"] == "Speed")
        assert frame["Speed"].mean() - pokemon["Speed"].mean() > shift / 2
        assert (frame["Type 1"] == "Fairy").mean() > 0.15
        assert frame["Type 2"].isna().mean() > reference_single + 0.15


def test_clean_batches_do_not_drift(out_dir: Path, pokemon: pd.DataFrame, manifest: dict) -> None:
    for entry in manifest["batches"][:6]:
        frame = batch(out_dir, entry["batch"])
        for column in [*STATS, "Total"]:
            p = ks_2samp(pokemon[column], frame[column]).pvalue
            assert p > 0.01, f"{entry['file']} {column}: KS p={p:.4f}"
        for column in ["Type 1", "Legendary"]:
            table = pd.crosstab(
                np.r_[np.zeros(len(pokemon)), np.ones(len(frame))],
                np.r_[pokemon[column].to_numpy(), frame[column].to_numpy()],
            )
            assert chi2_contingency(table).pvalue > 0.01, f"{entry['file']} {column}"
