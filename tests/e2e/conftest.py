"""The real Gemma Desk window under Xvfb, driven over WebDriver (WebKitWebDriver, the driver
tauri-driver wraps), with the real model. Run through tests/e2e/run, which starts Xvfb and a
D-Bus session and points these fixtures at the built app.

Environment: GEMMA_DESK_APP (the built binary), GEMMA_DESK_TEST_MODEL, GEMMA_DESK_E2E_ARTIFACTS
(where screenshots go)."""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait
from Xlib import X, Xatom, display, protocol

ARTIFACTS = Path(os.environ.get("GEMMA_DESK_E2E_ARTIFACTS", "/tmp/gemma-desk-e2e"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """One start of the app, and the WebDriver session that drives its window."""

    def __init__(self, home, args, name, extra_env=None):
        self.home = home
        self.name = name
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CACHE_HOME=str(home / "cache"),
            GEMMA_DESK_DIALOG_SAVE_DIR=str(home / "exports"),
            TAURI_WEBVIEW_AUTOMATION="true",
            # No accessibility bus: its registry prints to stdout, which the benchmark's JSON uses.
            NO_AT_BRIDGE="1",
        )
        env.update(extra_env or {})
        # A running app would take over this start (one app at a time) and leave WebDriver
        # waiting for a window that never comes.
        assert not app_processes(), f"an earlier start of the app is still running: {app_processes()}"
        (home / "exports").mkdir(parents=True, exist_ok=True)
        self.driver_log = open(ARTIFACTS / f"{name}-webdriver.log", "w")
        self.webdriver = subprocess.Popen(
            ["WebKitWebDriver", f"--port={self.port}"], env=env, stdout=self.driver_log, stderr=subprocess.STDOUT
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        options = ArgOptions()
        options.set_capability(
            "webkitgtk:browserOptions", {"binary": os.environ["GEMMA_DESK_APP"], "args": list(args)}
        )
        self.started = time.time()
        self.driver = webdriver.Remote(command_executor=f"http://127.0.0.1:{self.port}", options=options)
        # The app is WebKitWebDriver's child.
        children = subprocess.run(["pgrep", "-P", str(self.webdriver.pid)], capture_output=True, text=True).stdout
        self.pid = next(pid for pid, worker in app_processes() if not worker and str(pid) in children.split())
        self.closed = False
        self.shots = 0

    def wait(self, condition, timeout=60, message=""):
        # The UI re-renders while a reply streams: an element found a moment ago may be gone.
        wait = WebDriverWait(
            self.driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
        )
        return wait.until(lambda d: condition(), message)

    def click(self, find, attempts=20):
        """Clicks what `find()` returns, finding it again if it was re-rendered in between."""
        for attempt in range(attempts):
            try:
                return find().click()
            except StaleElementReferenceException:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.1)

    def find(self, testid, timeout=30):
        return self.wait(lambda: self.visible(testid), timeout, f"{testid} never appeared")

    def visible(self, testid):
        for element in self.driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]'):
            try:
                if element.is_displayed():
                    return element
            except WebDriverException:
                pass
        return None

    def all(self, testid):
        return self.driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def screenshot(self, step):
        """Saves a screenshot after the page has painted (a shot right after an action can be white)."""
        self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done()));"
        )
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def worker_pids(self):
        """The engine worker processes of this app (it runs itself with `worker`)."""
        return [pid for pid, worker in app_processes() if worker]

    def quit(self):
        if self.closed:
            return
        self.closed = True
        # As a user would: close the window (the app exits with its last window). WebDriver's own
        # close is ignored now and then by WebKit's automation, so the window manager's request
        # (what the title bar's close button sends) is used instead.
        close_window(self.pid)
        try:
            self.driver.quit()
        finally:
            self.webdriver.terminate()
            self.webdriver.wait(10)
            self.driver_log.close()
        # The app exits with its window, its engine when its stdin closes; the next start must
        # not find them (a second app hands over to the first one and exits).
        deadline = time.time() + 30
        while app_processes() and time.time() < deadline:
            time.sleep(0.2)
        left = app_processes()
        for pid, _ in left:
            os.kill(pid, 9)
        assert not left, "the app did not exit when its window closed"


def close_window(pid):
    """Asks the windows of process `pid` to close, as a window manager does (WM_DELETE_WINDOW)."""
    screen = display.Display()
    atom = screen.intern_atom
    wm_pid, protocols, delete = atom("_NET_WM_PID"), atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW")
    for window in screen.screen().root.query_tree().children:
        owner = window.get_full_property(wm_pid, Xatom.CARDINAL)
        if owner and owner.value[0] == pid and delete in (window.get_wm_protocols() or []):
            message = protocol.event.ClientMessage(
                window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
            )
            window.send_event(message)
    screen.flush()
    screen.close()


def app_processes():
    """(pid, is_worker) of every running process of the app under test."""
    app = os.environ["GEMMA_DESK_APP"]
    out = subprocess.run(["pgrep", "-f", f"^{app}( |$)"], capture_output=True, text=True).stdout
    found = []
    for pid in out.split():
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        found.append((int(pid), b"worker" in args[1:2]))
    return found


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture
def home(tmp_path, artifacts):
    """A fresh home folder for each test: settings, data and logs start empty."""
    return tmp_path / "home"


@pytest.fixture(scope="session")
def model():
    path = os.environ.get("GEMMA_DESK_TEST_MODEL")
    assert path and Path(path).exists(), "GEMMA_DESK_TEST_MODEL must name the test model"
    return path


@pytest.fixture
def start_app(home):
    started = []

    def start(*args, name="app", env=None):
        app = App(home, args, name, env)
        started.append(app)
        return app

    yield start
    for app in started:
        try:
            app.quit()
        except Exception:
            pass
