"""The 2010 ↔ 2020 census unit crosswalk, and 2010 census figures on 2020 boundaries.

Between the two censuses hundreds of county-level units were re-coded, upgraded (县 → 市),
turned into districts (撤县设区), merged, split or moved to another prefecture (简阳 from 资阳 to
成都, 公主岭 from 四平 to 长春, 巢湖's counties to 合肥, 芜湖 and 马鞍山). The crosswalk works
on *leaf* units — rows of the census unit table with no rows under them: counties, yearbook
rows without a code (management areas, development zones), and prefectures without counties
(东莞, 中山, 嘉峪关, 儋州 in 2020) — because the leaves of a census add up to every unit above
them (checked for both censuses: ``tests/test_crosswalk.py``).

An edge links a 2010 leaf to a 2020 leaf that holds (part of) its 2010 area. Edges come from,
in this order:

1. the sourced list of changes ``data/unit_changes_2010_2020.csv`` (merges, splits, renames a
   name rule cannot see, yearbook misprints), which alone decides the edges of every 2010 leaf
   it names (a 2010 leaf split in two has a row for each part, its own continuation included);
2. the same 6-digit code and the same name stem (the name without its administrative suffix,
   :func:`forecast.defaults.census.name_stem`; 巿 read as 市) — the unit is unchanged;
3. the same name stem in the same province among leaves still unmatched, preferring the same
   prefecture — re-coding, 县 → 市 upgrades, 撤县设区 and moves between prefectures
   (蒙自县 532522 → 蒙自市 532503, 简阳市 512081 → 510185).

The connected groups of the edge graph are *clusters* (one 2010 leaf and one 2020 leaf for an
unchanged unit; 崇文区 + 东城区 → 东城区 for a merge; 宝安区 + 龙岗区 → 宝安, 龙岗, 龙华, 坪山,
光明 for the Shenzhen splits). A 2020 unit's 2010 area is the union of the clusters whose 2020
leaves all lie inside it:

* ``exact`` — every cluster under it lies wholly inside it: its 2010 figures are sums of 2010
  leaves (a 2020 prefecture's 2010 base is the sum of its 2020 counties' 2010 populations);
* ``apportioned`` — a cluster is shared with units outside it (a county split between two
  districts): that cluster's 2010 population is shared out in proportion to the 2020
  population of each age group and sex (an assumption, which gives the members the cluster's
  residual migration rates); such a unit cannot be backtested, since the split uses 2020 counts;
* ``none`` — no 2010 leaf maps to it (development zones and 兵团 cities carved out of several
  counties after 2010): named in the run's warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import census
from forecast.paths import data_dir

CHANGES_FILE = "unit_changes_2010_2020.csv"
SUFFIX = "@2020"  # a 2010 census key for a 2020 unit's area: "532500@2020"


def key_on_2020_boundaries(unit_id: str) -> str:
    """The key of a 2020 unit's area in 2010 census tables (see :func:`groups_on_2020`)."""
    return f"{unit_id}{SUFFIX}"


def _stem(name: str) -> str:
    return census.name_stem(str(name).replace("巿", "市"))


def leaves(census_year: int) -> pd.DataFrame:
    """Units of one census with no unit under them (the national row excluded)."""
    units = census.load_units(census_year)
    has_children = set(units.parent_id)
    out = units[~units.unit_id.isin(has_children) & (units.level != "national")].copy()
    out["stem"] = out["name"].map(_stem)
    return out.reset_index(drop=True)


@lru_cache(maxsize=1)
def changes() -> pd.DataFrame:
    """The sourced list of changes: year, province, id_2010, name_2010, id_2020, name_2020,
    change, source (one row per edge)."""
    table = pd.read_csv(data_dir() / CHANGES_FILE, dtype=str, keep_default_na=False)
    table["year"] = table["year"].astype(int)
    return table


