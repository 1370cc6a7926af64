"""The canonical inputs directory: read, validate, write (DESIGN.md, "bring your own rates").

A directory holds

=====================  ===========================  ==========================================
file                   columns                      meaning
=====================  ===========================  ==========================================
population.csv         sex,age,population           base population at start_year (persons)
survival.csv           year,sex,age,survival_ratio  survival ratios, indexed by age at step end
  or mortality.csv     year,sex,age,mx              central death rates (per person-year)
fertility.csv          year,age,asfr                births per woman per year by mother's age
migration.csv (opt.)   year,sex,age,net_migrants    persons per step; absent = none
srb.csv (opt.)         year,srb                     male births per female birth
settings.yaml          start_year, end_year, migration_timing, age_width, open_age
=====================  ===========================  ==========================================

``year`` in a rate file is the start of the step it applies to. When both ``survival.csv`` and
``mortality.csv`` exist, ``survival.csv`` is used. Ages run 0, w, 2w, ... open_age (w = age_width).
This module knows nothing of where inputs came from.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from forecast.errors import InputError
from forecast.vocabulary import SEXES

#: Plausible ceilings of one age-sex cell: more persons than China has (1.41 billion), or more
#: net migrants in a step than any country has seen, are typing mistakes.
MAX_PERSONS_PER_CELL = 1_500_000_000
MAX_NET_MIGRANTS_PER_CELL = 100_000_000
DEFAULT_SRB = 1.05  # used only when srb.csv is absent; reported as an assumption
# Sex ratio at birth, male per female birth. Accepted: every ratio a Chinese census observed at
# age 0 (up to 1.767, 安溪县 2010, with 13,685 children aged 0). Warned above SRB_WARN: beyond every
# province's census age-0 ratio (highest 1.287, 安徽省 2010), i.e. a local count in which girls
# were left unregistered or a typo.
SRB_LIMITS = (0.8, 1.8)
MX_LIMITS = (0.0, 10.0)  # central death rates, per person-year
ASFR_LIMITS = (0.0, 1.0)  # births per woman per year
SRB_WARN = 1.3
SETTINGS_KEYS = {"start_year", "end_year", "migration_timing", "age_width", "open_age"}
FILES = {
    "population": ("population.csv", ["sex", "age", "population"]),
    "survival": ("survival.csv", ["year", "sex", "age", "survival_ratio"]),
    "mortality": ("mortality.csv", ["year", "sex", "age", "mx"]),
    "fertility": ("fertility.csv", ["year", "age", "asfr"]),
    "migration": ("migration.csv", ["year", "sex", "age", "net_migrants"]),
    "srb": ("srb.csv", ["year", "srb"]),
}


@dataclass(frozen=True)
class Settings:
    """Projection span and conventions (settings.yaml)."""

    start_year: int
    end_year: int
    migration_timing: str = "end"
    age_width: int = 1
    open_age: int = 100

    @property
    def ages(self) -> np.ndarray:
        return np.arange(0, self.open_age + 1, self.age_width)

    @property
    def step_years(self) -> np.ndarray:
        """The first year of each step: start_year, start_year + w, ..., end_year - w."""
        return np.arange(self.start_year, self.end_year, self.age_width)

    @property
    def years(self) -> np.ndarray:
        """Every year with a projected population, start_year..end_year inclusive."""
        return np.arange(self.start_year, self.end_year + 1, self.age_width)


@dataclass
class ProjectionInputs:
    """A validated inputs directory as tidy DataFrames (see the module docstring)."""

    settings: Settings
    population: pd.DataFrame
    fertility: pd.DataFrame
    survival: pd.DataFrame | None = None
    mortality: pd.DataFrame | None = None
    migration: pd.DataFrame | None = None
    srb: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def to_arrays(self) -> ArrayInputs:
        """The engine's arrays for this directory (rates restricted to the projection steps)."""
        s = self.settings
        ages, steps = s.ages, s.step_years
        population = _cube(self.population, "population", ages)
        if self.survival is not None:
            survival = _year_cube(self.survival, "survival_ratio", steps, ages)
        else:
            from forecast.demography.lifetable import survival_ratios_by_sex

            if s.age_width != 1:
                raise InputError("mortality.csv can only be used with single-year ages",
                                 path="mortality.csv", fix="give survival.csv for age_width 5")
            mx = _year_cube(self.mortality, "mx", steps, ages)
            survival = survival_ratios_by_sex(mx)
        fert = self.fertility[self.fertility.year.isin(steps)]
        asfr = fert.pivot(index="year", columns="age", values="asfr")
        asfr = asfr.reindex(index=steps, columns=ages, fill_value=0.0).to_numpy(dtype=float)
        if self.srb is not None:
            srb = self.srb.set_index("year")["srb"].reindex(steps).to_numpy(dtype=float)
        else:
            srb = np.full(len(steps), DEFAULT_SRB)
        migration = None
        if self.migration is not None:
            migration = _year_cube(self.migration, "net_migrants", steps, ages)
        return ArrayInputs(settings=s, population=population, survival=survival, asfr=asfr,
                           srb=srb, net_migrants=migration)


