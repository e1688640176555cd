//! The Tauri commands the UI invokes. Each is a thin wrapper: parse the arguments, call
//! `fieldbook_core`, return its values. Rules live in the core, not here.
//!
//! Every command runs off the main thread (`async`), so a slow disk never freezes the window.
//! Arguments are named in snake_case, as the core names its fields. Structured arguments
//! (repair records, cards, signatures) arrive as JSON and are read here, so a malformed one is a
//! `CommandError` naming the field rather than an untyped IPC failure.
//!
//! Every command that shows or changes records takes the store through
//! [`AppState::data_store`], which refuses with `offline_locked` while the laptop has not synced
//! within the company's limit (issue #13); the sync commands (`sync.rs`) and `app_info` do not.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use fieldbook_core::checklist::Slot;
use fieldbook_core::daily_report::DailyReport;
use fieldbook_core::model::{
    Attachment, EscalateTo, Escalation, NewRepairRecord, Part, PartUsed, RepairRecord, Requisition, RequisitionLine, SatisfactionCard, Shortfall,
    Signature, Status, TimeEntry, VanStockLine, WorkOrder, WorkOrderSummary,
};
use fieldbook_core::store::time::{DayTime, TimeInput};
use fieldbook_core::store::search::SearchHit;
use fieldbook_core::store::{Correction, NewCorrection, SignRequest, Verification, WorkOrderDetail};
use fieldbook_core::store::workshop::{NewReceipt, ReturnSignature, WorkshopJob};
use fieldbook_core::Error;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tauri::ipc::{InvokeBody, Request, Response};
use tauri::{Manager, Runtime, State};

use crate::{AppState, CommandError};

type Result<T> = std::result::Result<T, CommandError>;

/// The work orders scheduled on `date` (`YYYY-MM-DD`, default: the laptop's local today),
/// most urgent response deadline first.
#[tauri::command(async)]
pub fn today_orders(
    state: State<'_, AppState>,
    date: Option<String>,
) -> Result<Vec<WorkOrderSummary>> {
    let day = day_or_today(date.as_deref(), "work order list")?;
    Ok(state.data_store()?.lock().orders_for_day(day)?)
}

/// Search as you type: records containing every term of `query`, best first.
#[tauri::command(async)]
pub fn search(
    state: State<'_, AppState>,
    query: String,
    limit: Option<usize>,
) -> Result<Vec<SearchHit>> {
    let limit = limit.unwrap_or(40).clamp(1, 200);
    Ok(state.data_store()?.lock().search(&query, limit)?)
}

/// The ids of the work orders scheduled on `date` that concern a customer, site or asset: what
/// the day's list shows when a search hit for one of those is opened.
#[tauri::command(async, rename_all = "snake_case")]
pub fn related_orders(
    state: State<'_, AppState>,
    kind: String,
    record_id: String,
    date: Option<String>,
) -> Result<Vec<String>> {
    let day = day_or_today(date.as_deref(), "related work orders")?;
    let shared = state.data_store()?;
    let store = shared.lock();
    crate::lookup::related_orders(&store, &kind, &record_id, day)
}

/// Everything recorded on one work order (number or id).
#[tauri::command(async)]
pub fn order_detail(state: State<'_, AppState>, order: String) -> Result<WorkOrderDetail> {
    Ok(state.data_store()?.lock().order_detail(&order)?)
}

/// Moves an order along its lifecycle (`en_route`, `on_site`, `completed`, …).
#[tauri::command(async)]
pub fn set_status(state: State<'_, AppState>, order: String, status: String) -> Result<WorkOrder> {
    let to: Status = status
        .parse()
        .map_err(|e: String| Error::invalid(format!("work order {order}"), "status", e))?;
    Ok(state.data_store()?.lock().set_status(&order, to)?)
}

/// Completes an order; refused with the missing required items (`problems`) while any is open.
#[tauri::command(async)]
pub fn complete(state: State<'_, AppState>, order: String) -> Result<WorkOrder> {
    Ok(state.data_store()?.lock().complete(&order)?)
}

/// Records one checklist answer as it is edited. `asset_id` is the asset's id for items of
/// per-asset sections, empty or absent otherwise. Returns the value as stored (normalised).
#[tauri::command(async, rename_all = "snake_case")]
pub fn record_answer(
    state: State<'_, AppState>,
    order_id: String,
    item_key: String,
    asset_id: Option<String>,
    value: Value,
) -> Result<Value> {
    let slot = Slot {
        item_key,
        asset_id: asset_id.unwrap_or_default(),
    };
    Ok(state
        .data_store()?
        .lock()
        .record_answer(&order_id, &slot, &value)?)
}