@lru_cache(maxsize=1)
def edges() -> pd.DataFrame:
    """All crosswalk edges: id_2010, id_2020, rule (changes list / same code / same name) and
    persons_2010, the 2010 persons of a split part where the changes list gives them."""
    leaves_2010, leaves_2020 = leaves(2010), leaves(2020)
    known_2010 = set(leaves_2010.unit_id)
    known_2020 = set(leaves_2020.unit_id)
    listed = changes()
    bad = sorted(set(listed.id_2010) - known_2010) + sorted(set(listed.id_2020) - known_2020)
    if bad:
        raise RuntimeError(f"{CHANGES_FILE}: not a leaf of its census: {', '.join(bad)}")
    rows = [(r.id_2010, r.id_2020, f"changes list: {r.change} {r.year}",
             float(r.persons_2010) if r.persons_2010 else np.nan)
            for r in listed.itertuples(index=False)]
    free_2010 = known_2010 - set(listed.id_2010)
    free_2020 = set(known_2020)  # a listed 2020 leaf may also continue its own 2010 self
    stem_2010 = dict(zip(leaves_2010.unit_id, leaves_2010.stem, strict=True))
    for leaf in leaves_2020.itertuples(index=False):  # rule 2: same code, same stem
        if leaf.unit_id in free_2020 and leaf.unit_id in free_2010 \
                and stem_2010[leaf.unit_id] == leaf.stem:
            rows.append((leaf.unit_id, leaf.unit_id, "same code and name", np.nan))
            free_2010.discard(leaf.unit_id)
            free_2020.discard(leaf.unit_id)
    by_stem: dict[tuple[str, str], list] = {}
    for old in leaves_2010.itertuples(index=False):
        if old.unit_id in free_2010:
            by_stem.setdefault((old.stem, old.province), []).append(old)
    for leaf in leaves_2020.itertuples(index=False):  # rule 3: same stem in the province
        if leaf.unit_id not in free_2020:
            continue
        hit = [o for o in by_stem.get((leaf.stem, leaf.province), []) if o.unit_id in free_2010]
        if len(hit) > 1:
            hit = [o for o in hit if o.prefecture == leaf.prefecture]
        if len(hit) == 1:
            old = hit[0]
            rows.append((old.unit_id, leaf.unit_id,
                         f"same name stem in {leaf.province} (2010 {old.name} "
                         f"{old.code or old.unit_id})", np.nan))
            free_2010.discard(old.unit_id)
            free_2020.discard(leaf.unit_id)
    return pd.DataFrame(rows, columns=["id_2010", "id_2020", "rule", "persons_2010"])


@dataclass(frozen=True)
class Crosswalk:
    """Leaf clusters, edge weights and, per 2020 unit, the 2020 leaves under it."""

    cluster_of_2010: dict[str, int]  # 2010 leaf -> cluster
    cluster_of_2020: dict[str, int]  # 2020 leaf -> cluster
    members_2010: dict[int, list[str]]
    members_2020: dict[int, list[str]]
    leaves_under: dict[str, list[str]]  # 2020 unit -> its 2020 leaves
    weights: dict[int, list[tuple[str, str, float]]]  # known cluster -> (2010, 2020, share)

    def clusters_of(self, unit_id: str) -> dict[int, list[str]]:
        """Clusters with a 2010 area touching a 2020 unit -> its 2020 leaves in each."""
        out: dict[int, list[str]] = {}
        for leaf in self.leaves_under.get(unit_id, []):
            c = self.cluster_of_2020.get(leaf)
            if c is not None and self.members_2010.get(c):
                out.setdefault(c, []).append(leaf)
        return out

    def status(self, unit_id: str) -> str:
        """exact, apportioned or none (see the module docstring) for a 2020 unit."""
        clusters = self.clusters_of(unit_id)
        if not clusters:
            return "none"
        if all(len(leaves_in) == len(self.members_2020[c]) or c in self.weights
               for c, leaves_in in clusters.items()):
            return "exact"
        return "apportioned"


