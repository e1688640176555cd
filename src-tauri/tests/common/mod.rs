//! The app on Tauri's mock runtime, for the command tests: built from the real `app_builder`
//! around a store, with one webview to send IPC requests through.

#![allow(dead_code)] // each test file uses its own part

use fieldbook_desktop::{app_builder, AppState};
use serde_json::Value;
use tauri::http::HeaderMap;
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponseBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

pub struct MockApp {
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
}

impl MockApp {
    pub fn new(state: AppState) -> MockApp {
        let app = app_builder(mock_builder(), state).build(mock_context(noop_assets())).unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        MockApp { _app: app, webview }
    }

    /// Puts `value` in the app's state (e.g. a stand-in for a native dialog).
    pub fn manage<T: Send + Sync + 'static>(&self, value: T) {
        tauri::Manager::manage(&self._app, value);
    }

    /// One IPC request as the UI sends it.
    pub fn raw(&self, cmd: &str, body: InvokeBody, headers: HeaderMap) -> Result<InvokeResponseBody, Value> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body,
                headers,
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
    }

    /// A command with JSON arguments; its JSON answer or error.
    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.raw(cmd, InvokeBody::Json(args), HeaderMap::new()).map(|body| body.deserialize::<Value>().unwrap())
    }
}
