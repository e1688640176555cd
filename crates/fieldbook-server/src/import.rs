//! Loading an office import document (`fieldbook-import/1`, the same files the laptop's
//! `fieldbook import` reads) into the server.
//!
//! Everything is checked first and every problem reported at once; only a fully valid document
//! is written, in one transaction. Records get the same stable ids as on a laptop
//! (`fieldbook_core::import::stable_id`), and are written through the one write path
//! ([`crate::feed::Writer`]) with the server's clock, so they reach the right technicians' feeds.
//! Only values that differ from what the server holds are written: importing the same file
//! twice changes nothing and does not overwrite technicians' work with old values.

use std::collections::{HashMap, HashSet};

use fieldbook_core::error::FieldProblem;
use fieldbook_core::import::{stable_id, ImportDocument};
use fieldbook_core::model::Zone;
use fieldbook_core::store::{ts, ImportSummary};
use std::rc::Rc;

use fieldbook_core::sync::merge::Stamps;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::db::Tx;
use crate::error::Result;
use crate::feed::{Change, Writer};
use crate::records::{self, Stored};
use crate::params;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    #[serde(flatten)]
    pub summary: ImportSummary,
    /// Records whose values changed on the server (0 when the file was imported before).
    pub records_changed: usize,
}

/// A record to write: entity, id, and its fields as the file has them.
type Planned = (&'static str, String, Vec<(&'static str, Value)>);

fn live(state: Option<Rc<Stored>>) -> Result<Option<Rc<Stored>>> {
    Ok(match state {
        Some(s) if s.fields()?.get("deleted") != Some(&Value::Bool(true)) => Some(s),
        _ => None,
    })
}

/// The store's view of a site code: (customer code, zone).
fn stored_site(w: &mut Writer<'_>, code: &str) -> Result<Option<(String, Zone)>> {
    let Some(site) = live(w.load("sites", &stable_id("sites", code))?)? else { return Ok(None) };
    let Some(customer) = site.text("customer_id")?.map(str::to_owned) else { return Ok(None) };
    let Some(customer) = w.load("customers", &customer)? else { return Ok(None) };
    let zone = site.fields()?.get("zone").cloned().and_then(|z| serde_json::from_value::<Zone>(z).ok());
    Ok(customer.text("code")?.zip(zone).map(|(c, z)| (c.to_owned(), z)))
}

/// The store's view of an asset code: its site code.
fn stored_asset_site(w: &mut Writer<'_>, code: &str) -> Result<Option<String>> {
    let Some(asset) = live(w.load("assets", &stable_id("assets", code))?)? else { return Ok(None) };
    let Some(site) = asset.text("site_id")?.map(str::to_owned) else { return Ok(None) };
    match w.load("sites", &site)? {
        Some(s) => Ok(s.text("code")?.map(str::to_owned)),
        None => Ok(None),
    }
}