def _split_weights(edges_of_cluster: pd.DataFrame, population_2010: dict[str, float]
                   ) -> list[tuple[str, str, float]] | None:
    """(2010 leaf, 2020 leaf, share of the 2010 leaf) for a cluster whose every split names
    the persons of all its parts but one (that one gets the rest); None if any split does not."""
    out = []
    for id_2010, part in edges_of_cluster.groupby("id_2010", sort=False):
        if len(part) == 1:
            out.append((id_2010, part.id_2020.iloc[0], 1.0))
            continue
        unknown = part.persons_2010.isna()
        total = population_2010.get(id_2010, 0.0)
        if unknown.sum() > 1 or total <= 0:
            return None
        named = part[~unknown]
        shares = (named.persons_2010 / total).tolist()
        out += [(id_2010, b, w) for b, w in zip(named.id_2020, shares, strict=True)]
        out += [(id_2010, b, 1.0 - sum(shares)) for b in part[unknown].id_2020]
    return out


@lru_cache(maxsize=1)
def crosswalk() -> Crosswalk:
    """Clusters of the edge graph (union–find) and the 2020 leaves under every 2020 unit."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    all_edges = edges()
    for a, b in all_edges[["id_2010", "id_2020"]].itertuples(index=False):
        root_a, root_b = find("10:" + a), find("20:" + b)
        if root_a != root_b:
            parent[root_a] = root_b
    for leaf in leaves(2010).unit_id:
        find("10:" + leaf)
    for leaf in leaves(2020).unit_id:
        find("20:" + leaf)
    numbers: dict[str, int] = {}
    cluster_2010, cluster_2020 = {}, {}
    members_2010: dict[int, list[str]] = {}
    members_2020: dict[int, list[str]] = {}
    for node in list(parent):
        number = numbers.setdefault(find(node), len(numbers))
        year, unit_id = node.split(":", 1)
        if year == "10":
            cluster_2010[unit_id] = number
            members_2010.setdefault(number, []).append(unit_id)
        else:
            cluster_2020[unit_id] = number
            members_2020.setdefault(number, []).append(unit_id)
    population_2010 = {r.unit_id: float(r.pop_total) for r in leaves(2010).itertuples()
                       if pd.notna(r.pop_total)}
    weights = {}
    for c, part in all_edges.groupby(all_edges.id_2010.map(cluster_2010), sort=False):
        if len(members_2020[c]) > 1:
            known = _split_weights(part, population_2010)
            if known is not None:
                weights[int(c)] = known
    units = census.load_units(2020)
    leaf_ids = set(leaves(2020).unit_id)
    children: dict[str, list[str]] = {}
    for uid, par in zip(units.unit_id, units.parent_id, strict=True):
        children.setdefault(par, []).append(uid)
    under: dict[str, list[str]] = {}

    def collect(uid: str) -> list[str]:
        if uid in under:
            return under[uid]
        if uid in leaf_ids:
            under[uid] = [uid]
        else:
            under[uid] = [leaf for child in children.get(uid, []) for leaf in collect(child)]
        return under[uid]

    for uid in units.unit_id:
        collect(uid)
    return Crosswalk(cluster_2010, cluster_2020, members_2010, members_2020, under, weights)


def status(unit_id: str) -> str:
    """How the 2010 area of a 2020 unit is known: exact, apportioned or none."""
    return crosswalk().status(unit_id)


class _Rows:
    """Fast sums of table rows by unit id (missing ids and NaN cells count as zero)."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.values = np.nan_to_num(table.to_numpy(dtype=float))
        self.position = {uid: i for i, uid in enumerate(table.index)}

    def sum(self, ids: list[str]) -> np.ndarray:
        rows = [self.position[i] for i in ids if i in self.position]
        return self.values[rows].sum(axis=0)


