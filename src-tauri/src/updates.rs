//! Updates from the company's own server (issue #14, docs/updates.md): after each successful
//! sync the app asks the enrolled server for a newer release (`tauri-plugin-updater`, endpoint
//! and device token taken from the store at run time), the UI offers it, and
//! [`install_update`] installs it only when nothing unsynced would be put at risk.
//!
//! Trust: the updater public key is built into the app ([`PUBKEY`], from
//! `FIELDBOOK_UPDATER_PUBKEY` when it is compiled); the plugin verifies every download against it
//! before writing anything, so the server can offer releases but cannot ship code; and, with
//! `requireSignedVersion` (tauri.conf.json), only for the version the signature was made for, so
//! it cannot pass an old signed build off as new. A build without a key has updates off, and
//! says so in Settings.
//!
//! On Linux the plugin replaces the file named by `$APPIMAGE`; only an AppImage install updates
//! itself. Any other Linux install (a .deb) is updated by its package manager.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use fieldbook_core::sync::protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION};
use fieldbook_sync::SyncReport;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::{AppState, CommandError};

type Result<T> = std::result::Result<T, CommandError>;

/// The updater public key this build trusts: the base64 `.key.pub` content from `tauri signer
/// generate`, given as `FIELDBOOK_UPDATER_PUBKEY` when the app is compiled (build.rs checks it).
pub const PUBKEY: Option<&str> = option_env!("FIELDBOOK_UPDATER_PUBKEY");
/// Sent to the UI when a check finds a newer release (an [`UpdateView`]).
pub const UPDATE_EVENT: &str = "update-available";
/// How long installing waits for the sync it starts first.
const SYNC_FIRST_TIMEOUT: Duration = Duration::from_secs(180);

/// The key, when this build has one.
pub fn pubkey() -> Option<&'static str> {
    PUBKEY.map(str::trim).filter(|k| !k.is_empty())
}

/// The updater plugin trusting `key` (in the app: [`pubkey`]; tests pass a throwaway one), and
/// updates on in `state`. Its config in tauri.conf.json only has an empty key; the key used is
/// this one, never read from anywhere at run time.
pub fn plugin<R: Runtime>(
    state: &AppState,
    key: &str,
) -> tauri::plugin::TauriPlugin<R, tauri_plugin_updater::Config> {
    state.updates.lock().enabled = true;
    tauri_plugin_updater::Builder::new().pubkey(key).build()
}

/// The last sync's outcome, as installing needs it.
#[derive(Debug, Clone, Copy, Default)]
struct LastSync {
    /// Grows with every finished or failed attempt.
    generation: u64,
    ok: bool,
    attachments_pending: usize,
}

/// The update state shared by the sync loop's events and the commands.
#[derive(Default)]
pub struct Updates {
    inner: Mutex<Inner>,
    synced: Condvar,
}

#[derive(Default)]
struct Inner {
    /// The updater plugin is registered with a key ([`plugin`]).
    enabled: bool,
    offered: Option<tauri_plugin_updater::Update>,
    last_error: Option<(&'static str, String)>,
    busy: bool,
    last_sync: LastSync,
}

impl Updates {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The sync loop finished an attempt (`report`: `None` for a failed one).
    pub fn note_sync(&self, report: Option<&SyncReport>) {
        let mut inner = self.lock();
        let generation = inner.last_sync.generation + 1;
        inner.last_sync = LastSync {
            generation,
            ok: report.is_some(),
            attachments_pending: report.map_or(0, |r| r.attachments_pending.len()),
        };
        drop(inner);
        self.synced.notify_all();
    }

    /// Waits for a sync attempt after `generation`.
    fn wait_for_sync_after(&self, generation: u64, timeout: Duration) -> Option<LastSync> {
        let inner = self.lock();
        let (inner, _) = self
            .synced
            .wait_timeout_while(inner, timeout, |i| i.last_sync.generation <= generation)
            .unwrap_or_else(PoisonError::into_inner);
        (inner.last_sync.generation > generation).then_some(inner.last_sync)
    }
}

/// How this copy of Fieldbook is installed, as far as updating goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Installed {
    /// An AppImage (`$APPIMAGE`): the updater replaces that file.
    AppImage,
    /// Linux, not an AppImage (a .deb): its package manager updates it.
    PackageManager,
    /// Windows and macOS: the updater runs the installer.
    Installer,
}

