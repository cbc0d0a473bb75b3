#!/usr/bin/env python3
"""Render every case in cases.json with Python's jinja2, the way transformers does, into golden/.

The Rust engine renders chat templates with minijinja; these files are the reference its output
must match byte for byte (src-tauri/crates/engine/tests/engine/template.rs).

    scripts/python tests/templates/render_golden.py          # rewrite golden/
    scripts/python tests/templates/render_golden.py --check  # exit 1 if golden/ is stale

golden/<name>.txt holds the exact rendering (UTF-8, no added newline). A case with
"expect_error": true must raise; golden/<name>.error holds the exception message instead.
Needs jinja2 (3.1.x; scripts/python runs it in the environment scripts/setup makes); transformers
itself is not needed.
"""

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
BOS_TOKEN = "<bos>"
EOS_TOKEN = "<eos>"
# strftime_now reads the clock; goldens must not, so it is pinned (no template here calls it).
FIXED_NOW = datetime(2025, 1, 2, 3, 4, 5)


class AssistantTracker(jinja2.ext.Extension):
    """transformers' `{% generation %}` tag; outside training it only renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render_body"), [], [], body).set_lineno(lineno)

    def _render_body(self, caller):
        return caller()


def compile_template(source):
    """transformers' _compile_jinja_template, with the clock pinned."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # transformers overrides jinja's tojson, which HTML-escapes
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def render_case(case):
    """Returns ("ok", text) or ("error", message)."""
    template = compile_template((HERE / case["template"]).read_text(encoding="utf-8"))
    kwargs = {"bos_token": BOS_TOKEN, "eos_token": EOS_TOKEN}
    if "enable_thinking" in case:
        kwargs["enable_thinking"] = case["enable_thinking"]
    try:
        text = template.render(
            messages=case["messages"],
            tools=case.get("tools"),
            documents=None,
            add_generation_prompt=case["add_generation_prompt"],
            **kwargs,
        )
    except jinja2.exceptions.TemplateError as err:
        return "error", str(err)
    return "ok", text


def expected_files(cases):
    """Maps each golden file name to the bytes it must hold."""
    files = {}
    problems = []
    for case in cases:
        kind, text = render_case(case)
        if kind == "error" and not case.get("expect_error"):
            problems.append(f"{case['name']}: raised {text!r} but is not marked expect_error")
            continue
        if kind == "ok" and case.get("expect_error"):
            problems.append(f"{case['name']}: is marked expect_error but rendered without error")
            continue
        suffix = ".error" if kind == "error" else ".txt"
        files[case["name"] + suffix] = text.encode("utf-8")
    return files, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on any difference")
    args = parser.parse_args()

    cases = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
    names = [case["name"] for case in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        sys.exit(f"duplicate case names: {', '.join(duplicates)}")

    files, problems = expected_files(cases)
    existing = {path.name for path in GOLDEN.glob("*") if path.is_file()} if GOLDEN.is_dir() else set()

    if args.check:
        for name, data in sorted(files.items()):
            path = GOLDEN / name
            if not path.is_file():
                problems.append(f"{name}: missing")
            elif path.read_bytes() != data:
                problems.append(f"{name}: differs from a fresh rendering")
        problems += [f"{name}: stale, no case renders it" for name in sorted(existing - files.keys())]
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("goldens are stale: run scripts/python tests/templates/render_golden.py", file=sys.stderr)
            return 1
        print(f"{len(files)} goldens match jinja2 {jinja2.__version__}")
        return 0

    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    GOLDEN.mkdir(exist_ok=True)
    for name in sorted(existing - files.keys()):
        (GOLDEN / name).unlink()
    for name, data in sorted(files.items()):
        (GOLDEN / name).write_bytes(data)
    print(f"wrote {len(files)} goldens with jinja2 {jinja2.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
