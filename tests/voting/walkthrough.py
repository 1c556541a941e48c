"""Issue 17's "done when", scripted: a new user on a running Arena (``make demo``) as a person
would use it, in Chromium.

Staff open a dozen leaderboard, bias and agreement pages first (each computes a snapshot with
human votes in it) and make an invite link; a new rater signs up with it, then casts votes across
the three bundled prompt sets at 1440×900 and at 390×844 — with the mouse, with the keyboard,
and with one click (switching the preference on the page) — skips one comparison per width and
changes one vote on "My votes". After every page and every vote the script checks that nothing
scrolls sideways, that the console shows no error and that no request failed with a 4xx/5xx the
user did not cause, and it times each vote from the click or key to the reveal.

    python -m tests.voting.walkthrough --url http://127.0.0.1:8004 --staff demo:arena-demo

It prints what it saw and exits non-zero on any problem. Only Playwright and Debian's Chromium
are needed (no Django): it works against any Arena. The test suite runs it against its live
server (tests/voting/test_walkthrough.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
WIDTHS = ({"width": 1440, "height": 900}, {"width": 390, "height": 844})
SETS = ("Vicuna-80", "MT-Bench", "Self-Instruct User-Oriented-252")
MODES = ("mouse", "keyboard", "one-click mouse", "one-click keyboard")
LEADERBOARD_PAGES = (
    "/leaderboard/",
    "/leaderboard/?source=human",
    "/leaderboard/?source=all&method=elo",
    "/leaderboard/?source=import:mtbench-human&prompt_set=mt_bench",
    "/leaderboard/?source=import:mtbench-gpt4&prompt_set=mt_bench&turn=2",
    "/leaderboard/?source=import:vicuna80-gpt4-review&style_control=1",
    "/leaderboard/?source=import:prd-human&prompt_set=vicuna80&method=elo",
    "/leaderboard/?source=all&prompt_set=mt_bench&category=coding",
    "/bias/?source=human",
    "/bias/?source=import:mtbench-gpt4",
    "/agreement/?a=import:mtbench-human&b=import:mtbench-gpt4",
    "/agreement/?a=human&b=import:prd-human",
)
VERDICT_KEYS = ("1", "2", "3", "4")
VERDICT_NAMES = ("A is better", "B is better", "Tie", "Both are bad")


@dataclass
class Report:
    votes: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (width, set, mode)
    seconds: list[float] = field(default_factory=list)  # click or key → reveal shown
    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skips: int = 0
    changed: int = 0

    def summary(self) -> str:
        lines = [
            f"pages opened: {len(self.pages)}",
            f"votes: {sum(self.votes.values())}, skips: {self.skips}, "
            f"votes changed on My votes: {self.changed}",
        ]
        for width in sorted({w for w, _, _ in self.votes}, key=int, reverse=True):
            for name in SETS:
                per_mode = {m: self.votes[(width, name, m)] for m in MODES if self.votes[(width, name, m)]}
                lines.append(f"  {width} px, {name}: {per_mode}")
        if self.seconds:
            ordered = sorted(self.seconds)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            lines.append(
                f"vote → reveal: median {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, "
                f"max {ordered[-1]:.2f} s (n={len(ordered)})"
            )
        lines.append(f"problems: {len(self.problems)}")
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


class Session:
    """One browser context (one width) that records what goes wrong on its pages."""

    def __init__(
        self,
        browser,
        base: str,
        viewport: dict[str, int],
        report: Report,  # type: ignore[no-untyped-def]
        ignore_console: Iterable[str] = (),
    ) -> None:
        self.base, self.report, self.width = base.rstrip("/"), report, str(viewport["width"])
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.expected_failures: set[str] = set()
        ignored = tuple(ignore_console)
        host = urlparse(self.base).hostname

        def on_console(message) -> None:  # type: ignore[no-untyped-def]
            if message.type == "error" and not any(text in message.text for text in ignored):
                self.problem(f"console error: {message.text}")

        def on_response(response) -> None:  # type: ignore[no-untyped-def]
            path = urlparse(response.url).path
            if response.status >= 400 and path not in self.expected_failures:
                self.problem(f"{response.status} {response.request.method} {path}")

        def on_request(request) -> None:  # type: ignore[no-untyped-def]
            if request.url.startswith("http") and urlparse(request.url).hostname != host:
                self.problem(f"request to another host: {request.url}")

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.problem(f"script error: {error}"))
        self.page.on("response", on_response)
        self.page.on("request", on_request)
        self.page.on("dialog", lambda dialog: (self.problem(f"dialog: {dialog.message}"), dialog.dismiss()))

    def problem(self, text: str) -> None:
        self.report.problems.append(f"{self.width} px {urlparse(self.page.url).path}: {text}")

    def check(self) -> None:
        """No sideways scroll on the page as it is now."""
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            self.problem(f"{overflow} px wider than the window")

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        self.report.pages.append(f"{self.width} {path}")
        if response is None or not response.ok:
            self.problem(f"opening {path}: {response.status if response else 'no response'}")
        self.check()

    def log_in(self, username: str, password: str, next_url: str = "/rate/") -> None:
        self.open(f"/accounts/login/?next={next_url}")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(f"{self.base}{next_url}")
        self.check()

    def close(self) -> None:
        self.context.close()


def _staff_part(browser, base: str, staff: tuple[str, str], report: Report, ignore: Iterable[str]) -> str:  # type: ignore[no-untyped-def]
    """Staff open a dozen report pages (at 1440 px, a few again at 390 px) and make an invite."""
    desk = Session(browser, base, WIDTHS[0], report, ignore)
    desk.log_in(*staff, next_url="/")
    for path in LEADERBOARD_PAGES:
        desk.open(path)
    desk.open("/staff/raters/")
    desk.page.get_by_role("button", name="Create invite link").click()
    invite = desk.page.locator("#invite-url").inner_text()
    desk.close()
    phone = Session(browser, base, WIDTHS[1], report, ignore)
    phone.log_in(*staff, next_url="/")
    for path in LEADERBOARD_PAGES[:4]:
        phone.open(path)
    phone.close()
    return invite


def _one_click(session: Session, on: bool) -> None:
    toggle = session.page.locator("#one-click-toggle")
    if ("on" in toggle.inner_text()) != on:
        toggle.click()
        session.page.wait_for_selector("#vote-form.one-click" if on else "#vote-form:not(.one-click)")


def _vote(session: Session, mode: str, number: int) -> None:
    """One vote in ``mode``, timed from the deciding click or key to the reveal."""
    page = session.page
    verdict = number % 4
    _one_click(session, mode.startswith("one-click"))
    if mode == "mouse":
        page.locator("#vote-form").get_by_text(VERDICT_NAMES[verdict], exact=True).click()
        page.locator(f"label[for=grade_a-{'ABCD'[number % 4]}]").click()
        page.locator("#helpful-A").check()
        act: Callable[[], None] = page.get_by_role("button", name="Submit vote").click
    elif mode == "keyboard":
        page.locator(".rate-meta").click()  # the page, outside any control
        for key in (VERDICT_KEYS[verdict], "qwer"[number % 4], "uiop"[(number + 1) % 4], "h", "j"):
            page.keyboard.press(key)

        def act() -> None:
            page.keyboard.press("Enter")
    elif mode == "one-click mouse":
        act = page.get_by_role("button", name=VERDICT_NAMES[verdict]).click
    else:
        page.locator(".rate-meta").click()

        def act() -> None:
            page.keyboard.press(VERDICT_KEYS[verdict])

    started = time.monotonic()
    act()
    page.wait_for_selector("#reveal")
    session.report.seconds.append(time.monotonic() - started)
    if not page.locator("[data-reveal=choice]").inner_text().startswith(VERDICT_NAMES[verdict]):
        session.problem(
            f"voted {VERDICT_NAMES[verdict]!r}, the reveal says {page.locator('[data-reveal=choice]').inner_text()!r}"
        )
    if mode == "one-click keyboard":  # the optional details after the reveal, by keyboard
        for key in ("w", "o", "k"):
            page.keyboard.press(key)
        page.evaluate("window.__panel = document.getElementById('rate-panel')")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('rate-panel') !== window.__panel")
    session.check()


def _next(session: Session, by_keyboard: bool) -> None:
    page = session.page
    if by_keyboard:
        page.keyboard.press("n")
    else:
        page.get_by_role("link", name="Next").click()
    page.wait_for_selector("#vote-form, .rate-empty")
    session.check()


def _rater_part(
    browser,
    base: str,
    invite: str,
    username: str,
    password: str,
    votes: int,
    pace: float,  # type: ignore[no-untyped-def]
    report: Report,
    ignore: Iterable[str],
) -> None:
    per_width = [votes - votes // 2, votes // 2]
    number = 0
    for index, viewport in enumerate(WIDTHS):
        session = Session(browser, base, viewport, report, ignore)
        page = session.page
        if index == 0:  # sign up with the invite, read the guidelines
            session.open(urlparse(invite)._replace(scheme="", netloc="").geturl())
            page.fill("#id_username", username)
            page.fill("#id_password1", password)
            page.fill("#id_password2", password)
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_url(f"{session.base}/rate/guidelines/")
            session.check()
            session.open("/rate/")
        else:
            session.log_in(username, password)
        for vote in range(per_width[index]):
            name = SETS[vote * len(SETS) // per_width[index]]
            if page.locator(".rate-sets [aria-current]").inner_text() != name:
                page.get_by_role("navigation", name="Prompt sets").get_by_role(
                    "link", name=name, exact=True
                ).click()
                page.wait_for_selector("#vote-form")
                session.check()
                if vote and name == SETS[1]:  # skip one, with a reason and Enter
                    page.keyboard.press("s")
                    page.keyboard.type("I cannot judge this one")
                    page.evaluate("window.__panel = document.getElementById('rate-panel')")
                    page.keyboard.press("Enter")
                    page.wait_for_function("() => document.getElementById('rate-panel') !== window.__panel")
                    report.skips += 1
            mode = MODES[number % len(MODES)]
            started = time.monotonic()
            _vote(session, mode, number)
            report.votes[(session.width, name, mode)] += 1
            number += 1
            _next(session, by_keyboard="keyboard" in mode)
            time.sleep(max(0.0, pace - (time.monotonic() - started)))  # a person's pace, under the rate limit
        # Look back: My votes, and change the latest vote by keyboard.
        session.open("/rate/mine/")
        page.locator(".my-vote").first.get_by_role("link", name="Change this vote").click()
        page.wait_for_selector("#change-form")
        page.locator("h1").click()
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{session.base}/rate/mine/*")
        session.check()
        if page.locator(".my-vote").first.locator("[data-reveal=choice]").first.inner_text() != "Tie":
            session.problem("the changed vote does not read Tie on My votes")
        report.changed += 1
        session.close()


def walk(
    *,
    base: str,
    staff: tuple[str, str],
    username: str,
    password: str,
    votes: int = 50,
    pace: float = 2.5,
    ignore_console: Iterable[str] = (),
    browser=None,
) -> Report:  # type: ignore[no-untyped-def]
    """Run the whole walkthrough against ``base`` in ``browser`` (else a Chromium of its own).
    ``ignore_console``: console errors containing one of these texts are not problems (the test
    suite's live server cannot do WebSockets)."""
    report = Report()
    if browser is not None:
        invite = _staff_part(browser, base, staff, report, ignore_console)
        _rater_part(browser, base, invite, username, password, votes, pace, report, ignore_console)
        return report
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        own = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            return walk(
                base=base,
                staff=staff,
                username=username,
                password=password,
                votes=votes,
                pace=pace,
                ignore_console=ignore_console,
                browser=own,
            )
        finally:
            own.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--staff", default="demo:arena-demo", help="USER:PASSWORD of a staff account")
    parser.add_argument("--username", default=f"walker-{int(time.time())}")
    parser.add_argument("--password", default="walk-through-the-arena-1")
    parser.add_argument("--votes", type=int, default=50)
    parser.add_argument(
        "--pace", type=float, default=2.5, help="least seconds per vote (the demo allows 30 votes a minute)"
    )
    args = parser.parse_args(argv)
    user, _, secret = args.staff.partition(":")
    report = walk(
        base=args.url,
        staff=(user, secret),
        username=args.username,
        password=args.password,
        votes=args.votes,
        pace=args.pace,
    )
    print(report.summary())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
