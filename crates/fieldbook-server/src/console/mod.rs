//! The office console (issue #5): a web app at `/console/` served from assets embedded in this
//! binary, and its JSON API under `/console/api/` (the contract is `docs/console-api.md`).
//!
//! - [`session`]: cookie sessions (token kept only as SHA-256), roles, the [`session::ConsoleUser`]
//!   extractor every endpoint but login takes.
//! - [`calls`]: lookups, registering a call (number, response deadline) and dispatching it.
//! - [`call_register`]: the register of every call, a call's detail, answering and closing one.
//! - [`work_orders`]: the order list and an order's full record (with signature checks).
//! - [`review`]: the review queue, approve and return (the note reaches the laptop).
//! - [`closing`]: no signature, no close: close exceptions and the photos of paper vouchers.
//! - [`return_visits`]: return visits (回访): made at completion, the desk's list, recording one.
//! - [`conflicts`]: sync conflicts and their resolution (a new write through the feed).
//! - [`reports`]: the reports, from the projections.
//! - [`templates`]: checklist templates and publishing a new version.
//! - [`people`]: users, enrolment codes, devices and revocation (changes are admin-only).
//! - [`settings`]: the company's settings, the offline lock (changes are admin-only).
//! - [`complaints`]: complaints (客户投诉): numbering, deadlines, the tracking log, reminders,
//!   closing with the result notice PDF, monthly statistics; the complaint policy (admin-only).
//! - [`renewals`]: contracts ending within a month, the expiry notice PDF, the renewal's
//!   tracking (sent, visit, renewed or lost); service level; repairs' default categories.
//! - [`audit`]: the audit trail.
//! - [`escalations`]: technicians' escalations and the office's answers; repairs past their
//!   expected completion.
//! - [`parts`]: spare parts (备件管理): stores, stock, movements (use on a repair recorded from
//!   the repair record), requisitions.
//! - [`day_reviews`]: the supervisor's review (核阅) of each technician's day, the supervisor's
//!   daily report.
//! - [`books`]: customers, sites, assets and contracts created and edited (validated, audited),
//!   corrections proposed from site and the office's decision, merging two customers.
//! - [`workshop`]: the workshop loop (修理车间): units taken to the workshop, goods-in/out, the
//!   repair card, the supervisor's check.
//! - [`index`]: the projections the feed writer keeps for all of the above.
//! - [`assets`]: the embedded UI; [`csv`]: CSV answers; this module: routes and shared helpers
//!   (keyset pagination, the `X-Fieldbook-Console` check).
//!
//! Every write of a record goes through the feed writer ([`crate::feed::Writer`]) in a
//! `Mode::Feed` transaction with the server's clock, exactly like pushes and imports, so laptops
//! pull it.

pub mod assets;
pub mod audit;
pub mod books;
pub mod calendar;
pub mod call_register;
pub mod calls;
pub mod closing;
pub mod complaints;
pub mod conflicts;
pub mod csv;
pub mod day_reviews;
pub mod desk_index;
pub mod escalations;
pub mod index;
pub mod parts;
pub mod people;
pub mod plans;
pub mod renewals;
pub mod return_visits;
pub mod settings;
pub mod reports;
pub mod rollup;
pub mod review;
pub mod session;
pub mod templates;
pub mod work_orders;
pub mod workshop;

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, MethodRouter};
use axum::Router;
use base64::Engine;
use serde::Deserialize;

use crate::api::AppState;
use crate::error::{Error, Result};

/// The header every console request that changes something must carry (a second defence
/// against cross-site requests, beside the SameSite=Strict cookie).
pub const CONSOLE_HEADER: &str = "x-fieldbook-console";

