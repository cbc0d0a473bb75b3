"""The composer in the real window (issue 10): Esc right after Enter stops the reply Enter
started, a double-click on Send does not stop it, the length limit counts characters as the shell
does (an emoji is one), and the header names the conversation while its first reply streams."""

import re
import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from test_app import LONG_QUESTION, reply_text, send, shown_messages, use_sampling, wait_finished

# MAX_TEXT_CHARS in the chat crate, which the window learns from app_state.
MAX_CHARS = 100_000


def start(start_app, home, model, name, max_tokens):
    use_sampling(home, {"seed": 5, "max_tokens": max_tokens})
    app = start_app("--model", model, name=name)
    app.find("composer")
    app.wait(lambda: not app.visible("first-run"), 60, "the model given with --model did not skip the first run")
    return app


def active_conversation(app):
    return app.driver.execute_script(
        "return document.querySelector('[data-testid=conversation-item].active')?.dataset.conversationId ?? null"
    )


def new_chat(app):
    """Opens a new chat; returns once it is the open one and its composer takes text."""
    before = active_conversation(app)
    app.find("new-chat").click()

    def opened():
        composer = app.visible("composer")
        current = active_conversation(app)
        return current is not None and current != before and composer is not None and composer.is_enabled()

    app.wait(opened, 30, "the new chat did not open with a composer to type in")
    app.wait(lambda: shown_messages(app) == [], 10, "the new chat is not empty")
    return app.find("composer")


def fill_composer(app, emoji):
    """Puts `emoji` emoji in the composer at once (typing 100,000 of them over WebDriver would take
    minutes), as a paste does: the value, then an input event."""
    app.driver.execute_script(
        "const box = document.querySelector('[data-testid=composer]');"
        "box.value = String.fromCodePoint(0x1F600).repeat(arguments[0]);"
        "box.dispatchEvent(new Event('input', { bubbles: true }));",
        emoji,
    )


def send_enabled(app):
    button = app.visible("send-button")
    return button is not None and button.is_enabled()


def digits(text):
    return re.sub(r"\D", "", text)


def test_esc_right_after_enter_stops_the_reply(start_app, home, model):
    """Esc pressed in the same breath as Enter can reach the shell before `send_message` has taken
    the turn; the window keeps it until `started` says the shell has. It was ignored in 2 runs of
    3 at first and in 1 run of 3 in CI once the shell kept stops for turns it had taken, so three
    runs here."""
    app = start(start_app, home, model, "esc-after-enter", 64)
    # Once to load the model: the stops below then land on a turn, not on a model load.
    new_chat(app)
    send(app, "Hello")
    assert wait_finished(app, 180) == "done"

    for run in range(1, 4):
        composer = new_chat(app)
        composer.send_keys(LONG_QUESTION)
        # One action sequence: Esc follows Enter as closely as a user's two keys can.
        composer.send_keys(Keys.ENTER, Keys.ESCAPE)
        app.wait(lambda: len(shown_messages(app)) >= 2, 60, f"run {run}: the question was not sent")
        assert wait_finished(app) == "stopped", f"run {run}: Esc right after Enter did not stop the reply"
        assert app.visible("message-stopped"), f"run {run}: the reply does not say it was stopped"
        app.screenshot(f"stopped-{run}")

    # The stops belong to their turns: the next reply runs to its end.
    new_chat(app)
    send(app, "Hello again")
    assert wait_finished(app, 180) == "done", "a stop leaked into the next turn"


