//! `fieldbook`: the technician's local store from the command line, for scripts, support staff
//! and tests. Every command is a thin layer over `fieldbook-core`; `--json` prints
//! machine-readable results on stdout and errors as JSON on stderr, with a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use fieldbook_core::import::ImportDocument;
use fieldbook_core::model::{Activity, Category, EscalateTo, NewRepairRecord, PartUsed, SatisfactionCard, Status, Stroke};
use fieldbook_core::store::time::TimeInput;
use fieldbook_core::store::{AnswerInput, OrderFilter, SignRequest};
use fieldbook_core::store::workshop::{NewReceipt, ReturnSignature};
use fieldbook_core::at_rest::{self, Method, StoreKey, Unlock};
use fieldbook_core::{Error, Store};
use zeroize::Zeroizing;
use fieldbook_sync::{ClientOptions, SyncClient, SyncError};
use serde_json::json;

mod print;

#[derive(Parser)]
#[command(name = "fieldbook", version, about = "Fieldbook: a field-service technician's offline records", propagate_version = true)]
struct Cli {
    /// The local store (SQLite file). Default: the app's data directory.
    #[arg(long, global = true, env = "FIELDBOOK_DB", value_name = "PATH")]
    db: Option<PathBuf>,
    /// Machine-readable output on stdout; errors as JSON on stderr.
    #[arg(long, global = true)]
    json: bool,
    /// How the store's key is kept: in the OS keyring, or sealed under a passphrase (asked for,
    /// or read from FIELDBOOK_PASSPHRASE). Default: the way the store was protected; for a new
    /// store, the keyring when there is one, else a passphrase.
    #[arg(long, global = true, value_enum, env = "FIELDBOOK_UNLOCK")]
    unlock: Option<UnlockWith>,
    /// Keep the store's key in this file instead (e.g. on a removable drive), made if missing.
    /// Whoever has the file can read the store: keep it apart from the laptop.
    #[arg(long, global = true, env = "FIELDBOOK_KEY_FILE", value_name = "PATH", conflicts_with = "unlock")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum UnlockWith {
    Keyring,
    Passphrase,
}

