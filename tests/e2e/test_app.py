"""A user's session with Gemma Desk in the real window: first run, chat, stop, regenerate,
branches, edit, search, export, a crashed engine, and a restart that finds everything again.
Screenshots of each step go to $GEMMA_DESK_E2E_ARTIFACTS."""

import json
import os
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

LONG_QUESTION = "Write a long story about a lighthouse keeper and the sea."


def use_sampling(home, sampling):
    """Sampling for a test, written where the app reads its settings: a fixed seed, and replies
    long enough to stop but not endless (the test model is a base model that rarely ends)."""
    path = home / "config" / "app.gemmadesk.desktop" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sampling": sampling}))


def messages(app, role=None):
    selector = '[data-testid="message"]' + (f'[data-role="{role}"]' if role else "")
    return app.driver.find_elements(By.CSS_SELECTOR, selector)


def last_reply(app):
    replies = messages(app, "assistant")
    return replies[-1] if replies else None


def reply_status(app):
    reply = last_reply(app)
    return reply.get_attribute("data-status") if reply else None


def reply_text(app):
    return last_reply(app).find_element(By.CSS_SELECTOR, '[data-testid="message-text"]').text


def send(app, text):
    composer = app.find("composer")
    composer.click()
    composer.send_keys(text)
    composer.send_keys(Keys.ENTER)


def wait_finished(app, timeout=120):
    app.wait(lambda: reply_status(app) in ("done", "stopped", "interrupted", "error"), timeout, "the reply never ended")
    return reply_status(app)


def test_first_run_screen_without_a_model(start_app, home):
    app = start_app(name="first-run")
    first_run = app.find("first-run")
    assert app.visible("pick-model") and app.visible("load-model")
    assert "GGUF" in first_run.text
    app.screenshot("first-run-screen")


def test_one_message_is_answered(start_app, home, model):
    """The short check the installed package gets too."""
    use_sampling(home, {"seed": 1, "max_tokens": 32})
    app = start_app("--model", model, name="one-message")
    app.find("new-chat").click()
    send(app, "Hello")
    assert wait_finished(app, 180) in ("done", "stopped")
    assert reply_text(app)
    app.screenshot("answered")


def test_a_conversation_in_the_real_window(start_app, home, model):
    use_sampling(home, {"seed": 7, "max_tokens": 300})

    app = start_app("--model", model, name="chat")
    app.find("composer")
    app.wait(lambda: not app.visible("first-run"), 60, "the model given with --model did not skip the first run")
    app.screenshot("model-loaded")

    # Send a message and watch it stream.
    app.find("new-chat").click()
    send(app, "Tell me about lighthouses")
    app.wait(lambda: reply_status(app) == "streaming" and reply_text(app), 60, "no streaming text appeared")
    app.screenshot("streaming")
    assert wait_finished(app) == "done"
    first_text = reply_text(app)
    assert first_text
    app.find("figures-toggle").click()
    figures = app.find("figures-panel").text
    assert "tokens" in figures.lower()
    app.screenshot("reply-with-figures")

    # Stop mid-reply: the partial text stays.
    send(app, LONG_QUESTION)
    app.wait(lambda: reply_status(app) == "streaming" and len(reply_text(app)) > 20, 60)
    app.find("stop-button").click()
    assert wait_finished(app) == "stopped"
    assert app.visible("message-stopped")
    stopped_text = reply_text(app)
    assert stopped_text
    app.screenshot("stopped")

    # Regenerate: a second branch, "2 / 2", and back to the first.
    last_reply(app).find_element(By.CSS_SELECTOR, '[data-testid="regenerate"]').click()
    app.wait(lambda: app.visible("branch-label") and app.visible("branch-label").text.replace(" ", "") == "2/2", 60)
    assert wait_finished(app) in ("done", "stopped")
    app.screenshot("regenerated")
    app.find("branch-prev").click()
    app.wait(lambda: app.visible("branch-label").text.replace(" ", "") == "1/2", 30)
    app.wait(lambda: reply_text(app) == stopped_text, 30, "switching back did not show the first reply")
    app.screenshot("first-branch")

    # Edit the first question: a new branch of the conversation from there.
    first_question = messages(app, "user")[0]
    first_question.find_element(By.CSS_SELECTOR, '[data-testid="edit"]').click()
    editor = app.find("edit-textarea")
    editor.clear()
    editor.send_keys("Tell me about harbours")
    app.find("edit-save").click()
    app.wait(lambda: len(messages(app)) == 2 and "harbours" in messages(app, "user")[0].text, 60)
    assert wait_finished(app) in ("done", "stopped")
    app.wait(lambda: app.visible("branch-label") is not None, 10)
    app.screenshot("edited")

    # Search finds the edited question.
    search = app.find("search-input")
    search.click()
    search.send_keys("harbours")
    hit = app.find("search-hit")
    assert hit.find_elements(By.TAG_NAME, "mark"), "the matched word is highlighted"
    app.screenshot("search")
    hit.click()
    search.clear()

    # Export both ways.
    app.find("conversation-menu").click()
    app.find("export-markdown").click()
    app.find("toast")
    app.find("conversation-menu").click()
    app.find("export-json").click()
    exports = home / "exports"
    app.wait(lambda: any(exports.glob("*.md")) and any(exports.glob("*.json")), 30, "the exports were not written")
    assert "harbours" in next(exports.glob("*.md")).read_text()
    app.screenshot("exported")

    # Kill the engine mid-reply: a banner, the partial text kept, and the next reply works.
    send(app, LONG_QUESTION)
    app.wait(lambda: reply_status(app) == "streaming" and len(reply_text(app)) > 20, 60)
    for pid in app.worker_pids():
        os.kill(pid, 9)
    assert wait_finished(app) == "interrupted"
    banner = app.find("interrupted-banner")
    assert "signal 9" in banner.text or "engine" in banner.text.lower()
    partial = reply_text(app)
    assert partial
    app.screenshot("engine-killed")
    send(app, "Are you back?")
    assert wait_finished(app, 180) in ("done", "stopped")
    assert reply_text(app)
    app.screenshot("after-crash")
    conversation_count = len(app.all("conversation-item"))
    message_count = len(messages(app))
    app.quit()

    # Restart without --model: the model, the conversation and every message are back.
    again = start_app(name="restart")
    again.find("composer")
    items = again.wait(lambda: again.all("conversation-item") or None, 30)
    assert len(items) == conversation_count
    items[0].click()
    again.wait(lambda: len(messages(again)) == message_count, 30, "the conversation is not whole after a restart")
    assert any(partial[:20] in m.text for m in messages(again, "assistant")), "the interrupted reply was kept"
    again.screenshot("after-restart")
    send(again, "Still there?")
    assert wait_finished(again, 180) in ("done", "stopped"), "the remembered model answers"
    again.screenshot("answer-after-restart")
