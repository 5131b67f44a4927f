"""report.html: written with every run, rebuilt by `targetrank report`, safe, self-contained.

The browser tests drive the system's headless Chromium through Selenium and chromedriver
(Debian packages `chromium` and `chromium-driver`, which `.ci/run` installs); they skip with the
reason when either is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import polars as pl
import pytest

from targetrank.cli import main
from targetrank.display import NETWORK_OFF, shown_value

TARGETS = ["TIGIT", "DKK1", "OPN", "RANKL", "PDCD1", "SOST", "CD274", "FOXP3"]
HOSTILE_TITLE = (
    "<script>window.__pwned = 1</script> & \"quotes\" 'single' "
    '<img src=x onerror="window.__pwned = 2">'
)
HOSTILE_ID = 'imm<b>x</b>&"q"'


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A small LightGBM run (8 targets, 5 strategies, bootstrap intervals) via the library; the
    default ranker, shared with the other default runs through the session model cache."""
    import targetrank as t

    ranking = t.rank(TARGETS, scorer="lightgbm", evaluate_model=False)
    return ranking.write(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    """A run whose strategy file holds markup, an ampersand and quotes in an id and a title."""
    from click.testing import CliRunner

    root = tmp_path_factory.mktemp("hostile")
    text = (Path(__file__).parents[1] / "targetrank" / "data" / "strategies.toml").read_text()
    text = text.replace('id = "immune_subset"', f"id = {json.dumps(HOSTILE_ID)}", 1)
    text = text.replace(
        'title = "Targeting specific immune-cell subsets"', f"title = {json.dumps(HOSTILE_TITLE)}"
    )
    (root / "hostile.toml").write_text(text, "utf-8")
    out = root / "run"
    args = ["rank", "--strategies", str(root / "hostile.toml"), "--targets", "TIGIT,DKK1,SPP1"]
    result = CliRunner().invoke(main, [*args, "--scorer", "weighted", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def ranking_of(run: Path) -> pl.DataFrame:
    return pl.read_csv(run / "ranking.csv").with_columns(pl.col("gate").fill_null(""))


IS_GATED = pl.col("gate") != ""


# ------------------------------------------------------------------------------------------
# The page itself (no browser)
# ------------------------------------------------------------------------------------------


def test_report_is_self_contained(small_run):
    page = (small_run / "report.html").read_text("utf-8")
    # nothing to fetch: no external script, stylesheet, image, font or frame
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert '<link rel="stylesheet"' not in page
    from html import unescape

    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)[1])
    assert csp.startswith("default-src 'none'; img-src data:;")  # nothing else may load
    assert 'src="data:image/png;base64,' in page  # the heatmap travels inside the page
    for strategy in ranking_of(small_run)["strategy"].unique():
        assert f"({strategy})" in page


def test_rebuild_gives_the_same_page(small_run, runner, tmp_path):
    out = tmp_path / "again.html"
    result = runner.invoke(main, ["report", str(small_run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    assert out.read_text("utf-8") == (small_run / "report.html").read_text("utf-8")


def test_top_n_is_stated_and_the_rest_left_to_the_csv(small_run, runner, tmp_path):
    out = tmp_path / "top3.html"
    assert runner.invoke(main, ["report", str(small_run), "--out", str(out), "--top", "3"]).exit_code == 0  # fmt: skip
    page = out.read_text("utf-8")
    assert page.count("Showing the top 3 of 8 ranked targets (N = 3)") == 5
    assert page.count('<tr data-i="') == 5 * 3
    full = (small_run / "report.html").read_text("utf-8")
    assert full.count('<tr data-i="') == 5 * len(TARGETS)
    assert "up to N = 100 per strategy" in full


def test_genome_universe_shows_novel_candidates(small_run, runner, tmp_path):
    """A genome run folder (manifest says so, novel_candidates.csv present) gets the section."""
    run = tmp_path / "genome"
    shutil.copytree(small_run, run)
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    manifest["universe"] = "genome"
    (run / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    ranking_of(run).filter(pl.col("rank") <= 2).select(
        "strategy", pl.col("rank").alias("novel_rank"), "rank", "symbol", "ensembl_id", "score",
        "p_top10", "top_drivers",
    ).write_csv(run / "novel_candidates.csv")  # fmt: skip
    assert runner.invoke(main, ["report", str(run)]).exit_code == 0
    page = (run / "report.html").read_text("utf-8")
    section = page[page.index('<section id="novel">') :]
    assert section.count('<tr data-i="') == 10


def test_every_model_feature_on_a_card_names_its_source_and_release(small_run):
    # a card that says "unknown source" for a driver cannot be traced to a data release
    from targetrank.report.collect import collect

    data = collect(small_run)
    assert data.features
    unknown = [name for name, _label, sources, _rel in data.features if "unknown" in sources]
    assert not unknown
    by_name = {name: (sources, rel) for name, _label, sources, rel in data.features}
    sources, release = by_name["sc_network"]
    assert "string" in sources and "STRING v12" in release
    # a share the strategy's file switches off is no driver of any card there (what the trees
    # make of its null is booked under the strategy), and where the file reads it, it is data
    index = [name for name, *_ in data.features].index("sc_network")
    values = {
        s["id"]: [v for card in s["cards"] for i, v, _c in card["drivers"] if i == index]
        for s in data.strategies
    }
    assert not values["checkpoint_combination"] and not values["bone_targeted_delivery"]
    assert values["bone_resident"] and not any("not used" in v for v in values["bone_resident"])
    assert shown_value("sc_network", None, network=False) == NETWORK_OFF  # were it ever shown
    assert shown_value("sc_network", None, network=True) == "missing"


def test_gated_target_shows_its_gate(small_run):
    page = (small_run / "report.html").read_text("utf-8")
    gated = ranking_of(small_run).filter(IS_GATED).row(0, named=True)
    assert gated["gate"]
    assert '<tr data-i="' in page and 'class="gated"' in page
    from html import escape

    assert f'<td class="gate">{escape(gated["gate"])}</td>' in page


def test_hostile_text_is_escaped_in_the_markup(hostile_run):
    page = (hostile_run / "report.html").read_text("utf-8")
    assert "window.__pwned" in page  # the title is there ...
    assert "<script>window.__pwned" not in page  # ... but never as markup
    assert "<img src=x" not in page and "<b>x</b>" not in page
    assert page.count("<script") == 2  # the JSON data block and the page's own script
    data = page[page.index('id="tr-data">') :]
    assert "</script" not in data[: data.index("</script>")]  # JSON cannot close its element


def test_links_for_pmid_nct_doi():
    from targetrank.report import linkify

    segs = linkify("NCT04294810; PMID 37069359; DOI 10.1200/JCO.23.01363. Cancer Discov 2020")
    links = {text: url for text, url in segs if url}
    assert links == {
        "NCT04294810": "https://clinicaltrials.gov/study/NCT04294810",
        "PMID 37069359": "https://pubmed.ncbi.nlm.nih.gov/37069359/",
        "DOI 10.1200/JCO.23.01363": "https://doi.org/10.1200/JCO.23.01363",
    }
    assert "".join(text for text, _ in segs).endswith(". Cancer Discov 2020")


def test_not_a_run_folder_is_an_actionable_error(runner, tmp_path):
    result = runner.invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 4
    assert "manifest.json is missing" in result.output and "targetrank rank" in result.output
    (tmp_path / "manifest.json").write_text("{not json", "utf-8")
    result = runner.invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 4 and "manifest.json" in result.output


def test_a_failing_report_leaves_no_half_written_run(monkeypatch, small_run, tmp_path):
    """The report is part of the atomic run folder: if it cannot be built, no folder appears."""
    import targetrank.report
    from targetrank.errors import OutputError
    from targetrank.export import write_run

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(targetrank.report, "build_report", boom)
    from targetrank.pipeline import Ranking

    table = ranking_of(small_run)
    ranking = Ranking(
        table=table,
        manifest=json.loads((small_run / "manifest.json").read_text("utf-8")),
        model_card={},
        rows=table.select("strategy", "symbol"),
    )
    with pytest.raises(OutputError, match="partial folder was removed"):
        write_run(ranking, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# In a real browser
# ------------------------------------------------------------------------------------------


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip(
            "headless Chromium is not installed (need the Debian packages chromium and "
            "chromium-driver: apt-get install -y chromium chromium-driver; .ci/run does this)"
        )
    return chromium, driver


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install '.[test]')"
    )
    from selenium.webdriver.chrome.service import Service

    chromium, driver = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900", "--disable-extensions", "--no-first-run"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(driver), options=options)
    yield drv
    drv.quit()


def _open(browser, page: Path) -> None:
    browser.get_log("browser"), browser.get_log("performance")  # drop earlier pages' entries
    browser.get(page.resolve().as_uri())
    deadline = time.monotonic() + 10
    while browser.execute_script("return document.documentElement.dataset.ready") != "1":
        assert time.monotonic() < deadline, "the report's script never finished"
        time.sleep(0.05)


def _visible_rows(browser, table_id: str) -> list[list[str]]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))"
        ".filter(r => !r.hidden && !r.classList.contains('card-row'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent.trim()))",
        table_id,
    )


def _assert_clean(browser) -> None:
    """No console error and no request that leaves the file."""
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    urls += browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert urls, "the performance log recorded nothing: the check would be vacuous"
    leaving = [u for u in urls if not u.startswith(("file:", "data:"))]
    assert leaving == [], leaving


@pytest.mark.slow
def test_report_in_chromium(browser, small_run, tmp_path):
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    _open(browser, small_run / "report.html")
    ranking = ranking_of(small_run)
    strategies = ranking["strategy"].unique(maintain_order=True).to_list()
    for k, strategy in enumerate(strategies):  # every strategy table holds its rows, in order
        expected = ranking.filter(pl.col("strategy") == strategy).sort("rank")
        rows = _visible_rows(browser, f"t{k}")
        assert [r[1] for r in rows] == expected["symbol"].to_list()
        assert [int(r[0]) for r in rows] == expected["rank"].to_list()
    # the name the user typed is shown beside the symbol
    assert ["SPP1", "OPN"] in [[r[1], r[2]] for r in _visible_rows(browser, "t0")]

    # sorting: by score descending (two clicks), then by symbol A-Z
    headers = browser.find_elements(By.CSS_SELECTOR, "#t0 thead th button.sort")
    score = headers[3]
    score.click()
    scores = [float(r[3]) for r in _visible_rows(browser, "t0")]
    assert scores == sorted(scores)
    score.click()
    scores = [float(r[3]) for r in _visible_rows(browser, "t0")]
    assert scores == sorted(scores, reverse=True)
    headers[1].click()
    symbols = [r[1] for r in _visible_rows(browser, "t0")]
    assert symbols == sorted(symbols)

    # filtering: one word, then none; the gated checkbox hides gated-out rows
    box = browser.find_element(By.CSS_SELECTOR, 'input[data-filter="t0"]')
    box.send_keys("TIGIT")
    assert [r[1] for r in _visible_rows(browser, "t0")] == ["TIGIT"]
    assert browser.find_element(By.CSS_SELECTOR, '[data-count="t0"]').text == "1 of 8 rows shown"
    box.clear()
    box.send_keys(" ")  # clear() fires no input event
    assert len(_visible_rows(browser, "t0")) == len(TARGETS)
    last = len(strategies) - 1
    gated = ranking.filter((pl.col("strategy") == strategies[last]) & IS_GATED)
    browser.find_element(By.CSS_SELECTOR, f'input[data-hide-gated="t{last}"]').click()
    shown = {r[1] for r in _visible_rows(browser, f"t{last}")}
    assert shown and not shown & set(gated["symbol"].to_list())

    # a target card: contribution bars both ways, feature provenance, evidence links
    k = strategies.index("checkpoint_combination")
    section = browser.find_element(By.ID, f"s-{k}")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    toggle = next(
        b for b in section.find_elements(By.CSS_SELECTOR, "button.card-toggle") if b.text == "TIGIT"
    )
    toggle.click()
    card = section.find_element(By.CSS_SELECTOR, "tr.card-row .card")
    assert "TIGIT in Combining immune checkpoint blockades" in card.text
    contrib = card.find_elements(By.CSS_SELECTOR, "table.contrib tbody tr")
    assert len(contrib) >= 10
    assert card.find_elements(By.CSS_SELECTOR, ".bar .half.pos span")
    assert card.find_elements(By.CSS_SELECTOR, ".bar .half.neg span")
    assert "Project Score" in card.text or "HPA" in card.text  # releases from the manifest
    links = [a.get_attribute("href") for a in card.find_elements(By.TAG_NAME, "a")]
    assert "https://clinicaltrials.gov/study/NCT05568095" in links
    assert "failed phase 3" in card.text
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}; browser checks took {time.monotonic() - started:.1f} s")
    toggle.click()
    assert not section.find_elements(By.CSS_SELECTOR, "tr.card-row")
    _assert_clean(browser)


@pytest.mark.slow
def test_hostile_text_shows_as_text_in_chromium(browser, hostile_run):
    from selenium.webdriver.common.by import By

    _open(browser, hostile_run / "report.html")
    heading = browser.find_element(By.CSS_SELECTOR, "#s-0 h2").text
    assert HOSTILE_TITLE in heading and HOSTILE_ID in heading
    assert browser.execute_script("return window.__pwned === undefined")
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 2
    assert len(browser.find_elements(By.TAG_NAME, "img")) == 1  # the heatmap only
    assert not browser.find_elements(By.TAG_NAME, "b")
    browser.find_element(By.CSS_SELECTOR, "#t0 button.card-toggle").click()
    assert HOSTILE_TITLE in browser.find_element(By.CSS_SELECTOR, "#t0 .card h4").text
    assert browser.execute_script("return window.__pwned === undefined")
    _assert_clean(browser)
