//! The Tauri commands the UI invokes. Each is a thin wrapper: parse the arguments, call
//! `fieldbook_core`, return its values. Rules live in the core, not here.

use chrono::NaiveDate;
use fieldbook_core::model::WorkOrderSummary;
use tauri::State;

use crate::{AppState, CommandError};

/// The work orders scheduled on `date` (`YYYY-MM-DD`, default: the laptop's local today),
/// most urgent response deadline first.
// `async` runs it off the main thread, so a slow disk never freezes the window.
#[tauri::command(async)]
pub fn today_orders(
    state: State<'_, AppState>,
    date: Option<String>,
) -> Result<Vec<WorkOrderSummary>, CommandError> {
    let day = match date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => parse_day(d)?,
        None => chrono::Local::now().date_naive(),
    };
    Ok(state.store()?.orders_for_day(day)?)
}

fn parse_day(text: &str) -> Result<NaiveDate, CommandError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        fieldbook_core::Error::invalid(
            "work order list",
            "date",
            format!("'{text}' is not a day; use YYYY-MM-DD, e.g. 2026-03-14"),
        )
        .into()
    })
}
