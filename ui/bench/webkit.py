"""The markdown benchmark in WebKitGTK's JavaScriptCore, the engine of the app's window: serves
bench/dist (built by `npm run bench:markdown:webkit`), opens page.html in MiniBrowser over
WebKitWebDriver and prints the table as the page writes it. Needs a display (the npm script runs it
under xvfb-run) and selenium (scripts/setup's Python environment). Arguments: [case] [timeout_s]."""

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions

MINIBROWSER = os.environ.get("GEMMA_DESK_MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    deadline = time.time() + float(sys.argv[2] if len(sys.argv) > 2 else 3600)
    handler = functools.partial(QuietHandler, directory=Path(__file__).parent / "dist")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = free_port()
    driver_process = subprocess.Popen(["WebKitWebDriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        options = ArgOptions()
        options.set_capability("webkitgtk:browserOptions", {"binary": MINIBROWSER, "args": ["--automation"]})
        driver = webdriver.Remote(command_executor=f"http://127.0.0.1:{port}", options=options)
        try:
            driver.get(f"http://127.0.0.1:{server.server_address[1]}/page.html?case={only}")
            printed = 0
            while time.time() < deadline:
                text = driver.execute_script("return document.getElementById('result').textContent")
                lines = text.splitlines()
                complete = lines if text.endswith("\n") else lines[:-1]
                for line in complete[printed:]:
                    print(line, flush=True)
                printed = len(complete)
                if complete and complete[-1] == "done":
                    return 0
                time.sleep(1)
            print("the benchmark did not finish in time; the rows above are all it measured", file=sys.stderr)
            return 1
        finally:
            driver.quit()
    finally:
        driver_process.terminate()
        driver_process.wait(10)
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
