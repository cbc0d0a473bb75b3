//! Getting a model through the commands: the overview of this machine and the catalog, a
//! download from a local server, using, importing and deleting models.

use gemma_desk_models::{Catalog, DEFAULT_CONTEXT, Hardware, fit};
use gemma_desk_testing::server::Server;
use gemma_desk_testing::{test_model, test_projector};
use serde_json::json;

use crate::{TestApp, channel};

#[test]
fn the_overview_judges_the_catalog_for_this_machine() {
    let app = TestApp::start();
    let overview = app.call("models_overview", json!({})).unwrap();
    let hardware = &overview["hardware"];
    assert!(hardware["ram_total"].as_u64().unwrap() > 1 << 30, "{hardware}");
    assert!(hardware["cpu_threads"].as_u64().unwrap() >= 1);
    // The device probe ran (these machines have no GPU) and did not fail.
    assert_eq!(hardware["gpu_problem"], json!(null), "{hardware}");

    let catalog = overview["catalog"].as_array().unwrap();
    assert_eq!(catalog.len(), 12);
    let e4b = catalog.iter().find(|m| m["id"] == "gemma-4-e4b-it").unwrap();
    assert_eq!(e4b["licence"]["name"], "Apache License 2.0");
    assert!(e4b["download_bytes"].as_u64().unwrap() > 5_000_000_000);
    // The E4B is judged with its projector, as downloaded, against this machine's measured memory
    // speed: the same fit the models crate tests over a table of machines.
    let machine: Hardware = serde_json::from_value(hardware.clone()).unwrap();
    assert!(machine.memory_read_bytes_per_second > 1e9, "the memory speed was measured: {hardware}");
    assert!(machine.cpu_cores >= 1 && machine.cpu_cores <= machine.cpu_threads, "{hardware}");
    assert_eq!(machine.decode_bytes_per_second_seen, None, "no reply yet");
    let expected = fit(Catalog::built_in().get("gemma-4-e4b-it").unwrap(), &machine, DEFAULT_CONTEXT);
    assert_eq!(e4b["fit"]["estimate"], serde_json::to_value(&expected.estimate).unwrap());
    assert_eq!(e4b["fit"]["verdict"], serde_json::to_value(expected.verdict).unwrap(), "{}", e4b["fit"]);
    if machine.gpus.is_empty() && expected.verdict != gemma_desk_models::Verdict::TooBig {
        // 4.6 GB of weights read per token at 0.8 of the measured speed.
        let tps = e4b["fit"]["cpu_tokens_per_second"].as_f64().unwrap();
        let bytes = Catalog::built_in().get("gemma-4-e4b-it").unwrap().file.bytes.unwrap() as f64;
        let active = Catalog::built_in().get("gemma-4-e4b-it").unwrap().active_fraction;
        let predicted = 0.8 * machine.memory_read_bytes_per_second / (bytes * active);
        assert!((tps - predicted).abs() < 0.11, "{tps} t/s shown, {predicted} from the measured speed");
    }

    for usage in ["text", "vision", "voice"] {
        let recommendation = &overview["recommendations"][usage];
        assert_eq!(recommendation["usage"], usage);
        assert!(!recommendation["summary"].as_str().unwrap().is_empty());
    }
    // 24 GB and no GPU here: a text model is recommended.
    assert!(overview["recommendations"]["text"]["choice"].is_string(), "{}", overview["recommendations"]["text"]);
    assert_eq!(overview["installed"], json!([]));
    assert_eq!(overview["partial"], json!([]));
}

