//! The app under test: its commands over Tauri's mock runtime, on a fresh data folder, with the
//! test model. Shared by the `commands` and `replies` test binaries; each uses part of it.
#![allow(dead_code)]

use gemma_desk_app::startup::Startup;
use gemma_desk_app::state::{AppPaths, AppState};
use gemma_desk_engine::WorkerCommand;
use gemma_desk_settings::Settings;
use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;

/// An app over a fresh data folder, and its window.
pub struct TestApp {
    _app: tauri::App<MockRuntime>,
    window: tauri::WebviewWindow<MockRuntime>,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub fn start() -> TestApp {
        TestApp::start_with(None)
    }

    /// An app whose model catalog is `catalog` (TOML) instead of the built-in one.
    pub fn start_with(catalog: Option<&str>) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings { data_dir: Some(dir.path().join("data")), ..Default::default() };
        let paths = AppPaths { settings: dir.path().join("config/settings.json"), logs: dir.path().join("logs") };
        let worker = WorkerCommand { program: env!("CARGO_BIN_EXE_gemma-desk").into(), args: vec!["worker".into()] };
        let mut state = tauri::async_runtime::block_on(AppState::open(paths, settings, worker)).unwrap();
        if let Some(catalog) = catalog {
            state.models.set_catalog(gemma_desk_models::Catalog::parse(catalog, "test").unwrap());
        }
        let app = gemma_desk_app::with_commands(mock_builder()).build(mock_context(noop_assets())).unwrap();
        app.manage(state);
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        TestApp { _app: app, window, dir }
    }

    /// An app started as the real one starts: its settings file in `dir/config` (written first
    /// when `settings` is given) names the data folder, and the conversations are opened through
    /// [`Startup`], which keeps a problem for the recovery screen instead of failing.
    pub fn start_through_startup(dir: tempfile::TempDir, settings: Option<&Settings>) -> TestApp {
        let paths = AppPaths { settings: dir.path().join("config/settings.json"), logs: dir.path().join("logs") };
        if let Some(settings) = settings {
            settings.save(&paths.settings).unwrap();
        }
        let (settings, notice) = Settings::load(&paths.settings);
        let worker = WorkerCommand { program: env!("CARGO_BIN_EXE_gemma-desk").into(), args: vec!["worker".into()] };
        let app = gemma_desk_app::with_commands(mock_builder()).build(mock_context(noop_assets())).unwrap();
        let startup = Startup::new(paths, settings, notice, worker, None);
        tauri::async_runtime::block_on(startup.open(app.handle()));
        app.manage(startup);
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        TestApp { _app: app, window, dir }
    }

    /// Calls `command` as the window would; the answer as JSON, or the error as JSON.
    pub fn call(&self, command: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        tauri::test::get_ipc_response(&self.window, request).map(|body| body.deserialize::<Value>().unwrap())
    }

    /// The error code of a call that must fail.
    pub fn error_code(&self, command: &str, args: Value) -> String {
        let error = self.call(command, args).expect_err(command);
        error["code"].as_str().unwrap_or_else(|| panic!("{command}: not an app error: {error}")).to_owned()
    }

    /// Loads the test model.
    pub fn load_test_model(&self) {
        let status = self.call("load_model", json!({ "choice": { "model": test_model(), "mmproj": null } })).unwrap();
        assert_eq!(status["state"], "ready", "{status}");
    }

    /// Loads the test model with the generated projector `projector`, and makes replies greedy
    /// and four tokens long.
    pub fn load_with_projector(&self, projector: &str) {
        let choice = json!({ "model": test_model(), "mmproj": gemma_desk_testing::test_projector(projector) });
        assert_eq!(self.call("load_model", json!({ "choice": choice })).unwrap()["state"], "ready");
        let mut settings = self.call("app_state", json!({})).unwrap()["settings"].clone();
        settings["sampling"] = json!({ "greedy": true, "max_tokens": 4 });
        self.call("save_settings", json!({ "settings": settings })).unwrap();
    }
}

/// A channel argument (its events go to the mock window and are checked in the chat crate).
pub fn channel() -> Value {
    json!("__CHANNEL__:1")
}

pub use gemma_desk_testing::test_model;
