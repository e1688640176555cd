//! Fieldbook's desktop shell: opens the laptop's store, hands it to the thin commands in
//! [`commands`], and builds the Tauri window around the Svelte UI in `../ui`.

pub mod commands;
mod error;
mod lookup;
pub mod sync;
#[cfg(target_os = "linux")]
pub mod webkit_memory;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::Instant;

pub use error::CommandError;
use fieldbook_core::Store;

/// When the process started (set first thing in `main`), for the startup measurement.
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Notes the process start; call first thing in `main`.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// Time since [`mark_start`] (or since the first call, if it was never marked).
pub fn since_start() -> std::time::Duration {
    STARTED.get_or_init(Instant::now).elapsed()
}

type Slot = Result<Arc<Mutex<Store>>, (&'static str, String)>;

/// The store as the commands share it with the background sync.
pub struct AppState {
    db_path: PathBuf,
    /// Replaced only when a revocation closes the store (wiped or reopened).
    store: RwLock<Slot>,
    pub(crate) sync: Mutex<sync::SyncSlot>,
}

/// The shared store, for one command. `lock()` it for as long as the command needs it.
pub struct SharedStore(Arc<Mutex<Store>>);

impl SharedStore {
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic in another command cannot leave a half-written store (every write is one
        // SQLite transaction), so a poisoned lock is safe to keep using.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn arc(&self) -> Arc<Mutex<Store>> {
        self.0.clone()
    }
}

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState {
            db_path: store.path().to_owned(),
            store: RwLock::new(Ok(Arc::new(Mutex::new(store)))),
            sync: Mutex::new(sync::SyncSlot::default()),
        }
    }

    /// Opens the store at `path`. A failure does not stop the app: every command reports it, so
    /// the technician sees why in the window rather than a silent crash.
    pub fn open(path: &Path) -> Self {
        AppState {
            db_path: path.to_owned(),
            store: RwLock::new(Self::open_slot(path)),
            sync: Mutex::new(sync::SyncSlot::default()),
        }
    }

    fn open_slot(path: &Path) -> Slot {
        match Store::open(path) {
            Ok(store) => Ok(Arc::new(Mutex::new(store))),
            Err(e) => {
                eprintln!("fieldbook-desktop: {e}");
                Err((e.kind(), e.to_string()))
            }
        }
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The store for a command that shows or changes records: refused with `offline_locked`
    /// ([`fieldbook_core::Error::OfflineLocked`]) while this laptop has not synced within the
    /// company's limit. Nothing is deleted; sync (which uses [`AppState::store`]) unlocks it.
    pub fn data_store(&self) -> Result<SharedStore, CommandError> {
        let shared = self.store()?;
        shared.lock().check_unlocked()?;
        Ok(shared)
    }

    /// The store for sync and status, which work while the laptop is locked.
    pub fn store(&self) -> Result<SharedStore, CommandError> {
        match &*self.store.read().unwrap_or_else(PoisonError::into_inner) {
            Ok(arc) => Ok(SharedStore(arc.clone())),
            Err((kind, message)) => Err(CommandError::StoreUnavailable {
                kind,
                message: message.clone(),
            }),
        }
    }
}

/// Where the store lives: `FIELDBOOK_DB` if set, else `--db PATH` (or `--db=PATH`), else the
/// platform default shared with the CLI.
pub fn db_path(env: Option<OsString>, args: impl IntoIterator<Item = OsString>) -> PathBuf {
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        return p.into();
    }
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--db" {
            if let Some(p) = args.next() {
                return p.into();
            }
        } else if let Some(p) = arg.to_str().and_then(|a| a.strip_prefix("--db=")) {
            return p.into();
        }
    }
    fieldbook_core::default_db_path()
}

/// The app minus its runtime and context, so tests can build it on Tauri's mock runtime.
pub fn app_builder<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::today_orders,
            commands::search,
            commands::related_orders,
            commands::order_detail,
            commands::set_status,
            commands::complete,
            commands::record_answer,
            commands::attach_photo,
            commands::attachment_bytes,
            commands::create_follow_up,
            commands::parts,
            commands::add_repair,
            commands::rate,
            commands::sign,
            commands::amend,
            commands::verify,
            commands::report_bytes,
            commands::save_report,
            commands::open_report,
            commands::daily_report,
            commands::app_info,
            sync::sync_status,
            sync::sync_now,
            sync::enroll,
            sync::ui_ready,
        ])
        .setup(|app| {
            // Background sync starts by itself once this laptop is enrolled.
            sync::start(app.handle());
            Ok(())
        })
}

pub fn run() {
    // A wipe in an earlier run could not remove the web view's data while the web view was
    // open: finish it now, before a web view exists (issue #13).
    finish_pending_wipe();
    #[cfg(target_os = "linux")]
    webkit_memory::install_memory_pressure_settings();
    let path = db_path(
        std::env::var_os("FIELDBOOK_DB"),
        std::env::args_os().skip(1),
    );
    app_builder(tauri::Builder::default(), AppState::open(&path))
        // The save dialog of `save_report`, used from Rust only (no capability grants the web
        // view any dialog command).
        .plugin(tauri_plugin_dialog::init())
        .build(tauri::generate_context!())
        .expect("error while building Fieldbook")
        .run(|_app, event| {
            // The windows are gone: a wipe of this run can take the web view's data now (and
            // the next start tries again, in case the web process still held it).
            if let tauri::RunEvent::Exit = event {
                finish_pending_wipe();
            }
        });
}

/// Finishes a wipe noted by an earlier revocation (the app's folders, the web view's among
/// them); see `fieldbook_core::wipe`.
pub fn finish_pending_wipe() {
    match fieldbook_core::wipe::finish_pending() {
        Ok(removed) if !removed.is_empty() => eprintln!(
            "fieldbook-desktop: finished a wipe: removed {} folder(s)",
            removed.len()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("fieldbook-desktop: could not finish a wipe: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn db_path_prefers_env_then_flag_then_default() {
        assert_eq!(
            db_path(Some("/env.db".into()), args(&["--db", "/arg.db"])),
            PathBuf::from("/env.db")
        );
        assert_eq!(
            db_path(Some("".into()), args(&["--db", "/arg.db"])),
            PathBuf::from("/arg.db")
        );
        assert_eq!(
            db_path(None, args(&["--db=/eq.db"])),
            PathBuf::from("/eq.db")
        );
        assert_eq!(db_path(None, args(&[])), fieldbook_core::default_db_path());
    }

    /// The wipe removes the web view's folders by the app's identifier: it must be this app's.
    #[test]
    fn the_wipe_knows_the_apps_identifier() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], fieldbook_core::wipe::APP_IDENTIFIER);
        assert_eq!(conf["mainBinaryName"], fieldbook_core::wipe::DESKTOP_BINARY);
    }
}
