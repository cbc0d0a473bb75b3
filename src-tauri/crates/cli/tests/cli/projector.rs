//! `--mmproj`: projectors load through mtmd and say what they accept.

use gemma_desk_engine::{ClientError, LoadOptions, WorkerClient, WorkerCommand};

use crate::{model_arg, run, test_model, test_projector};

fn load_with(mmproj: std::path::PathBuf) -> Result<gemma_desk_engine::ModelInfo, ClientError> {
    let command = WorkerCommand { program: env!("CARGO_BIN_EXE_gemma-desk-cli").into(), args: vec!["worker".into()] };
    let mut client = WorkerClient::new(command);
    client.load(LoadOptions { model: test_model(), mmproj: Some(mmproj), ctx: Some(512), ..Default::default() })
}

#[test]
fn a_vision_projector_loads_and_reports_vision() {
    let info = load_with(test_projector("vision-gemma3")).expect("the vision projector loads");
    assert!(info.vision && !info.audio, "{info:?}");
}

#[test]
fn an_audio_projector_loads_and_reports_audio() {
    let info = load_with(test_projector("audio-gemma4ua")).expect("the audio projector loads");
    assert!(info.audio && !info.vision, "{info:?}");
}

#[test]
fn a_language_model_given_as_the_projector_is_refused() {
    let error = load_with(test_model()).unwrap_err();
    assert!(error.to_string().contains("not a projector"), "{error}");
}

#[test]
fn chat_runs_with_a_projector_loaded() {
    let (model, mmproj) = (model_arg(), test_projector("vision-gemma3"));
    let output = run(&[
        "chat",
        "--model",
        &model,
        "--mmproj",
        &mmproj.to_string_lossy(),
        "--greedy",
        "--max-tokens",
        "4",
        "--ctx",
        "512",
        "Hi",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}
