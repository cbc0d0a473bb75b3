"""Images in the real window (issue 11), with the tiny vision projector: an image pasted from the
real X clipboard (WebKitGTK never gives it to the page, so the app reads the clipboard natively)
and one picked in the file dialog each add a thumbnail; removing one works; sending shows the
image in the conversation and a streamed reply; the enlarged view opens and closes; after a
restart the image is still there."""

import os
import subprocess
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_app import use_sampling, wait_finished


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
    app.find("new-chat").click()

    # Paste: the image is on the real X clipboard (xclip serves it until it is taken).
    clipboard = subprocess.Popen(["xclip", "-selection", "clipboard", "-t", "image/png", "-i", str(pasted)])
    try:
        composer = app.find("composer")
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
