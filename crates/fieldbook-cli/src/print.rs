//! Human-readable output of the CLI (the `--json` output is the serialized values themselves).

use chrono::{DateTime, Local, Utc};
use fieldbook_core::model::{WorkOrder, WorkOrderSummary};
use fieldbook_core::store::{Verification, WorkOrderDetail};
use fieldbook_core::OutboxEntry;
use serde::Serialize;

pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or the text `human` makes.
    pub fn show<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).expect("output serializes"));
        } else {
            print!("{}", human());
        }
    }
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// "2 h 05 min left" or "BREACHED 0 h 40 min ago".
pub fn time_left(deadline: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let mins = (deadline - now).num_minutes();
    if mins >= 0 {
        format!("{} h {:02} min left", mins / 60, mins % 60)
    } else {
        format!("BREACHED {} h {:02} min ago", -mins / 60, -mins % 60)
    }
}

pub fn orders(orders: &[WorkOrderSummary], now: DateTime<Utc>) -> String {
    if orders.is_empty() {
        return "No work orders.\n".into();
    }
    let mut s = String::new();
    for o in orders {
        let left = if o.arrived_at.is_some() { "arrived".to_string() } else { time_left(o.response_deadline, now) };
        s.push_str(&format!(
            "{:<18} {:<17} {:<10} {:<24} {}\n{:<18} {} · {}\n\n",
            o.number, o.kind.as_str(), o.status.as_str(), left, o.customer_name, "", o.site_name, o.address
        ));
    }
    s
}

pub fn arrival(o: &WorkOrder) -> String {
    match o.arrived_at {
        Some(at) if at <= o.response_deadline => format!("Arrived at {} — within the response commitment\n", local(at)),
        Some(at) => format!("Arrived at {} — {} after the response deadline\n", local(at), {
            let m = (at - o.response_deadline).num_minutes();
            format!("{} h {:02} min", m / 60, m % 60)
        }),
        None => "On site\n".into(),
    }
}

pub fn detail(d: &WorkOrderDetail) -> String {
    let o = &d.order;
    let mut s = format!(
        "{}  {} / {}  [{}{}]\n客户 Customer: {}\n现场 Site:     {} — {} ({}, {})\n类别 Category: {} {} / {}\n报修 Reported: {}   时限 Deadline: {}\n",
        o.number, o.kind.label_zh(), o.kind.label_en(), o.status, if o.revision > 1 { format!(", revision {}", o.revision) } else { String::new() },
        d.customer.name, d.site.name, d.site.address, d.site.region, d.site.zone, o.category, o.category.label_zh(), o.category.label_en(),
        local(o.reported_at), local(o.response_deadline),
    );
    if let Some(p) = &o.problem {
        s.push_str(&format!("问题 Problem:  {p}\n"));
    }
    if let Some(a) = o.arrived_at {
        s.push_str(&format!("到场 Arrived:  {}\n", local(a)));
    }
    s.push_str("\n设备 Assets:\n");
    for a in &d.assets {
        s.push_str(&format!("  {:<12} {} {} {}\n", a.code, a.name, a.model.as_deref().unwrap_or(""), a.serial.as_deref().unwrap_or("")));
    }
    if let Some(t) = &d.template {
        s.push_str(&format!("\n检查表 Checklist: {} v{} — {} answered, {} required open\n", t.title.both(), t.version, d.answers.len(), d.missing.len()));
        for m in &d.missing {
            s.push_str(&format!("  ☐ {}\n", m.field));
        }
    }
    if !d.findings.is_empty() {
        s.push_str("\n发现 Findings:\n");
        for f in &d.findings {
            s.push_str(&format!("  ⚠ {} {}: {}\n", f.item_key, f.label.both(), f.reason.both()));
        }
    }
    for r in &d.repairs {
        s.push_str(&format!("\n维修 Repair ({} min, {}): {} / {} / {}\n", r.labour_minutes, r.category, r.fault, r.cause, r.action));
        for p in &r.parts {
            s.push_str(&format!("  part {} × {}{}\n", p.sku, p.quantity, if p.faulty_returned { " (faulty part returned)" } else { "" }));
        }
    }
    if let Some(c) = &d.satisfaction {
        s.push_str(&format!("\n满意度 Satisfaction: attitude {} skill {} arrival {} promise {}\n", c.attitude, c.skill, c.arrival, c.promise));
    }
    for sig in &d.signatures {
        s.push_str(&format!("\n签字 Signed (revision {}) by {} at {}\n  digest {}\n", sig.revision, sig.signer_name, local(sig.signed_at), sig.digest));
    }
    s
}

pub fn verification(v: &Verification) -> String {
    let mut s = format!("{} revision {} ({}): {}\n", v.order, v.revision, v.status, if v.intact { "INTACT — the signed record is unaltered" } else { "NOT INTACT" });
    for c in &v.signatures {
        s.push_str(&format!(
            "  revision {} signed by {} at {}: digest {}, device signature {}{}\n",
            c.revision,
            c.signer_name,
            c.signed_at,
            if c.digest_ok { "ok" } else { "MISMATCH" },
            if c.device_signature_ok { "ok" } else { "INVALID" },
            match c.records_match {
                Some(true) => ", records unchanged",
                Some(false) => ", RECORDS CHANGED",
                None => "",
            }
        ));
    }
    for p in &v.problems {
        s.push_str(&format!("  ✗ {p}\n"));
    }
    s
}

pub fn outbox(entries: &[OutboxEntry]) -> String {
    let mut s = format!("{} change(s) waiting to sync\n", entries.len());
    for e in entries {
        let fields: Vec<&str> = e.fields.keys().map(String::as_str).collect();
        s.push_str(&format!("  #{:<5} {:<20} {}  {}\n", e.seq, e.entity, e.record_id, fields.join(", ")));
    }
    s
}
