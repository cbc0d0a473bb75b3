//! `prompt` prints the exact text the engine tokenizes.

use crate::{model_arg, repo_tests_dir, run, test_model_with_template};

#[test]
fn the_printed_prompt_is_the_gemma_format_the_reference_renders() {
    // The test model has no template of its own, so the built-in Gemma format applies; it must
    // match the Gemma 3 template as Python's jinja2 renders it (tests/templates/golden).
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_tests_dir().join("templates/cases.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model = model_arg();
    let mut checked = 0;
    for case in cases.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let golden = repo_tests_dir().join(format!("templates/golden/{name}.txt"));
        if case["template"] != "gemma-3-it.jinja" || case["add_generation_prompt"] != true || !golden.exists() {
            continue;
        }
        let messages = dir.path().join(format!("{name}.json"));
        std::fs::write(&messages, case["messages"].to_string()).unwrap();
        let output = run(&["prompt", "--model", &model, "--messages", &messages.to_string_lossy()]);
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(String::from_utf8(output.stdout).unwrap(), std::fs::read_to_string(golden).unwrap(), "case {name}");
        checked += 1;
    }
    assert!(checked >= 3, "several Gemma 3 cases are compared, got {checked}");
}

#[test]
fn a_model_carrying_its_own_template_is_prompted_with_it() {
    // Issue 9: a Gemma 3 file with another template (as fine-tuned models ship) was rendered with
    // the built-in Gemma 3 format. Copies of the test model carry the Gemma 3 and Gemma 4
    // templates; each must render exactly as Python's jinja2 renders that template.
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_tests_dir().join("templates/cases.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for template in ["gemma-3-it", "gemma-4-31B-it"] {
        let model = test_model_with_template(template).to_string_lossy().into_owned();
        let mut checked = 0;
        for case in cases.as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let golden = repo_tests_dir().join(format!("templates/golden/{name}.txt"));
            if case["template"] != format!("{template}.jinja")
                || case["add_generation_prompt"] != true
                || !golden.exists()
            {
                continue;
            }
            let request = serde_json::json!({
                "messages": case["messages"],
                "tools": case.get("tools"),
                "enable_thinking": case.get("enable_thinking"),
            });
            let messages = dir.path().join(format!("{template}-{name}.json"));
            std::fs::write(&messages, request.to_string()).unwrap();
            let output = run(&["prompt", "--model", &model, "--messages", &messages.to_string_lossy()]);
            assert!(output.status.success(), "{template} {name}: {}", String::from_utf8_lossy(&output.stderr));
            let expected = std::fs::read_to_string(golden).unwrap();
            assert_eq!(String::from_utf8(output.stdout).unwrap(), expected, "{template}: case {name}");
            checked += 1;
        }
        assert!(checked >= 5, "several {template} cases are compared, got {checked}");
    }
}
