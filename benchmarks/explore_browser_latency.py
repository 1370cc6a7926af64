"""forecast explore in Chromium: time from one change of a control to the redrawn view.

Starts `forecast explore configs/honghe.yaml` on a free port, opens the page in headless
Chromium (selenium + /usr/bin/chromedriver), sets the bed norm 20 times and prints the median
and largest time until the page shows the new view (the 120 ms debounce included).

    .venv/bin/python benchmarks/explore_browser_latency.py
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHANGE = """
var done = arguments[arguments.length - 1];
var box = document.querySelector('input[name="demand.elderly.norm_per_1000"]');
var seq = +document.body.dataset.seq, started = performance.now();
box.value = arguments[0];
box.dispatchEvent(new Event('input'));
(function poll() {
  if (+document.body.dataset.seq > seq && document.body.dataset.state === 'ready') {
    done(performance.now() - started);
  } else { setTimeout(poll, 5); }
})();
"""


def main() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "forecast.cli", "explore", str(ROOT / "configs" / "honghe.yaml"),
         "--port", "0", "--no-browser", "--out", tempfile.mkdtemp()],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = re.search(r"http://\S+/", server.stdout.readline()).group(0)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [*FLAGS, f"--user-data-dir={tempfile.mkdtemp()}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.set_script_timeout(60)
        driver.get(url)
        WebDriverWait(driver, 60).until(lambda d: d.find_element(
            By.TAG_NAME, "body").get_attribute("data-state") == "ready")
        times = [driver.execute_async_script(CHANGE, str(norm)) for norm in range(36, 56)]
        print(f"change -> redrawn view (120 ms debounce included), 20 changes: median "
              f"{statistics.median(times):.0f} ms, max {max(times):.0f} ms")
    finally:
        driver.quit()
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
