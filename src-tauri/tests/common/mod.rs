//! The app on Tauri's mock runtime, for the command tests: built from the real `app_builder`
//! around a store, with one webview to send IPC requests through; and the real server with the
//! demo company, for the tests that sync.

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

    /// The app with updates on, trusting the updater public key `pubkey` (base64 of the
    /// `.key.pub` file), as a build with `FIELDBOOK_UPDATER_PUBKEY` is.
    pub fn with_updates(state: AppState, pubkey: &str) -> MockApp {
        let mut context = mock_context(noop_assets());
        // The plugin's entry of tauri.conf.json (its key stays empty there too).
        context.config_mut().plugins.0.insert("updater".into(), serde_json::json!({"pubkey": "", "requireSignedVersion": true}));
        let plugin = fieldbook_desktop::updates::plugin(&state, pubkey);
        let app = app_builder(mock_builder(), state).plugin(plugin).build(context).unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        MockApp { _app: app, webview }
    }

    /// The app's shared state (the store, the sync slot).
    pub fn state(&self) -> tauri::State<'_, AppState> {
        tauri::Manager::state::<AppState>(&self._app)
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

/// The real `fieldbook-server` in-process on 127.0.0.1:0 (SQLite), with technician li.wei and
/// the demo company.
pub struct Office {
    pub db: fieldbook_server::db::Db,
    pub running: fieldbook_server::server::Running,
    _dir: tempfile::TempDir,
}

impl Office {
    pub async fn with_demo() -> Office {
        use fieldbook_server::db::{Db, Mode};
        use fieldbook_server::{import, users};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("server.db").display());
        let db = tokio::task::spawn_blocking(move || {
            let db = Db::open(&url).unwrap();
            db.transaction(Mode::Write, |tx| users::add(tx, "li.wei", users::Role::Technician, "李伟", None)).unwrap();
            let doc = fieldbook_core::import::ImportDocument::from_json(fieldbook_server::demo::DEMO_IMPORT, "demo").unwrap();
            db.transaction(Mode::Feed, |tx| import::import(tx, &doc, "demo.json")).unwrap();
            db
        })
        .await
        .unwrap();
        let running = fieldbook_server::server::start(db.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
        Office { db, running, _dir: dir }
    }

    /// Runs a write on the server's database (settings, revocations, codes).
    pub fn write<T: Send + 'static>(&self, rt: &tokio::runtime::Runtime, f: impl FnOnce(&mut dyn fieldbook_server::db::Tx) -> fieldbook_server::Result<T> + Send + 'static) -> T {
        let db = self.db.clone();
        rt.block_on(tokio::task::spawn_blocking(move || db.transaction(fieldbook_server::db::Mode::Write, f).unwrap())).unwrap()
    }
}

/// Polls `sync_status` until `done` holds (at most 20 s); returns the last answer.
pub fn wait_for_status(app: &MockApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let s = app.invoke("sync_status", serde_json::json!({})).unwrap();
        if done(&s) || std::time::Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