/// Stores a photo. The body is the raw bytes; headers `x-media-type` and `x-file-name`
/// (percent-encoded UTF-8) describe it. Returns the attachment, whose id answers photo items.
#[tauri::command(async)]
pub fn attach_photo(state: State<'_, AppState>, request: Request<'_>) -> Result<Attachment> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(Error::invalid(
            "photo",
            "bytes",
            "send the photo's bytes as the request body",
        )
        .into());
    };
    if bytes.is_empty() {
        return Err(Error::invalid("photo", "bytes", "the file is empty").into());
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| percent_decode(v.trim()))
            .filter(|v| !v.is_empty())
    };
    let media_type = header("x-media-type").unwrap_or_else(|| "application/octet-stream".into());
    if !media_type.starts_with("image/") {
        return Err(Error::invalid(
            "photo",
            "media_type",
            format!("'{media_type}' is not an image"),
        )
        .into());
    }
    let name = header("x-file-name");
    Ok(state
        .data_store()?
        .lock()
        .attach_bytes(bytes, &media_type, name.as_deref())?)
}

/// The stored bytes of an attachment (raw, for thumbnails).
#[tauri::command(async)]
pub fn attachment_bytes(state: State<'_, AppState>, id: String) -> Result<Response> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "attachment",
            "id",
            format!("'{id}' is not an attachment id (64 hex characters)"),
        )
        .into());
    }
    let bytes = state.data_store()?.lock().attachment_bytes(&id.to_ascii_lowercase())?;
    Ok(Response::new(bytes))
}

/// Raises a follow-up repair order from a finding (`item` key, `asset` code or id for per-asset
/// items). Raising it again returns the same order.
#[tauri::command(async)]
pub fn create_follow_up(
    state: State<'_, AppState>,
    order: String,
    item: String,
    asset: Option<String>,
) -> Result<WorkOrder> {
    let asset = asset.filter(|a| !a.is_empty());
    Ok(state
        .data_store()?
        .lock()
        .create_follow_up(&order, &item, asset.as_deref())?)
}

/// The parts catalogue, by SKU.
#[tauri::command(async)]
pub fn parts(state: State<'_, AppState>) -> Result<Vec<Part>> {
    Ok(state.data_store()?.lock().parts()?)
}

/// Records a repair (a `NewRepairRecord` as JSON) on an order.
#[tauri::command(async)]
pub fn add_repair(
    state: State<'_, AppState>,
    order: String,
    repair: Value,
) -> Result<RepairRecord> {
    let repair: NewRepairRecord = from_json(&order, "repair", repair)?;
    Ok(state.data_store()?.lock().add_repair(&order, &repair)?)
}

/// The technician's van stock offline: on hand as last synced, less what unsynced repairs use.
#[tauri::command(async)]
pub fn van_stock(state: State<'_, AppState>) -> Result<Vec<VanStockLine>> {
    Ok(state.data_store()?.lock().van_stock()?)
}

/// What these parts (`PartUsed` list as JSON) would take beyond what the van holds; empty when
/// the van has enough. The repair form warns with it and saves anyway.
#[tauri::command(async)]
pub fn van_shortfall(state: State<'_, AppState>, parts: Value, repair: Option<String>) -> Result<Vec<Shortfall>> {
    let parts: Vec<PartUsed> = serde_json::from_value(parts).map_err(|e| Error::invalid("the repair's parts", "parts", e.to_string()))?;
    Ok(state.data_store()?.lock().van_shortfall(&parts, repair.as_deref())?)
}

/// Asks the office for parts (`RequisitionLine` list as JSON), with a note.
#[tauri::command(async)]
pub fn request_parts(state: State<'_, AppState>, lines: Value, note: Option<String>) -> Result<Requisition> {
    let lines: Vec<RequisitionLine> = serde_json::from_value(lines).map_err(|e| Error::invalid("requisition", "lines", e.to_string()))?;
    Ok(state.data_store()?.lock().request_parts(&lines, note.as_deref())?)
}

/// The technician's requisitions with the office's decisions as last synced.
#[tauri::command(async)]
pub fn requisitions(state: State<'_, AppState>) -> Result<Vec<Requisition>> {
    Ok(state.data_store()?.lock().requisitions()?)
}

/// Confirms what an approved requisition's shipment brought: as approved (`correct`) or not.
#[tauri::command(async)]
pub fn confirm_shipment(state: State<'_, AppState>, id: String, correct: bool, note: Option<String>) -> Result<Requisition> {
    Ok(state.data_store()?.lock().confirm_shipment(&id, correct, note.as_deref())?)
}

