"""
Debian's Chromium, headless, driven by selenium through Debian's
chromedriver: the chat page as a browser user sees it.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 15.0
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    """
    @return: A TCP port on 127.0.0.1 free right now (for a server that must
        come back on the same port after a restart).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Browser:
    """
    One headless Chromium with a fresh profile, closed by L{close}.
    """

    def __init__(self, width: int = 1100, height: int = 700) -> None:
        self.profile = tempfile.mkdtemp(prefix="chat-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_window_size(width, height)

    def open(self, url: str) -> None:
        self.driver.get(url)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition: Callable[[], Any], what: str) -> Any:
        return WebDriverWait(
            self.driver,
            TIMEOUT,
            0.05,
            ignored_exceptions=(StaleElementReferenceException,),
        ).until(lambda _: condition(), f"timed out waiting for {what}")

    def wait_for_text(self, css: str, text: str) -> WebElement:
        def found() -> WebElement | None:
            for element in self.all(css):
                if text in element.text:
                    return element
            return None

        element: WebElement = self.wait(found, f"{text!r} in {css}")
        return element

    def click_text(self, css: str, text: str) -> None:
        """
        Click the element matching C{css} that shows C{text}, once there
        (lists are redrawn as messages come: a stale one is found again).
        """

        def clicked() -> bool:
            for element in self.all(css):
                if text in element.text:
                    element.click()
                    return True
            return False

        self.wait(clicked, f"{text!r} in {css} to click")

    def log_texts(self) -> list[str]:
        # In one call: the page redraws its log (a pending line taken, a
        # room shown), which would leave elements found one by one stale.
        texts = self.driver.execute_script(
            "return [...document.querySelectorAll('#log li')].map((e) => e.innerText)"
        )
        return [str(text) for text in texts]

    def console_errors(self) -> list[str]:
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE"
        ]

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