/// Every console API route: path and methods. The router is built from this list, the OpenAPI
/// document describes exactly these, and the authorization tests walk it.
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/console/api/login", &["POST"]),
    ("/console/api/logout", &["POST"]),
    ("/console/api/me", &["GET"]),
    ("/console/api/technicians", &["GET"]),
    ("/console/api/customers", &["GET"]),
    ("/console/api/customers/{id}/sites", &["GET"]),
    ("/console/api/regions", &["GET"]),
    ("/console/api/calls", &["GET", "POST"]),
    ("/console/api/work-orders", &["GET"]),
    ("/console/api/work-orders/{id}", &["GET"]),
    ("/console/api/work-orders/{id}/dispatch", &["POST"]),
    ("/console/api/review", &["GET"]),
    ("/console/api/work-orders/{id}/approve", &["POST"]),
    ("/console/api/work-orders/{id}/return", &["POST"]),
    ("/console/api/work-orders/{id}/close-exception", &["POST"]),
    ("/console/api/photos", &["POST"]),
    ("/console/api/photos/{sha256}", &["GET"]),
    ("/console/api/return-visits", &["GET"]),
    ("/console/api/return-visits/{id}", &["GET", "POST"]),
    ("/console/api/audit", &["GET"]),
    ("/console/api/conflicts", &["GET"]),
    ("/console/api/conflicts/{id}/resolve", &["POST"]),
    ("/console/api/reports/{name}", &["GET"]),
    ("/console/api/templates", &["GET", "POST"]),
    ("/console/api/templates/{code}/versions/{version}", &["GET"]),
    ("/console/api/users", &["GET", "POST"]),
    ("/console/api/users/{login}", &["PATCH"]),
    ("/console/api/users/{login}/enrolment-code", &["POST"]),
    ("/console/api/devices", &["GET"]),
    ("/console/api/devices/{id}/revoke", &["POST"]),
    ("/console/api/settings", &["GET", "PATCH"]),
    ("/console/api/calendar", &["GET", "POST"]),
    ("/console/api/calendar/deadline", &["GET"]),
    ("/console/api/complaints", &["GET", "POST"]),
    ("/console/api/complaints/statistics", &["GET"]),
    ("/console/api/complaints/{id}", &["GET"]),
    ("/console/api/complaints/{id}/steps", &["POST"]),
    ("/console/api/complaints/{id}/close", &["POST"]),
    ("/console/api/complaints/{id}/notice.pdf", &["GET"]),
    ("/console/api/settings/complaints", &["GET", "PATCH"]),
    ("/console/api/call-register", &["GET"]),
    ("/console/api/call-register/{id}", &["GET", "PATCH"]),
    ("/console/api/escalations", &["GET"]),
    ("/console/api/escalations/{id}/answer", &["POST"]),
    ("/console/api/repairs-overdue", &["GET"]),
    ("/console/api/settings/repair-expected-hours", &["GET", "PATCH"]),
    ("/console/api/plans", &["GET", "POST"]),
    ("/console/api/plans/contracts", &["GET"]),
    ("/console/api/plans/generate", &["POST"]),
    ("/console/api/plans/orders", &["GET"]),
    ("/console/api/plans/rebalance", &["POST"]),
    ("/console/api/plans/{id}", &["PATCH"]),
    ("/console/api/parts/stores", &["GET"]),
    ("/console/api/parts/catalogue", &["GET"]),
    ("/console/api/parts/stock", &["GET"]),
    ("/console/api/parts/minimums", &["POST"]),
    ("/console/api/parts/movements", &["GET", "POST"]),
    ("/console/api/parts/requisitions", &["GET"]),
    ("/console/api/parts/requisitions/{id}/decide", &["POST"]),
    ("/console/api/daily-reports", &["GET"]),
    ("/console/api/daily-reports/{technician}/{date}", &["GET", "POST"]),
    ("/console/api/renewals", &["GET"]),
    ("/console/api/renewals/{id}", &["GET"]),
    ("/console/api/renewals/{id}/steps", &["POST"]),
    ("/console/api/renewals/{id}/notice.pdf", &["GET"]),
    ("/console/api/contracts/{id}/service-level", &["PATCH"]),
    ("/console/api/books/customers", &["GET", "POST"]),
    ("/console/api/books/customers/{id}", &["GET", "PATCH"]),
    ("/console/api/books/customers/{id}/merge", &["POST"]),
    ("/console/api/books/sites", &["POST"]),
    ("/console/api/books/sites/{id}", &["PATCH"]),
    ("/console/api/books/assets", &["POST"]),
    ("/console/api/books/assets/{id}", &["PATCH"]),
    ("/console/api/books/contracts", &["POST"]),
    ("/console/api/books/contracts/{id}", &["PATCH"]),
    ("/console/api/corrections", &["GET"]),
    ("/console/api/corrections/{id}/decide", &["POST"]),
    ("/console/api/workshop", &["GET"]),
    ("/console/api/workshop/{id}", &["GET"]),
    ("/console/api/workshop/{id}/steps", &["POST"]),
];