/// The service category a repair of `asset` done today defaults to, and why (contract B,
/// warranty C, else A: `fieldbook_core::service_category`); the repair form preselects it.
#[tauri::command(async)]
pub fn default_category(state: State<'_, AppState>, asset: String) -> Result<Value> {
    let d = state.data_store()?.lock().default_category(&asset, chrono::Local::now().date_naive())?;
    let explain = d.explain();
    let mut v = serde_json::to_value(&d).map_err(|e| Error::invalid(format!("asset {asset}"), "category", e.to_string()))?;
    v["explain"] = Value::from(explain);
    Ok(v)
}

/// Asks the supervisor or an engineer (`to`) for help with a repair of an order, with a note.
#[tauri::command(async)]
pub fn escalate(state: State<'_, AppState>, order: String, repair: Option<String>, to: String, note: String) -> Result<Escalation> {
    let to: EscalateTo = to.parse().map_err(|e: String| Error::invalid(format!("work order {order}"), "escalate_to", e))?;
    Ok(state.data_store()?.lock().escalate(&order, repair.as_deref(), to, &note)?)
}

/// Proposes a correction of the order's customer, site or an asset there (`NewCorrection` as
/// JSON: record_entity, record, field, value, note); the office confirms or rejects it.
#[tauri::command(async)]
pub fn propose_correction(state: State<'_, AppState>, order: String, correction: Value) -> Result<Correction> {
    let new: NewCorrection = from_json(&order, "correction", correction)?;
    Ok(state.data_store()?.lock().propose_correction(&order, &new)?)
}

/// The order's units in the workshop loop, every step as last pulled.
#[tauri::command(async)]
pub fn workshop_jobs(state: State<'_, AppState>, order: String) -> Result<Vec<WorkshopJob>> {
    Ok(state.data_store()?.lock().workshop_jobs_of(&order)?)
}

/// The receipt of a unit taken to the workshop (`NewReceipt` as JSON).
#[tauri::command(async)]
pub fn workshop_receipt(state: State<'_, AppState>, order: String, receipt: Value) -> Result<WorkshopJob> {
    let receipt: NewReceipt = from_json(&order, "receipt", receipt)?;
    Ok(state.data_store()?.lock().workshop_receipt(&order, &receipt)?)
}

/// The unit back to the customer, who signs for it (`ReturnSignature` as JSON): the receipt is void.
#[tauri::command(async)]
pub fn workshop_return(state: State<'_, AppState>, job: String, signature: Value) -> Result<WorkshopJob> {
    let signature: ReturnSignature = from_json(&job, "signature", signature)?;
    Ok(state.data_store()?.lock().workshop_return(&job, &signature)?)
}

/// The customer's satisfaction card (`SatisfactionCard` as JSON); giving it again replaces it.
#[tauri::command(async)]
pub fn rate(state: State<'_, AppState>, order: String, card: Value) -> Result<()> {
    let card: SatisfactionCard = from_json(&order, "card", card)?;
    Ok(state.data_store()?.lock().rate(&order, &card)?)
}

/// Takes the customer's signature (`SignRequest` as JSON) on a completed order and locks it.
#[tauri::command(async)]
pub fn sign(state: State<'_, AppState>, order: String, request: Value) -> Result<Signature> {
    let request: SignRequest = from_json(&order, "signature", request)?;
    Ok(state.data_store()?.lock().sign(&order, &request)?)
}

/// Reopens a signed order as a new revision, for `reason`.
#[tauri::command(async)]
pub fn amend(state: State<'_, AppState>, order: String, reason: String) -> Result<WorkOrder> {
    Ok(state.data_store()?.lock().amend(&order, &reason)?)
}

/// Checks every signature of an order against the records.
#[tauri::command(async)]
pub fn verify(state: State<'_, AppState>, order: String) -> Result<Verification> {
    Ok(state.data_store()?.lock().verify(&order)?)
}

/// The service report PDF, raw, for the preview.
#[tauri::command(async)]
pub fn report_bytes(state: State<'_, AppState>, order: String) -> Result<Response> {
    Ok(Response::new(
        state.data_store()?.lock().service_report(&order)?,
    ))
}

/// Asks where to save a report: `(suggested file name, folder)` → the path chosen, or `None`
/// when the technician cancelled. In the app this is the native save dialog
/// (tauri-plugin-dialog, called from here, so the web view never names a path); tests manage a
/// stand-in.
pub struct SaveAs(pub Box<AskSavePath>);

