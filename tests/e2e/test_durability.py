"""Nothing dies silently and nothing is lost behind the user's back, in the real window: a
database that cannot be opened gives the recovery screen and stays untouched, a bad settings
file keeps its good values and says so, the database file alone holds everything after a quit,
and a backup taken while a reply streams restores the conversations."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from selenium.common.exceptions import WebDriverException

from test_app import reply_status, send, shown_messages, use_sampling, wait_finished

APP_ID = "app.gemmadesk.desktop"


def settings_file(home):
    return home / "config" / APP_ID / "settings.json"


def write_settings(home, settings):
    path = settings_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings))


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cli():
    return str(Path(os.environ["GEMMA_DESK_APP"]).with_name("gemma-desk-cli"))


def real_database(path, model):
    """A real Gemma Desk database with one conversation, written by the CLI."""
    done = subprocess.run(
        [cli(), "chat", "--db", str(path), "--model", model, "--greedy", "--max-tokens", "2", "A question kept on disk"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return path


def new_chat(app):
    """Starts a new chat and waits until the composer can be typed in."""
    app.find("new-chat").click()
    app.wait(lambda: app.find("composer").is_enabled(), 60, "the composer never became usable")


def quit_from_recovery(app):
    """Clicks Quit on the recovery screen: the app ends at once, so the click may get no answer."""
    try:
        app.find("recovery-quit").click()
    except WebDriverException:
        pass
    wait_exit(app)


def wait_exit(app, timeout=30):
    """Waits for the app to have ended by itself (Quit), then forgets its session."""
    deadline = time.time() + timeout
    while app.driver and time.time() < deadline:
        try:
            os.kill(app.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the app did not quit")
    app.closed = True
    try:
        app.driver.quit()
    except Exception:
        pass
    app.webdriver.terminate()
    app.webdriver.wait(10)
    app.driver_log.close()


def start_on_bad_database(start_app, home, make, name):
    """Starts the app on a data folder whose database `make(path)` writes; returns the app, the
    database and its hash, once the recovery screen is shown."""
    data = home / "conversations"
    data.mkdir(parents=True, exist_ok=True)
    database = data / "gemma-desk.sqlite3"
    make(database)
    before = sha256(database)
    write_settings(home, {"data_dir": str(data)})
    app = start_app(name=name)
    app.find("recovery", 60)
    return app, database, before


def test_a_foreign_a_truncated_and_a_newer_database_give_the_recovery_screen_untouched(start_app, home, model):
    def foreign(path):
        path.write_text("Dear diary: not a database.\n" * 100)

    def truncated(path):
        real_database(path, model)
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])

    def newer(path):
        real_database(path, model)
        with sqlite3.connect(path) as db:
            db.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)"
                " VALUES (9999, 'from a later version', 1, x'00', 0)"
            )
        db.close()

    for make, said in [(foreign, "not an SQLite database"), (truncated, "cut short"), (newer, "newer version")]:
        app, database, before = start_on_bad_database(start_app, home, make, f"recovery-{make.__name__}")
        message = app.find("recovery-message").text
        assert said in message, message
        assert app.visible("recovery-set-aside"), "the damaged file can be set aside"
        app.screenshot(f"recovery-{make.__name__}")
        assert sha256(database) == before, "the database was modified"
        quit_from_recovery(app)
        assert sha256(database) == before, "quitting modified the database"
        shutil.rmtree(database.parent)


def test_set_aside_keeps_the_file_and_starts_empty(start_app, home, model):
    app, database, before = start_on_bad_database(
        start_app, home, lambda p: p.write_bytes(os.urandom(64 * 1024)), "set-aside"
    )
    app.find("recovery-set-aside").click()
    app.screenshot("set-aside-confirm")
    app.find("recovery-set-aside-confirm").click()
    app.find("new-chat", 60)
    assert sha256(database.with_name("gemma-desk.sqlite3.damaged")) == before, "set aside byte for byte"
    assert database.exists(), "an empty database took its place"
    app.screenshot("set-aside-empty-chat")


def test_another_folder_is_used_and_remembered(start_app, home, model):
    other = home / "other-folder"
    app, database, before = start_on_bad_database(
        start_app, home, lambda p: p.write_text("not ours"), "other-folder"
    )
    app.quit()
    app = start_app("--model", model, name="other-folder-pick", env={"GEMMA_DESK_DIALOG_FOLDER": str(other)})
    app.find("recovery", 60)
    app.find("recovery-other-folder").click()
    new_chat(app)
    assert (other / "gemma-desk.sqlite3").exists()
    app.quit()
    assert sha256(database) == before
    again = start_app(name="other-folder-again")
    again.find("new-chat", 60)
    assert not again.visible("recovery"), "the folder chosen was remembered"


def test_a_data_folder_that_cannot_be_created_gives_the_recovery_screen(start_app, home, model):
    blocker = home / "blocked"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the folder should be")
    write_settings(home, {"data_dir": str(blocker / "data")})
    app = start_app(name="unwritable-folder")
    app.find("recovery", 60)
    assert "blocked" in app.find("recovery-message").text
    assert not app.visible("recovery-set-aside"), "there is no damaged file to set aside"
    app.screenshot("recovery-unwritable-folder")
    quit_from_recovery(app)


def test_one_bad_setting_keeps_the_rest_and_is_said_once(start_app, home, model):
    text = json.dumps({"theme": "dark", "model": {"model": model, "mmproj": None}, "context_size": 5})
    path = settings_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    app = start_app(name="settings-one-bad")
    notice = app.find("settings-notice", 60)
    assert app.find("settings-notice-reset").text == "context_size", notice.text
    old = Path(app.find("settings-notice-file").text)
    assert old.read_text() == text, "the old file is kept as it was"
    assert app.driver.execute_script("return document.documentElement.dataset.theme") == "dark"
    new_chat(app)
    assert not app.visible("first-run"), "the remembered model was kept"
    app.screenshot("settings-notice")
    app.find("settings-notice-dismiss").click()
    assert not app.visible("settings-notice")
    app.quit()
    again = start_app(name="settings-one-bad-again")
    again.find("new-chat", 60)
    time.sleep(1)
    assert not again.visible("settings-notice"), "the notice is said once"


def test_garbage_settings_are_set_aside_whole(start_app, home, model):
    path = settings_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, garbage in [("text", b"theme = dark\nmodel = ?\n"), ("binary", bytes(range(256)) * 4)]:
        path.write_bytes(garbage)
        app = start_app(name=f"settings-{name}-garbage")
        app.find("settings-notice", 60)
        app.find("first-run")
        old = Path(app.find("settings-notice-file").text)
        assert old.read_bytes() == garbage, "the old file is kept byte for byte"
        app.screenshot(f"settings-{name}-garbage")
        app.quit()
        old.unlink()


def test_after_quitting_the_database_file_alone_holds_the_conversation(start_app, home, model):
    use_sampling(home, {"seed": 3, "max_tokens": 8})
    app = start_app("--model", model, name="quit-checkpoint")
    new_chat(app)
    send(app, "Remember the lighthouse")
    assert wait_finished(app, 180) == "done"
    databases = list((home / "data").glob("**/gemma-desk.sqlite3"))
    assert len(databases) == 1, databases
    app.quit()
    wal = databases[0].with_name("gemma-desk.sqlite3-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the WAL was checkpointed on quit"
    alone = home / "copied" / "copy.sqlite3"
    alone.parent.mkdir()
    shutil.copy(databases[0], alone)
    with sqlite3.connect(alone) as db:
        found = db.execute("SELECT count(*) FROM messages WHERE content = 'Remember the lighthouse'").fetchone()[0]
    db.close()
    assert found == 1, "the copied file alone has the conversation"


def test_a_backup_taken_while_a_reply_streams_restores_the_conversations(start_app, home, model):
    use_sampling(home, {"seed": 7, "max_tokens": 300})
    app = start_app("--model", model, name="backup")
    new_chat(app)
    try:
        send(app, "Tell me a long story about a backup")
    except Exception:
        app.screenshot("backup-send-failed")
        raise
    app.find("settings-button").click()
    app.find("backup-conversations").click()
    exports = home / "exports"
    app.wait(lambda: list(exports.glob("gemma-desk-backup-*.sqlite3")), 60, "no backup was written")
    app.screenshot("backup-done")
    backup = next(exports.glob("gemma-desk-backup-*.sqlite3"))
    app.quit()

    # Restored as the README says: the backup becomes gemma-desk.sqlite3 of a data folder.
    restored = home / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / "gemma-desk.sqlite3")
    write_settings(home, {"data_dir": str(restored), "model": {"model": model, "mmproj": None}})
    again = start_app(name="backup-restored")
    question = "Tell me a long story about a backup"
    again.wait(lambda: [m[0:1] + m[2:] for m in shown_messages(again)][:1] == [["user", question]], 60, "the conversation is missing")
    again.wait(lambda: reply_status(again) == "interrupted", 30, "the reply streaming at the backup is not marked interrupted")
    again.screenshot("backup-restored")
