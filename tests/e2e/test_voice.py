"""Voice in the real window (issue 12), with the tiny audio projector: the default microphone is
an ALSA device that plays spoken words in real time from a FIFO (../shared/TESTING.md), and
replies are read aloud by a private Speech Dispatcher whose sound ALSA writes to a file. Holding
the push-to-talk key records (the level meter moves), releasing sends the clip, which shows in
the conversation with its player while the reply streams and is spoken. Conversation mode hears a
turn, answers it aloud and listens again until Esc."""

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from test_app import messages, use_sampling, wait_finished

MICROPHONE_RATE = 48_000
FRAME_BYTES = 8  # 32-bit float stereo


def projector():
    return str(Path(os.environ["GEMMA_DESK_TEST_PROJECTORS"]) / "audio-gemma4ua.mmproj.gguf")


def speech(folder, text):
    """`text` spoken by espeak-ng, as the microphone delivers it (f32 stereo, 48 kHz, raw)."""
    wav = folder / "speech.wav"
    raw = folder / "speech.raw"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True)
    subprocess.run(
        ["sox", str(wav), "-r", str(MICROPHONE_RATE), "-c", "2", "-b", "32", "-e", "floating-point", "-t", "raw", str(raw)]
        + ["silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"],
        check=True,
    )
    return raw.read_bytes()


