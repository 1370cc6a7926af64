"""The committed JSON Schema of configs (configs/config.schema.json, as nhp_model publishes its
schema) is what `forecast schema` prints today: a config change that forgets it fails here."""

from __future__ import annotations

import json
from pathlib import Path

from forecast.config import config_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "configs" / "config.schema.json"


def test_committed_schema_is_current():
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == config_schema(), (
        "configs/config.schema.json is stale: regenerate it with "
        "`forecast schema > configs/config.schema.json`")

