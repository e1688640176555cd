//! Human-readable output of the CLI (the `--json` output is the serialized values themselves).

use chrono::{DateTime, Local, Utc};
use fieldbook_core::model::{WorkOrder, WorkOrderSummary};
use fieldbook_core::store::sync::SyncStatus;
use fieldbook_core::store::{Verification, WorkOrderDetail};
use fieldbook_core::OutboxEntry;
use fieldbook_sync::SyncReport;
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
    match o.review_state.as_deref() {
        // The office sent the job back: say so first thing, with what to fix.
        Some("returned") => s.push_str(&format!(
            "退回 Returned by the office: {}\n",
            o.review_note.as_deref().unwrap_or("(no note)")
        )),
        Some("approved") => s.push_str(&format!("审核 Approved by the office{}\n", o.review_note.as_deref().map(|n| format!(": {n}")).unwrap_or_default())),
        _ => {}
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
    for e in &d.escalations {
        s.push_str(&format!("\n升级 Escalated to the {} ({}) at {}: {}\n", e.escalate_to, e.status, local(e.raised_at), e.note));
        if let Some(r) = &e.response {
            s.push_str(&format!("  答复 Office's answer{}: {}\n", e.answered_by.as_deref().map(|b| format!(" ({b})")).unwrap_or_default(), r));
        }
        if e.repair_record_id.is_some() {
            s.push_str(&format!("  repair {}\n", e.repair_record_id.as_deref().unwrap_or_default()));
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
            "  revision {} signed by {} at {}: digest {}, device signature {}{}{}\n",
            c.revision,
            c.signer_name,
            c.signed_at,
            if c.digest_ok { "ok" } else { "MISMATCH" },
            if c.device_signature_ok { "ok" } else { "INVALID" },
            if c.signer_ok { "" } else { ", SIGNER OR ORDER NOT AS SIGNED" },
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

/// "812 B", "4.1 KB", "2.3 MB".
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// A stored RFC 3339 time in local time, or the text as stored if it does not parse.
fn local_ts(s: &str) -> String {
    DateTime::parse_from_rfc3339(s).map(|t| local(t.with_timezone(&Utc))).unwrap_or_else(|_| s.to_owned())
}

pub fn sync_report(r: &SyncReport) -> String {
    let mut s = String::new();
    for w in &r.warnings {
        s.push_str(&format!("WARNING: {w}\n"));
    }
    if let Some(why) = &r.server_restored {
        s.push_str(&format!(
            "Recovered from a restored server: {why}. Re-sent {} record(s) this laptop wrote from its own copies, and pulled again\n",
            r.resent
        ));
    }
    if r.pushed == 0 && r.pulled == 0 {
        s.push_str("Already up to date.\n");
    }
    if r.pushed > 0 {
        let mut parts = vec![format!("{} applied", r.applied)];
        if r.duplicates > 0 {
            parts.push(format!("{} already on the server (resent after a cut connection)", r.duplicates));
        }
        if r.conflicts > 0 {
            parts.push(format!("{} conflicting edit(s) kept for the office to review", r.conflicts));
        }
        if !r.rejected.is_empty() {
            parts.push(format!("{} refused", r.rejected.len()));
        }
        s.push_str(&format!("Pushed {} change(s): {}\n", r.pushed, parts.join(", ")));
        for x in &r.rejected {
            s.push_str(&format!("  ✗ #{} {} {}: {}\n", x.seq, x.entity, x.record_id, x.reason));
        }
    }
    if r.pulled > 0 {
        s.push_str(&format!("Pulled {} change(s) from the server ({} record(s) changed here)\n", r.pulled, r.changed));
    }
    if r.refused > 0 {
        s.push_str(&format!("{} pulled record(s) could not be stored on this laptop; the rest synced. `fieldbook status` lists them\n", r.refused));
    }
    if r.attachments_uploaded > 0 || !r.attachments_pending.is_empty() {
        s.push_str(&format!("Photos and files: {} uploaded, {} still to upload\n", r.attachments_uploaded, r.attachments_pending.len()));
        for p in &r.attachments_pending {
            s.push_str(&format!("  … {}: {}\n", p.id, p.reason));
        }
    }
    if r.token_renewed {
        s.push_str("This laptop's device token had expired; it was renewed with the laptop's device key\n");
    } else if r.token_rotated {
        s.push_str("The server issued this laptop a new device token (routine rotation); the old one no longer works\n");
    }
    s.push_str(&format!("Sent {}, received {} in {:.1} s\n", size(r.bytes_up), size(r.bytes_down), r.duration.as_secs_f64()));
    s
}

pub fn sync_status(st: &SyncStatus) -> String {
    let mut s = match (&st.server_url, st.enrolled) {
        (Some(url), true) => format!("Server:      {url} (technician {})\n", st.technician.as_deref().unwrap_or("?")),
        _ => "Server:      not enrolled — run `fieldbook enroll --server URL --code CODE` with the code from the office\n".to_owned(),
    };
    if let Some(url) = st.server_url.as_deref().filter(|_| st.enrolled) {
        match fieldbook_sync::check_transport(url, st.allow_insecure_http) {
            Ok(true) => s.push_str(&format!("WARNING:     {}\n", fieldbook_sync::insecure_warning(url))),
            Ok(false) => {}
            Err(e) => s.push_str(&format!("NOT SYNCING: {e}\n")),
        }
    }
    if let Some(reason) = &st.revoked_reason {
        s.push_str(&format!("REVOKED:     the office revoked this laptop's access: {reason}\n"));
    }
    s.push_str(&format!("Waiting:     {} change(s) not yet on the server\n", st.pending_changes));
    s.push_str(&format!("Last sync:   {}\n", st.last_success_at.as_deref().map(local_ts).unwrap_or_else(|| "never".into())));
    if let Some((at, resent)) = &st.server_restore {
        s.push_str(&format!("Server restore: found at {}; {resent} record(s) this laptop wrote were sent again\n", local_ts(at)));
    }
    match (&st.offline_lock, st.offline_lock_days) {
        (Some(l), _) => s.push_str(&format!(
            "LOCKED:      not synced for {} day(s) (limit {}, set by your office): records are hidden until `fieldbook sync` succeeds; unsynced work is kept\n",
            l.since_last_sync_days, l.limit_days
        )),
        (None, Some(days)) => s.push_str(&format!("Offline lock: after {days} day(s) without a sync (set by your office)\n")),
        (None, None) => {}
    }
    if let Some(e) = &st.last_error {
        let at = st.last_attempt_at.as_deref().map(local_ts).unwrap_or_default();
        s.push_str(&format!("Last error:  {e} ({at})\n"));
    }
    if let Some(ms) = st.clock_ahead_ms {
        s.push_str(&format!(
            "WARNING:     this laptop's clock is {} minutes ahead of the server's. The server refuses changes stamped more than {} minutes ahead \
             and keeps them for the office; set the date and time to automatic.\n",
            ms / 60_000,
            fieldbook_core::hlc::MAX_AHEAD_MS / 60_000
        ));
    }
    if !st.rejections.is_empty() {
        s.push_str(&format!("Refused by the server ({}):\n", st.rejections.len()));
        for x in &st.rejections {
            s.push_str(&format!("  ✗ #{} {} {}: {}\n", x.seq, x.entity, x.record_id, x.reason));
        }
    }
    if st.pull_refused_total > 0 {
        s.push_str(&format!(
            "Not stored here ({}): pulled from the server but refused by this laptop; everything else synced, and a corrected version from the office replaces each:\n",
            st.pull_refused_total
        ));
        for x in &st.pull_refused {
            s.push_str(&format!("  ✗ feed #{} {} {}: {}\n", x.feed_seq, x.entity, x.record_id, x.reason));
        }
        if st.pull_refused_total > st.pull_refused.len() as i64 {
            s.push_str(&format!("  … and {} more\n", st.pull_refused_total - st.pull_refused.len() as i64));
        }
    }
    s
}

/// A technician's day of time entries and the supervisor's review of it.
pub fn day_time(d: &fieldbook_core::store::time::DayTime) -> String {
    let mut s = format!("{} {} — {} min\n", d.technician, d.work_date, d.total);
    for e in &d.entries {
        let activity = e.activity_shown.map_or("other", |a| a.as_str());
        let order = e.work_order_number.as_deref().unwrap_or("");
        s.push_str(&format!("  {:>5} min  {}  {:<10} {:<12} {}\n", e.entry.minutes, e.entry.category, activity, order, e.entry.note.as_deref().unwrap_or("")));
    }
    match &d.review {
        Some(r) => {
            s.push_str(&format!("Review: {} by {} at {}", r.status, r.reviewed_by, r.reviewed_at));
            if let Some(n) = &r.note {
                s.push_str(&format!(" — {n}"));
            }
            s.push('\n');
            if d.changed_since_sign_off {
                s.push_str("Changed since it was signed off: the supervisor sees the day flagged.\n");
            }
        }
        None => s.push_str("Not reviewed yet.\n"),
    }
    s
}

/// An order's units in the workshop loop, one block each with every step so far.
pub fn workshop_jobs(jobs: &[fieldbook_core::store::workshop::WorkshopJob]) -> String {
    use std::fmt::Write;
    if jobs.is_empty() {
        return "No unit of this order is in the workshop loop\n".into();
    }
    let mut s = String::new();
    for j in jobs {
        let _ = writeln!(s, "Receipt {} — {} ({}) — {}", j.receipt_number, j.unit, j.serial.as_deref().unwrap_or("no serial"), j.stage);
        let _ = writeln!(s, "  job {}", j.id);
        let _ = writeln!(s, "  received {} by {} from {}; condition: {}", j.received_at, j.received_by, j.receipt_signer, j.condition);
        let step = |s: &mut String, what: &str, at: &Option<String>, by: &Option<String>| {
            if let Some(at) = at {
                let _ = writeln!(s, "  {what} {at} by {}", by.as_deref().unwrap_or("?"));
            }
        };
        step(&mut s, "goods-in", &j.goods_in_at, &j.goods_in_by);
        if let Some(at) = &j.repaired_at {
            let parts: Vec<String> = j.repair_parts.iter().map(|p| format!("{} × {}", p.name, p.quantity)).collect();
            let _ = writeln!(s, "  repair card {at} by {}: {} min; {}; parts: {}", j.repaired_by.as_deref().unwrap_or("?"), j.repair_minutes.unwrap_or(0),
                j.repair_done.as_deref().unwrap_or(""), if parts.is_empty() { "none".into() } else { parts.join(", ") });
        }
        if let (Some(result), Some(at)) = (&j.check_result, &j.checked_at) {
            let _ = writeln!(s, "  check {at} by {}: {result}{}", j.checked_by.as_deref().unwrap_or("?"), j.check_note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default());
        }
        step(&mut s, "goods-out", &j.goods_out_at, &j.goods_out_by);
        if let Some(at) = &j.returned_at {
            let _ = writeln!(s, "  returned {at}, signed by {}; receipt void", j.return_signer.as_deref().unwrap_or("?"));
        }
    }
    s
}
