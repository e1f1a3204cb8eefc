"""Take screenshots of a running Odoo with headless Chromium (for the README).

Usage: python tooling/screenshot.py BASE_URL LOGIN PASSWORD OUT.png PATH [PATH...]
Several paths give OUT-1.png, OUT-2.png...; LOGIN - browses as a public
visitor. Needs `requests` and `websocket-client` (both in Odoo's virtual
environment) and a Chromium binary on the PATH.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

import requests
import websocket


def login(base_url, user, password, database=None):
    session = requests.Session()
    params = {"login": user, "password": password, "db": database}
    response = session.post(
        f"{base_url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": params},
        timeout=30,
    )
    response.raise_for_status()
    if response.json().get("error"):
        sys.exit(f"login failed: {response.json()['error']['data']['message']}")
    return session.cookies.get("session_id")


def start_browser(port, profile):
    binary = shutil.which("chromium") or shutil.which("google-chrome")
    return subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            f"--window-size={os.environ.get('SIZE', '1440,900')}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def page_socket(port):
    for _attempt in range(50):
        try:
            targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
            page = next(t for t in targets if t["type"] == "page")
            return websocket.create_connection(page["webSocketDebuggerUrl"])
        except (requests.ConnectionError, StopIteration):
            time.sleep(0.2)
    sys.exit("Chromium did not start")


class Page:
    def __init__(self, socket):
        self.socket = socket
        self.counter = 0

    def call(self, method, **params):
        self.counter += 1
        self.socket.send(
            json.dumps({"id": self.counter, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.counter:
                return message.get("result", {})


def main():
    base_url, user, password, out, *paths = sys.argv[1:]
    # LOGIN "-" browses as a public visitor (e.g. a portal page with its token)
    session_id = (
        None if user == "-" else login(base_url, user, password, os.environ.get("DB"))
    )
    port = 9333
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = start_browser(port, profile)
        try:
            page = Page(page_socket(port))
            if session_id:
                page.call(
                    "Network.setCookie",
                    name="session_id",
                    value=session_id,
                    domain=urlparse(base_url).hostname,
                    path="/",
                )
            for index, path in enumerate(paths, start=1):
                page.call("Page.navigate", url=base_url + path)
                time.sleep(6)
                shot = page.call("Page.captureScreenshot", format="png")
                target = (
                    out if len(paths) == 1 else out.replace(".png", f"-{index}.png")
                )
                with open(target, "wb") as image:
                    image.write(base64.b64decode(shot["data"]))
                print(target)
        finally:
            browser.terminate()
            browser.wait()


if __name__ == "__main__":
    main()
