"""
The chat page in headless Chromium on a real twistd, for the tests of what
the page does (attention, history, links, drafts, keys, accessibility, a
phone): a page logged in, a fake of the browser's notifications and of the
tab going to the background, and axe-core run in the page.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.webdriver.common.keys import Keys

from tests.integration.browser import Browser
from tests.integration.support import ChatServer, Client

Start = Callable[..., ChatServer]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

# Before the page's own scripts: notifications that are recorded instead of
# shown (permission granted when asked), and a tab whose visibility the
# test sets (headless Chromium's tab is always visible).
FAKES = """
window.__hidden = false;
Object.defineProperty(Document.prototype, "visibilityState",
  { configurable: true, get() { return window.__hidden ? "hidden" : "visible"; } });
Object.defineProperty(Document.prototype, "hidden",
  { configurable: true, get() { return window.__hidden; } });
window.__notes = [];
window.__asked = 0;
window.__permission = "default";
window.Notification = class {
  constructor(title, options) { window.__notes.push({ title, body: options.body }); }
  close() {}
  static get permission() { return window.__permission; }
  static requestPermission() {
    window.__asked += 1;
    window.__permission = "granted";
    return Promise.resolve("granted");
  }
};
"""


@dataclass
class Page:
    """
    A server, a line user C{alice} on it, and Chromium logged in as
    C{webby} in C{#lobby}.
    """

    server: ChatServer
    browser: Browser
    alice: Client

    @property
    def port(self) -> int:
        return self.server.webPorts[0]

    def js(self, script: str, *args: Any) -> Any:
        return self.browser.driver.execute_script(script, *args)

    def say(self, text: str) -> None:
        field = self.browser.find("#input")
        field.send_keys(text)
        field.send_keys(Keys.ENTER)

    def hide(self, hidden: bool = True) -> None:
        """
        The tab goes to the background (or comes back).
        """
        self.js(
            "window.__hidden = arguments[0];"
            "document.dispatchEvent(new Event('visibilitychange'));",
            hidden,
        )

    def texts(self, css: str = "#log > li") -> list[str]:
        return [str(t) for t in self.js(TEXTS, css)]

    def wait_for_line(self, text: str) -> None:
        self.browser.wait(lambda: any(text in t for t in self.texts()), repr(text))

    def focused(self) -> str:
        """
        @return: The id, or else the text, of the element with the focus.
        """
        return str(
            self.js("const a = document.activeElement; return a.id || a.textContent;")
        )

    def axe(self, *rules: str) -> list[dict[str, Any]]:
        """
        Run axe-core's WCAG 2.2 A and AA rules (and best practices) on the
        page as it is.

        @return: The violations, each with its rule and the elements.
        """
        self.js(AXE.read_text(encoding="utf-8"))
        result = self.browser.driver.execute_async_script(RUN_AXE)
        return list(result)


RUN_AXE = """
const done = arguments[arguments.length - 1];
const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
  "best-practice"];
axe.run(document, { runOnly: { type: "tag", values: tags },
                    resultTypes: ["violations"] })
  .then((r) => done(r.violations.map((v) => ({ id: v.id, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary)
  }))))
  .catch((e) => done([{ id: "axe failed", help: String(e), nodes: [] }]));
"""

TEXTS = """
return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent);
"""


def open_page(
    start_server: Start,
    *options: str,
    width: int = 1100,
    height: int = 700,
    before: Callable[[Client], object] = lambda alice: None,
) -> Generator[Page]:
    """
    Start a server with the web door (and C{options}), a line user
    C{alice} (who does C{before}), and a page logged in as C{webby}; close
    the browser after.
    """
    server = start_server("--rate", "0", "--web", "tcp:0:interface=127.0.0.1", *options)
    alice = server.login("alice")
    before(alice)
    browser = Browser(width, height)
    try:
        browser.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": FAKES}
        )
        page = Page(server, browser, alice)
        log_in(page, "webby")
        yield page
        # No script error on the way.
        assert browser.console_errors() == []
    finally:
        browser.close()


def log_in(page: Page, name: str) -> None:
    browser = page.browser
    browser.open(f"http://127.0.0.1:{page.port}/")
    browser.wait(lambda: browser.find("#server-name").text == "chat", "the hello")
    browser.find("#name").send_keys(name)
    browser.find("#login-button").click()
    browser.wait(lambda: browser.find("#chat-view").is_displayed(), "the chat view")
    browser.wait(lambda: browser.find("#title").text == "#lobby", "the lobby")