fn installed<R: Runtime>(app: &AppHandle<R>) -> Installed {
    if cfg!(target_os = "linux") {
        if app.env().appimage.is_some() {
            Installed::AppImage
        } else {
            Installed::PackageManager
        }
    } else {
        Installed::Installer
    }
}

/// What Settings and the update offer show.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateView {
    pub current_version: String,
    /// Updates are off: `"no_key"` (this build has no updater public key). `None`: on.
    pub off_reason: Option<&'static str>,
    pub installed: Installed,
    /// This install can replace itself (an AppImage, or an installer platform).
    pub can_install: bool,
    pub offered: Option<Offer>,
    /// The last check or install failed: `{kind, message}`.
    pub last_error: Option<UpdateError>,
    pub busy: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub version: String,
    pub notes_en: Option<String>,
    pub notes_zh: Option<String>,
    /// Both languages together, for a release without separate notes.
    pub notes: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdateError {
    pub kind: &'static str,
    pub message: String,
}

fn offer(u: &tauri_plugin_updater::Update) -> Offer {
    let text = |k: &str| {
        u.raw_json
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
    };
    Offer {
        version: u.version.clone(),
        notes_en: text("notes_en"),
        notes_zh: text("notes_zh"),
        notes: u.body.clone().filter(|s| !s.trim().is_empty()),
        date: text("pub_date"),
    }
}

fn view<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> UpdateView {
    let inner = state.updates.lock();
    let installed = installed(app);
    UpdateView {
        current_version: app.package_info().version.to_string(),
        off_reason: if inner.enabled { None } else { Some("no_key") },
        installed,
        can_install: installed != Installed::PackageManager,
        offered: inner.offered.as_ref().map(offer),
        last_error: inner
            .last_error
            .as_ref()
            .map(|(kind, message)| UpdateError {
                kind,
                message: message.clone(),
            }),
        busy: inner.busy,
    }
}

fn update_error(kind: &'static str, message: impl Into<String>) -> CommandError {
    CommandError::Update {
        kind,
        message: message.into(),
    }
}

/// The plugin's failures in the technician's words, with a kind the UI can branch on.
fn describe(e: &tauri_plugin_updater::Error) -> (&'static str, String) {
    use tauri_plugin_updater::Error as E;
    match e {
        E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) | E::SignedVersionMismatch { .. } | E::MissingSignedVersion => (
            "update_bad_signature",
            format!(
                "The update was not installed: its signature does not match this company's key ({e}). \
                 Fieldbook keeps running the current version; tell the office."
            ),
        ),
        E::Reqwest(_) | E::Network(_) => ("update_download_failed", format!("The update could not be downloaded ({e}). Fieldbook keeps running the current version; it tries again after the next sync.")),
        _ => ("update_failed", format!("The update failed ({e}). Fieldbook keeps running the current version.")),
    }
}

async fn build_updater<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
) -> Result<tauri_plugin_updater::Updater> {
    use tauri_plugin_updater::UpdaterExt;
    let enrolment = state
        .store()?
        .lock()
        .enrolment()?
        .ok_or(fieldbook_sync::SyncError::NotEnrolled)?;
    let endpoint = format!(
        "{}/api/updates/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}",
        enrolment.server_url.trim_end_matches('/')
    );
    let url = tauri::Url::parse(&endpoint).map_err(|e| {
        update_error(
            "update_failed",
            format!(
                "the server address {} does not make an update address: {e}",
                enrolment.server_url
            ),
        )
    })?;
    let plugin_error = |e: tauri_plugin_updater::Error| {
        let (kind, message) = describe(&e);
        update_error(kind, message)
    };
    app.updater_builder()
        .endpoints(vec![url])
        .map_err(plugin_error)?
        .header(
            "Authorization",
            format!("Bearer {}", enrolment.device_token),
        )
        .map_err(plugin_error)?
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .map_err(plugin_error)?
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(plugin_error)
}

/// Asks the server for a newer release; remembers and announces what it offers.
async fn check<R: Runtime>(app: &AppHandle<R>) -> Result<UpdateView> {
    let state = app.state::<AppState>();
    if !state.updates.lock().enabled {
        return Ok(view(app, &state));
    }
    let result = async {
        let updater = build_updater(app, &state).await?;
        updater.check().await.map_err(|e| {
            let (kind, message) = describe(&e);
            update_error(kind, message)
        })
    }
    .await;
    let announce = {
        let mut inner = state.updates.lock();
        match result {
            Ok(found) => {
                let new = found.as_ref().map(|u| u.version.clone())
                    != inner.offered.as_ref().map(|u| u.version.clone());
                inner.offered = found;
                inner.last_error = None;
                new && inner.offered.is_some()
            }
            Err(e) => {
                inner.last_error = Some((e.kind(), e.to_string()));
                false
            }
        }
    };
    let v = view(app, &state);
    if announce {
        let _ = app.emit(UPDATE_EVENT, &v);
    }
    Ok(v)
}