/// `(suggested file name, folder)` → the path chosen, `None` when cancelled.
pub type AskSavePath = dyn Fn(&str, &Path) -> Option<PathBuf> + Send + Sync;

/// Opens a file in a viewer.
pub type OpenFile = dyn Fn(&Path) -> std::io::Result<()> + Send + Sync;

/// Opens a file in the system's viewer. In the app, `open::that_detached`; tests manage a
/// stand-in.
pub struct OpenWith(pub Box<OpenFile>);

/// Saves the service report PDF where the technician chooses in the native save dialog
/// (suggested: the order's number in the Documents folder). The web view cannot name the path,
/// so a compromised page cannot make the app write anywhere else. The file appears whole or not
/// at all (written beside the target under a temporary name, synced, renamed). Returns the path
/// written, or `None` when the dialog was cancelled.
#[tauri::command(async)]
pub fn save_report<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    order: String,
) -> Result<Option<String>> {
    let (bytes, number) = report_of(&state, &order)?;
    let name = format!("{}.pdf", safe_file_stem(&number));
    let folder = documents_dir(&app);
    let chosen = match app.try_state::<SaveAs>() {
        Some(ask) => (ask.0)(&name, &folder),
        None => ask_where_to_save(&app, &name, &folder)?,
    };
    let Some(target) = chosen else { return Ok(None) };
    write_atomically(&target, &bytes, false)?;
    Ok(Some(target.to_string_lossy().into_owned()))
}

fn ask_where_to_save<R: Runtime>(
    app: &tauri::AppHandle<R>,
    name: &str,
    folder: &Path,
) -> Result<Option<PathBuf>> {
    use tauri_plugin_dialog::DialogExt;
    if app.try_state::<tauri_plugin_dialog::Dialog<R>>().is_none() {
        return Err(Error::invalid(
            "service report",
            "path",
            "this window has no save dialog; restart Fieldbook",
        )
        .into());
    }
    let picked = app
        .dialog()
        .file()
        .set_file_name(name)
        .set_directory(folder)
        .add_filter("PDF", &["pdf"])
        .blocking_save_file();
    match picked {
        None => Ok(None),
        Some(p) => p.into_path().map(Some).map_err(|e| {
            Error::invalid(
                "service report",
                "path",
                format!("the place chosen is not a file on this computer ({e}); choose a folder on this computer"),
            )
            .into()
        }),
    }
}

/// Writes the report to a temporary file and opens it in the system's PDF viewer, for printing.
/// The file (0600) is in a folder only this user can enter (0700, see `private_report_dir`), so
/// no other account on the laptop can read a customer's report or plant a file in its place.
/// Returns the path of the file opened.
#[tauri::command(async)]
pub fn open_report<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    order: String,
) -> Result<String> {
    let (bytes, number) = report_of(&state, &order)?;
    let dir = private_report_dir()?;
    let target = dir.join(format!("{}.pdf", safe_file_stem(&number)));
    write_atomically(&target, &bytes, true)?;
    let opened = match app.try_state::<OpenWith>() {
        Some(open) => (open.0)(&target),
        None => open::that_detached(&target),
    };
    opened.map_err(|e| {
        Error::io(
            &target,
            std::io::Error::other(format!("saved, but no PDF viewer could be opened: {e}")),
        )
    })?;
    Ok(target.to_string_lossy().into_owned())
}

/// The order's report and its number.
fn report_of(state: &AppState, order: &str) -> Result<(Vec<u8>, String)> {
    let shared = state.data_store()?;
    let mut store = shared.lock();
    let number = store.find_order(order)?.number;
    Ok((store.service_report(order)?, number))
}

/// The folder of this app run's temporary reports: made once per run, readable by this user
/// only (0700), with a random name nobody can take in advance (a shared, predictable
/// `/tmp/fieldbook-reports` could be created first by another account, or be a link). In
/// `$XDG_RUNTIME_DIR` (the user's own, emptied at logout) when there is one, else in the temp
/// folder.
pub fn private_report_dir() -> Result<PathBuf> {
    static DIR: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
    let mut dir = DIR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(d) = dir.as_ref().filter(|d| d.is_dir()) {
        return Ok(d.clone());
    }
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let made = tempfile::Builder::new()
        .prefix("fieldbook-reports-")
        .tempdir_in(&base)
        .map_err(|e| Error::io(&base, e))?
        .keep();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&made, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(&made, e))?;
    }
    *dir = Some(made.clone());
    Ok(made)
}

