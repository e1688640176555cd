//! Fieldbook's desktop shell: opens the laptop's store, hands it to the thin commands in
//! [`commands`], and builds the Tauri window around the Svelte UI in `../ui`.

pub mod commands;
mod error;
mod lookup;
pub mod sync;
pub mod updates;
#[cfg(target_os = "linux")]
pub mod webkit_memory;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::Instant;

pub use error::CommandError;
use fieldbook_core::at_rest::{self, Method, StoreKey, Unlock};
use fieldbook_core::Store;
use zeroize::Zeroizing;

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
    /// How this run was told to unlock the store (`--key-file`, FIELDBOOK_PASSPHRASE).
    unlock: UnlockOptions,
    /// The open store's key: a revocation reopens the store with it.
    key: Mutex<Option<StoreKey>>,
    /// Replaced when the store is unlocked, and when a revocation closes it.
    store: RwLock<Slot>,
    pub(crate) sync: Mutex<sync::SyncSlot>,
    /// Updates from the company's server: what is offered, the last sync's outcome.
    pub(crate) updates: updates::Updates,
}

/// How the app may unlock a store without asking: a key file the user named, or a passphrase in
/// the environment (a kiosk or test set-up; the unlock screen is the normal way).
#[derive(Default)]
pub struct UnlockOptions {
    pub key_file: Option<PathBuf>,
    pub passphrase: Option<Zeroizing<String>>,
}

impl UnlockOptions {
    pub fn from_env_and_args(args: impl IntoIterator<Item = OsString>) -> Self {
        let key_file = std::env::var_os("FIELDBOOK_KEY_FILE").filter(|p| !p.is_empty()).map(PathBuf::from).or_else(|| arg_value(args, "--key-file").map(PathBuf::from));
        let passphrase = std::env::var("FIELDBOOK_PASSPHRASE").ok().filter(|p| !p.is_empty()).map(Zeroizing::new);
        UnlockOptions { key_file, passphrase }
    }
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

/// The error kinds that send the window to the unlock screen.
pub const STORE_LOCKED: &str = "store_locked";
pub const STORE_NEEDS_PASSPHRASE: &str = "store_new_passphrase";

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState {
            db_path: store.path().to_owned(),
            unlock: UnlockOptions::default(),
            key: Mutex::new(None),
            store: RwLock::new(Ok(Arc::new(Mutex::new(store)))),
            sync: Mutex::new(sync::SyncSlot::default()),
            updates: updates::Updates::default(),
        }
    }

    /// Opens the store at `path`, unlocked from the OS keyring, a key file or the environment.
    /// A store that needs its passphrase, or a failure, does not stop the app: every command
    /// reports it (the window shows the unlock screen, or says why).
    pub fn open(path: &Path, unlock: UnlockOptions) -> Self {
        let state = AppState {
            db_path: path.to_owned(),
            unlock,
            key: Mutex::new(None),
            store: RwLock::new(Err((STORE_LOCKED, String::new()))),
            sync: Mutex::new(sync::SyncSlot::default()),
            updates: updates::Updates::default(),
        };
        let slot = state.open_slot(None);
        *state.store.write().unwrap_or_else(PoisonError::into_inner) = slot;
        state
    }

    /// Unlocks the store with the passphrase typed on the unlock screen (or, for a new store,
    /// the one chosen there). A wrong one changes nothing.
    pub fn unlock_with_passphrase(&self, passphrase: &str) -> Result<(), CommandError> {
        let mut slot = self.store.write().unwrap_or_else(PoisonError::into_inner);
        if slot.is_ok() {
            return Ok(());
        }
        let opened = self.unlock_and_open(Some(Zeroizing::new(passphrase.to_owned())))?;
        *slot = Ok(Arc::new(Mutex::new(opened)));
        Ok(())
    }

    fn open_slot(&self, passphrase: Option<Zeroizing<String>>) -> Slot {
        match self.unlock_and_open(passphrase) {
            Ok(store) => Ok(Arc::new(Mutex::new(store))),
            Err(CommandError::StoreUnavailable { kind, message }) => Err((kind, message)),
            Err(e) => {
                eprintln!("fieldbook-desktop: {e}");
                Err((e.kind(), e.to_string()))
            }
        }
    }

    fn unlock_and_open(&self, typed: Option<Zeroizing<String>>) -> Result<Store, CommandError> {
        let path = &self.db_path;
        let requested = self.unlock.key_file.as_ref().map(|_| Method::KeyFile);
        let new = at_rest::method(path)?.is_none();
        let how = match at_rest::choose(path, requested)? {
            Method::Keyring => Unlock::Keyring,
            Method::KeyFile => match &self.unlock.key_file {
                Some(f) => Unlock::KeyFile(f.clone()),
                None => return Err(CommandError::StoreUnavailable { kind: "key_file_needed", message: format!("{} is protected by a key file: start Fieldbook with --key-file PATH (or FIELDBOOK_KEY_FILE)", path.display()) }),
            },
            Method::Passphrase => match typed.or_else(|| self.unlock.passphrase.clone()) {
                Some(p) => Unlock::Passphrase(p),
                None if new => return Err(CommandError::StoreUnavailable { kind: STORE_NEEDS_PASSPHRASE, message: "choose a passphrase to protect this laptop's Fieldbook data".into() }),
                None => return Err(CommandError::StoreUnavailable { kind: STORE_LOCKED, message: "enter the passphrase that protects this laptop's Fieldbook data".into() }),
            },
        };
        let key = at_rest::unlock(path, &how)?;
        let store = Store::open(path, &key)?;
        *self.key.lock().unwrap_or_else(PoisonError::into_inner) = Some(key);
        Ok(store)
    }

    /// The open store's key (none for a store handed in by a test).
    pub(crate) fn key(&self) -> Option<StoreKey> {
        self.key.lock().unwrap_or_else(PoisonError::into_inner).clone()
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
    arg_value(args, "--db").map(PathBuf::from).unwrap_or_else(fieldbook_core::default_db_path)
}