/// The report names under `/console/api/reports/{name}`.
pub const REPORTS: &[&str] = &[
    "response",
    "daily-minutes",
    "first-time-fix",
    "satisfaction",
    "fault-prone-assets",
    "frequent-findings",
    "overdue-inspections",
    "expiring-contracts",
    "closure",
    "close-exceptions",
    "return-visit-rate",
    "scorecard",
    "stock",
    "movements",
    "parts-quality",
    "correct-shipments",
    "supervisor-daily",
];

fn handlers(path: &str) -> MethodRouter<AppState> {
    match path {
        "/console/api/login" => post(session::login),
        "/console/api/logout" => post(session::logout),
        "/console/api/me" => get(session::me),
        "/console/api/technicians" => get(calls::technicians),
        "/console/api/customers" => get(calls::customers),
        "/console/api/customers/{id}/sites" => get(calls::sites),
        "/console/api/regions" => get(calls::regions),
        "/console/api/calls" => get(calls::list).post(calls::register),
        "/console/api/work-orders" => get(work_orders::list),
        "/console/api/work-orders/{id}" => get(work_orders::detail),
        "/console/api/work-orders/{id}/dispatch" => post(calls::dispatch),
        "/console/api/review" => get(review::queue),
        "/console/api/work-orders/{id}/approve" => post(review::approve),
        "/console/api/work-orders/{id}/return" => post(review::return_order),
        "/console/api/work-orders/{id}/close-exception" => post(closing::record),
        "/console/api/photos" => post(closing::upload).layer(axum::extract::DefaultBodyLimit::max(closing::MAX_PHOTO_BYTES + 1)),
        "/console/api/photos/{sha256}" => get(closing::download),
        "/console/api/return-visits" => get(return_visits::list),
        "/console/api/return-visits/{id}" => get(return_visits::one).post(return_visits::record),
        "/console/api/audit" => get(audit::list),
        "/console/api/conflicts" => get(conflicts::list),
        "/console/api/conflicts/{id}/resolve" => post(conflicts::resolve),
        "/console/api/reports/{name}" => get(reports::report),
        "/console/api/templates" => get(templates::list).post(templates::publish),
        "/console/api/templates/{code}/versions/{version}" => get(templates::version),
        "/console/api/users" => get(people::users).post(people::add_user),
        "/console/api/users/{login}" => patch(people::change_user),
        "/console/api/users/{login}/enrolment-code" => post(people::enrolment_code),
        "/console/api/devices" => get(people::devices),
        "/console/api/devices/{id}/revoke" => post(people::revoke),
        "/console/api/settings" => get(settings::get).patch(settings::change),
        "/console/api/calendar" => get(calendar::get).post(calendar::publish),
        "/console/api/calendar/deadline" => get(calendar::preview),
        "/console/api/complaints" => get(complaints::list).post(complaints::register),
        "/console/api/complaints/statistics" => get(complaints::stats),
        "/console/api/complaints/{id}" => get(complaints::detail),
        "/console/api/complaints/{id}/steps" => post(complaints::add),
        "/console/api/complaints/{id}/close" => post(complaints::close),
        "/console/api/complaints/{id}/notice.pdf" => get(complaints::notice),
        "/console/api/settings/complaints" => get(complaints::get_policy).patch(complaints::change_policy),
        "/console/api/call-register" => get(call_register::list),
        "/console/api/call-register/{id}" => get(call_register::detail).patch(call_register::change),
        "/console/api/escalations" => get(escalations::list),
        "/console/api/escalations/{id}/answer" => post(escalations::answer_route),
        "/console/api/repairs-overdue" => get(escalations::overdue),
        "/console/api/settings/repair-expected-hours" => get(escalations::get_setting).patch(escalations::change_setting),
        "/console/api/plans" => get(plans::list).post(plans::create),
        "/console/api/plans/contracts" => get(plans::contracts),
        "/console/api/plans/generate" => post(plans::generate_route),
        "/console/api/plans/orders" => get(plans::orders),
        "/console/api/plans/rebalance" => post(plans::rebalance_route),
        "/console/api/plans/{id}" => patch(plans::change),
        "/console/api/parts/stores" => get(parts::stores),
        "/console/api/parts/catalogue" => get(parts::catalogue),
        "/console/api/parts/stock" => get(parts::stock),
        "/console/api/parts/minimums" => post(parts::minimum_route),
        "/console/api/parts/movements" => get(parts::movements).post(parts::move_route),
        "/console/api/parts/requisitions" => get(parts::requisitions),
        "/console/api/parts/requisitions/{id}/decide" => post(parts::decide_route),
        "/console/api/daily-reports" => get(day_reviews::list),
        "/console/api/daily-reports/{technician}/{date}" => get(day_reviews::detail).post(day_reviews::decide_route),
        "/console/api/renewals" => get(renewals::list),
        "/console/api/renewals/{id}" => get(renewals::detail),
        "/console/api/renewals/{id}/steps" => post(renewals::step),
        "/console/api/renewals/{id}/notice.pdf" => get(renewals::notice),
        "/console/api/contracts/{id}/service-level" => patch(renewals::change_level),
        "/console/api/books/customers" => get(books::list).post(books::create_customer),
        "/console/api/books/customers/{id}" => get(books::detail).patch(books::edit_customer),
        "/console/api/books/customers/{id}/merge" => post(books::merge_route),
        "/console/api/books/sites" => post(books::create_site),
        "/console/api/books/sites/{id}" => patch(books::edit_site),
        "/console/api/books/assets" => post(books::create_asset),
        "/console/api/books/assets/{id}" => patch(books::edit_asset),
        "/console/api/books/contracts" => post(books::create_contract),
        "/console/api/books/contracts/{id}" => patch(books::edit_contract),
        "/console/api/corrections" => get(books::corrections),
        "/console/api/corrections/{id}/decide" => post(books::decide_route),
        "/console/api/workshop" => get(workshop::list),
        "/console/api/workshop/{id}" => get(workshop::detail),
        "/console/api/workshop/{id}/steps" => post(workshop::step_route),
        other => unreachable!("no console handlers for route {other}"),
    }
}

