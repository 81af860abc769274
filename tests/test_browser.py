"""The before/after slider in a real browser: JupyterLab on 127.0.0.1, headless Chromium via Playwright.

Runs a small notebook that shows :class:`srlib.notebook.widgets.BeforeAfter`, moves the slider with the
keyboard and checks that the displayed picture changed. Needs Chromium (``apt-get install chromium``;
``.ci/run`` installs it); without it the test is skipped, except under CI (``CI=1``) where it fails.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import cv2
import nbformat
import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI") != "1":
    pytest.skip("Chromium not installed (apt-get install chromium); CI installs it", allow_module_level=True)

NOTEBOOK = '''
import numpy as np
from srlib.notebook.widgets import BeforeAfter
before = np.zeros((120, 200, 3), np.uint8)
after = np.full((120, 200, 3), 230, np.uint8)
view = BeforeAfter(before, after, ("dark", "light"), position=0.5)
view
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    root, settings = tmp_path / "root", tmp_path / "settings"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK.strip())])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "slider.ipynb")
    quiet = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    quiet.parent.mkdir(parents=True)
    quiet.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), "srlib-browser-test"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=None", "--expose-app-in-browser"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_moving_the_slider_changes_the_picture_in_jupyterlab(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token = jupyterlab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/lab/tree/slider.ipynb?token={token}&reset")
            page.wait_for_function("window.jupyterapp?.shell?.currentWidget?.sessionContext?.session"
                                   "?.kernel?.status === 'idle'", timeout=90_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            image = page.locator(".srlib-before-after img")
            image.wait_for(timeout=90_000)
            page.wait_for_function("document.querySelector('.srlib-before-after img')?.complete && "
                                   "document.querySelector('.srlib-before-after img').naturalWidth > 0",
                                   timeout=30_000)
            first_src, first_pixels = image.get_attribute("src"), image.screenshot()
            page.locator(".srlib-before-after .noUi-handle").focus()
            page.keyboard.press("End")  # split at the right edge: the whole picture is "before" (dark)
            page.wait_for_function(f"document.querySelector('.srlib-before-after img').src !== {first_src!r}",
                                   timeout=30_000)
            page.wait_for_function("document.querySelector('.srlib-before-after img').complete", timeout=30_000)
            moved_pixels = image.screenshot()
            brightness = [cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE).mean()
                          for png in (first_pixels, moved_pixels)]
            assert brightness[0] > 90  # half dark, half light
            assert brightness[1] < 20  # all dark: the kernel recomposed the picture for the new split
        finally:
            browser.close()
