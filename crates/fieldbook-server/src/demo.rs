//! `fieldbook-server demo`: a server ready to show. Creates the demo users (an admin, an office
//! clerk, technicians li.wei and zhang.min) with fresh passwords, imports the fire-protection
//! demo company rebased to today, publishes its service calendar, and issues an enrolment code for li.wei's laptop.

use fieldbook_core::import::ImportDocument;

use fieldbook_core::service_calendar::ServiceCalendar;

use crate::console::calendar;
use crate::db::{Db, Mode};
use crate::enrolment;
use crate::error::Result;
use crate::import::{self, ImportReport};
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
    let code = db.transaction(Mode::Write, |tx| enrolment::issue_code(tx, "li.wei", 72))?;
    Ok(DemoSetup { users: created, import: report, enrolment_code: code })
}