#[test]
fn a_download_needs_a_known_model_and_the_accepted_licence() {
    let app = TestApp::start();
    let args = |id: &str, accept: bool| json!({ "id": id, "withMmproj": true, "acceptLicence": accept, "onProgress": channel() });
    assert_eq!(app.error_code("download_model", args("no-such-model", true)), "bad_input");
    let refused = app.call("download_model", args("gemma-3-1b-it", false)).unwrap_err();
    assert!(refused["message"].as_str().unwrap().contains("Gemma Terms of Use"), "{refused}");
    assert_eq!(app.error_code("pause_download", json!({ "id": "gemma-3-1b-it" })), "not_found");
    assert_eq!(app.error_code("cancel_download", json!({ "id": "gemma-3-1b-it" })), "not_found");
    assert_eq!(app.error_code("use_model", json!({ "id": "../../etc" })), "not_found");
    assert_eq!(app.error_code("delete_model", json!({ "id": "gemma-3-1b-it" })), "not_found");
}

#[test]
fn a_model_is_downloaded_used_and_protected_while_in_use() {
    let server = Server::start();
    let app = TestApp::start_with(Some(&server.serve_test_catalog()));
    let outcome = app
        .call(
            "download_model",
            json!({ "id": "tiny-it", "withMmproj": true, "acceptLicence": true, "onProgress": channel() }),
        )
        .unwrap();
    assert_eq!(outcome["status"], "installed", "{outcome}");
    let model = &outcome["model"];
    assert_eq!(model["description"]["caps"], json!(["text", "vision"]));
    assert_eq!(model["model"]["sha256_published"], true);
    assert_eq!(model["mmproj"]["sha256_published"], false);
    assert_eq!(std::fs::read(model["model_path"].as_str().unwrap()).unwrap(), std::fs::read(test_model()).unwrap());

    let status = app.call("use_model", json!({ "id": "tiny-it" })).unwrap();
    assert_eq!(status["state"], "ready", "{status}");
    assert_eq!(status["info"]["vision"], true);
    let overview = app.call("models_overview", json!({})).unwrap();
    let installed = &overview["installed"][0];
    assert_eq!((installed["id"].as_str(), installed["is_default"].as_bool()), (Some("tiny-it"), Some(true)));
    let settings = app.call("app_state", json!({})).unwrap()["settings"].clone();
    assert_eq!(settings["model"]["model"], installed["model_path"]);

    let refused = app.call("delete_model", json!({ "id": "tiny-it" })).unwrap_err();
    assert!(refused["message"].as_str().unwrap().contains("in use"), "{refused}");
    let again = app
        .call(
            "download_model",
            json!({ "id": "tiny-it", "withMmproj": true, "acceptLicence": true, "onProgress": channel() }),
        )
        .unwrap_err();
    assert!(again["message"].as_str().unwrap().contains("already installed"), "{again}");
}

#[test]
fn imports_are_checked_and_can_be_deleted() {
    let app = TestApp::start();
    let import = |model: &std::path::Path, mmproj: Option<&std::path::Path>, mode: &str| {
        app.call("import_model", json!({ "model": model, "mmproj": mmproj, "mode": mode }))
    };
    assert_eq!(
        app.error_code("import_model", json!({ "model": "relative.gguf", "mmproj": null, "mode": "copy" })),
        "bad_input"
    );
    // A wrong value is refused by the IPC layer before the command runs.
    let moved = app.call("import_model", json!({ "model": test_model(), "mmproj": null, "mode": "move" })).unwrap_err();
    assert!(moved.as_str().unwrap().contains("unknown variant `move`"), "{moved}");
    let swapped = import(&test_projector("vision-gemma3"), None, "copy").unwrap_err();
    assert_eq!(swapped["code"], "bad_input", "{swapped}");

    let linked = import(&test_model(), Some(&test_projector("vision-gemma3")), "link").unwrap();
    assert_eq!(linked["source"], "linked");
    assert_eq!(linked["description"]["architecture"], "gemma3");
    let id = linked["id"].as_str().unwrap();
    app.call("delete_model", json!({ "id": id })).unwrap();
    assert!(test_model().exists(), "the user's own file stays");
    assert_eq!(app.call("models_overview", json!({})).unwrap()["installed"], json!([]));
}