def groups_on_2020(unit_ids: list[str], groups_2010: pd.DataFrame,
                   groups_2020: pd.DataFrame) -> pd.DataFrame:
    """2010 census persons by (sex, age group) on the areas of 2020 units.

    ``groups_2010``/``groups_2020``: persons per unit (rows) and (sex, age_start) (columns),
    the census layout. Returns one row per 2020 unit whose status is not ``none``, indexed by
    :func:`key_on_2020_boundaries`. A cluster wholly inside the unit adds its 2010 leaves; a
    split part whose persons the changes list gives adds that share of its 2010 leaf (the same
    share at every age); any other shared cluster is apportioned by the unit's share of the
    cluster's 2020 persons in each age group and sex.
    """
    walk = crosswalk()
    rows_2010, rows_2020 = _Rows(groups_2010), _Rows(groups_2020)
    cluster_2010: dict[int, np.ndarray] = {}
    rows, keys = [], []
    for unit_id in unit_ids:
        clusters = walk.clusters_of(unit_id)
        if not clusters:
            continue
        total = np.zeros(groups_2010.shape[1])
        for c, members in clusters.items():
            if len(members) == len(walk.members_2020[c]):
                if c not in cluster_2010:
                    cluster_2010[c] = rows_2010.sum(walk.members_2010[c])
                total += cluster_2010[c]
            elif c in walk.weights:
                inside = set(members)
                for a, b, share in walk.weights[c]:
                    if b in inside:
                        total += share * rows_2010.sum([a])
            else:
                whole = rows_2020.sum(walk.members_2020[c])
                part = rows_2020.sum(members)
                share_total = part.sum() / whole.sum() if whole.sum() > 0 else 0.0
                share = np.divide(part, whole, out=np.full_like(part, share_total),
                                  where=whole > 0)
                total += rows_2010.sum(walk.members_2010[c]) * share
        rows.append(total)
        keys.append(key_on_2020_boundaries(unit_id))
    return pd.DataFrame(np.array(rows).reshape(len(rows), groups_2010.shape[1]), index=keys,
                        columns=groups_2010.columns)


def leaf_weights(unit_id: str, population_2020: dict[str, float]) -> dict[str, float]:
    """2010 leaf -> the share of its persons inside a 2020 unit's area (for rates: a 2010
    crude rate of the area is Σ share × persons × rate / Σ share × persons). A cluster shared
    with other units without known persons counts by the unit's share of its 2020 persons."""
    walk = crosswalk()
    out: dict[str, float] = {}
    for c, members in walk.clusters_of(unit_id).items():
        if len(members) == len(walk.members_2020[c]):
            for a in walk.members_2010[c]:
                out[a] = out.get(a, 0.0) + 1.0
        elif c in walk.weights:
            inside = set(members)
            for a, b, share in walk.weights[c]:
                if b in inside:
                    out[a] = out.get(a, 0.0) + share
        else:
            whole = sum(population_2020.get(m, 0.0) for m in walk.members_2020[c])
            part = sum(population_2020.get(m, 0.0) for m in members)
            for a in walk.members_2010[c]:
                out[a] = out.get(a, 0.0) + (part / whole if whole > 0 else 0.0)
    return out


@lru_cache(maxsize=1)
def _area_index_2010() -> dict[frozenset, list[tuple[str, str]]]:
    """frozenset of 2010 leaves -> the 2010 units (unit_id, level) covering exactly them."""
    units = census.load_units(2010)
    units = units[units.has_age_data.astype(bool)]
    leaf_ids = set(leaves(2010).unit_id)
    children: dict[str, list[str]] = {}
    for uid, par in zip(units.unit_id, units.parent_id, strict=True):
        children.setdefault(par, []).append(uid)
    index: dict[frozenset, list[tuple[str, str]]] = {}
    for row in units.itertuples(index=False):
        stack, found = [row.unit_id], set()
        while stack:
            uid = stack.pop()
            if uid in leaf_ids:
                found.add(uid)
            stack.extend(children.get(uid, []))
        if found:
            index.setdefault(frozenset(found), []).append((row.unit_id, row.level))
    return index