/// Minutes per service category A–D for a day (default today), per technician and in total.
#[tauri::command(async)]
pub fn daily_report(state: State<'_, AppState>, date: Option<String>) -> Result<DailyReport> {
    let day = day_or_today(date.as_deref(), "daily report")?;
    Ok(state.data_store()?.lock().daily_report(day, None)?)
}

/// The laptop technician's time entries of a day (default today) and the supervisor's review.
#[tauri::command(async)]
pub fn day_time(state: State<'_, AppState>, date: Option<String>) -> Result<DayTime> {
    let day = day_or_today(date.as_deref(), "time entries")?;
    Ok(state.data_store()?.lock().day_time(day, None)?)
}

/// Records time outside a repair record (`TimeInput` as JSON): inspection, travel, internal work.
#[tauri::command(async)]
pub fn add_time_entry(state: State<'_, AppState>, entry: Value) -> Result<TimeEntry> {
    let input: TimeInput = time_input(entry)?;
    Ok(state.data_store()?.lock().add_time_entry(&input)?)
}

/// Changes one of the technician's own time entries.
#[tauri::command(async)]
pub fn edit_time_entry(state: State<'_, AppState>, id: String, entry: Value) -> Result<TimeEntry> {
    let input: TimeInput = time_input(entry)?;
    Ok(state.data_store()?.lock().edit_time_entry(&id, &input)?)
}

/// Deletes one of the technician's own time entries.
#[tauri::command(async)]
pub fn delete_time_entry(state: State<'_, AppState>, id: String) -> Result<()> {
    Ok(state.data_store()?.lock().delete_time_entry(&id)?)
}

fn time_input(entry: Value) -> Result<TimeInput> {
    serde_json::from_value(entry).map_err(|e| Error::invalid("time entry", "entry", e.to_string()).into())
}

/// Facts about this laptop's store, for the settings screen and default save paths.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub db_path: String,
    pub data_dir: String,
    pub attachments_dir: String,
    /// Where reports are saved by default (the user's Documents folder, else home).
    pub documents_dir: String,
    pub device_id: String,
    pub technician: Option<String>,
    /// How the store is protected at rest: `encrypted-keyring`, `encrypted-passphrase`,
    /// `encrypted-key-file`.
    pub store_protection: &'static str,
}

#[tauri::command(async)]
pub fn app_info<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<AppInfo> {
    // Paths and the device, no records: shown on the lock screen's Settings too.
    let shared = state.store()?;
    let store = shared.lock();
    let db = store.path();
    let documents = documents_dir(&app);
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        db_path: db.to_string_lossy().into_owned(),
        data_dir: db
            .parent()
            .unwrap_or(Path::new("."))
            .to_string_lossy()
            .into_owned(),
        attachments_dir: store.attachments_dir().to_string_lossy().into_owned(),
        documents_dir: documents.to_string_lossy().into_owned(),
        device_id: store.device().id.clone(),
        technician: store.device().technician.clone(),
        store_protection: store.protection_label(),
    })
}

// ---------------------------------------------------------------------------------------------

/// The user's Documents folder, else home.
fn documents_dir<R: Runtime>(app: &tauri::AppHandle<R>) -> PathBuf {
    app.path()
        .document_dir()
        .or_else(|_| app.path().home_dir())
        .unwrap_or_else(|_| std::env::temp_dir())
}

fn day_or_today(date: Option<&str>, record: &str) -> Result<NaiveDate> {
    match date.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => parse_day(d, record),
        None => Ok(chrono::Local::now().date_naive()),
    }
}

fn parse_day(text: &str, record: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::invalid(
            record,
            "date",
            format!("'{text}' is not a day; use YYYY-MM-DD, e.g. 2026-03-14"),
        )
        .into()
    })
}

fn from_json<T: DeserializeOwned>(order: &str, field: &str, value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::invalid(format!("work order {order}"), field, e.to_string()).into())
}

/// Writes `bytes` to `target` under a temporary name in the same folder, syncs it, then renames
/// it over `target`: a crash or full disk never leaves a half-written file under that name.
/// `private`: readable by this user only (0600), from its creation on.
fn write_atomically(target: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(target, e).into());
    }
    Ok(())
}

fn safe_file_stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Decodes `%XX` escapes (UTF-8); anything malformed is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_handles_utf8_and_leaves_malformed_input() {
        assert_eq!(percent_decode("%E6%B3%B5%E6%88%BF.jpg"), "泵房.jpg");
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn file_stems_keep_order_numbers_readable() {
        assert_eq!(safe_file_stem("WO-1001-F1"), "WO-1001-F1");
        assert_eq!(safe_file_stem("../x"), "___x");
    }
}