def test_a_double_click_on_send_leaves_the_reply_running(start_app, home, model):
    """Stop takes Send's place, so the second click of a double-click lands on Stop: it must not
    cut the reply it just started (it used to, at 0 characters)."""
    app = start(start_app, home, model, "double-click-send", 48)
    composer = new_chat(app)
    composer.send_keys("Tell me about lighthouses")
    app.driver.execute_script(
        "window.stopClicks = 0;"
        "document.addEventListener('click', (e) => {"
        "  if (e.target.closest('[data-testid=stop-button]')) window.stopClicks++;"
        "}, true);"
    )
    ActionChains(app.driver).double_click(app.find("send-button")).perform()
    assert wait_finished(app, 180) == "done", "the second click of the double-click stopped the reply"
    stop_clicks = app.driver.execute_script("return window.stopClicks")
    assert stop_clicks == 1, f"the second click landed on Stop, where it did the harm: {stop_clicks} clicks there"
    assert reply_text(app), "the reply has text"
    roles = [role for role, _, _ in shown_messages(app)]
    assert roles == ["user", "assistant"], f"one question was sent, once: {roles}"
    app.screenshot("double-click-done")


def test_the_limit_counts_an_emoji_as_one_character(start_app, home, model):
    """The shell counts Unicode scalar values; the window used to count UTF-16 units and refuse
    60,000 emoji as 120,000 characters."""
    app = start(start_app, home, model, "emoji-limit", 16)
    new_chat(app)

    fill_composer(app, 60_000)
    app.wait(lambda: send_enabled(app), 10, "60,000 emoji were refused")
    assert not app.visible("composer-too-long"), "60,000 emoji are 60,000 characters, under the limit"

    fill_composer(app, MAX_CHARS + 1)
    warning = app.find("composer-too-long", 10)
    assert digits(str(MAX_CHARS + 1)) in digits(warning.text), f"the count is shown: {warning.text!r}"
    assert digits(str(MAX_CHARS)) in digits(warning.text), f"the limit is shown: {warning.text!r}"
    assert not send_enabled(app), "Send is off for 100,001 characters"
    app.find("composer").send_keys(Keys.ENTER)
    time.sleep(1)  # a message sent would be on screen by now
    assert shown_messages(app) == [], "Enter sent a message over the limit"
    app.screenshot("over-the-limit")

    fill_composer(app, MAX_CHARS)
    app.wait(lambda: send_enabled(app), 10, "100,000 emoji were refused")
    assert not app.visible("composer-too-long")
    # The shell takes it too: it refuses a message over the limit before storing it, so a stored
    # question is an accepted one. Its reply (a prompt far past the test model's context) is
    # stopped at once; how it ends does not matter here.
    app.find("composer").send_keys(Keys.ENTER, Keys.ESCAPE)
    app.wait(lambda: [role for role, _, _ in shown_messages(app)][:1] == ["user"], 60, "the 100,000 emoji were not stored")
    wait_finished(app, 180)
    toasts = [toast.text for toast in app.all("toast")]
    assert not any("may hold" in text for text in toasts), f"the shell refused the length: {toasts}"
    app.screenshot("at-the-limit")


def test_the_header_names_the_conversation_while_its_first_reply_streams(start_app, home, model):
    """The sidebar learns the title from the first question; the header used to wait for the end
    of the reply."""
    app = start(start_app, home, model, "title-while-streaming", 300)
    new_chat(app)
    send(app, "Tell me about lighthouses")

    def titles():
        return app.driver.execute_script(
            "const item = document.querySelector('[data-testid=conversation-item].active .title');"
            "const header = document.querySelector('[data-testid=conversation-title]');"
            "const replies = document.querySelectorAll('[data-testid=message][data-role=assistant]');"
            "return [item?.innerText ?? '', header?.innerText ?? '', replies[replies.length - 1]?.dataset.status ?? ''];"
        )

    def named_while_streaming():
        sidebar, header, status = titles()
        return status == "streaming" and "lighthouse" in sidebar.lower() and header == sidebar

    app.wait(named_while_streaming, 60, f"the header did not show the title while the reply streamed: {titles()}")
    app.screenshot("title-while-streaming")
    app.find("composer").send_keys(Keys.ESCAPE)
    assert wait_finished(app) in ("stopped", "done")