/// The console: its API and its web app.
pub fn router() -> Router<AppState> {
    let mut api = Router::new();
    for (path, _) in ROUTES {
        api = api.route(path, handlers(path));
    }
    api.route("/console/api/{*rest}", axum::routing::any(no_console_route))
        .route_layer(middleware::from_fn(require_console_header))
        .merge(assets::router())
        .layer(middleware::map_response(crate::security::console_headers))
}

async fn no_console_route(method: Method, uri: axum::http::Uri) -> Error {
    Error::NotFound(format!("no console endpoint {method} {}; docs/console-api.md lists them", uri.path()))
}

/// Refuses a request that changes something without `X-Fieldbook-Console: 1` (login excepted:
/// it has no session to protect yet).
async fn require_console_header(req: Request, next: Next) -> Response {
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let exempt = req.uri().path() == "/console/api/login";
    let has = req.headers().get(CONSOLE_HEADER).is_some_and(|v| v.as_bytes() == b"1");
    if changes && !exempt && !has {
        return Error::Forbidden("a console request that changes something must carry the header X-Fieldbook-Console: 1".into()).into_response();
    }
    next.run(req).await
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// `?limit=&after=` of a keyset-paginated list.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PageQuery {
    /// Text, not a number: query structs flatten this one, and flattened fields reach serde as
    /// text.
    pub limit: Option<String>,
    pub after: Option<String>,
}

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

