//! Sync in the desktop app, through `fieldbook-sync`: the background loop (started once this
//! laptop is enrolled), its events forwarded to the UI as `sync-event`, the sync commands, and
//! what happens when the office revokes the laptop.
//!
//! The loop shares the store with the commands (`Arc<Mutex<Store>>`) and locks it only in short
//! synchronous sections, so work in the window is never blocked by sync.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use fieldbook_core::store::sync::SyncStatus;
use fieldbook_core::Store;
use fieldbook_sync::{handle_revocation, Enrollment, Revocation, SyncClient, SyncError, SyncEvent, SyncHandle, SyncLoop};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::{AppState, CommandError};

type Result<T> = std::result::Result<T, CommandError>;

/// Every [`SyncEvent`] of the background loop, as `{ "event": "started" | "progress" | … }`.
pub const SYNC_EVENT: &str = "sync-event";
/// After a revocation: what happened to this laptop's data (a [`Revocation`]).
pub const REVOCATION_EVENT: &str = "sync-revocation";

/// The running loop, and the outcome of a revocation handled in this session.
#[derive(Default)]
pub struct SyncSlot {
    handle: Option<SyncHandle>,
    revocation: Option<Revocation>,
}

/// What the sync status line shows: the store's status plus the app's own state.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatusView {
    #[serde(flatten)]
    pub status: SyncStatus,
    /// Sync runs over plain `http://` to another computer because the user allowed it at
    /// enrolment: the status line warns about it (the same rule as the sync client's).
    pub insecure_http: bool,
    /// The background loop is running.
    pub running: bool,
    /// What happened to the local data after a revocation received in this session.
    pub revocation: Option<Revocation>,
    /// `FIELDBOOK_WORK_OFFLINE=1`: this laptop works without enrolling (demo laptops, the
    /// startup measurement), so the UI does not open on the enrolment screen.
    pub work_offline: bool,
}

/// The answer to `enroll`.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    pub enrollment: Enrollment,
    pub status: SyncStatusView,
}

impl AppState {
    fn sync_slot(&self) -> MutexGuard<'_, SyncSlot> {
        self.sync.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn sync_view(&self) -> Result<SyncStatusView> {
        let status = self.store()?.lock().sync_status()?;
        let slot = self.sync_slot();
        let insecure_http = status.server_url.as_deref().is_some_and(|url| matches!(fieldbook_sync::check_transport(url, status.allow_insecure_http), Ok(true)));
        Ok(SyncStatusView {
            insecure_http,
            status,
            running: slot.handle.is_some(),
            revocation: slot.revocation.clone(),
            work_offline: std::env::var_os("FIELDBOOK_WORK_OFFLINE").is_some_and(|v| v == "1"),
        })
    }

    /// Stops the loop, closes the store, applies the revocation policy to the file, and opens
    /// what is left (a fresh store after a wipe, the kept store otherwise).
    fn release_and_revoke(&self, wipe: bool) -> Result<Revocation> {
        let handle = self.sync_slot().handle.take();
        if let Some(h) = handle {
            h.stop();
        }
        let mut slot = self.store.write().unwrap_or_else(PoisonError::into_inner);
        let old = std::mem::replace(
            &mut *slot,
            Err(("device_revoked", "this laptop's access was revoked; its data is being closed".into())),
        );
        if let Ok(arc) = old {
            release(arc);
        }
        let outcome = match self.key() {
            Some(key) => handle_revocation(&self.db_path, &key, wipe),
            // A store handed in unlocked (tests) has no key here: nothing can be wiped safely.
            None => Ok(Revocation::NotRevoked),
        };
        // The web view is still open and may write its data again: the next start (and this
        // run's exit) wipes the app's folders once more, before any web view exists.
        if matches!(outcome, Ok(Revocation::Wiped)) && fieldbook_core::wipe::is_default_store(&self.db_path) {
            if let Err(e) = fieldbook_core::wipe::mark_pending() {
                eprintln!("fieldbook-desktop: could not note the wipe for the next start: {e}");
            }
        }
        // A new, empty store (a new key: the old one went with the wipe), so that the window
        // can say what happened and the laptop can be enrolled again.
        *slot = self.open_slot(None);
        drop(slot);
        let outcome = outcome?;
        self.sync_slot().revocation = Some(outcome.clone());
        Ok(outcome)
    }
}

/// Drops the store once no command holds it any more (they hold it only briefly).
fn release(mut arc: Arc<Mutex<Store>>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Arc::try_unwrap(arc) {
            Ok(store) => return drop(store),
            Err(still_shared) if Instant::now() < deadline => {
                arc = still_shared;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => return eprintln!("fieldbook-desktop: the store is still in use; revocation goes on"),
        }
    }
}

