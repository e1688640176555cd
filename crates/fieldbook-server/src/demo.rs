//! `fieldbook-server demo`: a server ready to show. Creates the demo users (an admin, an office
//! clerk, technicians li.wei and zhang.min) with fresh passwords, imports the fire-protection
//! demo company rebased to today, publishes its service calendar, puts a few calls in an empty
//! call register (an inquiry from a caller who is not yet a customer, answered and closed; a
//! customer's suggestion, open), and issues an enrolment code for li.wei's laptop.

use fieldbook_core::import::ImportDocument;
use fieldbook_core::service_calendar::ServiceCalendar;
use serde_json::json;

use crate::console::calendar;
use crate::console::calls::{register_call, NewCall};
use crate::db::{Db, Mode, Tx};
use crate::enrolment;
use crate::error::Result;
use crate::import::{self, ImportReport};
use crate::params;
use crate::users::{self, Role};

/// The demo company: the same file the laptop's demo uses.
pub const DEMO_IMPORT: &str = include_str!("../../../demo/fire-protection.json");

pub const DEMO_USERS: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "Administrator / 系统管理员"),
    ("office", Role::Office, "Service desk / 客服代表"),
    ("li.wei", Role::Technician, "李伟 Li Wei"),
    ("zhang.min", Role::Technician, "张敏 Zhang Min"),
];

#[derive(Debug)]
pub struct DemoSetup {
    /// (login, role, Some(password) when created now, None when the user existed).
    pub users: Vec<(String, Role, Option<String>)>,
    pub import: ImportReport,
    pub enrolment_code: String,
}

/// A readable random password for a demo account.
fn demo_password() -> String {
    let code = enrolment::new_code().to_lowercase();
    code[..14].to_owned()
}

/// The demo's service calendar, version 1 from 1 January 2026 (the built-in default: Mon–Fri
/// working hours, China's 2026 holidays and make-up days, 6 / 7 working hours), published once.
fn seed_calendar(tx: &mut dyn crate::db::Tx) -> Result<()> {
    if !calendar::versions(tx)?.is_empty() {
        return Ok(());
    }
    let req = calendar::PublishRequest { effective_from: "2026-01-01".into(), body: ServiceCalendar::default().to_json() };
    calendar::publish_version(tx, "admin", &req)?;
    Ok(())
}

pub fn setup(db: &Db) -> Result<DemoSetup> {
    let mut created = Vec::new();
    for (login, role, name) in DEMO_USERS {
        let exists = db.transaction(Mode::Read, |tx| users::find(tx, login))?.is_some();
        if exists {
            created.push((login.to_string(), *role, None));
            continue;
        }
        let password = demo_password();
        let hash = users::hash_password(&password)?;
        db.transaction(Mode::Write, |tx| users::add(tx, login, *role, name, Some(&hash)))?;
        created.push((login.to_string(), *role, Some(password)));
    }
    let mut doc = ImportDocument::from_json(DEMO_IMPORT, "demo/fire-protection.json")?;
    doc.rebase_to_now(&chrono::Local::now());
    let report = db.transaction(Mode::Feed, |tx| import::import(tx, &doc, "demo/fire-protection.json"))?;
    db.transaction(Mode::Feed, seed_calendar)?;
    db.transaction(Mode::Feed, demo_complaints)?;
    db.transaction(Mode::Feed, demo_calls)?;
    let code = db.transaction(Mode::Write, |tx| enrolment::issue_code(tx, "li.wei", 72))?;
    Ok(DemoSetup { users: created, import: report, enrolment_code: code })
}

