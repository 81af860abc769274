"""The comparison widgets in a real browser: JupyterLab on 127.0.0.1, headless Chromium via Playwright.

A small notebook of photos shows :class:`srlib.notebook.widgets.BeforeAfter` and
:class:`~srlib.notebook.widgets.CropZoom`; the test runs it, measures the slider against the picture,
moves it and checks the picture changed, and counts the crop captions. A second notebook holds saved
outputs only, as the committed notebooks do: opened without running it, it must show pictures and stay
unmodified. Screenshots go to ``runs/browser/`` (look at them). Needs Chromium (``apt-get install
chromium``; ``.ci/run`` installs it); without it the test is skipped, except under CI (``CI=1``) where it fails.
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

from srlib.data import make_lr, read_image
from srlib.data.resize import imresize
from srlib.notebook import BeforeAfter, CropZoom, static_widget_outputs
from srlib.paths import REPO_ROOT, SAMPLE_DIR

pytestmark = pytest.mark.slow  # JupyterLab and Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI") != "1":
    pytest.skip("Chromium not installed (apt-get install chromium); CI installs it", allow_module_level=True)

SCREENSHOTS = REPO_ROOT / "runs" / "browser"
COMMITTED = ("04_psnr_pretraining.ipynb", "07_evaluation.ipynb")  # the notebooks with the most widgets
PHOTOS = '''
from srlib.data import make_lr, read_image
from srlib.data.resize import imresize
from srlib.notebook import BeforeAfter, CropZoom
from srlib.paths import SAMPLE_DIR

hr = read_image(SAMPLE_DIR / "coffee.png")[100:292, 200:456]
bicubic = imresize(make_lr(hr, 4), 4)
'''
SLIDER = 'view = BeforeAfter(bicubic, hr, ("bicubic", "HR"))\nview'
ZOOM = 'zoom = CropZoom({"bicubic": bicubic, "HR": hr}, size=48)\nzoom'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(cells: list[str], outputs: dict[int, list] | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source.strip()) for source in cells])
    for index, cell_outputs in (outputs or {}).items():
        nb.cells[index].outputs = cell_outputs
        nb.cells[index].execution_count = index + 1
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    # what the kernel reports when it starts: a notebook saved by a run holds it, so opening changes nothing
    nb.metadata["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py", "mimetype": "text/x-python",
        "name": "python", "nbconvert_exporter": "python", "pygments_lexer": "ipython3",
        "version": ".".join(map(str, sys.version_info[:3]))}
    return nb


def _saved_widget_notebook() -> nbformat.NotebookNode:
    """What a committed notebook holds after ``srlib course``: widget outputs saved, not run since."""
    hr = read_image(SAMPLE_DIR / "coffee.png")[100:292, 200:456]
    bicubic = imresize(make_lr(hr, 4), 4)
    outputs = {1: [nbformat.v4.new_output("display_data", data=BeforeAfter(bicubic, hr)._repr_mimebundle_())],
               2: [nbformat.v4.new_output("display_data",
                                          data=CropZoom({"bicubic": bicubic, "HR": hr})._repr_mimebundle_())]}
    nb = _notebook([PHOTOS, SLIDER, ZOOM], outputs)
    static_widget_outputs(nb)
    return nb


@pytest.fixture
def jupyterlab(tmp_path):
    root, settings = tmp_path / "root", tmp_path / "settings"
    root.mkdir()
    nbformat.write(_notebook([PHOTOS, SLIDER, ZOOM]), root / "widgets.ipynb")
    nbformat.write(_saved_widget_notebook(), root / "saved.ipynb")
    for name in COMMITTED:  # as a reader finds them: saved outputs, not run
        shutil.copy(REPO_ROOT / "notebooks" / name, root / name)
    quiet = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    quiet.parent.mkdir(parents=True)
    quiet.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # every cell in the page, not only those in view: the test counts a whole notebook's pictures
    windowing = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    windowing.parent.mkdir(parents=True)
    windowing.write_text(json.dumps({"windowingMode": "none"}))
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


@pytest.fixture
def browser_page(jupyterlab):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900}), *jupyterlab
        finally:
            browser.close()


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def _gray(png: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE).astype(np.float64)


def test_widgets_in_jupyterlab_span_slide_and_caption(browser_page):
    page, base, token = browser_page
    page.goto(f"{base}/lab/tree/widgets.ipynb?token={token}&reset")
    page.wait_for_function("window.jupyterapp?.shell?.currentWidget?.sessionContext?.session"
                           "?.kernel?.status === 'idle'", timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    image = page.locator(".srlib-before-after img")
    image.wait_for(timeout=90_000)
    page.wait_for_function("document.querySelector('.srlib-before-after img')?.complete && "
                           "document.querySelector('.srlib-before-after img').naturalWidth > 0", timeout=30_000)
    page.locator(".srlib-crop-zoom img").last.wait_for(timeout=60_000)
    picture, track = _box(image), _box(page.locator(".srlib-before-after .noUi-target"))
    natural = page.evaluate("[document.querySelector('.srlib-before-after img').naturalWidth,"
                            " document.querySelector('.srlib-before-after img').naturalHeight]")
    assert picture["width"] == natural[0] == 768  # 256 px enlarged 3x, shown at its natural size
    assert track["width"] >= 0.9 * picture["width"], (track, picture)
    assert abs(track["x"] - picture["x"]) <= 0.05 * picture["width"], (track, picture)
    page.screenshot(path=SCREENSHOTS / "widgets.png", full_page=True)

    first_src, first_pixels = image.get_attribute("src"), image.screenshot()
    handle = _box(page.locator(".srlib-before-after .noUi-handle"))
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()  # drag the handle a quarter of the track to the right
    page.mouse.move(track["x"] + 0.75 * track["width"], handle["y"] + handle["height"] / 2, steps=8)
    page.mouse.up()
    page.wait_for_function(f"document.querySelector('.srlib-before-after img').src !== {first_src!r}",
                           timeout=30_000)
    page.wait_for_function("document.querySelector('.srlib-before-after img').complete", timeout=30_000)
    moved = _gray(image.screenshot()) - _gray(first_pixels)
    changed = np.flatnonzero(np.abs(moved).max(axis=0) > 0)  # columns that changed: between the two splits
    assert changed.size and changed.min() >= 0.45 * moved.shape[1] and changed.max() <= 0.8 * moved.shape[1]

    panels = page.locator(".srlib-crop-zoom img")
    captions = [text.strip() for text in page.locator(".srlib-crop-zoom .widget-html-content").all_inner_texts()]
    assert panels.count() == 2 and captions == ["bicubic", "HR"]
    for k in range(panels.count()):  # natural size: 48 px enlarged a whole number of times (>= 2)
        width, natural_width = _box(panels.nth(k))["width"], panels.nth(k).evaluate("img => img.naturalWidth")
        assert width == natural_width and width % 48 == 0 and width >= 96
    page.locator(".srlib-crop-zoom").screenshot(path=SCREENSHOTS / "crop_zoom.png")


def test_a_saved_notebook_shows_pictures_for_its_widgets_and_opens_unmodified(browser_page):
    page, base, token = browser_page
    page.goto(f"{base}/lab/tree/saved.ipynb?token={token}&reset")
    page.wait_for_function("window.jupyterapp?.shell?.currentWidget?.context?.isReady", timeout=90_000)
    page.wait_for_function("document.querySelectorAll('.jp-OutputArea-output img').length === 2 && "
                           "[...document.querySelectorAll('.jp-OutputArea-output img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)", timeout=60_000)
    time.sleep(2)  # anything that would change the document on opening has happened by now
    page.screenshot(path=SCREENSHOTS / "saved_notebook.png", full_page=True)
    assert not page.locator(".jp-OutputArea-output", has_text="model not found").count()
    assert page.evaluate("window.jupyterapp.shell.currentWidget.context.model.dirty") is False


@pytest.mark.parametrize("name", COMMITTED)
def test_a_committed_notebook_shows_its_widgets_as_pictures_without_a_kernel(browser_page, name):
    page, base, token = browser_page
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_function("window.jupyterapp?.shell?.currentWidget?.context?.isReady", timeout=90_000)
    saved = nbformat.read(REPO_ROOT / "notebooks" / name, as_version=4)
    pictures = sum(any(k.startswith("image/") for k in o.get("data", {})) for c in saved.cells
                   for o in c.get("outputs", []))
    page.wait_for_function(f"[...document.querySelectorAll('.jp-OutputArea-output img')]"
                           f".filter(img => img.complete && img.naturalWidth > 0).length >= {pictures}",
                           timeout=90_000)
    assert not page.locator(".jp-OutputArea-output", has_text="model not found").count()
    page.screenshot(path=SCREENSHOTS / f"{name.removesuffix('.ipynb')}_top.png")
    for k, output in enumerate(page.locator(".jp-OutputArea-output img").all()):
        if output.bounding_box() and output.bounding_box()["width"] >= 700:  # the widgets' pictures
            output.scroll_into_view_if_needed()
            output.screenshot(path=SCREENSHOTS / f"{name.removesuffix('.ipynb')}_picture_{k}.png")
