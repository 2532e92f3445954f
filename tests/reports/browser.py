"""Open a page in headless Chromium over the DevTools protocol: what it logged, what is visible, a screenshot.

Debian's ``chromium`` (``make test`` installs it where it can); the protocol is spoken over a websocket with
the ``websockets`` package, so no browser download is needed. ``Runtime.evaluate`` measures the page from
the DevTools side, which the page's own Content-Security-Policy (no scripts) does not restrict.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: What the page reports about its sections and plots, measured in the browser.
MEASURE = """JSON.stringify({
  sections: [...document.querySelectorAll('header, section')].map(s => ({
    id: s.id, height: s.getBoundingClientRect().height,
    visible: getComputedStyle(s).visibility === 'visible' && getComputedStyle(s).display !== 'none'})),
  plots: [...document.querySelectorAll('img.plot')].map(i => ({
    id: i.closest('figure').id, loaded: i.complete && i.naturalWidth > 0,
    width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height})),
  scripts: document.querySelectorAll('script').length,
})"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageResult:
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _page_socket(port: int, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                targets = json.loads(r.read())
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("Chromium's DevTools endpoint did not come up")
        time.sleep(0.2)


def open_page(page: Path, screenshot: Path, profile: Path, timeout: float = 60.0) -> PageResult:
    """Load ``page`` (a file) in headless Chromium, wait for it to load, measure it, save a screenshot."""
    from websockets.sync.client import connect

    exe = chromium()
    if exe is None:
        raise FileNotFoundError("chromium")
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "--window-size=1100,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    result = PageResult()
    ids = itertools.count(1)
    try:
        with connect(_page_socket(port, deadline), max_size=None, open_timeout=timeout) as ws:

            def call(method: str, **params: Any) -> dict[str, Any]:
                mid = next(ids)
                ws.send(json.dumps({"id": mid, "method": method, "params": params}))
                while True:
                    msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                    if msg.get("id") == mid:
                        if "error" in msg:
                            raise RuntimeError(f"{method}: {msg['error']}")
                        return dict(msg.get("result", {}))
                    note(msg)

            def note(msg: dict[str, Any]) -> None:
                method, params = msg.get("method"), msg.get("params", {})
                if method == "Runtime.exceptionThrown":
                    result.errors.append(str(params.get("exceptionDetails", {}).get("text")))
                elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                    result.errors.append(json.dumps(params.get("args")))
                elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                    result.errors.append(str(params["entry"].get("text")))
                elif method == "Page.javascriptDialogOpening":
                    result.dialogs.append(str(params.get("message")))
                    ws.send(
                        json.dumps(
                            {
                                "id": next(ids),
                                "method": "Page.handleJavaScriptDialog",
                                "params": {"accept": True},
                            }
                        )
                    )

            for domain in ("Page", "Runtime", "Log"):
                call(f"{domain}.enable")
            call("Page.navigate", url=page.resolve().as_uri())
            loaded = False
            while not loaded:
                msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                loaded = msg.get("method") == "Page.loadEventFired"
                note(msg)
            time.sleep(0.3)  # late console messages
            value = call("Runtime.evaluate", expression=MEASURE, returnByValue=True)["result"]["value"]
            result.layout = json.loads(value)
            size = call("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
    finally:
        proc.kill()
        proc.wait(timeout=10)
    return result
