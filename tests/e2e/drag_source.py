"""A drag source the way a file manager is one: a small GTK window whose button offers the files
named on the command line as text/uri-list over XDND, its window at X,Y on the screen
(`drag_source.py X,Y FILE...`). Run with the system python3 (PyGObject); it prints "ready X Y", the button's centre on the screen, once it is on screen, and stays until
killed. The window tests press there with xdotool and move onto the app's window."""

import sys
from pathlib import Path

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

x, y = (int(number) for number in sys.argv[1].split(","))
uris = [Path(name).resolve().as_uri() for name in sys.argv[2:]]
window = Gtk.Window(title="gemma-desk-drag-source")
window.set_decorated(False)
button = Gtk.Button(label="drag me")
button.set_size_request(120, 60)
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get", lambda _widget, _context, data, _info, _time: data.set_uris(uris))
window.add(button)
window.connect("destroy", Gtk.main_quit)


def say_where():
    origin = button.get_window().get_origin()
    allocation = button.get_allocation()
    print(f"ready {origin.x + allocation.x + allocation.width // 2} {origin.y + allocation.y + allocation.height // 2}", flush=True)
    return False


window.connect("map-event", lambda *_: GLib.timeout_add(200, say_where) and False)
window.move(x, y)
window.show_all()
Gtk.main()
