"""Issue 10: no reply may block the window. A conversation whose reply is 2 MiB of one line of
inline HTML tags (the shape that took marked minutes in JavaScriptCore) is imported; the window
must keep answering a script and a click, and again after a restart, which opens that
conversation first. Every wait has a deadline: a frozen window fails the test, never hangs it."""

import json
import threading
import time

import pytest

DEADLINE_S = 10
REPLY = "<b>x</b> " * (2 * 1024 * 1024 // 9)


def within(seconds, what, action):
    """Runs `action` on a thread and fails the test if it has not returned after `seconds`."""
    outcome = {}

    def run():
        try:
            outcome["value"] = action()
        except BaseException as error:  # reported on the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    started = time.time()
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{what} did not answer within {seconds} s: the window is blocked")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value"), time.time() - started


def answers(app):
    """The window runs a script and opens Settings on a click, each within DEADLINE_S."""
    value, took = within(DEADLINE_S, "a script", lambda: app.driver.execute_script("return 1 + 1"))
    assert value == 2
    print(f"script answered in {took:.2f} s")

    def open_settings():
        app.click(lambda: app.find("settings-button", timeout=DEADLINE_S))
        app.find("settings-panel", timeout=DEADLINE_S)

    _, took = within(2 * DEADLINE_S, "a click on Settings", open_settings)
    print(f"settings opened in {took:.2f} s")
    within(DEADLINE_S, "closing Settings", lambda: app.driver.execute_script(
        "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))"
    ))


def reply_shown(app):
    """How much of the reply's text the window shows, read within DEADLINE_S."""
    script = (
        "const text = document.querySelector('[data-role=\"assistant\"] [data-testid=\"message-text\"]');"
        "return text ? text.textContent.length : 0;"
    )
    value, _ = within(DEADLINE_S, "reading the reply", lambda: app.driver.execute_script(script))
    return value


def wait_whole_reply(app, seconds=90):
    """The reply is shown in full (it is rendered a slice per frame), the window answering throughout."""
    deadline = time.time() + seconds
    while reply_shown(app) < len(REPLY) * 0.99:
        assert time.time() < deadline, f"the reply was not shown in full within {seconds} s"
        time.sleep(0.5)


def test_a_hostile_reply_never_blocks_the_window(start_app, home, model):
    document = {
        "format": "gemma-desk-conversation",
        "version": 1,
        "conversation": {"title": "Hostile markdown", "created_at": 1_700_000_000_000},
        "current_leaf": 1,
        "messages": [
            {"id": 0, "role": "user", "content": "Tags, please.", "status": "done",
             "created_at": 1_700_000_000_000, "updated_at": 1_700_000_000_000},
            {"id": 1, "parent": 0, "role": "assistant", "content": REPLY, "status": "done",
             "created_at": 1_700_000_001_000, "updated_at": 1_700_000_001_000},
        ],
    }
    path = home / "hostile.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))

    app, _ = within(120, "the first start", lambda: start_app(
        "--model", model, name="hostile-markdown", env={"GEMMA_DESK_DIALOG_OPEN_FILE": str(path)}
    ))
    within(60, "the conversation menu", lambda: app.find("conversation-menu").click())
    within(60, "the import item", lambda: app.find("import").click())
    deadline = time.time() + 60
    while reply_shown(app) == 0:
        refused = app.driver.execute_script("return document.querySelector('[data-testid=toast].error, [data-testid=toast].warning')?.textContent")
        assert not refused, f"the import was refused: {refused}"
        assert time.time() < deadline, "the imported reply never appeared"
        time.sleep(0.2)
    answers(app)
    wait_whole_reply(app)
    answers(app)
    assert "<b>x</b>" in within(DEADLINE_S, "reading the text", lambda: app.driver.execute_script(
        "return document.querySelector('[data-role=\"assistant\"] [data-testid=\"message-text\"]').textContent.slice(0, 100)"
    ))[0], "the tags are shown as the text they are"
    app.screenshot("hostile-reply")
    within(60, "closing the app", app.quit)

    # The newest conversation opens at start: the reply must not block this start either.
    again, _ = within(120, "the start after the import", lambda: start_app("--model", model, name="hostile-markdown-restart"))
    deadline = time.time() + 60
    while reply_shown(again) == 0:
        assert time.time() < deadline, "the reply was not shown after the restart"
        time.sleep(0.2)
    answers(again)
    wait_whole_reply(again)
    answers(again)
    again.screenshot("hostile-reply-restart")
