"""A user's session with Gemma Desk in the real window: first run, chat, stop, regenerate,
branches, edit, search, export, a crashed engine, and a restart that finds everything again.
Screenshots of each step go to $GEMMA_DESK_E2E_ARTIFACTS."""

import json
import os
import time
from pathlib import Path

from selenium.common.exceptions import TimeoutException
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


def shown_messages(app):
    """(role, status, text) of each message on screen, read in one go (the list re-renders as
    a reply streams)."""
    return app.driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=message]')].map(m => {"
        "  const text = m.querySelector('[data-testid=message-text]');"
        "  return [m.dataset.role, m.dataset.status, text ? text.innerText : ''];"
        "});"
    )


def last_reply(app):
    replies = messages(app, "assistant")
    return replies[-1] if replies else None


def reply_status(app):
    replies = [m for m in shown_messages(app) if m[0] == "assistant"]
    return replies[-1][1] if replies else None


def reply_text(app):
    replies = [m for m in shown_messages(app) if m[0] == "assistant"]
    return replies[-1][2] if replies else ""


def branch_label(app):
    label = app.visible("branch-label")
    return label.text.replace(" ", "") if label else ""


def click_in_last(app, role, testid):
    app.click(lambda: messages(app, role)[-1].find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]'))


def send(app, text):
    """Types `text` and presses Enter; returns once its reply has begun on screen."""
    composer = app.find("composer")
    composer.click()
    composer.send_keys(text)
    composer.send_keys(Keys.ENTER)

    def reply_began():
        shown = shown_messages(app)
        return len(shown) >= 2 and shown[-2][0] == "user" and shown[-2][2] == text and shown[-1][0] == "assistant"

    app.wait(reply_began, 120, f"no reply to {text!r} began")


def wait_finished(app, timeout=120):
    """The status the last reply ended with. Nobody stopping it, a reply ends `done` (at the end of
    its turn or at max_tokens): `stopped` there would be a cancel leaking into it."""
    app.wait(lambda: reply_status(app) in ("done", "stopped", "interrupted", "error"), timeout, "the reply never ended")
    return reply_status(app)


def test_first_run_imports_a_model_and_remembers_it(start_app, home, model):
    use_sampling(home, {"seed": 1, "max_tokens": 16})
    # The native file dialog is answered through GEMMA_DESK_DIALOG_OPEN_FILE (WebDriver cannot
    # reach it); everything else is the window's own first-run flow.
    app = start_app(name="first-run", env={"GEMMA_DESK_DIALOG_OPEN_FILE": model})
    app.find("first-run")
    app.find("hardware-summary")
    app.screenshot("first-run-screen")
    app.find("import-model").click()
    app.find("pick-model").click()
    app.wait(lambda: Path(model).name in app.find("model-path").text, 10, "the chosen file is not shown")
    app.find("import-mode-copy").click()
    app.screenshot("model-chosen")
    app.find("import-confirm").click()
    app.wait(lambda: not app.visible("first-run"), 60, "the chat did not open once the model loaded")
    app.find("composer")
    app.screenshot("chat-ready")
    copies = list((home / "data").glob("**/models/*/" + Path(model).name))
    assert len(copies) == 1, f"the model was not copied into the models folder: {copies}"
    app.quit()

    again = start_app(name="first-run-again")
    again.find("composer")
    assert not again.visible("first-run"), "the chosen model was not remembered"
    again.find("new-chat").click()
    send(again, "Hello")
    assert wait_finished(again, 180) == "done"
    again.screenshot("remembered-model-answers")


def test_a_model_that_cannot_load_is_explained_with_a_way_out(start_app, model):
    """llama.cpp's refusal of a projector made for another model reaches the screen as that
    class of failure, with the action that helps (choose another model, in Settings)."""
    projectors = os.environ.get("GEMMA_DESK_TEST_PROJECTORS")
    assert projectors, "GEMMA_DESK_TEST_PROJECTORS must name the projector fixtures (scripts/test writes them)"
    projector = Path(projectors) / "vision-gemma3-320.mmproj.gguf"
    assert projector.exists(), projector
    app = start_app("--model", model, "--mmproj", str(projector), name="projector-mismatch")
    def shown_code():
        error = app.visible("first-run-error")
        return error.get_attribute("data-code") if error else None

    app.wait(lambda: shown_code() == "projector_mismatch", 120, "no projector mismatch was shown")
    error = app.find("first-run-error")
    assert "projector" in error.text.lower(), error.text
    app.screenshot("projector-mismatch")
    app.find("first-run-error-action").click()
    app.find("settings-panel")
    app.screenshot("projector-mismatch-settings")