@lru_cache(maxsize=1)
def _levels_2020() -> dict[str, str]:
    units = census.load_units(2020)
    return dict(zip(units.unit_id, units.level, strict=True))


@lru_cache(maxsize=8192)
def same_area_2010(unit_id: str) -> str | None:
    """The 2010 unit whose area is exactly a 2020 unit's, where one is (unchanged or re-coded
    units, 红河州 → 532500, 蒙自市 532503 → 蒙自县 532522); else None. Among several (a
    prefecture with one county, a 县 subtotal of one county) the same id, then the same level,
    then any but a yearbook subtotal is taken."""
    walk = crosswalk()
    clusters = walk.clusters_of(unit_id)
    if not clusters or any(len(m) != len(walk.members_2020[c]) for c, m in clusters.items()):
        return None
    with_data = _leaves_with_age_data_2010()
    area = frozenset(a for c in clusters for a in walk.members_2010[c] if a in with_data)
    candidates = _area_index_2010().get(area, [])
    if not candidates:
        return None
    level = _levels_2020().get(unit_id)
    for accept in (lambda u, lv: u == unit_id, lambda u, lv: lv == level,
                   lambda u, lv: lv != "district_aggregate", lambda u, lv: True):
        chosen = [u for u, lv in candidates if accept(u, lv)]
        if chosen:
            return chosen[0]
    return None


@lru_cache(maxsize=1)
def _leaves_with_age_data_2010() -> frozenset:
    table = leaves(2010)
    return frozenset(table[table.has_age_data.astype(bool)].unit_id)


def unmatched_2020_leaves() -> pd.DataFrame:
    """2020 leaves with no 2010 area (status none): unit_id, name, prefecture, pop_total."""
    return _unmatched_2020_leaves().copy()


@lru_cache(maxsize=1)
def _unmatched_2020_leaves() -> pd.DataFrame:
    # cached: every batch of default inputs looks up the development zones
    walk = crosswalk()
    table = leaves(2020)
    none = [uid for uid in table.unit_id if not walk.members_2010.get(walk.cluster_of_2020[uid])]
    return table[table.unit_id.isin(none)][["unit_id", "code", "name", "prefecture", "province",
                                            "pop_total"]].reset_index(drop=True)


def unmatched_2010_leaves() -> pd.DataFrame:
    """2010 leaves (with age data) linked to no 2020 leaf."""
    walk = crosswalk()
    table = leaves(2010)
    table = table[table.has_age_data.astype(bool)]
    lost = [uid for uid in table.unit_id if not walk.members_2020.get(walk.cluster_of_2010[uid])]
    return table[table.unit_id.isin(lost)][["unit_id", "code", "name", "prefecture", "province",
                                            "pop_total"]].reset_index(drop=True)


def crosswalk_table() -> pd.DataFrame:
    """The county-level crosswalk as a tidy table, one row per edge: id_2010, name_2010,
    id_2020, name_2020, rule, cluster, cluster sizes (2010 leaves, 2020 leaves)."""
    walk = crosswalk()
    names_2010 = dict(zip(leaves(2010).unit_id, leaves(2010).name, strict=True))
    names_2020 = dict(zip(leaves(2020).unit_id, leaves(2020).name, strict=True))
    table = edges().copy()
    table.insert(1, "name_2010", table.id_2010.map(names_2010))
    table.insert(3, "name_2020", table.id_2020.map(names_2020))
    table["cluster"] = table.id_2010.map(walk.cluster_of_2010)
    table["leaves_2010"] = table.cluster.map(lambda c: len(walk.members_2010[c]))
    table["leaves_2020"] = table.cluster.map(lambda c: len(walk.members_2020[c]))
    return table
