"""Property: for every census unit and both base years, what `forecast inputs` writes,
`forecast project` accepts.

All units of a census year are built in batches of ``build_defaults`` (the arrays
`forecast inputs` writes) and checked against the very limits ``read_inputs`` applies
(``forecast.demography.inputs.SRB_LIMITS``, ``MX_LIMITS``, ``ASFR_LIMITS``); the unit with the
highest sex
ratio at birth of each year then makes the real round trip through the inputs directory.
The 2010 census counted up to 1.767 boys per girl aged 0 (安溪县, 13,685 children), which the
former limit of 1.3 refused in 200 units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.defaults import census
from forecast.defaults.assumptions import build_defaults
from forecast.demography.inputs import (
    ASFR_LIMITS,
    MX_LIMITS,
    SRB_LIMITS,
    SRB_WARN,
    read_inputs,
    write_inputs,
)

pytestmark = pytest.mark.slow
CHUNK = 800


def _units(year: int) -> list[census.Unit]:
    table = census.load_units(year)
    table = table[table.has_age_data.astype(bool) & (table.level != "national")]
    return [census.Unit(unit_id=r.unit_id, code=r.code, name=r.name, level=r.level,
                        province=r.province, prefecture=r.prefecture,
                        pop_total=None if pd.isna(r.pop_total) else int(r.pop_total),
                        parent_name=r.parent_name, census_year=year)
            for r in table.itertuples(index=False)]


@pytest.fixture(scope="module", params=[2010, 2020])
def extremes(request):
    """Per base year: ranges of every written rate over all units, and the highest-SRB unit."""
    year = request.param
    units = _units(year)
    srb_max, srb_min, mx_min, mx_max, asfr_min, asfr_max = -1.0, 9.0, 9.0, -1.0, 9.0, -1.0
    worst = None
    warned = 0
    for start in range(0, len(units), CHUNK):
        batch = units[start:start + CHUNK]
        d = build_defaults(batch, year, year + 5)
        i = int(np.argmax(d.srb[:, 0]))
        if d.srb[i, 0] > srb_max:
            srb_max, worst = float(d.srb[i, 0]), (batch[i], d.inputs_for(i))
        srb_min = min(srb_min, float(d.srb.min()))
        mx_min, mx_max = min(mx_min, float(d.mx.min())), max(mx_max, float(d.mx.max()))
        asfr_min, asfr_max = min(asfr_min, float(d.asfr.min())), max(asfr_max,
                                                                    float(d.asfr.max()))
        warned += sum("warning" in p["srb"] for p in d.provenance)
    return {"year": year, "n": len(units), "srb": (srb_min, srb_max), "mx": (mx_min, mx_max),
            "asfr": (asfr_min, asfr_max), "worst": worst, "warned": warned}


def test_every_written_rate_is_inside_what_project_accepts(extremes):
    assert SRB_LIMITS[0] <= extremes["srb"][0] and extremes["srb"][1] <= SRB_LIMITS[1]
    assert MX_LIMITS[0] <= extremes["mx"][0] and extremes["mx"][1] <= MX_LIMITS[1]
    assert ASFR_LIMITS[0] <= extremes["asfr"][0] and extremes["asfr"][1] <= ASFR_LIMITS[1]


def test_highest_srb_unit_round_trips_through_project(extremes, tmp_path):
    """The extreme unit's inputs directory is read back by `forecast project`'s reader, with
    the high-SRB note; 2010's extreme is 安溪县 (1.767)."""
    unit, inputs = extremes["worst"]
    write_inputs(inputs, tmp_path / "in")
    back = read_inputs(tmp_path / "in")
    assert back.srb.srb.max() == pytest.approx(extremes["srb"][1])
    if extremes["year"] == 2010:
        assert unit.name == "安溪县" and extremes["srb"][1] == pytest.approx(1.767, abs=0.001)
        assert any("sex ratio at birth" in n for n in back.notes)
        assert extremes["warned"] > 100  # the census ratios above 1.3 are flagged, not hidden
    assert (extremes["srb"][1] > SRB_WARN) == any("sex ratio at birth" in n for n in back.notes)