/// At startup: syncs in the background if this laptop is enrolled; finishes a revocation that a
/// previous run could not (a revoked store whose changes have all been pushed is wiped).
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let revoked = state.store().and_then(|s| Ok(s.lock().sync_status()?)).map(|s| s.revoked_reason.is_some());
    match revoked {
        Ok(true) => {
            let app = app.clone();
            std::thread::spawn(move || on_revoked(&app, false));
        }
        Ok(false) => {
            if let Err(e) = start_loop(app, &state) {
                eprintln!("fieldbook-desktop: background sync not started: {e}");
            }
        }
        // The store did not open: every command says why.
        Err(_) => {}
    }
}

/// Unlocks the store with the passphrase typed on the unlock screen, then starts what waited
/// for it (background sync).
#[tauri::command(async)]
pub fn unlock_store<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>, passphrase: String) -> Result<SyncStatusView> {
    state.unlock_with_passphrase(&passphrase)?;
    start(&app);
    state.sync_view()
}

/// Spawns the loop unless it runs already. `false` when this laptop is not enrolled or revoked.
fn start_loop<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<bool> {
    let shared = state.store()?;
    let status = shared.lock().sync_status()?;
    if !status.enrolled || status.revoked_reason.is_some() {
        return Ok(false);
    }
    let mut slot = state.sync_slot();
    if slot.handle.is_none() {
        let emitter = app.clone();
        slot.handle = Some(SyncLoop::spawn(shared.arc(), move |event| {
            let _ = emitter.emit(SYNC_EVENT, &event);
            match &event {
                // After each sync: is there a newer release? (and what installing needs to know)
                SyncEvent::Finished(report) => crate::updates::after_sync(&emitter, Some(report)),
                SyncEvent::Failed { .. } => crate::updates::after_sync(&emitter, None),
                _ => {}
            }
            if let SyncEvent::Revoked { wipe, .. } = event {
                // Not on the loop's own thread: stopping the loop joins that thread.
                let app = emitter.clone();
                std::thread::spawn(move || on_revoked(&app, wipe));
            }
        }));
    }
    Ok(true)
}

/// Syncs now: wakes the loop, or starts it (which syncs at once). For installing an update.
pub(crate) fn wake_or_start<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<()> {
    let woken = state.sync_slot().handle.as_ref().map(|h| h.sync_now()).is_some();
    if !woken && !start_loop(app, state)? {
        return Err(SyncError::NotEnrolled.into());
    }
    Ok(())
}

/// Stops the background sync (before the app restarts into an update).
pub(crate) fn stop_loop(state: &AppState) {
    let handle = state.sync_slot().handle.take();
    if let Some(h) = handle {
        h.stop();
    }
}

fn on_revoked<R: Runtime>(app: &AppHandle<R>, wipe: bool) {
    let state = app.state::<AppState>();
    match state.release_and_revoke(wipe) {
        Ok(outcome) => {
            let _ = app.emit(REVOCATION_EVENT, &outcome);
        }
        Err(e) => eprintln!("fieldbook-desktop: revocation: {e}"),
    }
}

/// The sync status line: pending changes, last success, last error, refused changes, and
/// whether the background sync runs.
#[tauri::command(async)]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncStatusView> {
    state.sync_view()
}

/// Syncs now (the technician pressed "Sync now"), skipping any backoff wait.
#[tauri::command(async)]
pub fn sync_now<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Result<SyncStatusView> {
    let woken = state.sync_slot().handle.as_ref().map(|h| h.sync_now()).is_some();
    // Not running yet: starting the loop syncs at once.
    if !woken && !start_loop(&app, &state)? {
        let status = state.store()?.lock().sync_status()?;
        return Err(match status.revoked_reason {
            Some(reason) => SyncError::Revoked { reason, wipe: false },
            None => SyncError::NotEnrolled,
        }
        .into());
    }
    state.sync_view()
}

/// Enrols this laptop with the office server using a one-time code, then starts syncing.
#[tauri::command(rename_all = "snake_case")]
pub async fn enroll<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    server_url: String,
    code: String,
) -> Result<Enrolled> {
    let client = SyncClient::new(state.store()?.arc())?;
    let enrollment = client.enroll(&server_url, &code).await?;
    // A new token (or server): a loop already running restarts with it.
    let old = state.sync_slot().handle.take();
    if let Some(h) = old {
        let _ = tauri::async_runtime::spawn_blocking(move || h.stop()).await;
    }
    state.sync_slot().revocation = None;
    start_loop(&app, &state)?;
    Ok(Enrolled { enrollment, status: state.sync_view()? })
}

/// The UI calls this once the Today list has rendered. With `FIELDBOOK_MEASURE=1` it prints
/// `ui-ready-ms=N` (since the process started) and, with `FIELDBOOK_MEASURE_EXIT=1`, exits.
#[tauri::command]
pub fn ui_ready<R: Runtime>(app: AppHandle<R>) -> u64 {
    let ms = crate::since_start().as_millis() as u64;
    let on = |name| std::env::var_os(name).is_some_and(|v| v == "1");
    if on("FIELDBOOK_MEASURE") {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ui-ready-ms={ms}");
        let _ = out.flush();
        if on("FIELDBOOK_MEASURE_EXIT") {
            app.exit(0);
        }
    }
    ms
}
