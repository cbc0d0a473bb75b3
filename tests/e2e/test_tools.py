"""Tools in the real window (issue 13): with tools on in the settings, "Use a tool" makes the next
reply call one (llama.cpp's grammar: the test model never calls on its own); the call is shown
with its arguments and runs only once Run is clicked; its result is folded under the reply and
the model answers after it."""

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_app import shown_messages, wait_finished
from test_composer import new_chat


def start(start_app, home, model):
    settings = home / "config" / "app.gemmadesk.desktop" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    # Room for a call with a string argument (the grammar lets one run to 120 characters).
    settings.write_text(json.dumps({"sampling": {"greedy": True, "max_tokens": 96}, "tools_enabled": True}))
    # A call that reads a file gets this one from the "native dialog".
    notes = home / "notes.txt"
    notes.write_text("The secret word is heliotrope.")
    app = start_app("--model", model, name="tools", env={"GEMMA_DESK_DIALOG_OPEN_FILE": str(notes)})
    app.find("composer")
    app.wait(lambda: not app.visible("first-run"), 60, "the model given with --model did not skip the first run")
    return app


def test_a_required_call_is_confirmed_in_the_window_and_its_result_folded(start_app, home, model):
    app = start(start_app, home, model)
    composer = new_chat(app)
    app.find("use-tool").click()
    app.wait(lambda: app.find("use-tool").get_attribute("aria-pressed") == "true", 5, "Use a tool did not toggle on")
    composer.click()
    composer.send_keys("What is 2 + 3?")
    composer.send_keys(Keys.ENTER)

    card = app.find("tool-confirmation", 120)
    tool = card.get_attribute("data-tool")
    assert tool in ("current_datetime", "calculator", "convert_units", "search_conversations", "read_text_file"), tool
    app.screenshot("tool-confirmation")
    assert not app.visible("tool-result"), "nothing runs before the user says so"
    if tool == "read_text_file":
        app.find("tool-pick-file").click()
    else:
        arguments = json.loads(app.find("tool-arguments").text)
        assert isinstance(arguments, dict), arguments
        app.find("tool-run").click()

    # Checked as the result comes: the reply after it may push them out of the (virtualized) list.
    result = app.find("tool-result", 60)
    assert result.get_attribute("open") is None, "the result is folded"
    assert result.get_attribute("data-outcome") in ("answered", "failed"), result.get_attribute("data-outcome")
    roles = [role for role, _, _ in shown_messages(app)]
    assert roles[:3] == ["user", "assistant", "tool"], roles
    assert app.find("tool-call").get_attribute("data-tool") == tool
    assert not app.visible("tool-confirmation")
    result.find_element(By.TAG_NAME, "summary").click()
    app.wait(lambda: result.get_attribute("open") is not None, 5, "the result did not unfold")
    assert result.find_element(By.TAG_NAME, "pre").text.strip(), "the result has text"
    app.screenshot("tool-result-unfolded")
    assert wait_finished(app) == "done", "the model answered after the result"
    assert app.find("use-tool").get_attribute("aria-pressed") == "false", "Use a tool is for one send"