/// The value of `--name VALUE` or `--name=VALUE`.
fn arg_value(args: impl IntoIterator<Item = OsString>, name: &str) -> Option<OsString> {
    let mut args = args.into_iter();
    let prefix = format!("{name}=");
    while let Some(arg) = args.next() {
        if arg == name {
            return args.next();
        } else if let Some(p) = arg.to_str().and_then(|a| a.strip_prefix(&prefix)) {
            return Some(p.into());
        }
    }
    None
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
            commands::escalate,
            commands::van_stock,
            commands::van_shortfall,
            commands::request_parts,
            commands::requisitions,
            commands::confirm_shipment,
            commands::default_category,
            commands::propose_correction,
            commands::workshop_jobs,
            commands::workshop_receipt,
            commands::workshop_return,
            commands::rate,
            commands::sign,
            commands::amend,
            commands::verify,
            commands::report_bytes,
            commands::save_report,
            commands::open_report,
            commands::daily_report,
            commands::day_time,
            commands::add_time_entry,
            commands::edit_time_entry,
            commands::delete_time_entry,
            commands::app_info,
            sync::sync_status,
            sync::sync_now,
            sync::enroll,
            sync::ui_ready,
            sync::unlock_store,
            updates::update_status,
            updates::check_update,
            updates::install_update,
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
    let unlock = UnlockOptions::from_env_and_args(std::env::args_os().skip(1));
    let state = AppState::open(&path, unlock);
    // Updates only with the updater key built in (`updates::PUBKEY`); used from Rust only (no
    // capability grants the web view any updater command).
    let updater = updates::pubkey().map(|key| updates::plugin(&state, key));
    let builder = app_builder(tauri::Builder::default(), state)
        // The save dialog of `save_report`, used from Rust only (no capability grants the web
        // view any dialog command).
        .plugin(tauri_plugin_dialog::init());
    let builder = match updater {
        Some(p) => builder.plugin(p),
        None => builder,
    };
    builder
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
