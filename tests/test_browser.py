"""The built site in real headless Chromium (Debian's package; nothing downloads a browser).

Every page loads without console errors or failed requests, every image renders, search finds a
model by name, the palette toggle switches to dark, and untrusted text runs no script.
Screenshots are saved under `test-output/screenshots/`.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import HOSTILE_TYPE, REPO

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "test-output" / "screenshots"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")  # Playwright's event loop must not outlive its module
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; scripts/setup.sh --test installs it")
        pytest.skip("chromium is not installed (run scripts/setup.sh --test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def site_url(built) -> Iterator[str]:
    root, _ = built
    # Serve under a sub-path, as a pull-request preview or project page would be.
    served = root.parent / "served"
    shutil.rmtree(served, ignore_errors=True)
    shutil.copytree(root / "site", served / "preview" / "pr-1")
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/preview/pr-1/"
    server.shutdown()


def html_pages(built) -> list[str]:
    root, _ = built
    site = root / "site"
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.name != "404.html")


def test_every_page_loads_cleanly_with_its_images(browser, site_url, built) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pages = html_pages(built)
    assert len(pages) >= 15
    for path in pages:
        page.goto(site_url + path, wait_until="networkidle")
        broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        assert broken == [], f"{path}: images not rendered: {broken}"
        assert page.title() != "pwned"
        for image in page.query_selector_all("img.reporter-plot"):
            assert image.get_attribute("alt"), f"{path}: plot without alt text"
        page.screenshot(path=str(SCREENSHOTS / (path.replace("/", "_") + ".png")))
    assert problems == []


def test_untrusted_text_runs_no_script_and_injects_nothing(browser, site_url) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site_url + "models/tiny-loaded/index.html", wait_until="networkidle")
    assert page.title().startswith("Tiny <b>checkpoint</b> {{ 7 * 7 }}")
    content = page.locator("article")
    assert content.locator("script").count() == 0 and content.locator("b").count() == 0
    assert "<script>document.title='pwned'</script>" in content.inner_text()
    assert "[click](javascript:alert(1))" in content.inner_text()
    assert page.locator("a[href^='javascript:']").count() == 0
    assert dialogs == []


@contextlib.contextmanager
def card_of(browser: object, site: Path, slug: str) -> Iterator[tuple[object, list[str]]]:
    """A model card of a built site served on 127.0.0.1, open in a new page, with the dialogs it raised."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()  # type: ignore[attr-defined]
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://127.0.0.1:{server.server_port}/models/{slug}/index.html", wait_until="networkidle")
        yield page, dialogs
    finally:
        server.shutdown()


def test_a_language_model_card_prints_prompts_and_completions_as_text(browser, lm_project: Path) -> None:
    with card_of(browser, lm_project / "site", "tiny-lm") as (page, dialogs):
        content = page.locator("article")
        assert content.locator("script").count() == 0 and content.locator("i").count() == 0
        text = content.inner_text()
        assert "<script>alert(1)</script> Tell me | a story" in text and "Tiny <i>causal</i> LM" in text
        assert "Perplexity" in text and "Likelihood bias probe" in text
        assert dialogs == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "language-model-card.png"), full_page=True)


def test_a_named_entity_card_shows_entities_and_hostile_tags_as_text(browser, ner_project: Path) -> None:
    with card_of(browser, ner_project / "site", "test-ner") as (page, dialogs):
        content = page.locator("article")
        assert content.locator("script").count() == 0 and content.locator("img").count() == 0
        text = content.inner_text()
        for phrase in ("Entities, all types", "Per entity type", "Span errors", "Entities by mentions", "Name probe"):
            assert phrase in text
        assert HOSTILE_TYPE in text and "<script>alert(1)</script>" in text and "Test <b>NER</b>" in text
        assert content.locator("table").count() >= 5
        assert dialogs == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "named-entity-card.png"), full_page=True)


def test_search_finds_a_model_by_name(browser, site_url) -> None:
    page = browser.new_page()
    page.goto(site_url + "index.html", wait_until="networkidle")
    page.locator("input.md-search__input").click()
    page.keyboard.type("MiniLM", delay=30)  # Material searches on key events, not on value changes
    result = page.locator(".md-search-result__item").filter(has_text="Test MiniLM").first
    result.wait_for(timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "search.png"))


def test_palette_toggle_switches_to_dark(browser, site_url) -> None:
    page = browser.new_page(color_scheme="light")
    page.goto(site_url + "models/test-mlp/fairness.html", wait_until="networkidle")
    scheme = page.locator("body").get_attribute("data-md-color-scheme")
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    page.wait_for_function(f"document.body.getAttribute('data-md-color-scheme') !== '{scheme}'")
    assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    page.screenshot(path=str(SCREENSHOTS / "dark-fairness.png"), full_page=True)


def test_hostile_column_and_group_names_are_shown_as_text(browser, site_url) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in ("models/hostile-data/fairness.html", "models/hostile-data/data.html"):
        page.goto(site_url + path, wait_until="networkidle")
        article = page.locator("article")
        text = article.inner_text()
        assert "<b>sex</b>" in text
        assert article.locator("b").count() == 0 and article.locator("img:not(.reporter-plot)").count() == 0
        assert page.locator("a[href^='javascript:']").count() == 0
    fairness_text = page.goto(site_url + "models/hostile-data/fairness.html") and page.locator("article").inner_text()
    for group in ("<img src=x onerror=alert(1)>", "{{ 7 * 7 }}"):
        assert group in fairness_text
    assert "49" not in fairness_text.split("race")[-1].split("\n")[0]
    assert dialogs == []


def test_card_links_every_export_and_shows_openness_and_coverage(browser, site_url) -> None:
    page = browser.new_page()
    page.goto(site_url + "models/test-mlp/index.html", wait_until="networkidle")
    article = page.locator("article")
    assert article.locator("h2#openness").count() == 1
    assert "Not classified" in article.inner_text() and "still missing" in article.inner_text()
    for name, marker in (("README.md", "model-index:"), ("bom.cdx.json", '"bomFormat"'), ("spdx.json", '"@context"')):
        link = article.locator(f"a[href='{name}']")
        assert link.count() == 1, name
        response = page.request.get(site_url + "models/test-mlp/" + name)
        assert response.status == 200 and marker in response.text(), name
    page.goto(site_url + "models/test-mlp/documentation.html", wait_until="networkidle")
    rows = page.locator("article table").first.locator("tbody tr")
    assert rows.count() == 23  # Annex IV's points 1(a)–1(h), 2(a)–2(h) and 3–9
    assert rows.filter(has_text="2(g)").locator(".reporter-status").inner_text() == "measured"
    page.screenshot(path=str(SCREENSHOTS / "documentation-coverage.png"), full_page=True)
    page.goto(site_url + "models/test-mlp/transparency.html", wait_until="networkidle")
    indicators = page.locator("article table").first.locator("tbody tr")
    assert indicators.count() == 49  # the FMTI 2025 indicators one model's report can disclose
    overlap = indicators.filter(has_text="Train-test overlap")
    assert overlap.locator(".reporter-status").inner_text() == "measured"
    assert (
        "discloses" in page.locator("article").inner_text() and "Out of scope" in page.locator("article").inner_text()
    )
    page.screenshot(path=str(SCREENSHOTS / "transparency-scorecard.png"), full_page=True)
    page.goto(site_url + "models/test-mlp/model-documentation.html", wait_until="networkidle")
    sections = page.locator("article table tbody tr td:first-child").all_inner_texts()
    assert sections[0] == "1.1" and sections[-1] == "8.2"