/// Checks a whole document and writes it. Runs in a `Mode::Feed` transaction.
pub fn import(tx: &mut dyn Tx, doc: &ImportDocument, source_name: &str) -> Result<ImportReport> {
    // The writer from the start: the checks read records through its cache too. Nothing is
    // written before every check has passed.
    let mut writer = Writer::begin(tx)?;
    let w = &mut writer;
    // Deadlines of orders without one: by the calendar in force at each call, under the server's
    // contracts and the file's (read once, and only when some calendar assigns contracts a policy).
    let calendars = crate::console::calendar::versions(w.tx_unbuffered())?;
    let mut contracts = Vec::new();
    if crate::console::calendar::any_contract_policies(&calendars) {
        contracts = crate::console::calendar::contract_terms(w.tx_unbuffered(), None)?;
        contracts.retain(|c| !doc.contracts.iter().any(|f| f.number == c.number));
        contracts.extend(doc.contracts.iter().map(|c| fieldbook_core::service_calendar::ContractTerms {
            number: c.number.clone(),
            customer_id: stable_id("customers", &c.customer),
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            asset_ids: c.assets.iter().map(|a| stable_id("assets", a)).collect(),
        }));
    }
    let mut problems: Vec<FieldProblem> = Vec::new();
    let mut bad = |record: String, field: &str, problem: String| problems.push(FieldProblem::new(record, field, problem));

    let dupes = |codes: Vec<&str>, what: &str, bad: &mut dyn FnMut(String, &str, String)| {
        let mut seen = HashSet::new();
        for c in codes {
            if c.trim().is_empty() {
                bad(format!("{what} with an empty code"), "code", "every record needs a code".into());
            } else if !seen.insert(c) {
                bad(format!("{what} {c}"), "code", "appears twice in the file".into());
            }
        }
    };
    dupes(doc.parts.iter().map(|p| p.sku.as_str()).collect(), "part", &mut bad);
    dupes(doc.customers.iter().map(|c| c.code.as_str()).collect(), "customer", &mut bad);
    dupes(doc.sites.iter().map(|c| c.code.as_str()).collect(), "site", &mut bad);
    dupes(doc.assets.iter().map(|c| c.code.as_str()).collect(), "asset", &mut bad);
    dupes(doc.contracts.iter().map(|c| c.number.as_str()).collect(), "contract", &mut bad);
    dupes(doc.work_orders.iter().map(|c| c.number.as_str()).collect(), "work order", &mut bad);

    let customers: HashSet<&str> = doc.customers.iter().map(|c| c.code.as_str()).collect();
    let customer_known = |w: &mut Writer<'_>, code: &str| -> Result<bool> {
        Ok(customers.contains(code) || live(w.load("customers", &stable_id("customers", code))?)?.is_some())
    };
    for s in &doc.sites {
        if !customer_known(w, &s.customer)? {
            bad(format!("site {}", s.code), "customer", format!("customer '{}' is neither in the file nor on the server", s.customer));
        }
    }
    // Sites by code with their customer code and zone, and assets by code with their site code,
    // from the file or the server.
    let mut sites: HashMap<String, (String, Zone)> = doc.sites.iter().map(|s| (s.code.clone(), (s.customer.clone(), s.zone))).collect();
    let mut asset_site: HashMap<String, String> = doc.assets.iter().map(|a| (a.code.clone(), a.site.clone())).collect();
    let site_of = |w: &mut Writer<'_>, code: &str, sites: &mut HashMap<String, (String, Zone)>| -> Result<Option<(String, Zone)>> {
        if let Some(s) = sites.get(code) {
            return Ok(Some(s.clone()));
        }
        let s = stored_site(w, code)?;
        if let Some(s) = &s {
            sites.insert(code.to_owned(), s.clone());
        }
        Ok(s)
    };
    let asset_site_of = |w: &mut Writer<'_>, code: &str, assets: &mut HashMap<String, String>| -> Result<Option<String>> {
        if let Some(s) = assets.get(code) {
            return Ok(Some(s.clone()));
        }
        let s = stored_asset_site(w, code)?;
        if let Some(s) = &s {
            assets.insert(code.to_owned(), s.clone());
        }
        Ok(s)
    };
    for a in &doc.assets {
        if site_of(w, &a.site, &mut sites)?.is_none() {
            bad(format!("asset {}", a.code), "site", format!("site '{}' is neither in the file nor on the server", a.site));
        }
        if let (Some(i), Some(w)) = (a.installed_on, a.warranty_ends) {
            if w < i {
                bad(format!("asset {}", a.code), "warranty_ends", format!("{w} is before installed_on {i}"));
            }
        }
    }
    for c in &doc.contracts {
        if !customer_known(w, &c.customer)? {
            bad(format!("contract {}", c.number), "customer", format!("customer '{}' is neither in the file nor on the server", c.customer));
        }
        if c.ends_on < c.starts_on {
            bad(format!("contract {}", c.number), "ends_on", format!("{} is before starts_on {}", c.ends_on, c.starts_on));
        }
        for a in &c.assets {
            if asset_site_of(w, a, &mut asset_site)?.is_none() {
                bad(format!("contract {}", c.number), "assets", format!("asset '{a}' is neither in the file nor on the server"));
            }
        }
    }
    // Template versions: in the file, or stored (code -> versions).
    let mut stored_templates: HashMap<(String, i64), Value> = HashMap::new();
    for (_, t) in records::all(w.tx()?, "checklist_templates")? {
        if let (Some(code), Some(version)) = (records::text(&t, "code"), records::int(&t, "version")) {
            stored_templates.insert((code.to_owned(), version), t.fields.get("body").cloned().unwrap_or(Value::Null));
        }
    }
    let mut latest: HashMap<String, i64> = HashMap::new();
    for ((code, version), _) in stored_templates.iter() {
        let l = latest.entry(code.clone()).or_insert(0);
        *l = (*l).max(*version);
    }
    for t in &doc.checklist_templates {
        if let Err(ps) = t.validate() {
            problems.extend(ps);
        }
        let l = latest.entry(t.code.clone()).or_insert(0);
        *l = (*l).max(t.version);
        // A published version never changes: re-importing it must bring the same body.
        if let Some(body) = stored_templates.get(&(t.code.clone(), t.version)) {
            if Some(body) != serde_json::to_value(t).ok().as_ref() {
                problems.push(FieldProblem::new(
                    format!("checklist template {} v{}", t.code, t.version),
                    "version",
                    "this version is already on the server with different content; publish the change as a new version",
                ));
            }
        }
    }
    let in_file = |code: &str, v: i64| doc.checklist_templates.iter().any(|t| t.code == code && t.version == v);

    struct Order<'d> {
        row: &'d fieldbook_core::import::WorkOrderRow,
        customer: String,
        site_id: String,
        asset_codes: Vec<String>,
        template_id: Option<String>,
        deadline: chrono::DateTime<chrono::Utc>,
    }
    let mut orders = Vec::new();
    let wr = &mut *w;
    for w in &doc.work_orders {
        let record = format!("work order {}", w.number);
        for (field, problem) in w.time_problems() {
            problems.push(FieldProblem::new(&record, field, problem));
        }
        let Some((customer, zone)) = site_of(wr, &w.site, &mut sites)? else {
            problems.push(FieldProblem::new(&record, "site", format!("site '{}' is neither in the file nor on the server", w.site)));
            continue;
        };
        for a in &w.assets {
            match asset_site_of(wr, a, &mut asset_site)? {
                None => problems.push(FieldProblem::new(&record, "assets", format!("asset '{a}' is neither in the file nor on the server"))),
                Some(s) if s != w.site => {
                    problems.push(FieldProblem::new(&record, "assets", format!("asset '{a}' is at site '{s}', not at this order's site '{}'", w.site)))
                }
                Some(_) => {}
            }
        }
        let mut asset_codes = w.assets.clone();
        if asset_codes.is_empty() {
            // Every asset of the site, from the file and the server.
            asset_codes = doc.assets.iter().filter(|a| a.site == w.site).map(|a| a.code.clone()).collect();
            for (_, a) in wr.by_owner("assets", &stable_id("sites", &w.site))? {
                if a.fields()?.get("deleted") == Some(&Value::Bool(true)) {
                    continue;
                }
                if let Some(code) = a.text("code")? {
                    if !asset_codes.iter().any(|c| c == code) {
                        asset_codes.push(code.to_owned());
                    }
                }
            }
        }
        let template_id = match &w.template {
            None => None,
            Some(spec) => {
                let (code, version) = match spec.split_once('@') {
                    Some((c, v)) => (c, v.parse::<i64>().ok()),
                    None => (spec.as_str(), None),
                };
                let version = version.or_else(|| latest.get(code).copied());
                match version.filter(|v| in_file(code, *v) || stored_templates.contains_key(&(code.to_owned(), *v))) {
                    Some(v) => Some(stable_id("checklist_templates", &format!("{code}@{v}"))),
                    None => {
                        problems.push(FieldProblem::new(&record, "template", format!("checklist template '{spec}' is neither in the file nor on the server")));
                        None
                    }
                }
            }
        };
        let deadline = match w.response_deadline {
            Some(d) => d,
            None => {
                let asset_ids: Vec<String> = asset_codes.iter().map(|a| stable_id("assets", a)).collect();
                let customer_id = stable_id("customers", &customer);
                crate::console::calendar::compute(wr.tx_unbuffered(), &calendars, Some(&contracts), w.reported_at, zone, Some(&customer_id), &asset_ids)?.deadline.on_site_by
            }
        };
        orders.push(Order { row: w, customer, site_id: stable_id("sites", &w.site), asset_codes, template_id, deadline });
    }

    let ids = |entity: &str, codes: &[String]| -> Value { Value::Array(codes.iter().map(|c| Value::String(stable_id(entity, c))).collect()) };
    let mut planned: Vec<Planned> = Vec::new();
    for p in &doc.parts {
        planned.push(("parts", stable_id("parts", &p.sku), vec![
            ("sku", json!(p.sku)), ("name_zh", json!(p.name_zh)), ("name_en", json!(p.name_en)),
            ("unit", json!(p.unit)), ("price_cents", json!(p.price_cents)), ("deleted", json!(false)),
        ]));
    }
    for c in &doc.customers {
        planned.push(("customers", stable_id("customers", &c.code), vec![
            ("code", json!(c.code)), ("name", json!(c.name)), ("contact", json!(c.contact)),
            ("phone", json!(c.phone)), ("email", json!(c.email)), ("deleted", json!(false)),
        ]));
    }
    for s in &doc.sites {
        planned.push(("sites", stable_id("sites", &s.code), vec![
            ("code", json!(s.code)), ("customer_id", json!(stable_id("customers", &s.customer))), ("name", json!(s.name)),
            ("address", json!(s.address)), ("region", json!(s.region)), ("zone", json!(s.zone)), ("deleted", json!(false)),
        ]));
    }
    for a in &doc.assets {
        planned.push(("assets", stable_id("assets", &a.code), vec![
            ("code", json!(a.code)), ("site_id", json!(stable_id("sites", &a.site))), ("asset_type", json!(a.asset_type)),
            ("name", json!(a.name)), ("model", json!(a.model)), ("serial", json!(a.serial)), ("location", json!(a.location)),
            ("installed_on", json!(a.installed_on)), ("warranty_ends", json!(a.warranty_ends)), ("deleted", json!(false)),
        ]));
    }
    for c in &doc.contracts {
        planned.push(("contracts", stable_id("contracts", &c.number), vec![
            ("number", json!(c.number)), ("customer_id", json!(stable_id("customers", &c.customer))),
            ("starts_on", json!(c.starts_on)), ("ends_on", json!(c.ends_on)), ("asset_ids", ids("assets", &c.assets)), ("deleted", json!(false)),
        ]));
    }
    let published_at = crate::now_text();
    for t in &doc.checklist_templates {
        let id = stable_id("checklist_templates", &format!("{}@{}", t.code, t.version));
        let mut fields = vec![("code", json!(t.code)), ("version", json!(t.version)), ("body", serde_json::to_value(t).expect("template serializes")), ("deleted", json!(false))];
        if w.load("checklist_templates", &id)?.is_none() {
            fields.push(("published_at", json!(published_at)));
        }
        planned.push(("checklist_templates", id, fields));
    }
    let order_ids: Vec<String> = orders.iter().map(|o| stable_id("work_orders", &o.row.number)).collect();
    w.prefetch("work_orders", order_ids.iter().map(String::as_str))?;
    for (o, id) in orders.iter().zip(order_ids) {
        let stored = w.load("work_orders", &id)?;
        let stored = match &stored {
            Some(s) => Some(s.fields()?),
            None => None,
        };
        let w = o.row;
        let mut fields = vec![
            ("number", json!(w.number)), ("kind", json!(w.kind)), ("customer_id", json!(stable_id("customers", &o.customer))),
            ("site_id", json!(o.site_id)), ("asset_ids", ids("assets", &o.asset_codes)),
            ("technician", json!(w.technician)), ("priority", json!(w.priority)), ("category", json!(w.category)),
            ("template_id", json!(o.template_id)), ("problem", json!(w.problem)), ("scheduled_on", json!(w.scheduled_on)),
            ("reported_at", json!(ts(w.reported_at))), ("response_deadline", json!(ts(o.deadline))), ("deleted", json!(false)),
        ];
        // Re-importing must not undo work done in the field: an order already on the server
        // keeps its status, times and revision; only dispatch details are refreshed.
        match &stored {
            None => {
                fields.push(("status", json!(w.status)));
                fields.push(("revision", json!(1)));
                for (field, at) in [("en_route_at", w.en_route_at), ("arrived_at", w.arrived_at), ("completed_at", w.completed_at)] {
                    if let Some(at) = at {
                        fields.push((field, json!(ts(at))));
                    }
                }
            }
            Some(s) if records::text_of(s, "status") == Some("signed") && fields.iter().any(|(f, v)| s.get(*f) != Some(v)) => {
                problems.push(FieldProblem::new(
                    format!("work order {}", w.number),
                    "status",
                    "is signed by the customer; its dispatch details cannot change (amend it on the laptop first)",
                ));
            }
            Some(_) => {}
        }
        planned.push(("work_orders", id, fields));
    }
    if !problems.is_empty() {
        return Err(fieldbook_core::Error::Import { source_name: source_name.to_owned(), problems }.into());
    }

    if let Some(c) = &doc.company {
        w.tx_unbuffered().execute(
            "INSERT INTO settings (key, value) VALUES ('company', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![serde_json::to_string(c).expect("company serializes")],
        )?;
    }
    let mut by_entity: HashMap<&str, Vec<&str>> = HashMap::new();
    for (entity, id, _) in &planned {
        by_entity.entry(entity).or_default().push(id);
    }
    for (entity, ids) in by_entity {
        w.prefetch(entity, ids)?;
    }
    let mut records_changed = 0;
    for (entity, id, fields) in &planned {
        if write_changed(w, entity, id, fields)? {
            records_changed += 1;
        }
    }
    writer.finish()?;
    Ok(ImportReport {
        summary: ImportSummary {
            parts: doc.parts.len(),
            customers: doc.customers.len(),
            sites: doc.sites.len(),
            assets: doc.assets.len(),
            contracts: doc.contracts.len(),
            checklist_templates: doc.checklist_templates.len(),
            work_orders: doc.work_orders.len(),
        },
        records_changed,
    })
}

/// Writes the fields whose values differ from the server's, with one fresh server stamp.
/// Returns whether anything was written.
pub fn write_changed(w: &mut Writer<'_>, entity: &str, id: &str, fields: &[(&str, Value)]) -> Result<bool> {
    let current = w.load(entity, id)?;
    let current = match &current {
        Some(c) => Some(c.fields()?),
        None => None,
    };
    let changed: Map<String, Value> = fields
        .iter()
        .filter(|(f, v)| current.is_none_or(|c| c.get(*f) != Some(v)))
        .map(|(f, v)| ((*f).to_owned(), v.clone()))
        .collect();
    if changed.is_empty() {
        return Ok(false);
    }
    let stamp = w.tick();
    w.apply(&Change { entity, id, fields: &changed, stamps: Stamps::All(&stamp), base: None, author: None })?;
    Ok(true)
}
