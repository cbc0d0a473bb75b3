"""Images in the real window (issue 11), with the tiny vision projector: an image pasted from the
real X clipboard (WebKitGTK never gives it to the page, so the app reads the clipboard natively)
and one picked in the file dialog each add a thumbnail; removing one works; sending shows the
image in the conversation and a streamed reply; the enlarged view opens and closes; after a
restart the image is still there. A real drop from another application attaches what it drops."""

import os
import subprocess
import time
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_app import use_sampling, wait_finished
from test_composer import new_chat


def projector():
    return str(Path(os.environ["GEMMA_DESK_TEST_PROJECTORS"]) / "vision-gemma3.mmproj.gguf")


def picture(path, colour):
    """A 96x64 PNG made by ImageMagick (scripts/setup installs it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["convert", "-size", "96x64", f"xc:{colour}", str(path)], check=True)
    return path


def thumbnails(app):
    return [image for image in app.all("composer-image") if image.is_displayed()]


def test_paste_pick_remove_send_view_and_restart(start_app, home, model):
    pasted = picture(home / "pasted.png", "orange")
    picked = picture(home / "lighthouse.png", "steelblue")
    use_sampling(home, {"greedy": True, "max_tokens": 8})
    env = {"GEMMA_DESK_DIALOG_OPEN_FILE": str(picked)}
    app = start_app("--model", model, "--mmproj", projector(), name="images", env=env)
    app.find("composer")
    app.wait(lambda: not app.visible("first-run"), 60, "the model given with --model did not skip the first run")
    # The composer takes text once the new chat is open (clicked before, it is not focusable).
    composer = new_chat(app)

    # Paste: the image is on the real X clipboard (xclip serves it until it is taken).
    clipboard = subprocess.Popen(["xclip", "-selection", "clipboard", "-t", "image/png", "-i", str(pasted)])
    try:
        composer.click()
        composer.send_keys(Keys.CONTROL, "v")
        app.wait(lambda: len(thumbnails(app)) == 1, 30, "the pasted image gave no thumbnail")
    finally:
        clipboard.terminate()
    # Pick: the file dialog answers with the lighthouse.
    app.find("attach-images").click()
    app.wait(lambda: len(thumbnails(app)) == 2, 30, "the picked image gave no thumbnail")
    app.screenshot("two-attached")
    # Remove the pasted one.
    app.all("remove-image")[0].click()
    app.wait(lambda: len(thumbnails(app)) == 1, 10, "removing a thumbnail did not remove it")
    left = thumbnails(app)[0].find_element(By.TAG_NAME, "img").get_attribute("alt") or ""
    assert "lighthouse.png" in left, f"the picked image is the one left, not {left!r}"

    composer = app.find("composer")
    composer.send_keys("What is in this picture?")
    composer.send_keys(Keys.ENTER)
    app.wait(lambda: app.visible("message-image") is not None, 60, "the sent image is not in the conversation")
    app.wait(lambda: len(thumbnails(app)) == 0, 30, "the composer still shows the sent image")
    assert wait_finished(app, 180) == "done"
    shown = app.visible("message-image")
    app.wait(lambda: app.driver.execute_script(
        "const img = document.querySelector('[data-testid=message-image] img'); return !!img && img.complete && img.naturalWidth > 0;"
    ), 30, "the image in the conversation did not load from the attachment store")
    app.screenshot("sent")

    shown.click()
    app.find("image-viewer", 10)
    app.wait(lambda: app.driver.execute_script(
        "const img = document.querySelector('[data-testid=image-viewer] img'); return !!img && img.complete && img.naturalWidth === 96;"
    ), 30, "the enlarged view does not show the image whole")
    app.screenshot("enlarged")
    # Esc to whatever has the focus: the view moved it inside itself.
    ActionChains(app.driver).send_keys(Keys.ESCAPE).perform()
    app.wait(lambda: app.visible("image-viewer") is None, 10, "Esc did not close the enlarged view")
    app.quit()

    again = start_app("--model", model, "--mmproj", projector(), name="images-restart")
    again.wait(lambda: again.visible("message-image") is not None, 60, "after a restart the image is gone")
    again.screenshot("after-restart")


def app_window_centre(app):
    """The centre of the app's window on the screen, from the X server (as the pointer sees it)."""
    ids = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--pid", str(app.pid)], capture_output=True, text=True
    ).stdout.split()
    biggest = None
    for window in ids:
        shape = subprocess.run(
            ["xdotool", "getwindowgeometry", "--shell", window], capture_output=True, text=True, check=True
        ).stdout
        facts = dict(line.split("=", 1) for line in shape.split())
        x, y, width, height = (int(facts[key]) for key in ("X", "Y", "WIDTH", "HEIGHT"))
        if biggest is None or width * height > biggest[2] * biggest[3]:
            biggest = (x, y, width, height)
    assert biggest, "the app has no window on the X display"
    x, y, width, height = biggest
    return x + width // 2, y + height // 2


def pointer(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)


def test_a_real_drop_from_another_application(start_app, home, model):
    """Two PNGs dragged from a GTK drag source over XDND, the protocol a file manager speaks: the
    drop target shows while they are over the window, and the drop attaches both."""
    first = picture(home / "harbour.png", "seagreen")
    second = picture(home / "dunes.png", "khaki")
    use_sampling(home, {"greedy": True, "max_tokens": 8})
    app = start_app("--model", model, "--mmproj", projector(), name="images-drop")
    app.find("composer")
    app.wait(lambda: not app.visible("first-run"), 60, "the model given with --model did not skip the first run")
    app.find("new-chat").click()
    app.find("composer")

    target_x, target_y = app_window_centre(app)
    source = subprocess.Popen(
        ["/usr/bin/python3", str(Path(__file__).with_name("drag_source.py")), "0,0", str(first), str(second)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = source.stdout.readline().split()
        if ready[:1] != ["ready"]:
            source.kill()
            raise AssertionError(f"the drag source did not come up: {ready!r} {source.stderr.read()}")
        start_x, start_y = int(ready[1]), int(ready[2])
        pointer("mousemove", start_x, start_y)
        pointer("mousedown", 1)
        # In steps: one jump does not start a drag.
        steps = 12
        for step in range(1, steps + 1):
            pointer("mousemove", start_x + (target_x - start_x) * step // steps, start_y + (target_y - start_y) * step // steps)
            time.sleep(0.05)
        app.wait(lambda: app.visible("drop-target") is not None, 10, "nothing showed where to drop while files were over the window")
        app.screenshot("dragging-over")
        pointer("mouseup", 1)
        app.wait(lambda: len(thumbnails(app)) == 2, 30, "the two dropped images gave no thumbnails")
        app.wait(lambda: app.visible("drop-target") is None, 10, "the drop target stayed after the drop")
    finally:
        source.terminate()
        source.wait(10)
    names = sorted(image.find_element(By.TAG_NAME, "img").get_attribute("alt") or "" for image in thumbnails(app))
    assert any("dunes.png" in name for name in names) and any("harbour.png" in name for name in names), names
    app.screenshot("dropped")
