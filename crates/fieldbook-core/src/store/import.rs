//! Loading an import document into the store: everything is checked first, every problem is
//! reported at once, and only a fully valid document is written, in one transaction.

use std::collections::{HashMap, HashSet};

use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::{json, Value};

use super::{ts, Store};
use crate::error::{Error, FieldProblem, Result};
use crate::import::{stable_id, ImportDocument};
use crate::service_calendar::ContractTerms;
use crate::model::Zone;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    pub parts: usize,
    pub customers: usize,
    pub sites: usize,
    pub assets: usize,
    pub contracts: usize,
    pub checklist_templates: usize,
    pub work_orders: usize,
}

impl Store {
    pub fn import(&mut self, doc: &ImportDocument, source_name: &str) -> Result<ImportSummary> {
        // Deadlines of orders without one: by the calendar in force at each call, under the
        // file's contracts as well as the store's.
        let calendars = super::service_calendar::versions(&self.conn)?;
        let file_contracts: Vec<ContractTerms> = doc
            .contracts
            .iter()
            .map(|c| ContractTerms {
                number: c.number.clone(),
                customer_id: stable_id("customers", &c.customer),
                starts_on: c.starts_on,
                ends_on: c.ends_on,
                asset_ids: c.assets.iter().map(|a| stable_id("assets", a)).collect(),
            })
            .collect();
        let mut problems = Vec::new();
        let mut bad = |record: String, field: &str, problem: String| problems.push(FieldProblem::new(record, field, problem));

        // Codes known: in the file, or already in the store.
        let exists = |table: &str, col: &str, code: &str| -> Result<bool> {
            Ok(self.conn.query_row(&format!("SELECT count(*) FROM {table} WHERE {col} = ?1 AND deleted = 0"), [code], |r| r.get::<_, i64>(0))? > 0)
        };
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
        for s in &doc.sites {
            if !customers.contains(s.customer.as_str()) && !exists("customers", "code", &s.customer)? {
                bad(format!("site {}", s.code), "customer", format!("customer '{}' is neither in the file nor in the store", s.customer));
            }
        }
        // Sites by code, with their customer code and zone (from the file or the store).
        let mut sites: HashMap<String, (String, Zone)> = doc.sites.iter().map(|s| (s.code.clone(), (s.customer.clone(), s.zone))).collect();
        let mut asset_site: HashMap<String, String> = doc.assets.iter().map(|a| (a.code.clone(), a.site.clone())).collect();
        for a in &doc.assets {
            if !sites.contains_key(&a.site) && !self.load_site_ref(&a.site, &mut sites)? {
                bad(format!("asset {}", a.code), "site", format!("site '{}' is neither in the file nor in the store", a.site));
            }
            if let (Some(i), Some(w)) = (a.installed_on, a.warranty_ends) {
                if w < i {
                    bad(format!("asset {}", a.code), "warranty_ends", format!("{w} is before installed_on {i}"));
                }
            }
        }
        for c in &doc.contracts {
            if !customers.contains(c.customer.as_str()) && !exists("customers", "code", &c.customer)? {
                bad(format!("contract {}", c.number), "customer", format!("customer '{}' is neither in the file nor in the store", c.customer));
            }
            if c.ends_on < c.starts_on {
                bad(format!("contract {}", c.number), "ends_on", format!("{} is before starts_on {}", c.ends_on, c.starts_on));
            }
            for a in &c.assets {
                if !asset_site.contains_key(a) && !self.load_asset_ref(a, &mut asset_site)? {
                    bad(format!("contract {}", c.number), "assets", format!("asset '{a}' is neither in the file nor in the store"));
                }
            }
        }
        let mut template_versions: HashMap<String, i64> = HashMap::new();
        for t in &doc.checklist_templates {
            if let Err(ps) = t.validate() {
                problems.extend(ps);
            }
            let latest = template_versions.entry(t.code.clone()).or_insert(0);
            *latest = (*latest).max(t.version);
            // A stored version never changes: re-importing it must bring the same body.
            let stored: Option<String> = self.conn.query_row("SELECT body FROM checklist_templates WHERE code = ?1 AND version = ?2", rusqlite::params![t.code, t.version], |r| r.get(0)).optional()?;
            if let Some(body) = stored {
                if serde_json::from_str::<Value>(&body).ok() != serde_json::to_value(t).ok() {
                    problems.push(FieldProblem::new(format!("checklist template {} v{}", t.code, t.version), "version", "this version is already stored with different content; publish the change as a new version"));
                }
            }
        }
        let mut orders = Vec::new();
        for w in &doc.work_orders {
            let record = format!("work order {}", w.number);
            for (field, problem) in w.time_problems() {
                problems.push(FieldProblem::new(&record, field, problem));
            }
            let Some((customer, zone)) = sites.get(&w.site).cloned().or_else(|| self.load_site_ref(&w.site, &mut sites).ok().filter(|f| *f).and_then(|_| sites.get(&w.site).cloned())) else {
                problems.push(FieldProblem::new(&record, "site", format!("site '{}' is neither in the file nor in the store", w.site)));
                continue;
            };
            let mut asset_codes = w.assets.clone();
            for a in &w.assets {
                match asset_site.get(a).cloned().or_else(|| self.load_asset_ref(a, &mut asset_site).ok().filter(|f| *f).and_then(|_| asset_site.get(a).cloned())) {
                    None => problems.push(FieldProblem::new(&record, "assets", format!("asset '{a}' is neither in the file nor in the store"))),
                    Some(s) if s != w.site => problems.push(FieldProblem::new(&record, "assets", format!("asset '{a}' is at site '{s}', not at this order's site '{}'", w.site))),
                    Some(_) => {}
                }
            }
            if asset_codes.is_empty() {
                asset_codes = doc.assets.iter().filter(|a| a.site == w.site).map(|a| a.code.clone()).collect();
                let mut stmt = self.conn.prepare("SELECT a.code FROM assets a JOIN sites s ON s.id = a.site_id WHERE s.code = ?1 AND a.deleted = 0")?;
                for code in stmt.query_map([&w.site], |r| r.get::<_, String>(0))? {
                    let code = code?;
                    if !asset_codes.contains(&code) {
                        asset_codes.push(code);
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
                    let stored_latest: Option<i64> = self.conn.query_row("SELECT max(version) FROM checklist_templates WHERE code = ?1", [code], |r| r.get(0))?;
                    let version = version.or_else(|| template_versions.get(code).copied().max(stored_latest).or(stored_latest));
                    let known = version.is_some_and(|v| {
                        doc.checklist_templates.iter().any(|t| t.code == code && t.version == v)
                            || self.conn.query_row("SELECT count(*) FROM checklist_templates WHERE code = ?1 AND version = ?2", rusqlite::params![code, v], |r| r.get::<_, i64>(0)).unwrap_or(0) > 0
                    });
                    if !known {
                        problems.push(FieldProblem::new(&record, "template", format!("checklist template '{spec}' is neither in the file nor in the store")));
                        None
                    } else {
                        Some(stable_id("checklist_templates", &format!("{code}@{}", version.unwrap())))
                    }
                }
            };
            let deadline = match w.response_deadline {
                Some(d) => d,
                None => {
                    let asset_ids: Vec<String> = asset_codes.iter().map(|a| stable_id("assets", a)).collect();
                    super::service_calendar::deadline_with(&self.conn, &calendars, &file_contracts, w.reported_at, zone, &stable_id("customers", &customer), &asset_ids)?.on_site_by
                }
            };
            orders.push((w, customer, asset_codes, template_id, deadline));
        }
        if !problems.is_empty() {
            return Err(Error::Import { source_name: source_name.to_owned(), problems });
        }

        let summary = ImportSummary {
            parts: doc.parts.len(),
            customers: doc.customers.len(),
            sites: doc.sites.len(),
            assets: doc.assets.len(),
            contracts: doc.contracts.len(),
            checklist_templates: doc.checklist_templates.len(),
            work_orders: doc.work_orders.len(),
        };
        let ids = |entity: &str, codes: &[String]| -> Value { Value::Array(codes.iter().map(|c| Value::String(stable_id(entity, c))).collect()) };
        self.write(|tx| {
            let now = ts(tx.now());
            if let Some(c) = &doc.company {
                tx.conn().execute(
                    "INSERT INTO settings(key, value) VALUES ('company', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [serde_json::to_string(c).expect("company serializes")],
                )?;
            }
            for p in &doc.parts {
                tx.put_reference("parts", &stable_id("parts", &p.sku), &[
                    ("sku", json!(p.sku)), ("name_zh", json!(p.name_zh)), ("name_en", json!(p.name_en)),
                    ("unit", json!(p.unit)), ("price_cents", json!(p.price_cents)), ("deleted", json!(false)),
                ])?;
            }
            for c in &doc.customers {
                tx.put_reference("customers", &stable_id("customers", &c.code), &[
                    ("code", json!(c.code)), ("name", json!(c.name)), ("contact", json!(c.contact)),
                    ("phone", json!(c.phone)), ("email", json!(c.email)), ("deleted", json!(false)),
                ])?;
            }
            for s in &doc.sites {
                tx.put_reference("sites", &stable_id("sites", &s.code), &[
                    ("code", json!(s.code)), ("customer_id", json!(stable_id("customers", &s.customer))), ("name", json!(s.name)),
                    ("address", json!(s.address)), ("region", json!(s.region)), ("zone", json!(s.zone)), ("deleted", json!(false)),
                ])?;
            }
            for a in &doc.assets {
                tx.put_reference("assets", &stable_id("assets", &a.code), &[
                    ("code", json!(a.code)), ("site_id", json!(stable_id("sites", &a.site))), ("asset_type", json!(a.asset_type)),
                    ("name", json!(a.name)), ("model", json!(a.model)), ("serial", json!(a.serial)), ("location", json!(a.location)),
                    ("installed_on", json!(a.installed_on)), ("warranty_ends", json!(a.warranty_ends)), ("deleted", json!(false)),
                ])?;
            }
            for c in &doc.contracts {
                tx.put_reference("contracts", &stable_id("contracts", &c.number), &[
                    ("number", json!(c.number)), ("customer_id", json!(stable_id("customers", &c.customer))),
                    ("starts_on", json!(c.starts_on)), ("ends_on", json!(c.ends_on)), ("asset_ids", ids("assets", &c.assets)), ("deleted", json!(false)),
                ])?;
            }
            for t in &doc.checklist_templates {
                tx.put_reference("checklist_templates", &stable_id("checklist_templates", &format!("{}@{}", t.code, t.version)), &[
                    ("code", json!(t.code)), ("version", json!(t.version)), ("body", serde_json::to_value(t).expect("template serializes")),
                    ("published_at", json!(now)), ("deleted", json!(false)),
                ])?;
            }
            for (w, customer, asset_codes, template_id, deadline) in &orders {
                let id = stable_id("work_orders", &w.number);
                // Re-importing must not undo work done on the laptop: an order already stored
                // keeps its status, times and revision; only dispatch details are refreshed.
                let stored: bool = tx.conn().query_row("SELECT count(*) FROM work_orders WHERE id = ?1", [&id], |r| r.get::<_, i64>(0))? > 0;
                let mut fields = vec![
                    ("number", json!(w.number)), ("kind", json!(w.kind)), ("customer_id", json!(stable_id("customers", customer))),
                    ("site_id", json!(stable_id("sites", &w.site))), ("asset_ids", ids("assets", asset_codes)),
                    ("technician", json!(w.technician)), ("priority", json!(w.priority)), ("category", json!(w.category)),
                    ("template_id", json!(template_id)), ("problem", json!(w.problem)), ("scheduled_on", json!(w.scheduled_on)),
                    ("reported_at", json!(ts(w.reported_at))), ("response_deadline", json!(ts(*deadline))), ("deleted", json!(false)),
                ];
                if !stored {
                    fields.push(("status", json!(w.status)));
                    fields.push(("revision", json!(1)));
                    for (field, at) in [("en_route_at", w.en_route_at), ("arrived_at", w.arrived_at), ("completed_at", w.completed_at)] {
                        if let Some(at) = at {
                            fields.push((field, json!(ts(at))));
                        }
                    }
                }
                tx.put_reference("work_orders", &id, &fields)?;
            }
            Ok(())
        })?;
        Ok(summary)
    }

    fn load_site_ref(&self, code: &str, sites: &mut HashMap<String, (String, Zone)>) -> Result<bool> {
        let row: Option<(String, Zone)> = self
            .conn
            .query_row("SELECT c.code, s.zone FROM sites s JOIN customers c ON c.id = s.customer_id WHERE s.code = ?1 AND s.deleted = 0", [code], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map(|r| sites.insert(code.to_owned(), r)).is_some())
    }

    fn load_asset_ref(&self, code: &str, assets: &mut HashMap<String, String>) -> Result<bool> {
        let row: Option<String> = self
            .conn
            .query_row("SELECT s.code FROM assets a JOIN sites s ON s.id = a.site_id WHERE a.code = ?1 AND a.deleted = 0", [code], |r| r.get(0))
            .optional()?;
        Ok(row.map(|r| assets.insert(code.to_owned(), r)).is_some())
    }
}
