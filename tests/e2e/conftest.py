"""Real headless Chromium (Debian's chromium + chromium-driver) driven by Selenium.

What the browser tests need is installed here when it is missing: Debian's
`chromium chromium-driver fonts-wqy-microhei` (apt-get, as root or with
password-less sudo) and the `selenium` package (pip, pinned by constraints.txt).
If that is impossible the tests fail with a message saying what to install;
they are never skipped. No browser is downloaded (Selenium Manager is kept offline).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
APT_PACKAGES = ["chromium", "chromium-driver", "fonts-wqy-microhei"]
SELENIUM_REQUIREMENT = "selenium==4.32.0"
HOW_TO = (
    "Install them by hand: `sudo apt-get update && sudo apt-get install -y "
    + " ".join(APT_PACKAGES)
    + f"` and `.venv/bin/pip install {SELENIUM_REQUIREMENT} -c constraints.txt`."
)

# Flags that keep Chromium quiet, offline and independent of any profile.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--lang=zh-CN",
]


def _run(command: List[str], timeout: float = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def _browser_missing() -> List[str]:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if not Path(CHROMEDRIVER).exists():
        missing.append(CHROMEDRIVER)
    if not CJK_FONT.exists():
        missing.append(str(CJK_FONT))
    return missing


def _apt_install() -> str:
    """Install the Debian packages; return '' on success or what went wrong."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    prefix: List[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            return "not root and no sudo"
        prefix = ["sudo", "-n"]
    install = prefix + ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    result = _run(install)
    if result.returncode != 0:  # stale or empty package lists: update once, retry
        _run(prefix + ["apt-get", "update"])
        result = _run(install)
    if result.returncode != 0:
        return (result.stderr or result.stdout).strip()[-1500:]
    return ""


def _ensure_selenium() -> None:
    try:
        importlib.import_module("selenium.webdriver")
        return
    except ImportError:
        pass
    command = [sys.executable, "-m", "pip", "install", "--quiet", SELENIUM_REQUIREMENT]
    constraints = ROOT / "constraints.txt"
    if constraints.exists():
        command += ["-c", str(constraints)]
    result = _run(command)
    importlib.invalidate_caches()
    try:
        importlib.import_module("selenium.webdriver")
    except ImportError:
        pytest.fail(
            f"The browser tests need {SELENIUM_REQUIREMENT} and installing it failed:\n"
            f"{(result.stderr or result.stdout).strip()[-1500:]}\n{HOW_TO}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Chromium, its driver, a CJK font and Selenium are there (installed if need be)."""
    if _browser_missing():
        problem = _apt_install()
        still = _browser_missing()
        if still:
            pytest.fail(
                "The browser tests need real Chromium; missing: "
                + ", ".join(still)
                + (f"\napt-get said: {problem}" if problem else "")
                + f"\n{HOW_TO}",
                pytrace=False,
            )
    _ensure_selenium()


@pytest.fixture
def make_driver(browser_ready, tmp_path, monkeypatch) -> Iterator:
    """A factory of fresh headless Chromium sessions (each its own --user-data-dir)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download a browser
    drivers = []

    def make(width: int = 390, height: int = 844, scale: float = 2, mobile: bool = True):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        profile = tmp_path / f"profile-{len(drivers)}"
        profile.mkdir()
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        log = tmp_path / f"chromedriver-{len(drivers)}.log"
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(log)), options=options)
        drivers.append(driver)
        driver.set_page_load_timeout(30)
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )
        return driver

    yield make
    for driver in drivers:
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 - already gone
            pass


@pytest.fixture(scope="module")
def real_bot_url(tmp_path_factory):
    """The real server (scripts/run_server.py, as `make run`) with the trained model and action server."""
    from tests.integration.rasa_processes import real_bot

    with real_bot(tmp_path_factory.mktemp("real-bot"), "rasa-widget") as rasa:
        yield rasa.url
