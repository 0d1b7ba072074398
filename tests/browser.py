"""A real headless Chromium for page tests (the docs page now; admin and privacy pages later).

Where Chromium or chromedriver is missing the tests are skipped with the reason; where
GATEWAY_TEST_REQUIRE_BROWSER is set (CI installs both, see .ci/run) they fail instead.
"""

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from werkzeug.serving import make_server

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMEDRIVER_NAMES = ("chromedriver",)
INSTALL = "apt-get install chromium chromium-driver"


def find_browser(
    which: Callable[[str], str | None] = shutil.which, *, required: bool | None = None
) -> tuple[str, str]:
    """The paths of Chromium and chromedriver; skip, or fail where required, if one is missing."""
    if required is None:
        required = bool(os.environ.get("GATEWAY_TEST_REQUIRE_BROWSER"))
    chromium = next((path for name in CHROMIUM_NAMES if (path := which(name))), None)
    driver = next((path for name in CHROMEDRIVER_NAMES if (path := which(name))), None)
    if chromium and driver:
        return chromium, driver
    found = {"chromium": chromium, "chromedriver": driver}
    missing = [name for name, path in found.items() if not path]
    reason = f"no {' and no '.join(missing)} on PATH ({INSTALL})"
    if required:
        pytest.fail(f"GATEWAY_TEST_REQUIRE_BROWSER is set, but there is {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a throw-away profile, its console log kept."""
    chromium, driver_path = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,1800",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


@pytest.fixture
def live_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The test's app served over real HTTP on a free port of 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The SEVERE entries of the page's console."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
