"""Regenerate docs/report.png: a default run's report, TIGIT's checkpoint card open.

Needs Debian's chromium + chromium-driver and selenium (the test extra):
``python docs/make_screenshot.py RUN_DIR`` (RUN_DIR from ``targetrank rank``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def main(run_dir: str, out: str = "docs/report.png") -> None:
    """Open the report, filter the checkpoint table to TIGIT, open its card, save a PNG."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--window-size=1400,860"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        browser.get((Path(run_dir).resolve() / "report.html").as_uri())
        sections = browser.find_elements(By.CSS_SELECTOR, "section[id^='s-']")
        section = next(s for s in sections if "checkpoint_combination" in s.text)
        table = section.find_element(By.CSS_SELECTOR, "input[data-filter]")
        table.send_keys("TIGIT")
        toggle = next(
            b
            for b in section.find_elements(By.CSS_SELECTOR, "button.card-toggle")
            if b.text == "TIGIT"
        )
        toggle.click()
        browser.execute_script("arguments[0].scrollIntoView()", section)
        browser.save_screenshot(out)
    finally:
        browser.quit()


if __name__ == "__main__":
    main(*sys.argv[1:])
