"""A new user's first run: the app recommends a model for this machine, shows its licence,
downloads it (from a local stand-in for Hugging Face, through a catalog override) with a
progress bar, pauses and resumes, and opens the chat with it."""

import hashlib
import os
from pathlib import Path

import pytest

from hf_server import FileServer
from test_app import send, use_sampling, wait_finished

MODEL_PATH = "/test/tiny-GGUF/resolve/abc123/tiny.gguf"
PROJECTOR_PATH = "/test/tiny-GGUF/resolve/abc123/mmproj-tiny.gguf"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def hub(model):
    fixtures = os.environ.get("GEMMA_DESK_TEST_PROJECTORS", Path.home() / ".cache/gemma-desk/fixtures")
    projector = Path(fixtures) / "vision-gemma3.mmproj.gguf"
    # About eight seconds for the test model: long enough to see, pause and resume.
    server = FileServer({MODEL_PATH: model, PROJECTOR_PATH: projector}, bytes_per_second=32 << 20)
    yield server, projector
    server.close()


def write_catalog(home, server, model):
    template = Path(__file__).parent.parent / "fixtures" / "tiny-catalog.toml"
    catalog = home / "catalog.toml"
    catalog.parent.mkdir(parents=True, exist_ok=True)
    catalog.write_text(
        template.read_text()
        .replace("@ENDPOINT@", server.base)
        .replace("@MODEL_BYTES@", str(Path(model).stat().st_size))
        .replace("@MODEL_SHA256@", sha256(model))
    )
    return catalog


def progress(app):
    bar = app.visible("download-progress")
    return int(bar.get_attribute("aria-valuenow") or 0) if bar else 0


def test_first_run_downloads_the_recommended_model_and_chats(start_app, home, model, hub):
    server, projector = hub
    use_sampling(home, {"seed": 3, "max_tokens": 16})
    catalog = write_catalog(home, server, model)
    app = start_app(name="download", env={"GEMMA_DESK_CATALOG": str(catalog)})

    app.find("first-run-recommended", 60)
    # Asking about images: the recommendation (and the download) includes the projector.
    app.find("first-run-usage-vision").click()
    card = app.find("first-run-recommended")
    assert card.get_attribute("data-model-id") == "tiny-it"
    assert app.find("download-mmproj").is_selected()
    assert "Gemma Tiny" in card.text
    assert app.find("licence-link").text == "Gemma Terms of Use"
    start = app.find("download-start")
    assert not start.is_enabled(), "the download must wait for the licence to be accepted"
    app.screenshot("recommended")

    app.find("licence-accept").click()
    app.wait(lambda: app.find("download-start").is_enabled(), 5, "accepting the licence did not enable the download")
    app.find("download-start").click()
    app.wait(lambda: progress(app) > 8 << 20, 60, "the progress bar did not move")
    assert "MB" in app.find("download-bytes").text
    assert "/s" in app.find("download-speed").text
    assert app.find("download-eta").text
    app.screenshot("downloading")

    app.find("download-pause").click()
    app.find("download-resume", 30)
    partial = list((home / "data").glob("**/models/tiny-it/tiny.gguf.part"))
    assert partial and partial[0].stat().st_size > 0, "pausing should keep the partial file"
    kept = partial[0].stat().st_size
    app.screenshot("paused")

    app.find("download-resume").click()
    app.wait(lambda: not app.visible("first-run"), 120, "the chat did not open once the download finished")
    app.find("composer")
    app.screenshot("chat-after-download")
    assert (MODEL_PATH, f"bytes={kept}-") in server.requests, "the download did not resume where it paused"

    installed = next((home / "data").glob("**/models/tiny-it"))
    assert sha256(installed / "tiny.gguf") == sha256(model)
    assert (installed / "mmproj-tiny.gguf").read_bytes() == projector.read_bytes()
    assert not list(installed.glob("*.part"))

    app.find("new-chat").click()
    send(app, "Hello")
    assert wait_finished(app, 180) == "done"
    app.screenshot("first-answer")

    # Settings list it as the default, with the computed hash of the unpublished projector.
    app.find("settings-button").click()
    row = app.find("installed-model")
    assert row.get_attribute("data-model-id") == "tiny-it" and row.get_attribute("data-default") == "true"
    assert sha256(projector) in app.find("computed-hash").text
    assert app.find("catalog-installed").text == "Installed", "an installed model is not offered again"
    app.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    app.screenshot("settings-models")


def test_a_download_cut_by_quitting_resumes_after_a_restart(start_app, home, model, hub):
    server, _ = hub
    catalog = write_catalog(home, server, model)
    env = {"GEMMA_DESK_CATALOG": str(catalog)}
    app = start_app(name="restart-download", env=env)
    app.find("licence-accept").click()
    app.find("download-start").click()
    app.wait(lambda: progress(app) > 16 << 20, 60, "the download did not start")
    app.quit()
    partial = next((home / "data").glob("**/models/tiny-it/tiny.gguf.part"))
    kept = partial.stat().st_size
    assert kept > 0

    again = start_app(name="restart-download-again", env=env)
    again.find("download-resume", 60)
    again.screenshot("partial-after-restart")
    again.find("download-resume").click()
    again.wait(lambda: not again.visible("first-run"), 120, "the resumed download did not open the chat")
    assert (MODEL_PATH, f"bytes={kept}-") in server.requests, "the download started over instead of resuming"
    assert sha256(next((home / "data").glob("**/models/tiny-it/tiny.gguf"))) == sha256(model)
