//! The OpenAPI 3.1 description of every endpoint (`GET /api/openapi.json`), written by hand
//! beside the protocol types of `fieldbook_core::sync::protocol`, and of the office console's API
//! (`docs/console-api.md`). A test checks it describes exactly the routes of [`crate::api::ROUTES`]
//! and [`crate::console::ROUTES`].

use fieldbook_core::sync::protocol::{MAX_PULL_PAGE, MAX_PUSH_BATCH, PROTOCOL_HEADER, PROTOCOL_VERSION};
use serde_json::{json, Value};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_body(name: &str) -> Value {
    json!({"content": {"application/json": {"schema": schema(name)}}})
}

fn ok(description: &str, name: &str) -> Value {
    let mut v = json_body(name);
    v["description"] = json!(description);
    v
}

/// The error answers an operation can give, by status.
fn errors(statuses: &[&str]) -> serde_json::Map<String, Value> {
    statuses
        .iter()
        .map(|s| {
            let what = match *s {
                "400" => "Invalid request (`invalid`)",
                "401" => "Unknown, missing or retired credentials (`unauthorized`), or an expired device token (`token_expired`: renew it with the device key)",
                "403" => "Revoked laptop (`device_revoked`, with `wipe`) or not allowed (`forbidden`)",
                "404" => "Not found (`not_found`)",
                "429" => "Too many at once (`throttled`); `Retry-After` says when to try again",
                "409" => "Conflicts with the current state (`conflict`); for uploads, `Upload-Offset` tells the server's offset; for a push, `sequence_reset` with `acked_seq`",
                "413" => "Body too large (`too_large`)",
                "426" => "Missing or unsupported Fieldbook-Protocol (`protocol_unsupported`): please update Fieldbook",
                _ => "Server failure (`internal`)",
            };
            (s.to_string(), json!({"description": what, "content": {"application/json": {"schema": schema("ErrorBody")}}}))
        })
        .collect()
}

fn responses(success: (&str, Value), error_statuses: &[&str]) -> Value {
    let mut m = errors(error_statuses);
    m.insert(success.0.to_owned(), success.1);
    m.insert("426".into(), errors(&["426"])["426"].clone());
    Value::Object(m)
}