impl PageQuery {
    pub fn limit(&self) -> Result<usize> {
        match self.limit.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(DEFAULT_LIMIT),
            Some(n) => match n.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(Error::Invalid(format!("limit '{n}': use a number from 1 to {MAX_LIMIT}"))),
            },
        }
    }

    pub fn after(&self) -> Result<Option<Vec<String>>> {
        self.after.as_deref().filter(|a| !a.is_empty()).map(decode_cursor).transpose()
    }
}

/// A keyset cursor: the sort key of the last row given, opaque to the UI.
pub fn encode_cursor(parts: &[&str]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(parts).expect("strings serialise"))
}

pub fn decode_cursor(c: &str) -> Result<Vec<String>> {
    let bad = || Error::Invalid(format!("after '{c}' is not a cursor from this list; start again without ?after"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// SQL with numbered parameters built up piece by piece (filters that may or may not apply).
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub params: Vec<crate::db::Value>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), params: Vec::new() }
    }

    /// Adds a parameter and returns its placeholder (`$n`).
    pub fn bind(&mut self, v: impl Into<crate::db::Value>) -> String {
        self.params.push(v.into());
        format!("${}", self.params.len())
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
}

/// `?format=csv`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
    /// The language of a CSV header row: `zh` or `en` (default).
    pub lang: Option<String>,
}

impl FormatQuery {
    pub fn csv(&self) -> Result<bool> {
        match self.format.as_deref() {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(f) => Err(Error::Invalid(format!("format '{f}': use csv or leave it out for JSON"))),
        }
    }
}

/// Longest search text, in characters: longer says nothing a search could use, and a LIKE
/// pattern of 50,000 characters is past SQLite's limit.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A search text (`?q=`), trimmed and checked: at most [`MAX_SEARCH_CHARS`] characters, no
/// control characters (PostgreSQL refuses a NUL in text).
pub fn search_text(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    let n = v.chars().count();
    if n > MAX_SEARCH_CHARS {
        return Err(Error::Invalid(format!("{field}: at most {MAX_SEARCH_CHARS} characters to search for (this is {n}); search by part of the number, code or name")));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::Invalid(format!("{field}: control characters cannot be searched for; type letters, digits or punctuation")));
    }
    Ok(v.to_owned())
}

/// A date filter (`YYYY-MM-DD`), checked: exactly that shape, so a year like `+262142` (chrono's
/// last, where adding a day would panic) is refused.
pub fn date(field: &str, v: Option<&str>) -> Result<Option<chrono::NaiveDate>> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => index::date_prefix(s)
            .filter(|d| d.len() == s.len())
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(Some)
            .ok_or_else(|| Error::Invalid(format!("{field} '{s}': write a date as YYYY-MM-DD"))),
    }
}

/// Start of a UTC day as stored timestamps sort.
pub fn day_start(d: chrono::NaiveDate) -> String {
    format!("{}T00:00:00.000Z", d.format("%Y-%m-%d"))
}

/// `{"items": [...], "next": cursor|null}`.
pub fn page_response(items: Vec<serde_json::Value>, next: Option<String>) -> Response {
    axum::Json(serde_json::json!({"items": items, "next": next})).into_response()
}

pub use session::ConsoleUser;