#[derive(Subcommand)]
enum Command {
    /// Create the local store (safe to run again).
    Init {
        /// The technician this laptop belongs to (login).
        #[arg(long)]
        technician: Option<String>,
    },
    /// Load customers, sites, assets, contracts, parts, templates and work orders from a file.
    Import {
        file: PathBuf,
        /// Shift the file's dates so that its `as_of` day becomes today, and its times so that its
        /// `as_of_time` becomes now (demo data).
        #[arg(long)]
        rebase_dates: bool,
    },
    /// List work orders, most urgent response deadline first.
    Orders {
        #[arg(long)]
        status: Option<Status>,
        /// YYYY-MM-DD or `today`.
        #[arg(long, value_parser = parse_day)]
        date: Option<NaiveDate>,
    },
    /// One work order with everything recorded on it.
    Show { order: String },
    /// Record checklist answers from a JSON file (any subset of the form).
    Answer {
        order: String,
        #[arg(long, value_name = "ANSWERS.json")]
        file: PathBuf,
    },
    /// Mark that you are on the way (en route).
    EnRoute { order: String },
    /// Record arrival on site (the response time stops here).
    Arrive { order: String },
    /// Record a repair.
    Repair(RepairArgs),
    /// Your van's spare parts: on hand as last synced, less what unsynced repairs use.
    Van,
    /// Ask the office for parts for your van (sent at the next sync).
    RequestParts {
        /// A part and how many: SKU=QTY (or the part's id), e.g. GAUGE-1.6=4; repeat for more.
        #[arg(long = "part", required = true)]
        parts: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Your requisitions, with the office's decisions as last synced.
    Requisitions,
    /// Confirm what an approved requisition's shipment brought.
    ConfirmShipment {
        id: String,
        /// The shipment was not as approved (say what was wrong with --note).
        #[arg(long)]
        wrong: bool,
        #[arg(long)]
        note: Option<String>,
    },
    /// Ask the supervisor or an engineer for help with a repair (sent at the next sync; the
    /// office's answer shows in `fieldbook show` after a later one).
    Escalate {
        order: String,
        /// The repair record's id (from `fieldbook show ORDER --json`); leave out for the order as a whole.
        #[arg(long)]
        repair: Option<String>,
        /// supervisor or engineer
        #[arg(long, value_parser = |s: &str| s.parse::<EscalateTo>())]
        to: EscalateTo,
        #[arg(long)]
        note: String,
    },
    /// Propose a correction of the order's customer (contact, phone), site (address) or an asset
    /// at its site (model, serial, location); the office confirms or rejects it, and the
    /// corrected record comes back at a later sync.
    Correct {
        order: String,
        /// customers, sites or assets
        #[arg(long)]
        record_entity: String,
        /// The record's id; for an asset also its code (e.g. XH-PUMP-01).
        #[arg(long)]
        record: String,
        #[arg(long)]
        field: String,
        /// The correct value.
        #[arg(long)]
        value: String,
        /// How you know (e.g. "the customer told me", "read off the name plate").
        #[arg(long)]
        note: Option<String>,
    },
    /// The workshop loop of a unit taken from the customer: the receipt, the order's units and
    /// their steps (the office's as last pulled), the return the customer signs for.
    #[command(subcommand)]
    Workshop(WorkshopCommand),
    /// Record time not covered by a repair record (travel, inspection, internal work).
    Time {
        #[arg(long)]
        minutes: u32,
        #[arg(long)]
        category: Category,
        /// repair, inspection, travel or internal; by default internal for category D,
        /// inspection on a patrol inspection's order, otherwise travel
        #[arg(long, value_parser = |s: &str| s.parse::<Activity>())]
        activity: Option<Activity>,
        #[arg(long)]
        order: Option<String>,
        #[arg(long, value_parser = parse_day)]
        date: Option<NaiveDate>,
        #[arg(long)]
        technician: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// A day's time entries of this laptop's technician and the supervisor's review of the day.
    Day {
        #[arg(long, value_parser = parse_day)]
        date: Option<NaiveDate>,
    },
    /// The customer's satisfaction card (each criterion 1 = poor … 4 = very good).
    Rate {
        order: String,
        #[arg(long)]
        attitude: u8,
        #[arg(long)]
        skill: u8,
        #[arg(long)]
        arrival: u8,
        #[arg(long)]
        promise: u8,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Mark the work done; refused while required checklist items are unanswered.
    Complete { order: String },
    /// Reopen a completed (not yet signed) order.
    Reopen { order: String },
    /// Take the customer's signature and lock the record.
    Sign {
        order: String,
        #[arg(long)]
        signer: String,
        #[arg(long)]
        title: Option<String>,
        /// Pen strokes: [[{"x":..,"y":..,"t":ms}, ...], ...]
        #[arg(long, value_name = "STROKES.json")]
        strokes: PathBuf,
    },
    /// Open an amendment of a signed order (a new revision needing a new signature).
    Amend {
        order: String,
        #[arg(long)]
        reason: String,
    },
    /// Check the signatures of an order; exits 0 only if the signed record is intact.
    Verify { order: String },
    /// Write the bilingual service report as PDF.
    Report {
        order: String,
        #[arg(long, value_name = "OUT.pdf")]
        pdf: PathBuf,
    },
    /// Raise a follow-up repair order from an inspection finding.
    FollowUp {
        order: String,
        #[arg(long)]
        item: String,
        #[arg(long)]
        asset: Option<String>,
    },
    /// Store a photo or file; prints the attachment id to use in answers.
    Attach {
        file: PathBuf,
        #[arg(long)]
        media_type: Option<String>,
    },
    /// Minutes per service category for a day.
    DailyReport {
        #[arg(long, value_parser = parse_day)]
        date: Option<NaiveDate>,
        #[arg(long)]
        technician: Option<String>,
    },
    /// Changes waiting to be synced.
    Outbox,
    /// The checklist templates on this laptop, every version.
    Templates,
    /// Enrol this laptop with the office's server, using the one-time code from the office.
    Enroll {
        /// The server's address, e.g. https://fieldbook.example.com
        #[arg(long, value_name = "URL")]
        server: String,
        #[arg(long)]
        code: String,
        /// Allow an unencrypted http:// address of another computer (only on a trusted office
        /// network): stored with the enrolment, and every sync warns about it.
        #[arg(long)]
        allow_insecure_http: bool,
    },
    /// Push this laptop's changes and pull the office's until caught up, then upload photos.
    Sync {
        /// Allow an unencrypted http:// server address of another computer for this sync (only
        /// on a trusted office network); it warns.
        #[arg(long)]
        allow_insecure_http: bool,
    },
    /// Sync state: changes waiting, last successful sync, last error, refused changes.
    Status,
    /// Delete everything of Fieldbook's on this laptop: the store, its attachments and
    /// leftovers, and (for the default store) the app's data, caches and temporary reports.
    /// Refused while changes are not synced, unless --force.
    Wipe {
        /// Wipe even though changes have not reached the server (they are lost).
        #[arg(long)]
        force: bool,
    },
}

impl Command {
    /// Whether the command works while the laptop is locked for being offline too long: those
    /// that reach the server, say how things stand, or remove the data. Every other command
    /// shows or changes records and is refused until a sync succeeds.
    fn allowed_while_locked(&self) -> bool {
        matches!(self, Command::Init { .. } | Command::Enroll { .. } | Command::Sync { .. } | Command::Status | Command::Wipe { .. })
    }
}

#[derive(Args)]
struct RepairArgs {
    order: String,
    #[arg(long)]
    fault: String,
    #[arg(long)]
    cause: String,
    #[arg(long)]
    action: String,
    /// Labour time in minutes.
    #[arg(long)]
    minutes: u32,
    #[arg(long)]
    category: Category,
    /// A part used: SKU=QTY, optionally with serials and a returned faulty part:
    /// SKU=QTY[:SERIAL,SERIAL][+returned]. Repeat for each part.
    #[arg(long = "part", value_parser = parse_part)]
    parts: Vec<PartUsed>,
    /// The asset repaired (code).
    #[arg(long)]
    asset: Option<String>,
    /// Fee charged, in yuan (e.g. 120.50).
    #[arg(long, value_parser = parse_money)]
    fee: Option<i64>,
    /// The fee was collected on site.
    #[arg(long)]
    fee_collected: bool,
    /// The unit was taken back to the workshop; give the receipt number handed to the customer.
    #[arg(long, value_name = "RECEIPT")]
    workshop_receipt: Option<String>,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    if s == "today" {
        return Ok(chrono::Local::now().date_naive());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date: use YYYY-MM-DD or `today`"))
}

fn parse_part(s: &str) -> Result<PartUsed, String> {
    let bad = || format!("'{s}' is not a part: use SKU=QTY, e.g. GAUGE-1.6=2 or SEAL-PUMP-45=1:MS45-8812+returned");
    let (s2, faulty_returned) = match s.strip_suffix("+returned") {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    let (sku, rest) = s2.split_once('=').ok_or_else(bad)?;
    let (qty, serials) = match rest.split_once(':') {
        Some((q, ser)) => (q, ser.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()),
        None => (rest, Vec::new()),
    };
    let quantity = qty.trim().parse().map_err(|_| bad())?;
    if sku.trim().is_empty() {
        return Err(bad());
    }
    Ok(PartUsed { sku: sku.trim().to_owned(), quantity, serials, faulty_returned })
}

fn parse_money(s: &str) -> Result<i64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("'{s}' is not an amount: use yuan, e.g. 120 or 120.50"))?;
    if !(0.0..=10_000_000.0).contains(&v) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok((v * 100.0).round() as i64)
}

#[derive(Subcommand)]
enum WorkshopCommand {
    /// Write the receipt of a unit taken to the workshop (its repair record says so).
    Receipt {
        order: String,
        /// The repair record that took the unit (from `fieldbook show ORDER --json`).
        #[arg(long)]
        repair: String,
        /// The receipt's number; the repair record's when left out.
        #[arg(long)]
        number: Option<String>,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        serial: Option<String>,
        #[arg(long)]
        condition: String,
        #[arg(long)]
        accessories: Option<String>,
        /// The customer who hands the unit over and acknowledges the receipt.
        #[arg(long)]
        signer: String,
        /// Their pen strokes, when signed on the pad: [[{"x":..,"y":..,"t":ms}, ...], ...]
        #[arg(long, value_name = "STROKES.json")]
        strokes: Option<PathBuf>,
    },
    /// The order's units in the workshop and every step so far.
    Show { order: String },
    /// The unit goes back to the customer, who signs for it: the receipt is void (after goods-out).
    Return {
        /// The workshop job's id (from `fieldbook workshop show ORDER --json`).
        job: String,
        #[arg(long)]
        signer: String,
        #[arg(long, value_name = "STROKES.json")]
        strokes: PathBuf,
    },
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what} file {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not a valid {what} file: {e} (line {}, column {})", path.display(), e.line(), e.column()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let core = err.downcast_ref::<Error>();
            if json {
                let body = json!({"error": {
                    "kind": core.map(Error::kind).or_else(|| err.downcast_ref::<SyncError>().map(SyncError::kind)).unwrap_or("error"),
                    "message": format!("{err:#}"),
                    "problems": core.map(|e| e.problems().to_vec()).unwrap_or_default(),
                }});
                eprintln!("{body}");
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The sync commands' async runtime: one thread, created only when needed.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the network runtime")
}

/// Opens the store; only `init` may create it, so a mistyped `--db` is not a new empty store.
fn open(cli: &Cli, create: bool) -> anyhow::Result<(Store, StoreKey)> {
    let path = cli.db.clone().unwrap_or_else(fieldbook_core::default_db_path);
    if !create && !path.exists() {
        bail!("no Fieldbook store at {}: create it with `fieldbook init` (or pass the right --db)", path.display());
    }
    let key = unlock(cli, &path)?;
    Ok((Store::open(&path, &key)?, key))
}

/// The store key, got the way the store was protected (`--unlock`, `--key-file`).
fn unlock(cli: &Cli, path: &Path) -> anyhow::Result<StoreKey> {
    let requested = match (&cli.key_file, cli.unlock) {
        (Some(_), _) => Some(Method::KeyFile),
        (None, Some(UnlockWith::Keyring)) => Some(Method::Keyring),
        (None, Some(UnlockWith::Passphrase)) => Some(Method::Passphrase),
        (None, None) => None,
    };
    let new = at_rest::method(path)?.is_none();
    let how = match at_rest::choose(path, requested)? {
        Method::Keyring => Unlock::Keyring,
        Method::KeyFile => {
            let file = cli.key_file.clone().ok_or_else(|| anyhow::anyhow!("{} is protected by a key file: pass it with --key-file PATH (or FIELDBOOK_KEY_FILE)", path.display()))?;
            if new && !file.exists() {
                eprintln!(
                    "warning: the key of {} will be kept in {}. Whoever has that file can read the store: \
                     keep it apart from the laptop (a removable drive), or use the OS keyring or a passphrase instead.",
                    path.display(),
                    file.display()
                );
            }
            Unlock::KeyFile(file)
        }
        Method::Passphrase => Unlock::Passphrase(passphrase(path, new)?),
    };
    Ok(at_rest::unlock(path, &how)?)
}

/// The passphrase from FIELDBOOK_PASSPHRASE (scripts) or asked on the terminal, twice for a new
/// store.
fn passphrase(path: &Path, new: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var("FIELDBOOK_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    let ask = |prompt: &str| -> anyhow::Result<Zeroizing<String>> {
        rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| {
            anyhow::anyhow!("{} needs its passphrase, and there is no terminal to ask on ({e}): set FIELDBOOK_PASSPHRASE, or use --unlock keyring", path.display())
        })
    };
    if !new {
        return ask(&format!("Passphrase for {}: ", path.display()));
    }
    eprintln!("No OS keyring here: choose a passphrase that protects this laptop's Fieldbook store (at least 8 characters).");
    let first = ask("New passphrase: ")?;
    if *ask("Repeat it: ")? != *first {
        bail!("the two passphrases differ; nothing was created, run the command again");
    }
    Ok(first)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let out = print::Output { json: cli.json };
    if let Command::Wipe { force } = cli.command {
        return wipe(&cli, force, &out);
    }
    let (mut store, key) = open(&cli, matches!(cli.command, Command::Init { .. }))?;
    if !cli.command.allowed_while_locked() {
        store.check_unlocked()?;
    }
    match cli.command {
        Command::Init { technician } => {
            if let Some(t) = &technician {
                store.set_technician(t)?;
            }
            let device = store.device();
            out.show(
                &json!({"db": store.path(), "device_id": device.id, "public_key": device.public_key_hex(), "technician": device.technician}),
                || format!("Store ready at {}\nDevice {} (public key {})\n", store.path().display(), device.id, device.public_key_hex()),
            );
        }
        Command::Import { file, rebase_dates } => {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read import file {name}"))?;
            let mut doc = ImportDocument::from_json(&text, &name)?;
            if rebase_dates {
                doc.rebase_to_now(&chrono::Local::now());
            }
            let s = store.import(&doc, &name)?;
            out.show(&s, || {
                format!(
                    "Imported {name}: {} customers, {} sites, {} assets, {} contracts, {} parts, {} checklist templates, {} work orders\n",
                    s.customers, s.sites, s.assets, s.contracts, s.parts, s.checklist_templates, s.work_orders
                )
            });
        }
        Command::Orders { status, date } => {
            let orders = store.orders(&OrderFilter { status, day: date })?;
            out.show(&orders, || print::orders(&orders, store.now()));
        }
        Command::Show { order } => {
            let d = store.order_detail(&order)?;
            out.show(&d, || print::detail(&d));
        }
        Command::Answer { order, file } => {
            #[derive(serde::Deserialize)]
            #[serde(untagged)]
            enum AnswersFile {
                List(Vec<AnswerInput>),
                Doc { answers: Vec<AnswerInput> },
            }
            let answers = match read_json::<AnswersFile>(&file, "answers")? {
                AnswersFile::List(a) | AnswersFile::Doc { answers: a } => a,
            };
            if answers.is_empty() {
                bail!("{}: no answers in the file; it should hold [{{\"item\": \"KEY\", \"value\": ...}}, ...]", file.display());
            }
            let n = store.record_answers(&order, &answers)?;
            let d = store.order_detail(&order)?;
            out.show(&json!({"recorded": n, "findings": d.findings, "missing": d.missing}), || {
                format!("Recorded {n} answer(s) on {}. {} finding(s); {} required item(s) still open.\n", d.order.number, d.findings.len(), d.missing.len())
            });
        }
        Command::EnRoute { order } => {
            let o = store.set_status(&order, Status::EnRoute)?;
            out.show(&o, || format!("{} is en route\n", o.number));
        }
        Command::Arrive { order } => {
            let o = store.set_status(&order, Status::OnSite)?;
            out.show(&o, || print::arrival(&o));
        }
        Command::Repair(a) => {
            let asset_id = match &a.asset {
                None => None,
                Some(code) => {
                    let d = store.order_detail(&a.order)?;
                    let asset = d.assets.iter().find(|x| &x.code == code || &x.id == code);
                    Some(asset.map(|x| x.id.clone()).with_context(|| format!("asset '{code}' is not one of work order {}'s assets ({})", d.order.number, d.assets.iter().map(|x| x.code.as_str()).collect::<Vec<_>>().join(", ")))?)
                }
            };
            // More than the van holds is warned, never refused: the repair is what happened.
            let short = store.van_shortfall(&a.parts, None)?;
            for p in &short {
                eprintln!("warning: your van holds {} of {}, this repair uses {}; the repair is saved and the office sees the over-use", p.available, p.sku, p.wanted);
            }
            let rec = store.add_repair(&a.order, &NewRepairRecord {
                asset_id,
                fault: a.fault,
                cause: a.cause,
                action: a.action,
                parts: a.parts,
                labour_minutes: a.minutes,
                category: a.category,
                fee_cents: a.fee.unwrap_or(0),
                fee_collected: a.fee_collected,
                taken_to_workshop: a.workshop_receipt.is_some(),
                receipt_number: a.workshop_receipt,
            })?;
            out.show(&rec, || format!("Recorded repair {} ({} min, category {})\n", rec.id, rec.labour_minutes, rec.category));
        }
        Command::Van => {
            let van = store.van_stock()?;
            out.show(&van, || {
                let mut t = String::new();
                for l in &van {
                    let low = if l.available < l.minimum { "  below minimum" } else { "" };
                    t.push_str(&format!("{:<16} {:>5} {:<4} {} / {}{}\n", l.sku, l.available, l.unit, l.name_zh, l.name_en, low));
                }
                if van.is_empty() {
                    t.push_str("Your van holds no parts the office has issued yet.\n");
                }
                t
            });
        }
        Command::RequestParts { parts, note } => {
            let catalogue = store.parts()?;
            let mut lines = Vec::new();
            for p in &parts {
                let (key, qty) = p.split_once('=').with_context(|| format!("'{p}' is not a part: use SKU=QTY, e.g. GAUGE-1.6=4"))?;
                let part = catalogue.iter().find(|c| c.sku == key.trim() || c.id == key.trim()).with_context(|| format!("part '{key}' is not in the parts catalogue (check the SKU, or sync)"))?;
                let quantity = qty.trim().parse().with_context(|| format!("'{qty}' is not a quantity: give a whole number"))?;
                lines.push(fieldbook_core::model::RequisitionLine { part_id: part.id.clone(), quantity });
            }
            let r = store.request_parts(&lines, note.as_deref())?;
            out.show(&r, || format!("Requisition {} saved; the office sees it after the next sync\n", r.id));
        }
        Command::Requisitions => {
            let list = store.requisitions()?;
            out.show(&list, || list.iter().map(|r| format!("{} {} {} line(s) {}\n", r.requested_at, r.status, r.lines.len(), r.id)).collect());
        }
        Command::ConfirmShipment { id, wrong, note } => {
            let r = store.confirm_shipment(&id, !wrong, note.as_deref())?;
            out.show(&r, || format!("Shipment of requisition {} confirmed {}\n", r.id, if wrong { "as wrong" } else { "as correct" }));
        }
        Command::Escalate { order, repair, to, note } => {
            let e = store.escalate(&order, repair.as_deref(), to, &note)?;
            out.show(&e, || format!("Escalated to the {to}; the office sees it after the next sync (escalation {})\n", e.id))
        }
        Command::Correct { order, record_entity, record, field, value, note } => {
            let c = store.propose_correction(&order, &fieldbook_core::store::NewCorrection { record_entity, record, field, value, note })?;
            out.show(&c, || format!("Proposed {} {} → {}; the office decides after the next sync (correction {})\n", c.record_entity, c.field, c.value, c.id))
        }
        Command::Workshop(WorkshopCommand::Receipt { order, repair, number, unit, serial, condition, accessories, signer, strokes }) => {
            let strokes: Vec<Stroke> = match strokes {
                Some(p) => read_json(&p, "strokes")?,
                None => Vec::new(),
            };
            let req = NewReceipt { repair_record_id: repair, receipt_number: number, unit, serial, condition, accessories, signer_name: signer, strokes };
            let job = store.workshop_receipt(&order, &req)?;
            out.show(&job, || format!("Receipt {} written for {}; the workshop sees it after the next sync (job {})\n", job.receipt_number, job.unit, job.id));
        }
        Command::Workshop(WorkshopCommand::Show { order }) => {
            let jobs = store.workshop_jobs_of(&order)?;
            out.show(&jobs, || print::workshop_jobs(&jobs));
        }
        Command::Workshop(WorkshopCommand::Return { job, signer, strokes }) => {
            let strokes: Vec<Stroke> = read_json(&strokes, "strokes")?;
            let job = store.workshop_return(&job, &ReturnSignature { signer_name: signer, strokes })?;
            out.show(&job, || format!("{} returned to {}; receipt {} is void\n", job.unit, job.return_signer.as_deref().unwrap_or_default(), job.receipt_number));
        }
        Command::Time { minutes, category, activity, order, date, technician, note } => {
            let technician = technician.or(store.device().technician.clone()).context("no technician: give --technician or run `fieldbook init --technician LOGIN`")?;
            let day = date.unwrap_or_else(|| chrono::Local::now().date_naive());
            let kind = order.as_deref().map(|o| store.find_order(o)).transpose()?.map(|o| o.kind);
            let activity = activity.unwrap_or_else(|| Activity::default_for(category, kind));
            let input = TimeInput { work_date: day, category, activity, minutes, note, work_order: order };
            let t = store.add_time(&technician, &input)?;
            out.show(&t, || format!("Recorded {minutes} min of category {category} ({activity}) for {technician} on {day}\n"));
        }
        Command::Day { date } => {
            let day = date.unwrap_or_else(|| chrono::Local::now().date_naive());
            let d = store.day_time(day, None)?;
            out.show(&d, || print::day_time(&d));
        }
        Command::Rate { order, attitude, skill, arrival, promise, comment } => {
            let card = SatisfactionCard { attitude, skill, arrival, promise, comment };
            store.rate(&order, &card)?;
            out.show(&card, || "Satisfaction card recorded\n".into());
        }
        Command::Complete { order } => {
            let o = store.complete(&order)?;
            out.show(&o, || format!("{} completed; the customer can sign now (`fieldbook sign {}`)\n", o.number, o.number));
        }
        Command::Reopen { order } => {
            let o = store.set_status(&order, Status::OnSite)?;
            out.show(&o, || format!("{} reopened\n", o.number));
        }
        Command::Sign { order, signer, title, strokes } => {
            let strokes: Vec<Stroke> = read_json(&strokes, "strokes")?;
            let sig = store.sign(&order, &SignRequest { signer_name: signer, signer_title: title, strokes })?;
            out.show(&sig, || format!("Signed by {} at {}; revision {} locked.\nDigest {}\n", sig.signer_name, sig.signed_at, sig.revision, sig.digest));
        }
        Command::Amend { order, reason } => {
            let o = store.amend(&order, &reason)?;
            out.show(&o, || format!("{} reopened as revision {}; it needs a new signature\n", o.number, o.revision));
        }
        Command::Verify { order } => {
            let v = store.verify(&order)?;
            out.show(&v, || print::verification(&v));
            if !v.intact {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Report { order, pdf } => {
            let bytes = store.service_report(&order)?;
            // Written beside the target and renamed, so a half-written PDF never has its name.
            let tmp = pdf.with_extension("pdf.partial");
            std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &pdf).with_context(|| format!("cannot write {}", pdf.display()))?;
            out.show(&json!({"pdf": pdf, "bytes": bytes.len()}), || format!("Wrote {} ({} KB)\n", pdf.display(), bytes.len() / 1024));
        }
        Command::FollowUp { order, item, asset } => {
            let o = store.create_follow_up(&order, &item, asset.as_deref())?;
            out.show(&o, || format!("Follow-up repair {} raised: {}\n", o.number, o.problem.as_deref().unwrap_or("")));
        }
        Command::Attach { file, media_type } => {
            let a = store.attach_file(&file, media_type.as_deref())?;
            out.show(&a, || format!("{}\n", a.id));
        }
        Command::DailyReport { date, technician } => {
            let day = date.unwrap_or_else(|| chrono::Local::now().date_naive());
            let r = store.daily_report(day, technician.as_deref())?;
            out.show(&r, || r.to_text());
        }
        Command::Outbox => {
            let entries = store.outbox()?;
            out.show(&entries, || print::outbox(&entries));
        }
        Command::Templates => {
            let templates = store.checklist_templates()?;
            out.show(&templates, || templates.iter().map(|t| format!("{} v{}  {}  (published {})\n", t.code, t.version, t.title.both(), t.published_at)).collect());
        }
        Command::Enroll { server, code, allow_insecure_http } => {
            let client = SyncClient::with_options(Arc::new(Mutex::new(store)), ClientOptions { allow_insecure_http, ..ClientOptions::default() })?;
            let e = runtime()?.block_on(client.enroll(&server, &code))?;
            out.show(&e, || format!("Enrolled with {} as {} (device {}).\nRun `fieldbook sync` to fetch your work.\n", e.server_url, e.technician, e.device_id));
        }
        Command::Sync { allow_insecure_http } => {
            let path = store.path().to_owned();
            let client = SyncClient::with_options(Arc::new(Mutex::new(store)), ClientOptions { allow_insecure_http, ..ClientOptions::default() })?;
            match runtime()?.block_on(client.sync_once()) {
                Ok(r) => out.show(&r, || print::sync_report(&r)),
                Err(SyncError::Revoked { reason, wipe }) => {
                    // The store must be closed before its files may be deleted.
                    drop(client);
                    let outcome = fieldbook_sync::handle_revocation(&path, &key, wipe)?;
                    out.show(&json!({"revoked": true, "reason": reason, "wipe": wipe, "outcome": outcome}), || {
                        format!("The office has revoked this laptop's access to the server: {reason}.\n{outcome}.\n")
                    });
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Status => {
            let s = store.sync_status()?;
            let protection = store.protection_label();
            let mut v = serde_json::to_value(&s)?;
            v["store_protection"] = json!(protection);
            out.show(&v, || format!("Store:       {} ({protection})\n{}", store.path().display(), print::sync_status(&s)));
        }
        Command::Wipe { .. } => unreachable!("handled before the store is opened"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `fieldbook wipe`: the same wipe as a revocation's (`Store::wipe`), refused while changes are
/// unsynced unless `force`. Without a store it still removes the app's folders when the store
/// would be the default one, so a half-finished wipe can be finished.
fn wipe(cli: &Cli, force: bool, out: &print::Output) -> anyhow::Result<ExitCode> {
    let path = cli.db.clone().unwrap_or_else(fieldbook_core::default_db_path);
    let removed = if path.exists() {
        match unlock(cli, &path).and_then(|key| Ok(Store::open(&path, &key)?)) {
            Ok(store) => store.wipe(force)?,
            // A store that cannot be unlocked (a forgotten passphrase) cannot be checked for
            // unsynced work; only --force removes it unread.
            Err(e) if force => {
                eprintln!("warning: the store could not be opened ({e:#}); --force removes it unread");
                fieldbook_core::wipe::wipe_laptop(&path)?
            }
            Err(e) => return Err(e.context("cannot check the store for unsynced work before wiping it; `fieldbook wipe --force` removes it anyway")),
        }
    } else {
        fieldbook_core::wipe::wipe_laptop(&path)?
    };
    out.show(&json!({"wiped": path, "removed": removed}), || {
        let mut text = format!("Wiped Fieldbook's data for {}:\n", path.display());
        for p in &removed {
            text.push_str(&format!("  removed {}\n", p.display()));
        }
        if removed.is_empty() {
            text.push_str("  nothing was left to remove\n");
        }
        text.push_str("Service reports you saved elsewhere (the save dialog) are yours and were not touched. Deleted files may remain readable in the disk's free space unless the disk is encrypted.\n");
        text
    });
    Ok(ExitCode::SUCCESS)
}