@dataclass(frozen=True)
class ArrayInputs:
    """Engine-ready arrays: population (2, A), survival (T, 2, A), asfr (T, A), srb (T,),
    net_migrants (T, 2, A) or None; sex axis 0 = male, 1 = female."""

    settings: Settings
    population: np.ndarray
    survival: np.ndarray
    asfr: np.ndarray
    srb: np.ndarray
    net_migrants: np.ndarray | None


def _cube(frame: pd.DataFrame, value: str, ages: np.ndarray) -> np.ndarray:
    wide = frame.pivot(index="sex", columns="age", values=value)
    return wide.reindex(index=list(SEXES), columns=ages).to_numpy(dtype=float)


def _year_cube(frame: pd.DataFrame, value: str, steps: np.ndarray, ages: np.ndarray) -> np.ndarray:
    sub = frame[frame.year.isin(steps)]
    wide = sub.pivot_table(index=["year", "sex"], columns="age", values=value, aggfunc="first")
    index = pd.MultiIndex.from_product([steps, list(SEXES)], names=["year", "sex"])
    cube = wide.reindex(index=index, columns=ages).to_numpy(dtype=float)
    return cube.reshape(len(steps), 2, len(ages))


# ---------------------------------------------------------------------------- reading


def read_csv_checked(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read a UTF-8 CSV and check its columns; a one-line InputError names the problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=path,
                         fix=f"create it with columns {','.join(columns)}") from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        hint = "it looks GBK-encoded" if _decodes(raw, "gb18030") else "unknown encoding"
        raise InputError(f"not UTF-8 text ({hint})", path=path,
                         fix="re-save it as UTF-8, e.g. `iconv -f GBK -t UTF-8`") from None
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty file"
        raise InputError(f"not a readable CSV ({first})", path=path,
                         fix=f"one header row {','.join(columns)} then one row per cell") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=path,
                         fix=f"the header must be {','.join(columns)}")
    frame = frame[columns].copy()
    if frame.empty:
        raise InputError("no data rows", path=path, fix="add one row per cell")
    for column in columns:
        if column == "sex":
            frame[column] = frame[column].astype(str).str.strip().str.lower()
            bad = ~frame[column].isin(SEXES)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(f"sex '{frame[column].iloc[row]}' is not male or female",
                                 path=path, field=f"row {row + 2}, column sex",
                                 fix="use 'male' or 'female'")
            continue
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"'{frame[column].iloc[row]}' is not a number", path=path,
                             field=f"row {row + 2}, column {column}",
                             fix="give a finite number in every cell")
        if column in ("year", "age"):
            if not np.all(numbers == np.round(numbers)):
                row = int(np.flatnonzero((numbers != np.round(numbers)).to_numpy())[0])
                raise InputError("must be a whole number", path=path,
                                 field=f"row {row + 2}, column {column}",
                                 fix="ages and years are whole years")
            numbers = numbers.astype(int)
        frame[column] = numbers
    return frame


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _first_bad_row(frame: pd.DataFrame, mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2


def check_range(frame: pd.DataFrame, column: str, path: Path, *, low: float | None = None,
                low_open: bool = False, high: float | None = None, fix: str) -> None:
    """Raise InputError naming the first row of ``frame[column]`` outside [low, high]."""
    _check_range(frame, column, path, low=low, high=high, low_open=low_open, fix=fix)


def _check_range(frame: pd.DataFrame, column: str, path: Path, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False, fix: str) -> None:
    values = frame[column]
    bad = pd.Series(False, index=frame.index)
    if low is not None:
        bad |= (values <= low) if low_open else (values < low)
    if high is not None:
        bad |= values > high
    if bad.any():
        row = _first_bad_row(frame, bad)
        value = values.to_numpy()[row - 2]
        raise InputError(f"{column} {value:g} is out of range", path=path,
                         field=f"row {row}, column {column}", fix=fix)


def _check_ages(frame: pd.DataFrame, path: Path, settings: Settings, by: list[str]) -> None:
    expected = set(settings.ages.tolist())
    groups = frame.groupby(by, sort=False)["age"] if by else [((), frame["age"])]
    for key, ages in groups:
        label = ", ".join(f"{k}={v}" for k, v in zip(by, key if isinstance(key, tuple) else (key,),
                                                        strict=True))
        where = f" for {label}" if label else ""
        present = ages.tolist()
        if len(present) != len(set(present)):
            duplicate = ages[ages.duplicated()].iloc[0]
            raise InputError(f"age {duplicate} appears twice{where}", path=path, field="age",
                             fix="give each age once")
        missing = sorted(expected - set(present))
        if missing:
            raise InputError(f"age {missing[0]} is missing{where} (ages must run 0, "
                             f"{settings.age_width}, ... {settings.open_age})", path=path,
                             field="age", fix="add the missing age rows")
        extra = sorted(set(present) - expected)
        if extra:
            raise InputError(f"unexpected age {extra[0]}{where}: ages run 0..{settings.open_age} "
                             f"by {settings.age_width} and {settings.open_age} is the open group",
                             path=path, field="age",
                             fix="aggregate older ages into the open group or set open_age")


def _check_years(frame: pd.DataFrame, path: Path, settings: Settings) -> None:
    missing = sorted(set(settings.step_years.tolist()) - set(frame["year"].tolist()))
    if missing:
        raise InputError(f"year {missing[0]} is missing; rates must cover every step "
                         f"{settings.start_year}..{settings.end_year - settings.age_width}",
                         path=path, field="year", fix="add rows for the missing years")


def read_settings(path: Path) -> Settings:
    """Read and validate settings.yaml."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", path=path,
                         fix="create it with start_year, end_year, migration_timing, age_width, "
                             "open_age") from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=path, fix="re-save it as UTF-8") from None
    from forecast.safeyaml import YAMLProblem, load_yaml

    try:
        _, data = load_yaml(text)
    except YAMLProblem as problem:
        from forecast.safeyaml import key_at_line

        key = ".".join(map(str, key_at_line(problem.root, problem.line))) if problem.line else ""
        field = ": ".join(p for p in (f"line {problem.line}" if problem.line else "", key) if p)
        raise InputError(problem.message, path=path, field=field or None,
                         fix=problem.fix) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise InputError(f"YAML syntax error ({getattr(exc, 'problem', exc)})", path=path,
                         field=where, fix="correct the YAML syntax") from None
    if not isinstance(data, dict):
        raise InputError("must be a mapping of settings", path=path,
                         fix="write lines like 'start_year: 2020'")
    unknown = sorted(set(data) - SETTINGS_KEYS)
    if unknown:
        import difflib

        near = difflib.get_close_matches(str(unknown[0]), sorted(SETTINGS_KEYS), n=1)
        valid = ", ".join(sorted(SETTINGS_KEYS))
        hint = f"did you mean '{near[0]}'?" if near else f"valid keys: {valid}"
        raise InputError("unknown key", path=path, field=str(unknown[0]), fix=hint)
    for key in ("start_year", "end_year"):
        if key not in data:
            raise InputError("missing", path=path, field=key, fix=f"add '{key}: <year>'")
    values = {"migration_timing": "end", "age_width": 1, "open_age": 100, **data}
    for key in ("start_year", "end_year", "age_width", "open_age"):
        if not isinstance(values[key], int) or isinstance(values[key], bool):
            raise InputError(f"must be a whole number, not {values[key]!r}", path=path, field=key,
                             fix=f"write e.g. '{key}: {2020 if 'year' in key else 1}'")
    if values["migration_timing"] not in ("end", "even"):
        raise InputError(f"unknown migration_timing {values['migration_timing']!r}", path=path,
                         field="migration_timing", fix="use 'end' or 'even'")
    if values["age_width"] not in (1, 5):
        raise InputError(f"age_width {values['age_width']} is not supported", path=path,
                         field="age_width", fix="use 1 (single years) or 5 (five-year groups)")
    settings = Settings(**values)
    if settings.end_year <= settings.start_year:
        raise InputError("end_year must be after start_year", path=path, field="end_year",
                         fix="set end_year > start_year")
    if (settings.end_year - settings.start_year) % settings.age_width:
        raise InputError("the span must be a whole number of steps", path=path,
                         field="end_year", fix=f"make end_year - start_year a multiple of "
                                               f"{settings.age_width}")
    if settings.open_age % settings.age_width or settings.open_age < 2 * settings.age_width:
        raise InputError(f"open_age {settings.open_age} does not fit age_width "
                         f"{settings.age_width}", path=path, field="open_age",
                         fix="use a multiple of age_width, e.g. 100 or 85")
    return settings


def read_inputs(directory: str | Path) -> ProjectionInputs:
    """Read and validate a canonical inputs directory; raise InputError on the first problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("inputs directory not found", path=directory,
                         fix="give a directory holding settings.yaml, population.csv, ...")
    settings = read_settings(directory / "settings.yaml")

    def load(name: str) -> pd.DataFrame:
        filename, columns = FILES[name]
        return read_csv_checked(directory / filename, columns)

    def present(name: str) -> bool:
        return (directory / FILES[name][0]).exists()

    def load_rates(name: str, by: list[str], value: str, *, low: float | None = None,
                   high: float | None = None, low_open: bool = False, fix: str = ""
                   ) -> pd.DataFrame:
        """A year-indexed rate file: every step present, restricted to the steps, every age
        present per ``by`` group, values in range."""
        frame = load(name)
        path = directory / FILES[name][0]
        _check_years(frame, path, settings)
        frame = frame[frame.year.isin(settings.step_years)]
        _check_ages(frame, path, settings, by)
        if low is not None or high is not None:
            _check_range(frame, value, path, low=low, high=high, low_open=low_open, fix=fix)
        return frame

    population = load("population")
    path = directory / "population.csv"
    _check_ages(population, path, settings, ["sex"])
    if set(population.sex) != set(SEXES):
        raise InputError("both sexes are needed", path=path, field="sex",
                         fix="give rows for male and female")
    _check_range(population, "population", path, low=0, high=MAX_PERSONS_PER_CELL,
                 fix="counts of persons cannot be negative or more than "
                     f"{MAX_PERSONS_PER_CELL:,} per age and sex")

    notes: list[str] = []
    survival = mortality = None
    if present("survival"):
        survival = load_rates("survival", ["year", "sex"], "survival_ratio", low=0,
                              low_open=True, high=1, fix="survival ratios lie in (0, 1]")
        if present("mortality"):
            notes.append("survival.csv and mortality.csv both given: survival.csv used")
    elif present("mortality"):
        mortality = load_rates("mortality", ["year", "sex"], "mx", low=MX_LIMITS[0],
                               high=MX_LIMITS[1],
                               fix="central death rates are per person-year, between 0 and 10")
        notes.append("survival ratios built from mortality.csv with forecast.demography.lifetable")
    else:
        raise InputError("neither survival.csv nor mortality.csv found", path=directory,
                         fix="add survival.csv (year,sex,age,survival_ratio) or mortality.csv "
                             "(year,sex,age,mx)")

    fertility = load_rates("fertility", ["year"], "asfr", low=ASFR_LIMITS[0],
                           high=ASFR_LIMITS[1],
                           fix="ASFR is births per woman per year, between 0 and 1")

    migration = None
    if present("migration"):
        migration = load_rates("migration", ["year", "sex"], "net_migrants",
                               low=-MAX_NET_MIGRANTS_PER_CELL, high=MAX_NET_MIGRANTS_PER_CELL,
                               fix="net migrants are persons per step, at most "
                                   f"{MAX_NET_MIGRANTS_PER_CELL:,} either way per age and sex")
    else:
        notes.append("no migration.csv: zero net migration")

    srb = None
    if present("srb"):
        srb = load("srb")
        path = directory / "srb.csv"
        _check_years(srb, path, settings)
        srb = srb[srb.year.isin(settings.step_years)]
        if srb.year.duplicated().any():
            raise InputError(f"year {srb.year[srb.year.duplicated()].iloc[0]} appears twice",
                             path=path, field="year", fix="give each year once")
        _check_range(srb, "srb", path, low=SRB_LIMITS[0], high=SRB_LIMITS[1],
                     fix="the sex ratio at birth is male per female birth, e.g. 1.05")
        high = srb[srb.srb > SRB_WARN]
        if len(high):
            notes.append(f"srb.csv: sex ratio at birth {high.srb.max():.3f} is above "
                         f"{SRB_WARN} (beyond every province's census ratio): check that girls "
                         "were not left unregistered")
    else:
        notes.append(f"no srb.csv: assumed sex ratio at birth {DEFAULT_SRB} (assumption)")

    return ProjectionInputs(settings=settings, population=population, fertility=fertility,
                            survival=survival, mortality=mortality, migration=migration, srb=srb,
                            notes=notes)


# ---------------------------------------------------------------------------- writing


def write_inputs(inputs: ProjectionInputs, directory: str | Path) -> None:
    """Write ``inputs`` as a canonical directory (the caller handles atomicity)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    s = inputs.settings
    (directory / "settings.yaml").write_text(
        yaml.safe_dump({"start_year": int(s.start_year), "end_year": int(s.end_year),
                        "migration_timing": s.migration_timing, "age_width": int(s.age_width),
                        "open_age": int(s.open_age)}, sort_keys=False), encoding="utf-8")
    for name in FILES:
        frame = getattr(inputs, name)
        if frame is not None:
            filename, columns = FILES[name]
            frame[columns].to_csv(directory / filename, index=False)