/// After each successful sync (called from the sync loop's events).
pub fn after_sync<R: Runtime>(app: &AppHandle<R>, report: Option<&SyncReport>) {
    let state = app.state::<AppState>();
    state.updates.note_sync(report);
    if report.is_some() && state.updates.lock().enabled {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            if let Err(e) = check(&app).await {
                eprintln!("fieldbook-desktop: update check: {e}");
            }
        });
    }
}

/// What Settings shows about updates.
#[tauri::command(async)]
pub fn update_status<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> UpdateView {
    view(&app, &state)
}

/// Checks now (Settings' "Check for updates").
#[tauri::command]
pub async fn check_update<R: Runtime>(app: AppHandle<R>) -> Result<UpdateView> {
    check(&app).await
}

/// Syncs first, then — only if nothing is left unsynced (no change waiting, no photo waiting
/// to upload, the sync succeeded) — downloads the offered release, has the plugin verify its
/// signature with the built-in key, installs it and restarts. Any failure leaves the running
/// version as it is and says why.
#[tauri::command]
pub async fn install_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<UpdateView> {
    let update = {
        let mut inner = state.updates.lock();
        if inner.busy {
            return Err(update_error(
                "update_busy",
                "The update is already being installed.",
            ));
        }
        let Some(update) = inner.offered.clone() else {
            return Err(update_error(
                "update_none",
                "No update is offered; Fieldbook checks after each sync.",
            ));
        };
        inner.busy = true;
        update
    };
    let result = install(&app, &state, update).await;
    let mut inner = state.updates.lock();
    inner.busy = false;
    match result {
        Ok(()) => Ok({
            drop(inner);
            view(&app, &state)
        }),
        Err(e) => {
            inner.last_error = Some((e.kind(), e.to_string()));
            Err(e)
        }
    }
}

async fn install<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    update: tauri_plugin_updater::Update,
) -> Result<()> {
    // Sync first: whatever was typed since the last sync reaches the server before the app
    // is replaced.
    let before = state.updates.lock().last_sync.generation;
    crate::sync::wake_or_start(app, state)?;
    let synced = tauri::async_runtime::spawn_blocking({
        let app = app.clone();
        move || {
            app.state::<AppState>()
                .updates
                .wait_for_sync_after(before, SYNC_FIRST_TIMEOUT)
        }
    })
    .await
    .map_err(|e| update_error("update_failed", e.to_string()))?;
    let Some(synced) = synced else {
        return Err(update_error("update_sync_failed", "Not installed: the sync before installing did not finish. Your work is kept; try again when the server can be reached."));
    };
    if !synced.ok {
        return Err(update_error("update_sync_failed", "Not installed: the sync before installing failed, so some work may not be on the server yet. Try again when the server can be reached."));
    }
    let pending = state.store()?.lock().sync_status()?.pending_changes;
    if pending > 0 {
        return Err(update_error("update_pending_changes", format!("Not installed: {pending} change(s) typed on this laptop are not on the server yet. Sync, then install.")));
    }
    if synced.attachments_pending > 0 {
        return Err(update_error(
            "update_pending_uploads",
            format!("Not installed: {} photo(s) or file(s) are still waiting to upload. Sync again, then install.", synced.attachments_pending),
        ));
    }
    // Download, verify (the plugin checks the signature against the built-in key before
    // returning the bytes), then replace the AppImage.
    let bytes = update.download(|_, _| {}, || {}).await.map_err(|e| {
        let (kind, message) = describe(&e);
        update_error(kind, message)
    })?;
    // A package's files belong to its package manager. The UI does not offer installing
    // there; checked after the signature so that the check runs the same on every install.
    match installed(app) {
        Installed::PackageManager => {
            return Err(update_error(
                "update_package_manager",
                format!("This copy of Fieldbook was installed as a package: version {} comes through the package manager (ask the office).", update.version),
            ))
        }
        Installed::AppImage | Installed::Installer => {}
    }
    update.install(bytes).map_err(|e| {
        let (kind, message) = describe(&e);
        update_error(kind, message)
    })?;
    crate::sync::stop_loop(state);
    app.restart();
}