def test_one_message_is_answered(start_app, home, model):
    """The short check the installed package gets too."""
    use_sampling(home, {"seed": 1, "max_tokens": 32})
    app = start_app("--model", model, name="one-message")
    app.find("new-chat").click()
    send(app, "Hello")
    assert wait_finished(app, 180) == "done"
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
    app.click(lambda: app.find("figures-toggle"))
    figures = app.find("figures-panel").text
    assert "tokens" in figures.lower()
    app.screenshot("reply-with-figures")

    # Stop mid-reply: the partial text stays.
    send(app, LONG_QUESTION)
    app.wait(lambda: reply_status(app) == "streaming" and len(reply_text(app)) > 20, 60)
    app.click(lambda: app.find("stop-button"))
    assert wait_finished(app) == "stopped"
    assert app.visible("message-stopped")
    stopped_text = reply_text(app)
    assert stopped_text
    app.screenshot("stopped")

    # Regenerate: a second branch, "2 / 2", and back to the first.
    click_in_last(app, "assistant", "regenerate")
    app.wait(lambda: branch_label(app) == "2/2", 60)
    assert wait_finished(app) == "done"
    app.screenshot("regenerated")
    app.click(lambda: app.find("branch-prev"))
    app.wait(lambda: branch_label(app) == "1/2", 30)
    app.wait(lambda: reply_text(app) == stopped_text, 30, "switching back did not show the first reply")
    app.screenshot("first-branch")

    # Edit the first question: a new branch of the conversation from there.
    app.click(lambda: messages(app, "user")[0].find_element(By.CSS_SELECTOR, '[data-testid="edit"]'))
    editor = app.find("edit-textarea")
    editor.clear()
    editor.send_keys("Tell me about harbours")
    app.find("edit-save").click()
    app.wait(lambda: len(shown_messages(app)) == 2 and "harbours" in shown_messages(app)[0][2], 60)
    assert wait_finished(app) == "done"
    app.wait(lambda: branch_label(app) == "2/2", 10)
    app.screenshot("edited")

    # Search finds the edited question.
    search = app.find("search-input")
    search.click()
    search.send_keys("harbours")
    hit = app.find("search-hit")
    assert hit.find_elements(By.TAG_NAME, "mark"), "the matched word is highlighted"
    app.screenshot("search")
    hit.click()
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.BACKSPACE)
    app.wait(lambda: app.all("conversation-item"), 10, "clearing the search did not bring the list back")

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
    workers = app.worker_pids()
    assert workers, "the engine worker of the app is running"
    for pid in workers:
        os.kill(pid, 9)
    assert wait_finished(app) == "interrupted"
    banner = app.find("interrupted-banner")
    assert "signal 9" in banner.text, f"the banner says how the engine died: {banner.text!r}"
    partial = reply_text(app)
    assert partial
    app.screenshot("engine-killed")
    send(app, "Are you back?")
    assert wait_finished(app, 180) == "done"
    assert reply_text(app)
    app.screenshot("after-crash")
    conversation_count = len(app.all("conversation-item"))
    before_quit = shown_messages(app)
    app.quit()

    # Restart without --model: the model, the conversation and every message are back.
    again = start_app(name="restart")
    again.find("composer")
    items = again.wait(lambda: again.all("conversation-item") or None, 30)
    assert len(items) == conversation_count
    again.click(lambda: again.all("conversation-item")[0])
    # The message list is virtual: it renders the messages near the view, and both views end at
    # the last message. Whichever shows fewer must be the end of the other, and show a full turn.
    def same_end(shown):
        n = min(len(shown), len(before_quit))
        return n >= 2 and shown[-n:] == before_quit[-n:]

    try:
        again.wait(lambda: same_end(shown_messages(again)), 30)
    except TimeoutException:
        shown = shown_messages(again)
        n = min(len(shown), len(before_quit))
        assert shown[-n:] == before_quit[-n:], "the conversation is not as it was after a restart"
        assert n >= 2, f"too little of the conversation is shown: {shown}"
    again.screenshot("after-restart")
    send(again, "Still there?")
    assert wait_finished(again, 180) == "done", "the remembered model answers"
    again.screenshot("answer-after-restart")