fn sha_param() -> Value {
    json!({"name": "sha256", "in": "path", "required": true, "description": "SHA-256 of the content, 64 hex characters", "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}})
}

fn upload_headers() -> Value {
    json!({
        "Upload-Offset": {"description": "Bytes the server holds", "schema": {"type": "integer"}},
        "Upload-Length": {"description": "The attachment's size, when known", "schema": {"type": "integer"}},
        "Fieldbook-Upload-Complete": {"description": "`true` once the bytes hash to the name", "schema": {"type": "string", "enum": ["true", "false"]}}
    })
}

/// The document.
pub fn document() -> Value {
    let mut doc = sync_document();
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, ops) in console_paths() {
        paths.insert(path, ops);
    }
    doc
}

/// The office console's endpoints (docs/console-api.md): (path, method, operation id, summary,
/// admin only, lists or reports that take `?format=csv`).
const CONSOLE_OPS: &[(&str, &str, &str, &str, bool, bool)] = &[
    ("/console/api/login", "post", "consoleLogin", "Log in with login and password (office or admin); sets the session cookie", false, false),
    ("/console/api/logout", "post", "consoleLogout", "End the session", false, false),
    ("/console/api/me", "get", "consoleMe", "Who is logged in", false, false),
    ("/console/api/technicians", "get", "consoleTechnicians", "Technicians with their open order counts", false, false),
    ("/console/api/customers", "get", "consoleCustomers", "At most 20 customers whose code or name contains ?q, or whose phone is ?phone (a caller on file)", false, false),
    ("/console/api/customers/{id}/sites", "get", "consoleCustomerSites", "A customer's sites with their assets", false, false),
    ("/console/api/regions", "get", "consoleRegions", "The regions of all sites", false, false),
    ("/console/api/calls", "get", "consoleCalls", "Repair calls not dispatched yet: carried over first, then by response deadline", false, true),
    ("/console/api/calls", "post", "consoleRegisterCall", "Register a call of any channel and type (a new caller as a customer on the spot); a repair request also becomes a work order under the same number", false, false),
    ("/console/api/work-orders", "get", "consoleWorkOrders", "Work orders, filtered, newest first, keyset-paginated", false, true),
    ("/console/api/work-orders/{id}", "get", "consoleWorkOrder", "One work order's full record, signatures checked", false, false),
    ("/console/api/work-orders/{id}/dispatch", "post", "consoleDispatch", "Assign a work order to a technician; it reaches the laptop at its next sync", false, false),
    ("/console/api/review", "get", "consoleReviewQueue", "Completed orders waiting for review, oldest first", false, true),
    ("/console/api/work-orders/{id}/approve", "post", "consoleApprove", "Approve (reconcile) a reviewed order; 422 not_signed without a signature of its current revision or a recorded close exception", false, false),
    ("/console/api/work-orders/{id}/return", "post", "consoleReturn", "Return an order to its technician with a note; it reopens on the laptop", false, false),
    ("/console/api/work-orders/{id}/close-exception", "post", "consoleCloseException", "Record why an order closes without the customer's signature (refused_to_sign, paper_voucher with a photo) for its current revision", false, false),
    ("/console/api/photos", "post", "consoleUploadPhoto", "Upload a photo (image/jpeg, png or webp, at most 10 MiB; the raw bytes) of a paper voucher", false, false),
    ("/console/api/photos/{sha256}", "get", "consolePhoto", "A photo uploaded for a close exception", false, false),
    ("/console/api/return-visits", "get", "consoleReturnVisits", "Return visits, due first (?status=open|done|all, technician, in_warranty, due_by), keyset-paginated", false, true),
    ("/console/api/return-visits/{id}", "get", "consoleReturnVisit", "One return visit", false, false),
    ("/console/api/return-visits/{id}", "post", "consoleRecordReturnVisit", "Record the desk's call: who answered, solved, a note, the card by phone; not solved opens an urgent linked call", false, false),
    ("/console/api/audit", "get", "consoleAudit", "The audit trail, newest first, keyset-paginated", false, true),
    ("/console/api/conflicts", "get", "consoleConflicts", "Sync conflicts (?state=open|resolved) with both values", false, true),
    ("/console/api/conflicts/{id}/resolve", "post", "consoleResolveConflict", "Resolve a conflict with a value; it syncs back as a new change", false, false),
    ("/console/api/reports/{name}", "get", "consoleReport", "A report: response, daily-minutes, first-time-fix, satisfaction, fault-prone-assets, frequent-findings, overdue-inspections, expiring-contracts, closure, close-exceptions, return-visit-rate, scorecard", false, true),
    ("/console/api/templates", "get", "consoleTemplates", "Checklist templates with their versions", false, true),
    ("/console/api/templates", "post", "consolePublishTemplate", "Publish a checklist template as its next version", false, false),
    ("/console/api/templates/{code}/versions/{version}", "get", "consoleTemplateVersion", "One published template version", false, false),
    ("/console/api/users", "get", "consoleUsers", "Users and roles", false, true),
    ("/console/api/users", "post", "consoleAddUser", "Add a user", true, false),
    ("/console/api/users/{login}", "patch", "consoleChangeUser", "Change a user's name, role, password or disable them", true, false),
    ("/console/api/users/{login}/enrolment-code", "post", "consoleEnrolmentCode", "Issue a one-time enrolment code for a technician's laptop", true, false),
    ("/console/api/devices", "get", "consoleDevices", "Enrolled laptops with last sync, warnings, when each token was last rotated and the store protection each laptop reports", false, true),
    ("/console/api/devices/{id}/revoke", "post", "consoleRevokeDevice", "Revoke a laptop, optionally ordering its data wiped", true, false),
    ("/console/api/settings", "get", "consoleSettings", "The company's settings: the offline lock (days, or null for none)", false, false),
    ("/console/api/call-register", "get", "consoleCallRegister", "The call register: every call, newest first, filtered (type, channel, state, customer, days), keyset-paginated", false, true),
    ("/console/api/call-register/{id}", "get", "consoleCall", "One call: what became of it (work order, complaint, answer) and its trail", false, false),
    ("/console/api/call-register/{id}", "patch", "consoleChangeCall", "Answer, close or reopen an inquiry or a suggestion", false, false),
    ("/console/api/settings", "patch", "consoleChangeSettings", "Set the offline lock: after how many days without a sync laptops hide their records; null turns it off", true, false),
    ("/console/api/calendar", "get", "consoleCalendar", "The service calendar: the version in force now (null: the built-in default), what applies now, every published version", false, false),
    ("/console/api/calendar", "post", "consolePublishCalendar", "Publish a new service calendar version (admin only): working hours, holidays, make-up days, response policies, zone and contract assignments, effective_from", true, false),
    ("/console/api/calendar/deadline", "get", "consoleDeadlinePreview", "What a call is promised: deadlines by the calendar in force at reported_at for a site (or zone), the clock start, and what to tell a caller outside working hours", false, false),
    ("/console/api/complaints", "get", "consoleComplaints", "Complaints (?state=open|closed|overdue|all, category, severity, responsible, month, q): overdue first, each with its reminder", false, true),
    ("/console/api/complaints", "post", "consoleRegisterComplaint", "Register a complaint: numbered YYMM-NNN, deadlines from the complaint policy, the first step of its tracking log", false, false),
    ("/console/api/complaints/statistics", "get", "consoleComplaintStatistics", "A month's complaint statistics (?month=YYYY-MM): by category and person responsible, average days to close, closed in time, due date", false, true),
    ("/console/api/complaints/{id}", "get", "consoleComplaint", "One complaint with its tracking log and what is overdue", false, false),
    ("/console/api/complaints/{id}/steps", "post", "consoleComplaintStep", "Add a step: assigned, first_report, reminder (催办), written_reply (admin only), note", false, false),
    ("/console/api/complaints/{id}/close", "post", "consoleCloseComplaint", "Close with the result and how and when the customer was told; a serious complaint needs management's written reply first", false, false),
    ("/console/api/complaints/{id}/notice.pdf", "get", "consoleComplaintNotice", "The bilingual result notice PDF of a closed complaint", false, false),
    ("/console/api/settings/complaints", "get", "consoleComplaintPolicy", "The complaint deadlines: first report and closing (domestic, foreign) in days", false, false),
    ("/console/api/settings/complaints", "patch", "consoleChangeComplaintPolicy", "Set the complaint deadlines", true, false),
    ("/console/api/escalations", "get", "consoleEscalations", "Technicians' escalations (?status=open|acknowledged|resolved): open first, oldest first, keyset-paginated, with the open count", false, true),
    ("/console/api/escalations/{id}/answer", "post", "consoleAnswerEscalation", "Answer an escalation: acknowledged, or resolved with a response; it syncs back to the technician's laptop", false, false),
    ("/console/api/repairs-overdue", "get", "consoleRepairsOverdue", "Repair calls on site longer than the expected hours without being completed, longest first", false, true),
    ("/console/api/settings/repair-expected-hours", "get", "consoleRepairExpectedHours", "How many hours on site a repair is expected to take (default 4)", false, false),
    ("/console/api/settings/repair-expected-hours", "patch", "consoleChangeRepairExpectedHours", "Set how many hours on site a repair is expected to take (1 to 168)", true, false),
    ("/console/api/plans", "get", "consolePlans", "A contract's inspection plans (?contract_id=), with the contract's dates, today's phase and the customer's sites and assets", false, false),
    ("/console/api/plans", "post", "consoleCreatePlan", "Create an inspection plan: contract, checklist template code, interval, sites, assets, default technician, lead days", false, false),
    ("/console/api/plans/contracts", "get", "consolePlanContracts", "Contracts by number or customer name (?q=), with their number of plans", false, false),
    ("/console/api/plans/generate", "post", "consoleGeneratePlans", "Generate the planned inspections of a contract's (or one plan's) active plans due from..to; an order already generated is left as it is", false, false),
    ("/console/api/plans/orders", "get", "consolePlanOrders", "The orders a contract's plans generated (?contract_id=&from=&to=), by due date, with their technician", false, false),
    ("/console/api/plans/rebalance", "post", "consoleRebalancePlans", "Share these orders between these technicians, least loaded first; each move is a dispatch", false, false),
    ("/console/api/plans/{id}", "patch", "consoleChangePlan", "Change an inspection plan (active false: deactivate)", false, false),
    ("/console/api/parts/stores", "get", "consolePartStores", "The stores (the main store, a van per technician) with their number of parts and of parts below minimum", false, false),
    ("/console/api/parts/catalogue", "get", "consolePartCatalogue", "At most 50 parts of the catalogue whose SKU or name contains ?q (the forms' picker)", false, false),
    ("/console/api/parts/stock", "get", "consolePartStock", "Stock levels by store and part (?store=&part=&below_minimum=1&limit=&after=), keyset pages", false, false),
    ("/console/api/parts/minimums", "post", "consoleSetMinimum", "Set the minimum of a part in a store", false, false),
    ("/console/api/parts/movements", "get", "consolePartMovements", "Stock movements, newest first (?kind=&part=&store=&from=&to=&over_use=1&limit=&after=)", false, false),
    ("/console/api/parts/movements", "post", "consoleMoveStock", "Goods in, issue to a technician's van (领用), transfer or write-off; the stock moves in the same transaction and never below zero", false, false),
    ("/console/api/parts/requisitions", "get", "consoleRequisitions", "Technicians' requisitions: pending first, then the last 200 decided", false, false),
    ("/console/api/parts/requisitions/{id}/decide", "post", "consoleDecideRequisition", "Approve a requisition (issuing its shipment from the main store to the van) or reject it with a note", false, false),
    ("/console/api/daily-reports", "get", "consoleDailyReports", "Every technician's day (?date=YYYY-MM-DD, default yesterday; ?technician=): minutes per category and the supervisor's review (核阅)", false, true),
    ("/console/api/daily-reports/{technician}/{date}", "get", "consoleDailyReport", "One technician's day: entries by category and activity, the review, its audit trail", false, false),
    ("/console/api/daily-reports/{technician}/{date}", "post", "consoleReviewDay", "Sign off a technician's day, or return it with a note; it syncs to the technician's laptop", false, false),
    ("/console/api/renewals", "get", "consoleRenewals", "Contracts ending within 30 days (and ended ones still undecided), each with its renewal's state", false, false),
    ("/console/api/renewals/{id}", "get", "consoleRenewal", "One contract's renewal: tracking, covered assets, audit trail", false, false),
    ("/console/api/renewals/{id}/steps", "post", "consoleRenewalStep", "Record a renewal step: notice_made, sent, visit_planned, renewed (a new or linked contract) or lost", false, false),
    ("/console/api/renewals/{id}/notice.pdf", "get", "consoleExpiryNotice", "The expiry notice 保养到期通知书 (bilingual PDF)", false, false),
    ("/console/api/contracts/{id}/service-level", "patch", "consoleContractServiceLevel", "Set a contract's service level (basic, standard, full)", false, false),
    ("/console/api/books/customers", "get", "consoleBooksCustomers", "Live customers by part of their code, name or phone, with how many sites and contracts each has", false, false),
    ("/console/api/books/customers", "post", "consoleCreateCustomer", "Create a customer (code, name, contact, phone, email); every wrong field named, nothing saved", false, false),
    ("/console/api/books/customers/{id}", "get", "consoleBooksCustomer", "A customer with its sites and their assets, contracts, corrections proposed from site and the audit trail of all of them", false, false),
    ("/console/api/books/customers/{id}", "patch", "consoleEditCustomer", "Change some of a customer's fields; the change reaches the laptops of the technicians serving it at their next sync", false, false),
    ("/console/api/books/customers/{id}/merge", "post", "consoleMergeCustomer", "Merge this customer into {survivor}: every record naming it is repointed to the survivor and it is tombstoned with merged_into", false, false),
    ("/console/api/books/sites", "post", "consoleCreateSite", "Create a site of a customer (code, name, address, region, zone)", false, false),
    ("/console/api/books/sites/{id}", "patch", "consoleEditSite", "Change some of a site's fields", false, false),
    ("/console/api/books/assets", "post", "consoleCreateAsset", "Create an asset at a site (code, type, name, model, serial, location, installed on, warranty end)", false, false),
    ("/console/api/books/assets/{id}", "patch", "consoleEditAsset", "Change some of an asset's fields", false, false),
    ("/console/api/books/contracts", "post", "consoleCreateContract", "Create a contract (number, customer, starts on, ends on, covered assets of the customer's sites)", false, false),
    ("/console/api/books/contracts/{id}", "patch", "consoleEditContract", "Change some of a contract's fields", false, false),
    ("/console/api/corrections", "get", "consoleCorrections", "Corrections technicians proposed from site (?status=pending|confirmed|rejected|all, default pending), with the record's current value", false, false),
    ("/console/api/corrections/{id}/decide", "post", "consoleDecideCorrection", "Confirm a correction (its value is written to the record) or reject it with a note; the decision syncs back to the laptop", false, false),
    ("/console/api/workshop", "get", "consoleWorkshop", "Units taken to the workshop (?state=open|all|a stage): oldest receipt first, keyset-paginated, with the open count", false, true),
    ("/console/api/workshop/{id}", "get", "consoleWorkshopJob", "One unit: the receipt, goods-in/out, the repair card, the check, the return with the customer's signature, and the steps the office may record now", false, false),
    ("/console/api/workshop/{id}/steps", "post", "consoleWorkshopStep", "Record a workshop step: goods_in, repair_card (minutes, parts, done), check (passed or sent_back with a note), goods_out; a step out of order is refused (409)", false, false),
];

fn console_paths() -> serde_json::Map<String, Value> {
    let mut paths = serde_json::Map::new();
    for (path, method, id, summary, admin, csv) in CONSOLE_OPS {
        let mut params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if *csv {
            params.push(json!({"$ref": "#/components/parameters/csv"}));
        }
        let login = *path == "/console/api/login";
        let mut statuses = vec!["400", "404", "500"];
        if !login {
            statuses.extend(["401", "403"]);
        }
        let mut resp = errors(&statuses);
        let ok = if *path == "/console/api/logout" { "204" } else { "200" };
        let mut content = json!({"application/json": {"schema": {"type": ["object", "array"]}}});
        if *csv {
            content["text/csv"] = json!({"schema": {"type": "string"}});
        }
        if path.ends_with(".pdf") {
            content = json!({"application/pdf": {"schema": {"type": "string", "format": "binary"}}});
        }
        resp.insert(ok.into(), json!({"description": "See docs/console-api.md", "content": content}));
        let mut op = json!({
            "operationId": id,
            "summary": if *admin { format!("{summary} (admin only)") } else { summary.to_string() },
            "parameters": params,
            "responses": resp,
        });
        if !login {
            op["security"] = json!([{"console": []}]);
        }
        if *method != "get" {
            op["requestBody"] = json!({"required": false, "content": {"application/json": {"schema": {"type": "object"}}}});
        }
        paths.entry(path.to_string()).or_insert_with(|| json!({}))[*method] = op;
    }
    paths
}

fn sync_document() -> Value {
    let device = json!([{"device": []}]);
    let office = json!([{"office": []}]);
    let mut update_responses = responses(("200", json!({"description": "A newer release", "content": {"application/json": {"schema": schema("UpdateOffer")}}})), &["400", "401", "403", "500"]);
    update_responses["204"] = json!({"description": "Nothing newer for this platform"});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Fieldbook server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Sync protocol version {PROTOCOL_VERSION} (docs/sync.md). Every request except this document carries the header \
                 `{PROTOCOL_HEADER}: {PROTOCOL_VERSION}`; bodies may be gzip-compressed both ways (Content-Encoding / Accept-Encoding)."
            ),
        },
        "components": {
            "securitySchemes": {
                "device": {"type": "http", "scheme": "bearer", "description": "The device token a laptop received at enrolment"},
                "office": {"type": "http", "scheme": "basic", "description": "An office or admin user's login and password"},
                "console": {"type": "apiKey", "in": "cookie", "name": crate::console::session::COOKIE_NAME, "description": "The office console's session (POST /console/api/login); requests that change something also carry X-Fieldbook-Console: 1"}
            },
            "parameters": {
                "csv": {"name": "format", "in": "query", "required": false, "description": "`csv`: every row as CSV (UTF-8 with BOM, a header row)", "schema": {"type": "string", "enum": ["json", "csv"]}},
                "protocol": {"name": PROTOCOL_HEADER, "in": "header", "required": true, "schema": {"type": "string", "const": PROTOCOL_VERSION.to_string()}}
            },
            "schemas": schemas(),
        },
        "paths": {
            "/api/status": {
                "get": {
                    "operationId": "status", "summary": "Server name, version, protocol version and clock",
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "responses": responses(("200", ok("The server", "Status")), &["500"]),
                }
            },
            "/api/enroll": {
                "post": {
                    "operationId": "enroll", "summary": "Exchange a one-time enrolment code for a device token, registering the laptop's Ed25519 key",
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("EnrollRequest")}}},
                    "responses": responses(("200", ok("Enrolled", "EnrollResponse")), &["400", "401", "403", "409", "500"]),
                }
            },
            "/api/device/token": {
                "post": {
                    "operationId": "deviceToken", "summary": "The first request of every sync run: records the store protection the laptop reports (its own claim), and hands a fresh device token when the one used is due for rotation. The first request made with the new token retires the old one; until then the old one works and is answered the same new token",
                    "security": device,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("TokenCheckRequest")}}},
                    "responses": responses(("200", ok("The token's state; device_token when rotated", "TokenCheckResponse")), &["400", "401", "403", "409", "500"]),
                }
            },
            "/api/device/renew/challenge": {
                "post": {
                    "operationId": "renewChallenge", "summary": "A one-time nonce (valid 5 minutes) for a laptop to sign with its device key to renew an expired token",
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("RenewChallengeRequest")}}},
                    "responses": responses(("200", ok("The nonce", "RenewChallengeResponse")), &["400", "401", "403", "429", "500"]),
                }
            },
            "/api/device/renew": {
                "post": {
                    "operationId": "renewToken", "summary": "Exchange a nonce signed with the device key registered at enrolment (message `fieldbook token renewal v1\\n{device_id}\\n{nonce}`) for a new device token; the nonce is used up whatever the outcome",
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("RenewRequest")}}},
                    "responses": responses(("200", ok("A new device token", "RenewResponse")), &["400", "401", "403", "500"]),
                }
            },
            "/api/sync/push": {
                "post": {
                    "operationId": "push", "summary": format!("Apply a batch of at most {MAX_PUSH_BATCH} outbox entries, in one transaction"),
                    "security": device,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("PushRequest")}}},
                    "responses": responses(("200", ok("Applied; delete outbox entries up to acked_seq", "PushResponse")), &["400", "401", "403", "409", "413", "500"]),
                }
            },
            "/api/sync/pull": {
                "get": {
                    "operationId": "pull", "summary": "The feed changes visible to this technician after a cursor, in seq order",
                    "security": device,
                    "parameters": [
                        {"$ref": "#/components/parameters/protocol"},
                        {"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PULL_PAGE, "default": crate::pull::DEFAULT_PAGE}}
                    ],
                    "responses": responses(("200", ok("One page", "PullResponse")), &["400", "401", "403", "500"]),
                }
            },
            "/api/attachments/missing": {
                "get": {
                    "operationId": "missingAttachments", "summary": "Attachments that synced records refer to but whose bytes have not all arrived",
                    "security": office,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "responses": responses(("200", json!({
                        "description": "The missing attachments",
                        "content": {"application/json": {"schema": {"type": "array", "items": schema("MissingAttachment")}}}
                    })), &["401", "403", "500"]),
                }
            },
            "/api/attachments/{sha256}": {
                "head": {
                    "operationId": "attachmentOffset", "summary": "How many bytes of this laptop's upload the server holds (complete: the attachment is there and this laptop may read it, or sent it all)",
                    "security": device,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}, sha_param()],
                    "responses": responses(("200", json!({"description": "The upload's state", "headers": upload_headers()})), &["400", "401", "403", "500"]),
                },
                "patch": {
                    "operationId": "uploadChunk", "summary": "Append the next chunk of this laptop's own upload at Upload-Offset; complete when the bytes hash to the name; 413 past the per-file limit or the laptop's quota",
                    "security": device,
                    "parameters": [
                        {"$ref": "#/components/parameters/protocol"}, sha_param(),
                        {"name": "Upload-Offset", "in": "header", "required": true, "schema": {"type": "integer", "minimum": 0}},
                        {"name": "Upload-Length", "in": "header", "required": false, "description": "The whole attachment's size, checked for this laptop's upload only (no other laptop's declaration affects it)", "schema": {"type": "integer", "minimum": 0}}
                    ],
                    "requestBody": {"required": true, "content": {"application/offset+octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
                    "responses": responses(("200", json!({
                        "description": "Accepted (or already complete)", "headers": upload_headers(),
                        "content": {"application/json": {"schema": schema("UploadState")}}
                    })), &["400", "401", "403", "409", "413", "500"]),
                },
                "get": {
                    "operationId": "downloadAttachment", "summary": "The attachment's bytes: for the office, and for a laptop whose technician has a current work order whose answers name it or who uploaded it (anyone else: 404)",
                    "security": [{"device": []}, {"office": []}],
                    "parameters": [{"$ref": "#/components/parameters/protocol"}, sha_param()],
                    "responses": responses(("200", json!({"description": "The content", "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}})), &["400", "401", "403", "404", "500"]),
                }
            },
            "/api/updates/{target}/{arch}/{current_version}": {
                "get": {
                    "operationId": "checkUpdate", "summary": "The newest desktop release for this platform newer than the laptop's version, in the Tauri updater's dynamic format (docs/updates.md); 204 when there is none. The laptop verifies the signature with the public key built into the app",
                    "security": device,
                    "parameters": [
                        {"$ref": "#/components/parameters/protocol"},
                        {"name": "target", "in": "path", "required": true, "description": "Operating system as the updater names it (linux, windows, darwin)", "schema": {"type": "string", "pattern": "^[a-z0-9_]{1,32}$"}},
                        {"name": "arch", "in": "path", "required": true, "description": "Processor (x86_64, aarch64, …)", "schema": {"type": "string", "pattern": "^[a-z0-9_]{1,32}$"}},
                        {"name": "current_version", "in": "path", "required": true, "description": "The laptop's version (semver)", "schema": {"type": "string"}}
                    ],
                    "responses": update_responses,
                }
            },
            "/api/updates/download/{id}": {
                "get": {
                    "operationId": "downloadUpdate", "summary": "A published (not withdrawn) release's artifact, streamed",
                    "security": device,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}, {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
                    "responses": responses(("200", json!({"description": "The artifact", "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}})), &["400", "401", "403", "404", "500"]),
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi", "summary": "This document (needs no Fieldbook-Protocol header)",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            }
        }
    })
}

fn schemas() -> Value {
    let object = json!({"type": "object", "additionalProperties": true});
    json!({
        "ErrorBody": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["kind", "message"],
                "properties": {
                    "kind": {"type": "string", "enum": ["unauthorized", "token_expired", "device_revoked", "throttled", "busy", "protocol_unsupported", "invalid", "forbidden", "not_found", "too_large", "conflict", "sequence_reset", "internal"]},
                    "message": {"type": "string"},
                    "wipe": {"type": "boolean", "description": "With device_revoked: the office ordered this laptop's data wiped"},
                    "acked_seq": {"type": "integer", "description": "With sequence_reset (409 on a push): the highest outbox seq applied for this device; renumber unsynced entries after it and push again"}
                }
            }}
        },
        "Status": {
            "type": "object", "required": ["name", "version", "protocol_version", "server_time", "server_hlc"],
            "properties": {
                "name": {"type": "string"}, "version": {"type": "string"}, "protocol_version": {"type": "integer"},
                "server_time": {"type": "string", "format": "date-time"}, "server_hlc": {"type": "string"}
            }
        },
        "EnrollRequest": {
            "type": "object", "required": ["code", "device_id", "public_key"],
            "properties": {
                "code": {"type": "string", "description": "One-time code, e.g. 7K2M-QX4P-9RTA-HB3C (case and dashes ignored)"},
                "device_id": {"type": "string"}, "public_key": {"type": "string", "description": "Hex Ed25519 public key"},
                "device_name": {"type": ["string", "null"]}
            }
        },
        "EnrollResponse": {
            "type": "object", "required": ["device_token", "technician", "server_hlc"],
            "properties": {"device_token": {"type": "string"}, "technician": {"type": "string"}, "server_hlc": {"type": "string"}}
        },
        "TokenCheckRequest": {
            "type": "object",
            "properties": {"store_protection": {"type": "string", "description": "How the laptop says its store is protected: encrypted-keyring, encrypted-passphrase, encrypted-key-file or plaintext"}}
        },
        "TokenCheckResponse": {
            "type": "object", "required": ["expires_at"],
            "properties": {
                "device_token": {"type": "string", "description": "Present when rotated: store it durably, then use it"},
                "expires_at": {"type": "string", "format": "date-time", "description": "When the token to use from now on expires unless rotated or renewed"},
                "server": {
                    "type": "object", "required": ["epoch", "epoch_feed_start", "feed_head", "acked_seq"],
                    "description": "The database's lineage, to tell a server restored from a backup (docs/sync.md)",
                    "properties": {
                        "epoch": {"type": "string", "description": "New after every announced restore"},
                        "epoch_feed_start": {"type": "integer", "description": "The feed's last seq when this epoch began"},
                        "feed_head": {"type": "integer", "description": "The feed's last seq now"},
                        "acked_seq": {"type": "integer", "description": "This laptop's highest applied outbox seq"},
                        "acked_hlc": {"type": "string", "description": "The stamp of that entry"}
                    }
                }
            }
        },
        "RenewChallengeRequest": {"type": "object", "required": ["device_id"], "properties": {"device_id": {"type": "string"}}},
        "RenewChallengeResponse": {
            "type": "object", "required": ["nonce", "expires_at"],
            "properties": {"nonce": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}
        },
        "RenewRequest": {
            "type": "object", "required": ["device_id", "nonce", "signature"],
            "properties": {"device_id": {"type": "string"}, "nonce": {"type": "string"}, "signature": {"type": "string", "description": "Hex Ed25519 signature"}}
        },
        "RenewResponse": {
            "type": "object", "required": ["device_token", "technician", "expires_at"],
            "properties": {"device_token": {"type": "string"}, "technician": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}
        },
        "PushEntry": {
            "type": "object", "required": ["seq", "entity", "record_id", "fields", "hlc"],
            "properties": {
                "seq": {"type": "integer", "description": "Per-device outbox sequence number"},
                "entity": {"type": "string"}, "record_id": {"type": "string"},
                "fields": object.clone(),
                "hlc": {"type": "string", "description": "WALLMS-COUNTER-NODE; the node is the device id"},
                "base": {"type": "object", "additionalProperties": {"type": ["string", "null"]}, "description": "Per field, its stamp on the laptop before this write"},
                "stamps": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Only when re-sent to a server restored from a backup: every field's own stamp (hlc is the newest; no base)"}
            }
        },
        "PushRequest": {"type": "object", "required": ["entries"], "properties": {"entries": {"type": "array", "maxItems": MAX_PUSH_BATCH, "items": schema("PushEntry")}}},
        "Rejection": {
            "type": "object", "required": ["seq", "entity", "record_id", "reason"],
            "properties": {"seq": {"type": "integer"}, "entity": {"type": "string"}, "record_id": {"type": "string"}, "reason": {"type": "string"}}
        },
        "PushResponse": {
            "type": "object", "required": ["acked_seq", "applied", "duplicates", "conflicts", "server_hlc"],
            "properties": {
                "acked_seq": {"type": "integer"}, "applied": {"type": "integer"}, "duplicates": {"type": "integer"}, "conflicts": {"type": "integer"},
                "rejected": {"type": "array", "items": schema("Rejection")}, "server_hlc": {"type": "string"}
            }
        },
        "FeedChange": {
            "type": "object", "required": ["seq", "entity", "record_id", "fields", "clocks"],
            "properties": {
                "seq": {"type": "integer"}, "entity": {"type": "string"}, "record_id": {"type": "string"},
                "fields": object.clone(), "clocks": {
                    "type": "object", "additionalProperties": {"type": ["string", "null"]},
                    "description": "The HLC stamp of each field. `*` stands for every field not listed; a listed null means no stamp."
                }
            }
        },
        "PullResponse": {
            "type": "object", "required": ["changes", "next_cursor", "more", "server_hlc"],
            "properties": {
                "changes": {"type": "array", "items": schema("FeedChange")}, "next_cursor": {"type": "integer"},
                "more": {"type": "boolean"}, "server_hlc": {"type": "string"}
            }
        },
        "UploadState": {
            "type": "object", "required": ["sha256", "offset", "complete"],
            "properties": {
                "sha256": {"type": "string"}, "offset": {"type": "integer"}, "byte_size": {"type": ["integer", "null"]},
                "complete": {"type": "boolean"}, "media_type": {"type": ["string", "null"]}
            }
        },
        "UpdateOffer": {
            "type": "object", "required": ["version", "notes", "pub_date", "url", "signature"],
            "properties": {
                "version": {"type": "string"}, "notes": {"type": "string", "description": "English and Chinese notes together, for the updater"},
                "pub_date": {"type": "string", "format": "date-time"}, "url": {"type": "string", "description": "Where to download the artifact (GET /api/updates/download/{id})"},
                "signature": {"type": "string", "description": "base64 of the minisign signature file, as `tauri signer sign` writes it"},
                "notes_en": {"type": ["string", "null"]}, "notes_zh": {"type": ["string", "null"]}
            }
        },
        "MissingAttachment": {
            "type": "object", "required": ["sha256", "received_bytes"],
            "properties": {
                "sha256": {"type": "string"}, "media_type": {"type": ["string", "null"]}, "byte_size": {"type": ["integer", "null"]},
                "received_bytes": {"type": "integer"}, "technician": {"type": ["string", "null"]}, "original_name": {"type": ["string", "null"]}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document names exactly the routes the router mounts, with the same methods.
    #[test]
    fn every_route_is_described_and_nothing_else() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), crate::api::ROUTES.len() + crate::console::ROUTES.len());
        for (path, methods) in crate::api::ROUTES.iter().chain(crate::console::ROUTES) {
            let ops = paths.get(*path).unwrap_or_else(|| panic!("{path} is not in the OpenAPI document")).as_object().unwrap();
            let mut described: Vec<String> = ops.keys().map(|m| m.to_uppercase()).collect();
            let mut mounted: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
            described.sort();
            mounted.sort();
            assert_eq!(described, mounted, "{path}");
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