/// A few complaints so the Complaints screen has something to show: one overdue (received by
/// letter fifteen days ago, no first report yet), one serious in hand, one closed. Only on a
/// database without complaints, so running the demo again adds none.
fn demo_complaints(tx: &mut dyn crate::db::Tx) -> Result<()> {
    use crate::console::complaints::{add_step, close_complaint, open_complaint, CloseRequest, NewComplaint, StepRequest};
    use fieldbook_core::import::stable_id;
    if tx.query_one("SELECT COUNT(*) FROM complaint_index", &[])?.int(0)? > 0 {
        return Ok(());
    }
    let ago = |days: i64| fieldbook_core::store::ts(chrono::Utc::now() - chrono::Duration::days(days));
    let new = |customer: &str, order: &str, category: &str, severity: &str, days: i64, responsible: &str, description: &str| NewComplaint {
        source: "direct".into(),
        customer_id: stable_id("customers", customer),
        work_order_ids: vec![stable_id("work_orders", order)],
        description: description.into(),
        category: category.into(),
        severity: severity.into(),
        responsible: Some(responsible.into()),
        registered_at: Some(ago(days)),
        ..NewComplaint::default()
    };
    open_complaint(tx, "office", &new("C-JINQIAO", "WO-1001", "timeliness", "normal", 15, "office", "来函：巡检人员未按约定时间到场，物业多次催问。 / Letter: the inspection team came late and the property office had to chase them."))?;
    let serious = open_complaint(tx, "office", &new("C-XINGHUA", "WO-1002", "quality", "serious", 1, "admin", "报警主机维修后次日再次故障，生产线停工两小时。 / The alarm panel failed again the day after the repair; the production line stopped for two hours."))?;
    let id = serious["id"].as_str().unwrap_or_default().to_owned();
    add_step(tx, "office", Role::Office, &id, &StepRequest { kind: "first_report".into(), note: Some("已致电客户道歉，安排主管明日复查。 / Apologised by phone; a supervisor re-inspects tomorrow.".into()), responsible: None })?;
    let closed = open_complaint(tx, "office", &new("C-RUIJIN", "WO-1003", "charges", "normal", 6, "office", "对备件收费有疑问。 / Questions the charge for parts."))?;
    let id = closed["id"].as_str().unwrap_or_default().to_owned();
    add_step(tx, "office", Role::Office, &id, &StepRequest { kind: "first_report".into(), note: Some("核对报价单与合同条款。 / Checked the quote against the contract.".into()), responsible: None })?;
    close_complaint(tx, "office", &id, &CloseRequest { result: "备件在保修期内，退还收费。 / The part was under warranty; the charge is refunded.".into(), informed_how: "phone".into(), informed_at: ago(0) })?;
    Ok(())
}

/// The demo's call register entries, through the console's own registration; only into an empty
/// register, so running `demo` again adds none.
fn demo_calls(tx: &mut dyn Tx) -> Result<()> {
    if tx.query_one("SELECT COUNT(*) FROM call_index", params![])?.int(0)? > 0 {
        return Ok(());
    }
    let at = |hours: i64| crate::store_ts(chrono::Utc::now() - chrono::Duration::hours(hours));
    let calls = [
        json!({"channel": "phone", "call_type": "inquiry", "caller_name": "周先生", "caller_phone": "+86 21 6201 7788",
            "new_customer": {"name": "长宁区某写字楼物业管理处"}, "equipment_model": "JB-QB-GST200",
            "problem": "询问火灾报警控制器年度检测的价格和预约方式", "reported_at": at(26),
            "answer": "已告知检测报价并发送预约表，客户下周回复", "close": true}),
        json!({"channel": "email", "call_type": "suggestion", "caller_name": "王工", "caller_phone": "+86 21 6789 4321",
            "customer_id": fieldbook_core::import::stable_id("customers", "C-XINGHUA"),
            "problem": "建议巡检报告同时提供英文版，便于外方总部审阅", "reported_at": at(3)}),
    ];
    for call in calls {
        let call: NewCall = serde_json::from_value(call).map_err(|e| crate::error::Error::Invalid(format!("demo call: {e}")))?;
        register_call(tx, "office", &call)?;
    }
    Ok(())
}