class PacedMicrophone:
    """Writes `sound` into the FIFO the ALSA device reads, at its own pace, then silence; every
    time the device is opened again the sound starts again."""

    def __init__(self, fifo, sound):
        self.fifo, self.sound, self.stopping = fifo, sound, False
        os.mkfifo(fifo)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        piece = MICROPHONE_RATE // 50 * FRAME_BYTES
        while not self.stopping:
            try:
                with open(self.fifo, "wb", buffering=0) as device:
                    started, written = time.monotonic(), 0
                    while not self.stopping:
                        chunk = self.sound[written : written + piece] or bytes(piece)
                        device.write(chunk)
                        written += len(chunk)
                        time.sleep(max(0.0, started + written / FRAME_BYTES / MICROPHONE_RATE - time.monotonic()))
            except (BrokenPipeError, OSError):
                continue

    def stop(self):
        self.stopping = True
        # Opening the read end wakes a writer that waits for a reader.
        try:
            os.close(os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass


def sound_devices(home, fifo):
    """ALSA configurations: the FIFO as the default input, a raw file as the default output; the
    app's own (WebKit's player) output goes to another file than the speech service's."""
    speaker, player = home / "speaker.raw", home / "player.raw"

    def config(name, output):
        path = home / name
        path.write_text(
            "</usr/share/alsa/alsa.conf>\n"
            f'pcm.mic_file {{ type file; slave.pcm "null"; file "/dev/null"; infile "{fifo}"; format "raw" }}\n'
            'pcm.mic { type plug; slave { pcm "mic_file"; format FLOAT_LE; rate 48000; channels 2 }\n'
            '  hint { show on; ioid Input; description "Test microphone" } }\n'
            f'pcm.speaker_file {{ type file; slave.pcm "null"; file "{output}"; format "raw" }}\n'
            'pcm.speaker { type plug; slave { pcm "speaker_file"; format S16_LE; rate 22050; channels 1 } }\n'
            'pcm.!default { type asym; playback.pcm "speaker"; capture.pcm "mic" }\n'
        )
        return path

    return config("asound.conf", speaker), speaker, config("app-asound.conf", player), player


def speech_service(home, alsa):
    """A Speech Dispatcher of the test's own, speaking through `alsa`; its address."""
    folder = home / "speech-dispatcher"
    shutil.copytree("/etc/speech-dispatcher", folder)
    conf = folder / "speechd.conf"
    lines = conf.read_text().splitlines()
    conf.write_text(
        "\n".join('AudioOutputMethod "alsa"' if line.lstrip("# ").startswith("AudioOutputMethod") else line for line in lines)
    )
    socket = home / "speechd.sock"
    daemon = subprocess.Popen(
        ["speech-dispatcher", "--run-single", "--timeout", "10", "--config-dir", str(folder), "--socket-path", str(socket)]
        + ["--pid-file", str(home / "speechd.pid"), "--log-dir", str(home / "speechd-logs")],
        env={**os.environ, "ALSA_CONFIG_PATH": str(alsa)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 20
    while not socket.exists():
        assert time.time() < deadline, "speech-dispatcher made no socket"
        time.sleep(0.05)
    return daemon, f"unix_socket:{socket}"


def spoken_bytes(speaker):
    return speaker.stat().st_size if speaker.exists() else 0


def sounding_bytes(output):
    """How many bytes of `output` are not silence (each open of the ALSA file truncates it, and
    the null slave takes zeros as fast as the sink writes them, so its size says little)."""
    data = output.read_bytes() if output.exists() else b""
    return len(data) - data.count(0)


def level(app):
    bar = app.visible("recording")
    return float(bar.get_attribute("data-level")) if bar else 0.0


def user_clips(app):
    return app.driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=message][data-role=user]')]"
        ".map(m => m.querySelectorAll('[data-testid=clip]').length);"
    )


def test_push_to_talk_spoken_reply_and_conversation_mode(start_app, home, model):
    home.mkdir(parents=True, exist_ok=True)
    fifo = home / "microphone.fifo"
    alsa, speaker, app_alsa, player = sound_devices(home, fifo)
    microphone = PacedMicrophone(fifo, speech(home, "what is the capital of France"))
    daemon, address = speech_service(home, alsa)
    try:
        use_sampling(home, {"greedy": True, "max_tokens": 12})
        settings = home / "config" / "app.gemmadesk.desktop" / "settings.json"
        written = json.loads(settings.read_text())
        settings.write_text(json.dumps({**written, "spoken_replies": True}))
        env = {"ALSA_CONFIG_PATH": str(app_alsa), "SPEECHD_ADDRESS": address}
        app = start_app("--model", model, "--mmproj", projector(), name="voice", env=env)
        app.find("composer")
        app.wait(lambda: not app.visible("first-run"), 60, "the model given with --model did not skip the first run")
        app.find("new-chat").click()
        app.find("composer").click()

        # Hold Ctrl+Space: the meter follows the words as the microphone plays them.
        hold = ActionChains(app.driver).key_down(Keys.CONTROL).key_down(Keys.SPACE)
        hold.perform()
        app.find("recording")
        loudest, deadline = 0.0, time.time() + 4
        while time.time() < deadline:
            loudest = max(loudest, level(app))
            if loudest > 0.5 and app.shots == 0:
                app.screenshot("recording-meter")
            time.sleep(0.05)
        assert loudest > 0.5, f"the level meter stayed at {loudest} while the microphone played speech"
        before = spoken_bytes(speaker)
        ActionChains(app.driver).key_up(Keys.SPACE).key_up(Keys.CONTROL).perform()

        # The clip is the question, with its player, and the reply streams and is read aloud.
        app.wait(lambda: user_clips(app) == [1], 30, "releasing the key sent no clip")
        assert wait_finished(app) == "done"
        app.screenshot("clip-and-reply")
        clip = app.find("clip")
        assert clip.find_element("css selector", "[data-testid=clip-duration]").text.startswith("0:0")
        # Play fetches the stored clip from the attachment protocol and hands it to the player as
        # a blob; WebKit's GStreamer player sounds it through ALSA (alsasink, gstreamer1.0-alsa:
        # without it autoaudiosink falls to openalsink, which cannot drive the file PCM, and the
        # player reports MEDIA_ERR_SRC_NOT_SUPPORTED).
        # The file PCM takes the sound as fast as it comes, so the clip may have ended (state idle
        # again) by the time it is looked at: what it wrote is the proof.
        clip.find_element("css selector", "[data-testid=clip-play]").click()
        app.wait(
            lambda: sounding_bytes(player) > 8000 or clip.get_attribute("data-state") == "failed",
            15,
            "playing the clip sounded nothing",
        )
        assert clip.get_attribute("data-state") != "failed", "the player could not play the clip"
        source = app.driver.execute_script("return document.querySelector('[data-testid=clip] audio').src")
        assert source.startswith("blob:"), f"the clip's sound reached the player another way: {source!r}"
        app.wait(lambda: spoken_bytes(speaker) > before, 30, "the reply was not spoken")

        # Conversation mode: a turn is heard, sent and answered; then it listens again until Esc.
        app.find("conversation-mode").click()
        app.wait(lambda: user_clips(app) == [1, 1], 60, "conversation mode sent no turn")
        assert wait_finished(app) == "done"
        app.wait(lambda: app.visible("recording") is not None, 60, "conversation mode did not listen again")
        app.screenshot("conversation-listening-again")
        ActionChains(app.driver).send_keys(Keys.ESCAPE).perform()
        app.wait(lambda: app.visible("recording") is None, 10, "Esc did not end conversation mode")
        assert len(messages(app, "assistant")) == 2
    finally:
        microphone.stop()
        daemon.terminate()
        daemon.wait(10)
