//! Golden tests: our chat template rendering against Python jinja2's, byte for byte.
//!
//! The cases and the published Gemma templates live in the top-level `tests/templates/`;
//! `render_golden.py` there renders each case with jinja2 exactly as transformers does and
//! writes `golden/<name>.txt` (or `golden/<name>.error` for a case the template must refuse).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gemma_desk_engine::{ChatMessage, ChatTemplate, RenderOptions, TemplateError};

const TEMPLATES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/templates");
const GEMMA_3_TEMPLATE: &str = "gemma-3-it.jinja";

/// One entry of `cases.json`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    template: String,
    messages: Vec<ChatMessage>,
    add_generation_prompt: bool,
    #[serde(default)]
    enable_thinking: Option<bool>,
    #[serde(default)]
    tools: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    expect_error: bool,
}

impl Case {
    fn options(&self) -> RenderOptions {
        RenderOptions {
            add_generation_prompt: self.add_generation_prompt,
            enable_thinking: self.enable_thinking,
            tools: self.tools.clone(),
        }
    }
}

/// What jinja2 made of a case.
enum Golden {
    Text(String),
    Refusal(String),
}

fn templates_dir() -> PathBuf {
    Path::new(TEMPLATES_DIR).to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn cases() -> Vec<Case> {
    let path = templates_dir().join("cases.json");
    let cases: Vec<Case> = serde_json::from_str(&read(&path))
        .unwrap_or_else(|err| panic!("{} is not a list of cases: {err}", path.display()));
    assert!(!cases.is_empty(), "{} holds no cases", path.display());
    cases
}

fn golden(case: &Case) -> Golden {
    let dir = templates_dir().join("golden");
    let (text, refusal) = (dir.join(format!("{}.txt", case.name)), dir.join(format!("{}.error", case.name)));
    match (case.expect_error, text.is_file(), refusal.is_file()) {
        (false, true, false) => Golden::Text(read(&text)),
        (true, false, true) => Golden::Refusal(read(&refusal)),
        _ => panic!(
            "case {} has no golden file (expect_error = {}); run scripts/python tests/templates/render_golden.py",
            case.name, case.expect_error
        ),
    }
}

fn compile(template_file: &str) -> ChatTemplate {
    let source = read(&templates_dir().join(template_file));
    ChatTemplate::from_jinja(&source, "<bos>", "<eos>")
        .unwrap_or_else(|err| panic!("{template_file} must compile: {err}"))
}

/// Where two renderings part, with a few characters around it escaped so whitespace shows.
fn first_difference(expected: &str, actual: &str) -> String {
    let offset =
        expected.bytes().zip(actual.bytes()).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
    let line = expected[..floor_char_boundary(expected, offset)].matches('\n').count() + 1;
    let snippet = |text: &str| {
        let start = floor_char_boundary(text, offset.saturating_sub(40));
        let end = floor_char_boundary(text, (offset + 40).min(text.len()));
        format!("{:?}", &text[start..end])
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "first difference at byte {offset} (line {line}); expected {} bytes, got {}",
        expected.len(),
        actual.len()
    );
    let _ = writeln!(out, "  expected: …{}…", snippet(expected));
    let _ = write!(out, "  actual:   …{}…", snippet(actual));
    out
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Renders every case with `render` and compares with its golden; returns one line per failure.
fn mismatches(cases: &[Case], mut render: impl FnMut(&Case) -> Result<String, TemplateError>) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        match (golden(case), render(case)) {
            (Golden::Text(expected), Ok(actual)) if expected == actual => {}
            (Golden::Text(expected), Ok(actual)) => {
                failures.push(format!("{}: {}", case.name, first_difference(&expected, &actual)));
            }
            (Golden::Text(_), Err(err)) => failures.push(format!("{}: jinja2 renders it, we fail: {err}", case.name)),
            (Golden::Refusal(expected), Err(TemplateError::Refused(message))) if message == expected => {}
            (Golden::Refusal(expected), Err(err)) => failures.push(format!(
                "{}: jinja2 refuses with {expected:?}, we fail with a different error: {err}",
                case.name
            )),
            (Golden::Refusal(expected), Ok(_)) => {
                failures.push(format!("{}: jinja2 refuses with {expected:?}, we render it", case.name))
            }
        }
    }
    failures
}

#[test]
fn every_case_renders_byte_identical_to_python_jinja2() {
    let cases = cases();
    let mut compiled: Vec<(String, ChatTemplate)> = Vec::new();
    let failures = mismatches(&cases, |case| {
        if !compiled.iter().any(|(file, _)| *file == case.template) {
            compiled.push((case.template.clone(), compile(&case.template)));
        }
        let (_, template) = compiled.iter().find(|(file, _)| *file == case.template).expect("compiled above");
        template.render(&case.messages, &case.options())
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from what jinja2 renders, and the prompt must be exactly what the model \
         was trained on:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_builtin_gemma_format_renders_every_gemma_3_case_as_the_gemma_3_template_does() {
    let cases: Vec<Case> = cases().into_iter().filter(|case| case.template == GEMMA_3_TEMPLATE).collect();
    assert!(cases.len() >= 5, "too few Gemma 3 cases to trust the built-in format: {}", cases.len());
    let builtin = ChatTemplate::builtin_gemma();
    let failures = mismatches(&cases, |case| builtin.render(&case.messages, &case.options()));
    assert!(
        failures.is_empty(),
        "the built-in Gemma format must match the Gemma 3 template it replaces:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_cases_cover_refusals_and_every_published_template() {
    let cases = cases();
    assert!(
        cases.iter().any(|case| case.expect_error),
        "at least one case must check that a malformed conversation is refused"
    );
    for file in [GEMMA_3_TEMPLATE, "gemma-4-31B-it.jinja", "gemma-4-31B-it-interleaved.jinja"] {
        assert!(cases.iter().any(|case| case.template == file && !case.expect_error), "no case renders {file}");
    }
}

#[test]
fn every_golden_file_belongs_to_a_case() {
    let names: Vec<String> = cases().into_iter().map(|case| case.name).collect();
    let dir = templates_dir().join("golden");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()));
    for entry in entries {
        let file = entry.expect("golden directory entry").file_name().to_string_lossy().into_owned();
        let stem = file.strip_suffix(".txt").or_else(|| file.strip_suffix(".error"));
        assert!(
            stem.is_some_and(|stem| names.iter().any(|name| name == stem)),
            "golden/{file} belongs to no case; stale goldens hide missing coverage \
             (run scripts/python tests/templates/render_golden.py)"
        );
    }
}
