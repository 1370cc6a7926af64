"""`forecast explore`: the overlay a view exports reproduces the view under `forecast run`, bad
control values get the config's own messages, the report export is the run's report, the
page loads nothing from outside, and SIGTERM / Ctrl-C stop the server with status 0.

The Chromium test that drives the page is tests/test_explore_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from forecast.cli import main
from forecast.config import load_config
from forecast.errors import ConfigError
from forecast.explore.app import Explorer
from forecast.explore.render import nice_ticks
from forecast.explore.session import Session
from forecast.pipeline.run import run

PROJECT = Path(__file__).resolve().parents[1]
HONGHE = PROJECT / "configs" / "honghe.yaml"

#: A view that moves one control of every kind.
VALUES = {
    "assumptions.fertility.tfr_shift": "-0.2",
    "assumptions.migration.scale": "0.5",
    "assumptions.mortality.improvement": "half",
    "demand.elderly.norm_per_1000": "45",
    "demand.elderly.target_occupancy": "0.9",
    "demand.childcare.uptake": {"2021": "0.2", "2025": "0.4", "2035": "0.9"},
    "supply.elderly_beds.additions": [
        {"start_year": "2021", "end_year": "2025", "amount": "3000", "plan": 0},
        {"start_year": "2027", "end_year": "2028", "amount": "2000"}],
}


NORM_45 = {"demand.elderly.norm_per_1000": "45"}


@pytest.fixture(scope="module")
def session() -> Session:
    return Session.open(HONGHE)


def config_with(overlay_yaml: str, directory: Path) -> Path:
    """The Honghe config with the exported scenario entry added under `scenarios:`, as a
    planner would paste it (same file name, so the same run name)."""
    config = yaml.safe_load(HONGHE.read_text(encoding="utf-8"))
    config["scenarios"].update(yaml.safe_load(overlay_yaml)["scenarios"])
    path = directory / "honghe.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def test_the_exported_overlay_reproduces_the_view_exactly(session, tmp_path):
    view = session.view(VALUES, "trial")
    text = session.overlay_yaml(view)
    entry = yaml.safe_load(text)["scenarios"]["trial"]
    assert entry["demand.elderly.norm_per_1000"] == 45
    assert entry["assumptions.mortality.improvement"] == "half"
    assert entry["demand.childcare.uptake"] == {2021: 0.2, 2025: 0.4, 2035: 0.9}
    plan_row, new_row = entry["supply.elderly_beds.additions"]
    assert plan_row["source"]["document"] == "001_311e494da490633c.txt"  # the plan's citation
    assert new_row["source"]["document"] == "forecast explore"  # marked as an assumption
    config = load_config(config_with(text, tmp_path))
    reproduced = run(config, ["trial"])
    for table in ("gaps", "summary", "first_shortfall", "supply"):
        pd.testing.assert_frame_equal(getattr(reproduced, table), getattr(view.result, table))
    # the view moved: the norm alone adds 10 beds per 1,000 aged 60+
    base = session.baseline.gaps
    base_2030 = base[(base.service == "elderly_beds") & (base.method == "norm")
                     & (base.year == 2030)].demand.iloc[0]
    moved = view.result.gaps
    moved_2030 = moved[(moved.service == "elderly_beds") & (moved.method == "norm")
                       & (moved.year == 2030)].demand.iloc[0]
    assert moved_2030 != pytest.approx(base_2030, rel=0.05)


def test_untouched_and_unchanged_controls_make_an_empty_overlay(session):
    defaults = {c.key: c.default for c in session.controls if c.kind in ("number", "choice")}
    overlay = session.overlay({key: str(value) for key, value in defaults.items()})
    assert overlay == {}
    view = session.view({})
    pd.testing.assert_frame_equal(view.result.gaps.drop(columns="scenario"),
                                  session.baseline.gaps.drop(columns="scenario"))


@pytest.mark.parametrize("key, raw", [
    ("demand.elderly.norm_per_1000", "-5"),
    ("demand.elderly.norm_per_1000", "abc"),
    ("demand.elderly.target_occupancy", "1.5"),
    ("assumptions.mortality.improvement", "fast"),
    ("assumptions.migration.scale", "11"),
])
def test_a_bad_control_gets_the_configs_one_line_message(session, tmp_path, key, raw):
    with pytest.raises(ConfigError) as explored:
        session.view({key: raw}, "bad")
    path = config_with(yaml.safe_dump({"scenarios": {"bad": {key: yaml.safe_load(raw)}}}),
                       tmp_path)
    with pytest.raises(ConfigError) as configured:
        load_config(path)
    shown, written = str(explored.value), str(configured.value)
    assert "\n" not in shown
    # the config names file and line; the explorer the same key with the same message
    tail = written.split("scenario 'bad': ", 1)[1]
    assert tail.startswith(key)
    assert shown == f"scenario overlay: {tail}"


def test_a_shift_the_unit_cannot_take_is_the_runs_own_error(session):
    with pytest.raises(ConfigError, match=r"tfr_shift -3 takes the TFR of 2021 .* use a shift "
                                          r"above -1\.\d\d"):
        session.view({"assumptions.fertility.tfr_shift": "-3"}, "bad")


def test_a_scenario_name_must_be_new_and_a_folder_name(session):
    with pytest.raises(ConfigError, match="already a scenario of the config"):
        session.view({}, "strict_norm")
    with pytest.raises(ConfigError, match="may hold only letters"):
        session.view({}, "my plan/2")


@pytest.fixture(scope="module")
def cli_run(session, tmp_path_factory) -> tuple[str, Path]:
    """`forecast run` (the command) of the config holding the explorer's export of one view:
    the norm moved to 45 beds per 1,000 aged 60+, scenario 'explore'. (overlay YAML, output
    directory)."""
    root = tmp_path_factory.mktemp("explore-run")
    text = session.overlay_yaml(session.view(NORM_45, "explore"))
    config = config_with(text, root)
    out = root / "run"
    result = subprocess.run([sys.executable, "-m", "forecast.cli", "run", str(config),
                             "--scenario", "explore", "--out", str(out)], capture_output=True,
                            text=True, timeout=600, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    return text, out


def assert_same_run(exported: Path, out: Path) -> None:
    for name in ("report.html", "gaps.csv", "summary.csv", "demand.csv", "first_shortfall.csv",
                 "supply.csv", "assumptions.csv", "population.csv", "targets.csv"):
        assert (exported / name).read_bytes() == (out / name).read_bytes(), name
    ours = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    theirs = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert ours["config"]["sha256"] == theirs["config"]["sha256"]  # the same config


def test_report_export_writes_what_forecast_run_writes(session, cli_run, tmp_path):
    explorer = Explorer(session, tmp_path / "exports")
    answer = explorer.export_report({"values": NORM_45, "name": "explore", "lang": "zh"})
    assert answer["ok"], answer
    assert answer["overlay_yaml"] == cli_run[0]
    assert_same_run(Path(answer["path"]), cli_run[1])


def test_report_export_of_a_bad_view_writes_nothing(session, tmp_path):
    explorer = Explorer(session, tmp_path / "exports")
    answer = explorer.export_report({"values": {"demand.elderly.norm_per_1000": "-1"},
                                     "name": "bad"})
    assert not answer["ok"] and answer["key"] == "demand.elderly.norm_per_1000"
    assert not (tmp_path / "exports" / "bad").exists()


@pytest.mark.parametrize("config_name", ["banan", "lincang", "qinghai", "wanyuan"])
def test_every_shipped_config_explores_and_reproduces(config_name, tmp_path):
    """Each other config (Qinghai's and Lincang's beds are unknown): a view with two changes
    renders in both languages, and its exported entry reproduces it under run()."""
    from forecast.explore.render import view_payload

    path = PROJECT / "configs" / f"{config_name}.yaml"
    explored = Session.open(path)
    view = explored.view({"demand.elderly.norm_per_1000": "42",
                          "assumptions.migration.scale": "0.5"}, "trial")
    for lang in ("zh", "en"):
        fragments = view_payload(view.result, explored.baseline, "trial", lang)
        assert fragments["charts"].count("<svg") >= 4 and "<li>" in fragments["findings"]
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["scenarios"].update(yaml.safe_load(explored.overlay_yaml(view))["scenarios"])
    copy = tmp_path / path.name
    copy.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    reproduced = run(load_config(copy), ["trial"])
    pd.testing.assert_frame_equal(reproduced.gaps, view.result.gaps)


def test_every_control_and_group_is_named_in_both_languages(session):
    from forecast.presentation.labels import EXPLORE_TEXT

    assert set(EXPLORE_TEXT["zh"]) == set(EXPLORE_TEXT["en"])
    for control in session.controls:
        for lang in ("zh", "en"):
            assert control.key in EXPLORE_TEXT[lang] and control.group in EXPLORE_TEXT[lang]
            for choice in control.choices:
                assert f"choice_{choice}" in EXPLORE_TEXT[lang]


def test_report_export_never_replaces_a_folder_it_did_not_write(session, tmp_path):
    mine = tmp_path / "exports" / "explore"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("a planner's own file", encoding="utf-8")
    explorer = Explorer(session, tmp_path / "exports")
    answer = explorer.export_report({"values": NORM_45, "name": "explore"})
    assert not answer["ok"]
    assert answer["error"].endswith("exists and is not an earlier forecast output; it is left "
                                    "as it is (fix: choose another scenario name or --out)")
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "a planner's own file"
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    configs = Explorer(session, PROJECT)  # --out at the repository: 'configs' holds the config
    answer = configs.export_report({"values": NORM_45, "name": "configs"})
    assert not answer["ok"] and "holds the config being explored" in answer["error"]


def test_nice_ticks_cover_the_range_with_round_steps():
    assert nice_ticks(0, 47_000) == [0, 10_000, 20_000, 30_000, 40_000, 50_000]
    assert nice_ticks(-18_061, 4_250) == [-20_000, -15_000, -10_000, -5_000, 0, 5_000]
    ticks = nice_ticks(0, 1.6)
    assert ticks[0] == 0 and ticks[-1] >= 1.6 and len(ticks) <= 7


# ------------------------------------------------------------------------ the running server
def start_server(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """`forecast explore` on a free loopback port; returns the process and its URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "forecast.cli", "explore", str(HONGHE), "--port", "0",
         "--no-browser", "--out", str(tmp_path / "exports"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT, env=env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()),
                              daemon=True)
    reader.start()
    reader.join(timeout=120)
    if not lines or "http://" not in lines[0]:
        process.kill()
        raise AssertionError(f"no URL from forecast explore: {lines} {process.stderr.read()}")
    url = re.search(r"http://127\.0\.0\.1:\d+/", lines[0]).group(0)
    return process, url


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def stop(process: subprocess.Popen, sig: int) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        out, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One `forecast explore` of Honghe for the HTTP and browser tests; the last test of the
    module stops it with SIGTERM (killed here if a test failed before)."""
    root = tmp_path_factory.mktemp("explore-server")
    process, url = start_server(root)
    yield process, url, root
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def test_the_server_answers_and_loads_nothing_from_outside(server):
    _process, url, _root = server
    page = _get(url).decode("utf-8")
    answer = _post(url + "api/view", {"values": NORM_45})
    bad = _post(url + "api/view", {"values": {"demand.elderly.norm_per_1000": "-5"}})
    style = _get(url + "static/explore.css").decode("utf-8")
    script = _get(url + "static/explore.js").decode("utf-8")
    font = _get(url + "font.woff2")
    svg_namespace = "http://www.w3.org/2000/svg"
    for text in (page, style, script, answer["charts"]):
        assert not re.search(r"(https?:)?//[\w.-]+\.[a-z]{2,}", text.replace(svg_namespace, ""))
    assert font[:4] == b"wOF2"
    assert answer["ok"] and "demand.elderly.norm_per_1000: 45" in answer["overlay_yaml"]
    assert bad == {"ok": False, "key": "demand.elderly.norm_per_1000",
                   "error": "scenario overlay: demand.elderly.norm_per_1000: Input should be "
                            "greater than or equal to 0, got -5"}


def test_ctrl_c_stops_the_server_cleanly(tmp_path):
    process, url = start_server(tmp_path)
    try:
        assert b"scenario-name" in _get(url)
    finally:
        code, out = stop(process, signal.SIGINT)
    assert code == 0, out
    assert out.strip().endswith("stopped (SIGINT)")


def test_a_port_in_use_is_a_one_line_error():
    from forecast.explore.server import bind

    taken = bind(0)
    try:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["explore", str(HONGHE), "--port", str(port),
                                           "--no-browser"])
    finally:
        taken.close()
    assert result.exit_code == 2
    assert result.output.strip() == (f"error: --port: port {port} is in use (fix: choose "
                                     "another port, or --port 0 for a free one)")


# ------------------------------------------------------------------------ Chromium (last)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").is_file() else None)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WAIT_SECONDS = 120  # bounded waits, generous for a loaded 2-core machine


def _browser(profile: Path):
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("chromium or chromedriver is not installed (apt-get install -y chromium "
                    "chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _number_shown(text: str) -> int:
    return int(text.replace("−", "-").replace(",", ""))


def test_chromium_moves_a_control_and_shows_the_gap_forecast_run_computes(server, cli_run,
                                                                         tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _process, url, root = server
    overlay_yaml, run_dir = cli_run
    shots = Path(os.environ.get("FORECAST_EXPLORE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    driver = _browser(tmp_path / "profile")
    wait = WebDriverWait(driver, WAIT_SECONDS)
    cell = 'td.gap[data-service="elderly_beds"][data-method="norm"][data-year="2030"]'

    def ready_seq() -> int:
        body = driver.find_element(By.TAG_NAME, "body")
        return int(body.get_attribute("data-seq")) if body.get_attribute(
            "data-state") in ("ready", "error") else -1

    def type_into(name: str, text: str) -> None:
        before = ready_seq()
        box = driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"]')
        box.clear()
        box.send_keys(text)
        wait.until(lambda d: ready_seq() > before and not driver.execute_script(
            "return document.body.dataset.state === 'busy'"), f"no view after typing {text}")

    try:
        driver.set_window_size(1280, 2400)
        driver.get(url)
        wait.until(lambda d: ready_seq() >= 1, "the first view never came")
        baseline_text = driver.find_element(By.CSS_SELECTOR, cell).text
        base = cli_run_gap(run_dir, baseline=True)
        assert baseline_text  # the baseline view, before any change

        # move the norm: the gap changes to what `forecast run` computes for the export
        started = time.perf_counter()
        type_into("demand.elderly.norm_per_1000", "45")
        wait.until(lambda d: "norm_per_1000: 45" in d.find_element(By.ID, "overlay")
                   .get_attribute("value"), "the overlay never showed the norm")
        seconds = time.perf_counter() - started
        shown = driver.find_element(By.CSS_SELECTOR, cell).text
        assert shown != baseline_text
        exported = driver.find_element(By.ID, "overlay").get_attribute("value")
        assert yaml.safe_load(exported) == yaml.safe_load(overlay_yaml)
        assert _number_shown(shown) == round(cli_run_gap(run_dir))
        assert base is None or _number_shown(baseline_text) != round(cli_run_gap(run_dir))
        print(f"update after typing: {seconds:.2f} s (page status: "
              f"{driver.find_element(By.ID, 'status').text})")

        # the page's font and scripts come from this server only
        status = driver.execute_script(
            "return document.fonts.ready.then(function () { return {check: "
            "document.fonts.check('16px ForecastExploreCJK', '红河哈尼族'), external: "
            "performance.getEntriesByType('resource').map(function (e) { return e.name; })"
            ".filter(function (n) { return n.indexOf(location.origin) !== 0 && "
            "n.indexOf('data:') !== 0 && n.indexOf('blob:') !== 0; })}; });")
        assert status == {"check": True, "external": []}
        driver.save_screenshot(str(shots / "explore-1280.png"))

        # a bad value: the config's one-line message, the control marked, the view kept
        type_into("demand.elderly.norm_per_1000", "-5")
        message = driver.find_element(By.ID, "error").text
        assert message == ("scenario overlay: demand.elderly.norm_per_1000: Input should be "
                           "greater than or equal to 0, got -5")
        marked = driver.find_elements(By.CSS_SELECTOR, '.control.invalid[data-key='
                                      '"demand.elderly.norm_per_1000"]')
        assert len(marked) == 1
        assert driver.find_element(By.CSS_SELECTOR, cell).text == shown
        type_into("demand.elderly.norm_per_1000", "45")
        assert driver.find_element(By.ID, "error").text == ""

        # English, then the report of this view: the report `forecast run` writes
        before = ready_seq()
        driver.find_element(By.ID, "lang-switch").click()
        wait.until(lambda d: ready_seq() > before, "no view after switching to English")
        assert "scenario explorer" in driver.find_element(By.ID, "title").text
        assert "Elderly-care beds" in driver.find_element(By.ID, "gaps").text
        driver.find_element(By.ID, "lang-switch").click()
        wait.until(lambda d: ready_seq() > before + 1, "no view after switching back")
        driver.find_element(By.ID, "export-report").click()
        link = wait.until(lambda d: d.find_elements(By.ID, "report-link"),
                          "the report export never answered")
        assert link[0].get_attribute("href").endswith("/reports/explore/report.html")
        assert_same_run(root / "exports" / "explore", run_dir)
        # a planned addition: 1,000 beds added in 2027 (the row the add button makes) close
        # 1,000 of the 2030 gap, and the entry says the row is the explorer's assumption
        before = ready_seq()
        driver.find_element(By.CSS_SELECTOR, '[data-key="supply.elderly_beds.additions"] '
                                             'button.add').click()
        wait.until(lambda d: ready_seq() > before, "no view after adding a planned addition")
        added = driver.find_element(By.CSS_SELECTOR, cell).text
        assert abs(_number_shown(added) - (_number_shown(shown) + 1000)) <= 1
        entry = yaml.safe_load(driver.find_element(By.ID, "overlay").get_attribute("value"))
        rows = entry["scenarios"]["explore"]["supply.elderly_beds.additions"]
        assert rows[-1]["start_year"] == 2027 and rows[-1]["amount"] == 1000
        assert rows[-1]["source"]["document"] == "forecast explore"

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []

        # a phone: the page as it opens at 390 px (control groups folded), nothing wider
        driver.set_window_size(390, 2400)
        driver.get(url)
        wait.until(lambda d: ready_seq() >= 1, "no view at phone width")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400
        driver.save_screenshot(str(shots / "explore-phone.png"))
    finally:
        driver.quit()
    assert (shots / "explore-1280.png").is_file() and (shots / "explore-phone.png").is_file()


def cli_run_gap(run_dir: Path, baseline: bool = False) -> float | None:
    """The 2030 elderly-bed gap by the norm in the CLI run's gaps.csv (None for the baseline,
    which that run does not hold)."""
    if baseline:
        return None
    gaps = pd.read_csv(run_dir / "gaps.csv")
    row = gaps[(gaps.service == "elderly_beds") & (gaps.method == "norm") & (gaps.year == 2030)]
    return float(row.gap.iloc[0])


def test_sigterm_stops_the_server_cleanly(server):
    process, url, _root = server
    code, out = stop(process, signal.SIGTERM)
    assert code == 0, out
    assert out.strip().endswith("stopped (SIGTERM)")
