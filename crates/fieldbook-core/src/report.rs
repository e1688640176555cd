//! The bilingual (zh-CN / en) service report PDF: the signed on-site repair record
//! (上门维修记录表) the customer keeps as proof of the work done.
//!
//! This module owns the report's content, its page layout and the CJK font it embeds. It reads a
//! [`WorkOrderDetail`] as the store returns it and writes PDF bytes with `krilla`; it never
//! touches the store.
//!
//! Layout is deliberately simple: text is measured with the font's own advances, wrapped into
//! fixed columns and flowed onto A4 pages by [`Layout`]; the pages are drawn in one pass at the
//! end, so that every footer knows the page count.
//!
//! The font is found at run time ([`CJK_FONT_ENV`], then [`FONT_CANDIDATES`]) and read once per
//! process. krilla embeds only the glyphs used (a subset, a few tens of KB) with ToUnicode maps,
//! so the text of the PDF can be searched and copied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Local, Utc};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LineCap, LineJoin, Stroke as Pen};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use serde_json::Value;
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::raw::FileRef;
use skrifa::string::StringId;
use skrifa::{FontRef, MetadataProvider};

use crate::checklist::{ItemKind, Slot};

/// The complaint result notice: a child module so it lays out its page with this one's layout.
#[path = "complaint_notice.rs"]
pub mod complaint_notice;
/// The expiry notice of a maintenance contract: laid out like the complaint notice.
#[path = "expiry_notice.rs"]
pub mod expiry_notice;
use crate::error::{Error, Result};
use crate::import::Company;
use crate::model::{Category, Part, Priority, Signature, Status, Stroke, Zone};
use crate::store::WorkOrderDetail;

/// Renders the service report of one work order as PDF bytes.
///
/// `company` is printed in the header (“Fieldbook” when `None`); `parts` is the parts catalogue,
/// used to name the parts of repair records in both languages.
pub fn render(detail: &WorkOrderDetail, company: Option<&Company>, parts: &[Part]) -> Result<Vec<u8>> {
    let fonts = fonts()?;
    let d = detail;
    let company_zh = company.map_or("Fieldbook", |c| c.name_zh.as_str());
    let mut l = Layout::new(fonts, format!("{company_zh} · 上门维修记录表 / On-site Service Record · {}", d.order.number));
    header(&mut l, d, company);
    order_info(&mut l, d);
    customer_and_site(&mut l, d);
    assets(&mut l, d);
    timeline(&mut l, d);
    checklist(&mut l, d);
    repairs(&mut l, d, parts);
    satisfaction(&mut l, d);
    sign_off(&mut l, d);
    l.finish(&d.order.number, d.order.revision)
}

// ---------------------------------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------------------------------

/// The signature that covers the order as it is now: none when the order was amended after
/// signing (the earlier revision's signature does not cover the amended record).
fn current_signature(d: &WorkOrderDetail) -> Option<&Signature> {
    d.signatures.last().filter(|s| s.revision == d.order.revision && d.order.status == Status::Signed)
}

/// The company's letterhead (names, phone, address; "Fieldbook" without a company), a rule,
/// and the document's title centred below it. Every document Fieldbook prints starts so.
fn letterhead(l: &mut Layout, company: Option<&Company>, title: &str) {
    let top = l.y;
    let right = MARGIN + CONTENT_W;
    match company {
        Some(c) => {
            l.text(MARGIN, top + 14.0, H_COMPANY, &c.name_zh);
            l.text(MARGIN, top + 27.0, MUTED, &c.name_en);
            let contact: Vec<String> = [c.phone.as_ref().map(|p| format!("电话 / Tel: {p}")), c.address.clone()].into_iter().flatten().collect();
            for (i, line) in contact.iter().enumerate() {
                l.text_right(right, top + 12.0 + 11.0 * i as f32, SMALL, line);
            }
        }
        None => l.text(MARGIN, top + 14.0, H_COMPANY, "Fieldbook"),
    }
    l.y = top + 34.0;
    l.hline(MARGIN, right, 1.0, INK);
    l.y += 26.0;
    l.text_center(PAGE_W / 2.0, l.y, H_TITLE, title);
    l.y += 14.0;
}

fn header(l: &mut Layout, d: &WorkOrderDetail, company: Option<&Company>) {
    letterhead(l, company, "上门维修记录表 / On-site Service Record");
    let right = MARGIN + CONTENT_W;
    let (badge, color) = if current_signature(d).is_some() { ("客户已签字 / SIGNED", GREEN) } else { ("未签字 / NOT SIGNED", RED) };
    let no = format!("编号 / No. {}", d.order.number);
    l.text(MARGIN, l.y, BOLD, &no);
    let style = BOLD.color(color);
    let w = l.width(style, badge) + 12.0;
    l.rect(right - w, l.y - 11.0, w, 15.0, None, Some(color));
    l.text_right(right - 6.0, l.y, style, badge);
    l.y += 10.0;
}

fn order_info(l: &mut Layout, d: &WorkOrderDetail) {
    let o = &d.order;
    l.band("工单信息 / Work order");
    l.grid(&[
        ("工单号 / Order No.", o.number.clone(), BOLD),
        ("服务类型 / Kind", both(o.kind.label_zh(), o.kind.label_en()), BODY),
        ("服务类别 / Category", category(o.category), BODY),
        ("状态 / Status", format!("{} / {} · 第\u{a0}{r}\u{a0}版 / Rev.\u{a0}{r}", o.status.label_zh(), o.status.as_str().replace('_', " "), r = o.revision), BODY),
        ("技术员 / Technician", o.technician.clone().unwrap_or_else(|| "—".into()), BODY),
        ("优先级 / Priority", priority(o.priority), if o.priority >= Priority::High { BOLD } else { BODY }),
        ("计划日期 / Scheduled", o.scheduled_on.format("%Y-%m-%d").to_string(), BODY),
        ("检查表 / Checklist", d.template.as_ref().map_or("—".into(), |t| format!("{} v{}", t.code, t.version)), BODY),
    ]);
    if let Some(p) = &o.problem {
        l.wide("报修内容 / Reported problem", p, BODY);
    }
}

fn customer_and_site(l: &mut Layout, d: &WorkOrderDetail) {
    let (c, s) = (&d.customer, &d.site);
    l.band("客户与现场 / Customer and site");
    let contact = [c.contact.as_deref(), c.phone.as_deref()].into_iter().flatten().collect::<Vec<_>>().join("\n");
    l.grid(&[
        ("客户 / Customer", format!("{} ({})", c.name, c.code), BOLD),
        ("联系人 / Contact", if contact.is_empty() { "—".into() } else { contact }, BODY),
        ("现场 / Site", format!("{} ({})", s.name, s.code), BODY),
        ("区域 / Region", format!("{} · {}", s.region, zone(s.zone)), BODY),
    ]);
    l.wide("地址 / Address", &s.address, BODY);
}

fn assets(l: &mut Layout, d: &WorkOrderDetail) {
    if d.assets.is_empty() {
        return;
    }
    l.band("设备 / Equipment");
    let cols = [(MARGIN, 80.0), (MARGIN + 84.0, 170.0), (MARGIN + 258.0, 90.0), (MARGIN + 352.0, 80.0), (MARGIN + 436.0, CONTENT_W - 436.0)];
    let head = ["编号 / Code", "名称 / Name", "型号 / Model", "序列号 / Serial", "位置 / Location"];
    l.table_head(vec![(cols.iter().zip(head).map(|(&(x, w), h)| Cell::new(x, w, LABEL, h)).collect(), Some(SHADE))]);
    for a in &d.assets {
        let vals = [a.code.as_str(), &a.name, a.model.as_deref().unwrap_or("—"), a.serial.as_deref().unwrap_or("—"), a.location.as_deref().unwrap_or("—")];
        l.row(&cols.iter().zip(vals).map(|(&(x, w), v)| Cell::new(x, w, BODY, v)).collect::<Vec<_>>(), None);
        l.hline(MARGIN, MARGIN + CONTENT_W, 0.3, RULE);
    }
    l.end_table();
}

fn timeline(l: &mut Layout, d: &WorkOrderDetail) {
    let o = &d.order;
    l.band(&format!("时间 / Times ({})", o.reported_at.with_timezone(&Local).format("UTC%:z")));
    let (met, style) = match o.arrived_at {
        Some(a) if a <= o.response_deadline => ("✓ 按时到场，符合响应承诺 / On time: response commitment met".to_owned(), BODY.color(GREEN)),
        Some(a) => {
            let (zh, en) = duration((a - o.response_deadline).num_minutes());
            (format!("× 超时 {zh}，未达响应承诺 / Late by {en}: response commitment missed"), BOLD.color(RED))
        }
        None => ("未到场 / Not yet on site".to_owned(), MUTED),
    };
    l.grid(&[
        ("报修时间 / Reported", when(o.reported_at), BODY),
        ("响应时限 / Respond by", when(o.response_deadline), BODY),
        ("到场时间 / Arrived", o.arrived_at.map_or("—".into(), when), BODY),
        ("完工时间 / Completed", o.completed_at.map_or("—".into(), when), BODY),
    ]);
    l.wide("响应承诺 / Response", &met, style);
}

fn checklist(l: &mut Layout, d: &WorkOrderDetail) {
    let Some(t) = &d.template else { return };
    l.band(&format!("巡检记录 / Inspection checklist — {}", t.title.both()));
    let summary = if d.findings.is_empty() {
        ("未发现问题 / No findings".to_owned(), BODY.color(GREEN))
    } else {
        (format!("▲ 发现问题 {n} 项（下表红色标记）/ {n} finding(s), marked in red below", n = d.findings.len()), BOLD.color(RED))
    };
    l.wide("检查结论 / Result", &summary.0, summary.1);
    if !d.missing.is_empty() {
        l.wide("未完成 / Incomplete", &format!("尚有 {n} 项必填项未填写 / {n} required item(s) not answered", n = d.missing.len()), BOLD.color(RED));
    }
    if !d.follow_ups.is_empty() {
        l.wide("后续维修单 / Follow-up orders", &d.follow_ups.join(", "), BODY);
    }
    let values: BTreeMap<Slot, Value> = d.answers.iter().map(|a| (slot(&a.item_key, &a.asset_id), a.value.clone())).collect();
    let notes: BTreeMap<Slot, &str> = d.answers.iter().filter_map(|a| Some((slot(&a.item_key, &a.asset_id), a.note.as_deref()?))).collect();
    let cols = [(MARGIN, 226.0), (MARGIN + 232.0, 118.0), (MARGIN + 356.0, CONTENT_W - 356.0)];
    let mut group: Option<(&str, String)> = None;
    for (slot, section, item) in t.slots(&d.assets) {
        if !t.is_shown(&slot, &values) {
            continue;
        }
        if group.as_ref() != Some(&(section.key.as_str(), slot.asset_id.clone())) {
            group = Some((section.key.as_str(), slot.asset_id.clone()));
            let asset = d.assets.iter().find(|a| a.id == slot.asset_id).map(|a| format!(" — {} {}", a.code, a.name)).unwrap_or_default();
            let head = ["检查项目 / Item", "结果 / Result", "说明 / Remarks"];
            l.end_table();
            l.gap(4.0);
            l.table_head(vec![
                (vec![Cell::new(MARGIN, CONTENT_W, BOLD, format!("{}{asset}", section.title.both()))], None),
                (cols.iter().zip(head).map(|(&(x, w), h)| Cell::new(x, w, LABEL, h)).collect(), Some(SHADE)),
            ]);
        }
        let finding = d.findings.iter().find(|f| f.item_key == slot.item_key && f.asset_id == slot.asset_id);
        let value = values.get(&slot);
        let (result, result_style) = match (value, finding) {
            (None, _) => ("未填写 / not answered".to_owned(), if item.required { BODY.color(RED) } else { MUTED }),
            (Some(v), Some(_)) => (format!("▲ {}", answer_text(&item.kind, v)), BOLD.color(RED)),
            (Some(v), None) => (answer_text(&item.kind, v), BODY),
        };
        let mut remarks = Vec::new();
        if let Some(f) = finding {
            remarks.push((BODY.color(RED), f.reason.both()));
        } else if let (ItemKind::Numeric { unit, min, max }, Some(_)) = (&item.kind, value) {
            let range = match (min, max) {
                (Some(lo), Some(hi)) if lo == hi => format!("{lo} {unit}"),
                (Some(lo), Some(hi)) => format!("{lo}–{hi} {unit}"),
                (Some(lo), None) => format!("≥ {lo} {unit}"),
                (None, Some(hi)) => format!("≤ {hi} {unit}"),
                (None, None) => String::new(),
            };
            if !range.is_empty() {
                remarks.push((MUTED, format!("标准 / Limits: {range}")));
            }
        }
        if let Some(n) = notes.get(&slot) {
            remarks.push((MUTED, format!("备注 / Note: {n}")));
        }
        let label_style = if finding.is_some() { BODY.color(RED) } else { BODY };
        l.row(
            &[
                Cell { x: cols[0].0, w: cols[0].1, paras: vec![(label_style, item.label.zh.clone()), (SMALL, item.label.en.clone())] },
                Cell::new(cols[1].0, cols[1].1, result_style, result),
                Cell { x: cols[2].0, w: cols[2].1, paras: remarks },
            ],
            None,
        );
        l.hline(MARGIN, MARGIN + CONTENT_W, 0.3, RULE);
    }
    l.end_table();
}

fn repairs(l: &mut Layout, d: &WorkOrderDetail, catalogue: &[Part]) {
    if d.repairs.is_empty() {
        if d.template.is_none() {
            l.band("维修记录 / Repair record");
            l.wide("维修 / Repair", "无维修记录 / No repair recorded", MUTED);
        }
        return;
    }
    l.band("维修记录 / Repair record");
    for (i, r) in d.repairs.iter().enumerate() {
        let asset = r.asset_id.as_ref().and_then(|id| d.assets.iter().find(|a| &a.id == id)).map(|a| format!(" — {} {}", a.code, a.name)).unwrap_or_default();
        l.gap(4.0);
        l.keep(60.0);
        l.row(&[Cell::new(MARGIN, CONTENT_W, BOLD, format!("维修 {n} / Repair {n}{asset}", n = i + 1))], None);
        l.wide("故障现象 / Fault", &r.fault, BODY);
        l.wide("故障原因 / Cause", &r.cause, BODY);
        l.wide("处理措施 / Action taken", &r.action, BODY);
        if !r.parts.is_empty() {
            l.gap(2.0);
            let cols = [(MARGIN, 92.0), (MARGIN + 96.0, 180.0), (MARGIN + 280.0, 44.0), (MARGIN + 328.0, 100.0), (MARGIN + 432.0, CONTENT_W - 432.0)];
            let head = ["备件编号 / SKU", "备件名称 / Part", "数量 / Qty", "序列号 / Serials", "旧件返还 / Faulty part returned"];
            l.table_head(vec![(cols.iter().zip(head).map(|(&(x, w), h)| Cell::new(x, w, LABEL, h)).collect(), Some(SHADE))]);
            for p in &r.parts {
                let known = catalogue.iter().find(|c| c.sku == p.sku);
                let name = known.map_or("（不在备件目录 / not in the parts catalogue）".to_owned(), |c| format!("{}\n{}", c.name_zh, c.name_en));
                let qty = format!("{} {}", p.quantity, known.map_or("", |c| c.unit.as_str()));
                let serials = if p.serials.is_empty() { "—".to_owned() } else { p.serials.join(", ") };
                let returned = if p.faulty_returned { "是 / Yes" } else { "否 / No" };
                let vals = [p.sku.clone(), name, qty, serials, returned.to_owned()];
                l.row(&cols.iter().zip(vals).map(|(&(x, w), v)| Cell::new(x, w, BODY, v)).collect::<Vec<_>>(), None);
                l.hline(MARGIN, MARGIN + CONTENT_W, 0.3, RULE);
            }
            l.end_table();
            l.gap(2.0);
        }
        let (lz, le) = duration(r.labour_minutes.into());
        let fee = if r.fee_cents == 0 {
            "无 / None".to_owned()
        } else {
            let money = format!("¥{}.{:02}", r.fee_cents / 100, r.fee_cents % 100);
            if r.fee_collected { format!("{money} — 现场已收 / collected on site") } else { format!("{money} — 未现场收取，开票结算 / to be invoiced") }
        };
        let workshop = match (r.taken_to_workshop, &r.receipt_number) {
            (true, Some(n)) => format!("是，领取收据号 {n} / Yes, receipt No. {n}"),
            (true, None) => "是 / Yes".to_owned(),
            (false, _) => "否，现场修复 / No, repaired on site".to_owned(),
        };
        l.grid(&[
            ("工时 / Labour", format!("{lz} / {le}"), BODY),
            ("服务类别 / Category", category(r.category), BODY),
            ("费用 / Fee", fee, BODY),
            ("带回维修 / To workshop", workshop, if r.taken_to_workshop { BOLD } else { BODY }),
        ]);
    }
}

fn satisfaction(l: &mut Layout, d: &WorkOrderDetail) {
    let Some(c) = &d.satisfaction else { return };
    l.band("客户意见调查 / Customer satisfaction");
    l.grid(&[
        ("服务态度 / Attitude", rating(c.attitude), BODY),
        ("技术水平 / Skill", rating(c.skill), BODY),
        ("到达时间 / Arrival time", rating(c.arrival), BODY),
        ("答应事情的办理 / Promises kept", rating(c.promise), BODY),
    ]);
    if let Some(text) = c.comment.as_deref().filter(|t| !t.trim().is_empty()) {
        l.wide("意见或建议 / Comments", text, BODY);
    }
}

/// The customer's sign-off: the signature drawn from its strokes with the signer and the
/// digest of what was signed, or a clear NOT SIGNED marker.
fn sign_off(l: &mut Layout, d: &WorkOrderDetail) {
    const BOX_W: f32 = 180.0;
    const BOX_H: f32 = 60.0;
    // The heading, the signature and the digest stay together on one page.
    l.keep(BOX_H + 100.0);
    l.band("客户签字确认 / Customer sign-off");
    l.row(&[Cell::new(MARGIN, CONTENT_W, BODY, "客户签字确认以上维修结果。/ The customer confirms the result of the work recorded above.")], None);
    l.gap(4.0);
    let top = l.y;
    let info_x = MARGIN + BOX_W + 16.0;
    match current_signature(d) {
        Some(s) => {
            l.rect(MARGIN, top, BOX_W, BOX_H, None, Some(RULE));
            l.ink(fit_strokes(&s.strokes, MARGIN + 4.0, top + 4.0, BOX_W - 8.0, BOX_H - 8.0), 1.2);
            let lines = [
                ("签字人 / Signed by", s.signer_name.clone(), BOLD),
                ("职务 / Title", s.signer_title.clone().unwrap_or_else(|| "—".into()), BODY),
                ("签字时间 / Signed at", format!("{} ({})", when(s.signed_at), s.signed_at.with_timezone(&Local).format("UTC%:z")), BODY),
                ("签字版本 / Revision", s.revision.to_string(), BODY),
            ];
            l.y = top;
            for (label, value, style) in lines {
                l.row(&[Cell::new(info_x, 100.0, LABEL, label), Cell::new(info_x + 104.0, MARGIN + CONTENT_W - info_x - 104.0, style, value)], None);
            }
            l.y = l.y.max(top + BOX_H) + 6.0;
            l.row(&[Cell::new(MARGIN, 120.0, SMALL, "记录摘要 / Record digest (SHA-256)"), Cell::new(MARGIN + 124.0, CONTENT_W - 124.0, MONO, &s.digest)], None);
            l.row(&[Cell::new(MARGIN, 120.0, SMALL, "签字设备 / Signing device"), Cell::new(MARGIN + 124.0, CONTENT_W - 124.0, MONO, &s.device_id)], None);
            let note = "摘要覆盖签字时的完整记录，并由签字设备的密钥签名，可用 Fieldbook 校验。\
                        / The digest covers the record as signed and is signed with the device's key; Fieldbook can verify it.";
            l.row(&[Cell::new(MARGIN + 124.0, CONTENT_W - 124.0, SMALL, note)], None);
        }
        None => {
            l.rect(MARGIN, top, BOX_W, BOX_H, None, Some(RED));
            l.text_center(MARGIN + BOX_W / 2.0, top + BOX_H / 2.0 + 5.0, H_TITLE.color(RED), "未签字 / NOT SIGNED");
            let mut why = vec!["客户尚未签字确认，本记录未结案。/ The customer has not signed: this record is not closed.".to_owned()];
            if let Some(old) = d.signatures.last() {
                why.push(format!(
                    "第 {r} 版曾由 {name} 于 {at} 签字；本记录已修订为第 {now} 版，需客户重新签字。\
                     / Revision {r} was signed by {name} on {at}; the record was amended to revision {now} and needs a new signature.",
                    r = old.revision, name = old.signer_name, at = when(old.signed_at), now = d.order.revision
                ));
            }
            l.y = top;
            l.row(&[Cell { x: info_x, w: MARGIN + CONTENT_W - info_x, paras: why.into_iter().map(|w| (BODY.color(RED), w)).collect() }], None);
            l.y = l.y.max(top + BOX_H) + 6.0;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

fn both(zh: &str, en: &str) -> String {
    format!("{zh} / {en}")
}

fn slot(item: &str, asset: &str) -> Slot {
    Slot { item_key: item.to_owned(), asset_id: asset.to_owned() }
}

fn category(c: Category) -> String {
    format!("{} {} / {}", c.as_str(), c.label_zh(), c.label_en())
}

fn priority(p: Priority) -> String {
    let zh = match p {
        Priority::Low => "低",
        Priority::Normal => "普通",
        Priority::High => "高",
        Priority::Urgent => "紧急",
    };
    both(zh, p.as_str())
}

fn zone(z: Zone) -> String {
    match z {
        Zone::Urban => both("市区", "urban"),
        Zone::Suburban => both("郊区", "suburban"),
    }
}

fn rating(n: u8) -> String {
    match n {
        1 => "差 / Poor".into(),
        2 => "一般 / Fair".into(),
        3 => "好 / Good".into(),
        4 => "很好 / Very good".into(),
        n => n.to_string(),
    }
}

/// A time as the laptop's clock shows it (the heading of the block names the UTC offset).
fn when(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

fn duration(minutes: i64) -> (String, String) {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => (format!("{m} 分钟"), format!("{m} min")),
        (h, 0) => (format!("{h} 小时"), format!("{h} h")),
        (h, m) => (format!("{h} 小时 {m} 分"), format!("{h} h {m} min")),
    }
}

/// A checklist answer in words.
fn answer_text(kind: &ItemKind, v: &Value) -> String {
    let choice = |options: &[crate::checklist::Choice], key: &str| options.iter().find(|o| o.key == key).map_or(key.to_owned(), |o| o.label.both());
    match (kind, v) {
        (ItemKind::PassFail, Value::String(s)) => match s.as_str() {
            "pass" => "✓ 合格 / Pass".into(),
            "fail" => "不合格 / Fail".into(),
            "na" => "不适用 / N/A".into(),
            other => other.into(),
        },
        (ItemKind::Numeric { unit, .. }, v) => v.as_f64().map_or(v.to_string(), |n| format!("{n} {unit}")),
        (ItemKind::SingleChoice { options }, Value::String(k)) => choice(options, k),
        (ItemKind::MultipleChoice { options }, Value::Array(keys)) => {
            let chosen: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
            let picked = options.iter().filter(|o| chosen.contains(&o.key.as_str()));
            let zh: Vec<&str> = picked.clone().map(|o| o.label.zh.as_str()).collect();
            let en: Vec<&str> = picked.map(|o| o.label.en.as_str()).collect();
            if zh == en { zh.join(", ") } else { format!("{} / {}", zh.join("、"), en.join(", ")) }
        }
        (ItemKind::Photo, Value::Array(ids)) => format!("照片 {n} 张 / {n} photo(s)", n = ids.len()),
        (_, Value::String(s)) => s.clone(),
        (_, v) => v.to_string(),
    }
}

/// Scales signature strokes from pad pixels into the box `x, y, w, h` (points), keeping their
/// aspect ratio and centring them.
fn fit_strokes(strokes: &[Stroke], x: f32, y: f32, w: f32, h: f32) -> Vec<Vec<(f32, f32)>> {
    let pts = || strokes.iter().flatten().filter(|p| p.x.is_finite() && p.y.is_finite());
    let (Some(x0), Some(y0)) = (pts().map(|p| p.x).reduce(f64::min), pts().map(|p| p.y).reduce(f64::min)) else { return Vec::new() };
    let (x1, y1) = (pts().map(|p| p.x).fold(x0, f64::max), pts().map(|p| p.y).fold(y0, f64::max));
    let (sw, sh) = ((x1 - x0).max(1.0) as f32, (y1 - y0).max(1.0) as f32);
    let k = (w / sw).min(h / sh);
    let (ox, oy) = (x + (w - sw * k) / 2.0, y + (h - sh * k) / 2.0);
    strokes
        .iter()
        .map(|s| s.iter().filter(|p| p.x.is_finite() && p.y.is_finite()).map(|p| (ox + (p.x - x0) as f32 * k, oy + (p.y - y0) as f32 * k)).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Layout: styles, measured text, wrapped rows and page breaks
// ---------------------------------------------------------------------------------------------

type Rgb = (u8, u8, u8);
const INK: Rgb = (0, 0, 0);
const GREY: Rgb = (95, 95, 95);
const RED: Rgb = (200, 20, 20);
const GREEN: Rgb = (20, 120, 50);
const RULE: Rgb = (200, 200, 200);
const SHADE: Rgb = (236, 240, 245);
const BAND: Rgb = (216, 226, 238);

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 42.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const FIRST_TOP: f32 = 36.0;
const NEXT_TOP: f32 = 52.0;
const BOTTOM: f32 = PAGE_H - 50.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    size: f32,
    color: Rgb,
    bold: bool,
    mono: bool,
}

impl Style {
    const fn color(self, color: Rgb) -> Style {
        Style { color, ..self }
    }
    fn leading(self) -> f32 {
        self.size * 1.32
    }
}

const BODY: Style = Style { size: 9.0, color: INK, bold: false, mono: false };
const BOLD: Style = Style { bold: true, ..BODY };
const MUTED: Style = BODY.color(GREY);
const LABEL: Style = Style { size: 7.5, ..MUTED };
const SMALL: Style = Style { size: 7.0, ..MUTED };
const MONO: Style = Style { size: 7.5, mono: true, ..BODY };
const H_COMPANY: Style = Style { size: 14.0, ..BOLD };
const H_TITLE: Style = Style { size: 16.0, ..BOLD };
const H_BAND: Style = Style { size: 10.0, ..BOLD };

/// One drawing operation on a page, in points from the top left; text `y` is the baseline.
enum Op {
    Text { x: f32, y: f32, style: Style, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, fill: Option<Rgb>, stroke: Option<Rgb> },
    Lines { paths: Vec<Vec<(f32, f32)>>, width: f32, color: Rgb },
}

/// A table cell: paragraphs stacked in a column `w` wide at `x`, each wrapped to fit.
#[derive(Clone)]
struct Cell {
    x: f32,
    w: f32,
    paras: Vec<(Style, String)>,
}

impl Cell {
    fn new(x: f32, w: f32, style: Style, text: impl Into<String>) -> Cell {
        Cell { x, w, paras: vec![(style, text.into())] }
    }
}

/// Glyph lookup and advances of one font face.
struct Shaper<'f> {
    font: Font,
    charmap: Charmap<'f>,
    metrics: GlyphMetrics<'f>,
    upem: f32,
}

impl<'f> Shaper<'f> {
    fn new(fonts: &'f Fonts, face: &Face) -> Shaper<'f> {
        let font_ref = FontRef::from_index(&fonts.data, face.index).expect("face checked when the font was loaded");
        Shaper {
            font: face.font.clone(),
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
            upem: face.font.units_per_em(),
        }
    }

    /// One glyph per character, with its advance in ems; each glyph maps back to its character
    /// (krilla writes these as the ToUnicode map).
    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let gid = self.charmap.map(c).unwrap_or_default();
                let advance = self.metrics.advance_width(gid).unwrap_or(0.0) / self.upem;
                KrillaGlyph::new(GlyphId::new(gid.to_u32()), advance, 0.0, 0.0, 0.0, i..i + c.len_utf8(), None)
            })
            .collect()
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.metrics.advance_width(self.charmap.map(c).unwrap_or_default()).unwrap_or(0.0)).sum::<f32>() / self.upem * size
    }
}

/// The page cursor: collects drawing operations page by page, breaking pages as rows fill them.
struct Layout<'f> {
    regular: Shaper<'f>,
    mono: Shaper<'f>,
    pages: Vec<Vec<Op>>,
    y: f32,
    running_head: String,
    /// Rows repeated at the top of each new page: the heading and column titles of the table
    /// being drawn.
    repeat: Vec<(Vec<Cell>, Option<Rgb>)>,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts, running_head: String) -> Layout<'f> {
        Layout { regular: Shaper::new(fonts, &fonts.regular), mono: Shaper::new(fonts, &fonts.mono), pages: vec![Vec::new()], y: FIRST_TOP, running_head, repeat: Vec::new() }
    }

    fn shaper(&self, style: Style) -> &Shaper<'f> {
        if style.mono { &self.mono } else { &self.regular }
    }

    fn width(&self, style: Style, text: &str) -> f32 {
        self.shaper(style).width(text, style.size)
    }

    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page is always open").push(op);
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        let head = format!("{}（续 / continued）", self.running_head);
        self.text(MARGIN, 30.0, SMALL, &head);
        self.y = 36.0;
        self.hline(MARGIN, MARGIN + CONTENT_W, 0.5, RULE);
        self.y = NEXT_TOP;
        let repeat = std::mem::take(&mut self.repeat);
        for (cells, shade) in &repeat {
            self.row(cells, *shade);
        }
        self.repeat = repeat;
    }

    /// Draws a table's heading rows and repeats them on the following pages until `end_table`.
    fn table_head(&mut self, rows: Vec<(Vec<Cell>, Option<Rgb>)>) {
        self.repeat.clear();
        let height = 20.0 * (rows.len() + 2) as f32;
        self.keep(height);
        for (cells, shade) in &rows {
            self.row(cells, *shade);
        }
        self.repeat = rows;
    }

    fn end_table(&mut self) {
        self.repeat.clear();
    }

    /// Starts a new page unless `h` points still fit on this one.
    fn keep(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    fn gap(&mut self, h: f32) {
        self.y += h;
    }

    fn text(&mut self, x: f32, y: f32, style: Style, text: &str) {
        self.push(Op::Text { x, y, style, text: text.to_owned() });
    }

    fn text_right(&mut self, right: f32, y: f32, style: Style, text: &str) {
        let w = self.width(style, text);
        self.text(right - w, y, style, text);
    }

    fn text_center(&mut self, center: f32, y: f32, style: Style, text: &str) {
        let w = self.width(style, text);
        self.text(center - w / 2.0, y, style, text);
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Option<Rgb>, stroke: Option<Rgb>) {
        self.push(Op::Rect { x, y, w, h, fill, stroke });
    }

    /// A horizontal rule at the cursor.
    fn hline(&mut self, x0: f32, x1: f32, width: f32, color: Rgb) {
        let y = self.y;
        self.push(Op::Lines { paths: vec![vec![(x0, y), (x1, y)]], width, color });
    }

    fn ink(&mut self, paths: Vec<Vec<(f32, f32)>>, width: f32) {
        self.push(Op::Lines { paths, width, color: (10, 30, 110) });
    }

    /// A section heading on a shaded band, kept with at least a few lines of what follows.
    fn band(&mut self, title: &str) {
        self.gap(7.0);
        self.keep(60.0);
        self.rect(MARGIN, self.y, CONTENT_W, 17.0, Some(BAND), None);
        self.text(MARGIN + 5.0, self.y + 12.5, H_BAND, title);
        self.y += 21.0;
    }

    /// Label/value pairs, two to a row.
    fn grid(&mut self, pairs: &[(&str, String, Style)]) {
        const HALF: f32 = CONTENT_W / 2.0;
        const LABEL_W: f32 = 96.0;
        for two in pairs.chunks(2) {
            let cells: Vec<Cell> = two
                .iter()
                .enumerate()
                .flat_map(|(i, (label, value, style))| {
                    let x = MARGIN + i as f32 * HALF;
                    [Cell::new(x, LABEL_W, LABEL, *label), Cell::new(x + LABEL_W + 4.0, HALF - LABEL_W - 10.0, *style, value.clone())]
                })
                .collect();
            self.row(&cells, None);
            self.hline(MARGIN, MARGIN + CONTENT_W, 0.3, RULE);
        }
    }

    /// One label/value pair across the whole width.
    fn wide(&mut self, label: &str, value: &str, style: Style) {
        self.row(&[Cell::new(MARGIN, 96.0, LABEL, label), Cell::new(MARGIN + 100.0, CONTENT_W - 100.0, style, value)], None);
        self.hline(MARGIN, MARGIN + CONTENT_W, 0.3, RULE);
    }

    /// Draws cells side by side from the cursor and moves below the tallest. A row that fits on
    /// a page is never split; a taller one flows on line by line.
    fn row(&mut self, cells: &[Cell], shade: Option<Rgb>) {
        const PAD: f32 = 2.5;
        let lines: Vec<Vec<(Style, String)>> = cells
            .iter()
            .map(|c| c.paras.iter().flat_map(|(style, text)| self.wrap(*style, text, c.w).into_iter().map(move |l| (*style, l))).collect())
            .collect();
        let height = |from: usize| -> f32 {
            let n = lines.iter().map(Vec::len).max().unwrap_or(0);
            (from..n).map(|i| lines.iter().filter_map(|c| c.get(i)).map(|(s, _)| s.leading()).fold(0.0, f32::max)).sum::<f32>() + 2.0 * PAD
        };
        self.keep(height(0).min(BOTTOM - NEXT_TOP));
        if let Some(fill) = shade {
            self.rect(MARGIN, self.y, CONTENT_W, height(0), Some(fill), None);
        }
        self.y += PAD;
        let n = lines.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..n {
            let lead = lines.iter().filter_map(|c| c.get(i)).map(|(s, _)| s.leading()).fold(0.0, f32::max);
            self.keep(lead + PAD);
            for (cell, cell_lines) in cells.iter().zip(&lines) {
                if let Some((style, text)) = cell_lines.get(i) {
                    self.text(cell.x, self.y + style.size * 0.95, *style, text);
                }
            }
            self.y += lead;
        }
        self.y += PAD;
    }

    /// Breaks text into lines no wider than `width`: between words of Latin text, and between
    /// any two Chinese characters except before closing punctuation.
    fn wrap(&self, style: Style, text: &str, width: f32) -> Vec<String> {
        let mut out = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for token in tokens(para) {
                let candidate = format!("{line}{token}");
                if !line.trim().is_empty() && self.width(style, candidate.trim_end()) > width {
                    out.push(line.trim_end().to_owned());
                    line = token.trim_start().to_owned();
                } else {
                    line = candidate;
                }
                // A single token wider than the column (a digest, a long serial) is cut anywhere.
                while self.width(style, line.trim_end()) > width && line.chars().count() > 1 {
                    let mut cut = String::new();
                    for c in line.chars() {
                        if !cut.is_empty() && self.width(style, &format!("{cut}{c}")) > width {
                            break;
                        }
                        cut.push(c);
                    }
                    line = line[cut.len()..].to_owned();
                    out.push(cut);
                }
            }
            out.push(line.trim_end().to_owned());
        }
        out
    }

    /// Adds the page footers and draws every page.
    fn finish(self, number: &str, revision: i64) -> Result<Vec<u8>> {
        self.finish_as(&format!("上门维修记录表 / On-site Service Record {number}"), &format!("{number} · 第 {revision} 版 / Rev. {revision}"))
    }

    /// Adds the page footers (`footer` at the left of each) and draws every page of a document
    /// titled `title`.
    fn finish_as(self, title: &str, footer: &str) -> Result<Vec<u8>> {
        let total = self.pages.len();
        let mut footers = Vec::new();
        for n in 1..=total {
            let page = format!("第 {n} 页，共 {total} 页 / Page {n} of {total}");
            let left = footer.to_owned();
            let y = PAGE_H - 26.0;
            footers.push(vec![
                Op::Lines { paths: vec![vec![(MARGIN, y - 12.0), (MARGIN + CONTENT_W, y - 12.0)]], width: 0.5, color: RULE },
                Op::Text { x: MARGIN, y, style: SMALL, text: left },
                Op::Text { x: MARGIN + CONTENT_W - self.width(SMALL, &page), y, style: SMALL, text: page },
            ]);
        }
        let mut doc = Document::new();
        doc.set_metadata(
            Metadata::new()
                .title(title.to_owned())
                .creator("Fieldbook".into())
                .language("zh-CN".into()),
        );
        for (ops, footer) in self.pages.iter().zip(&footers) {
            let mut page = doc.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4 is a valid size"));
            let mut surface = page.surface();
            for op in ops.iter().chain(footer) {
                self.draw(&mut surface, op);
            }
            surface.finish();
            page.finish();
        }
        doc.finish().map_err(|e| Error::Report(format!("cannot write the PDF: {e}")))
    }

    fn draw(&self, s: &mut Surface<'_>, op: &Op) {
        let fill = |c: Rgb| Fill { paint: rgb::Color::new(c.0, c.1, c.2).into(), opacity: NormalizedF32::ONE, rule: FillRule::NonZero };
        let pen = |c: Rgb, width: f32| Pen { paint: rgb::Color::new(c.0, c.1, c.2).into(), width, line_cap: LineCap::Round, line_join: LineJoin::Round, ..Pen::default() };
        match op {
            Op::Text { x, y, style, text } => {
                let shaper = self.shaper(*style);
                s.set_fill(Some(fill(style.color)));
                // Headings are drawn with a thin outline as well as filled: bold without a
                // second 20 MB font.
                s.set_stroke(style.bold.then(|| pen(style.color, style.size * 0.035)));
                s.draw_glyphs(Point::from_xy(*x, *y), &shaper.glyphs(text), shaper.font.clone(), text, style.size, false);
            }
            Op::Rect { x, y, w, h, fill: f, stroke } => {
                let mut pb = PathBuilder::new();
                let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else { return };
                pb.push_rect(rect);
                let Some(path) = pb.finish() else { return };
                s.set_fill(f.map(fill));
                s.set_stroke(stroke.map(|c| pen(c, 0.8)));
                s.draw_path(&path);
            }
            Op::Lines { paths, width, color } => {
                s.set_fill(None);
                s.set_stroke(Some(pen(*color, *width)));
                for points in paths {
                    let mut pb = PathBuilder::new();
                    let (x0, y0) = points[0];
                    pb.move_to(x0, y0);
                    if points.len() == 1 {
                        pb.line_to(x0 + 0.1, y0); // a dot
                    }
                    for &(x, y) in &points[1..] {
                        pb.line_to(x, y);
                    }
                    if let Some(path) = pb.finish() {
                        s.draw_path(&path);
                    }
                }
            }
        }
    }
}

/// Splits text where a line may break; each token carries its trailing spaces.
fn tokens(s: &str) -> Vec<&str> {
    let wide = |c: char| c as u32 >= 0x2E80;
    let closing = |c: char| "，。、；：？！）》」』】”’,.;:?!)".contains(c);
    let space = |c: char| c.is_whitespace() && c != '\u{a0}'; // a no-break space glues
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(p) = prev {
            let brk = p != '\u{a0}' && c != '\u{a0}' && ((wide(c) && !closing(c)) || (wide(p) && !space(c) && !closing(c)) || (space(p) && !space(c)));
            if brk {
                out.push(&s[start..i]);
                start = i;
            }
        }
        prev = Some(c);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The CJK font
// ---------------------------------------------------------------------------------------------

/// Names the font file to embed: `PATH` or `PATH#INDEX` (the face index in a `.ttc` collection).
pub const CJK_FONT_ENV: &str = "FIELDBOOK_CJK_FONT";

/// Where open-licensed CJK fonts are installed by common Linux packages, tried in order.
///
/// Noto Sans CJK is licensed under the SIL Open Font License 1.1, which permits embedding the
/// font (and subsets of it) in documents. WenQuanYi fonts are Apache-2.0 or GPLv3 with a font
/// embedding exception.
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", // Debian / Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",      // Arch: noto-fonts-cjk
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",         // Debian / Ubuntu: fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",           // Debian / Ubuntu: fonts-wqy-zenhei
];

/// The font file, read once, and the faces used from it.
struct Fonts {
    data: Arc<Vec<u8>>,
    regular: Face,
    mono: Face,
}

struct Face {
    font: Font,
    index: u32,
}

/// The process's CJK font, loaded on first use (the file is ~20 MB). A failed lookup is not
/// remembered, so installing the font fixes the next report without a restart.
fn fonts() -> Result<&'static Fonts> {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    if let Some(f) = FONTS.get() {
        return Ok(f);
    }
    let env = std::env::var(CJK_FONT_ENV).ok().filter(|v| !v.trim().is_empty());
    let (path, index) = locate(env.as_deref(), FONT_CANDIDATES)?;
    let loaded = load(&path, index)?;
    Ok(FONTS.get_or_init(|| loaded))
}

/// The font file to use: the environment variable's if set, else the first candidate present.
fn locate(env: Option<&str>, candidates: &[&str]) -> Result<(PathBuf, Option<u32>)> {
    if let Some(spec) = env {
        let (path, index) = match spec.rsplit_once('#') {
            Some((p, i)) => {
                let index = i.trim().parse::<u32>().map_err(|_| {
                    Error::Report(format!("{CJK_FONT_ENV}={spec}: '{i}' after '#' is not a face index (use PATH or PATH#INDEX, e.g. …/NotoSansCJK-Regular.ttc#2)"))
                })?;
                (p, Some(index))
            }
            None => (spec, None),
        };
        let path = PathBuf::from(path.trim());
        if !path.is_file() {
            return Err(Error::Report(format!("{CJK_FONT_ENV}={spec}: no such font file; point it at a CJK .ttf/.otf/.ttc file or unset it")));
        }
        return Ok((path, index));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file()).map(|p| (p, None)).ok_or_else(|| {
        Error::Report(format!(
            "no Chinese (CJK) font found to embed in the report; looked in {CJK_FONT_ENV} (not set) and at: {}. \
             Install one (Debian/Ubuntu: `apt-get install fonts-noto-cjk`) or set {CJK_FONT_ENV}=/path/to/font.ttc[#index]",
            candidates.join(", ")
        ))
    })
}

/// Reads the font file and picks its faces: the given index, else the Simplified Chinese face of
/// a collection (Noto Sans CJK's `.ttc` holds JP, KR, SC, TC and HK faces; “Noto Sans CJK SC” is
/// index 2 in Debian's file), and a monospaced face of the same file for digests when it has one.
fn load(path: &Path, index: Option<u32>) -> Result<Fonts> {
    let bad = |why: String| Error::Report(format!("font {}: {why}; set {CJK_FONT_ENV} to another CJK font", path.display()));
    let data = Arc::new(std::fs::read(path).map_err(|e| Error::io(path, e))?);
    let families: Vec<String> = FileRef::new(&data)
        .map_err(|e| bad(format!("not a font file ({e})")))?
        .fonts()
        .map(|f| f.ok().and_then(|f| f.localized_strings(StringId::FAMILY_NAME).english_or_first().map(|s| s.to_string())).unwrap_or_default())
        .collect();
    let find = |want: &dyn Fn(&str) -> bool| families.iter().position(|f| want(f)).map(|i| i as u32);
    let sc = |f: &str| f.split_whitespace().any(|w| w == "SC");
    let mono = |f: &str| f.contains("Mono");
    let regular = match index {
        Some(i) if i as usize >= families.len() => return Err(bad(format!("has {} face(s); there is no face #{i}", families.len()))),
        Some(i) => i,
        None => find(&|f| sc(f) && !mono(f)).or_else(|| find(&|f| !mono(f))).unwrap_or(0),
    };
    let mono = find(&|f| sc(f) && mono(f)).or_else(|| find(&mono)).unwrap_or(regular);
    let face = |index: u32| -> Result<Face> {
        let font = Font::new(data.clone().into(), index).ok_or_else(|| bad(format!("face #{index} cannot be read")))?;
        Ok(Face { font, index })
    };
    Ok(Fonts { regular: face(regular)?, mono: face(mono)?, data: data.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StrokePoint;

    #[test]
    fn report_font_lookup_says_where_it_looked_and_how_to_fix_it() {
        let err = locate(None, &["/nonexistent/a.ttc", "/nonexistent/b.ttf"]).unwrap_err().to_string();
        for needle in ["/nonexistent/a.ttc", "/nonexistent/b.ttf", "apt-get install fonts-noto-cjk", CJK_FONT_ENV] {
            assert!(err.contains(needle), "{needle} missing from: {err}");
        }
        let err = locate(Some("/nonexistent/x.ttc#2"), &[]).unwrap_err().to_string();
        assert!(err.contains("no such font file"), "{err}");
        let err = locate(Some("/nonexistent/x.ttc#two"), &[]).unwrap_err().to_string();
        assert!(err.contains("not a face index"), "{err}");
    }

    #[test]
    fn report_picks_the_simplified_chinese_face_of_noto_cjk() {
        let path = Path::new(FONT_CANDIDATES[0]);
        if !path.is_file() {
            panic!("{} is missing: install fonts-noto-cjk (apt-get install fonts-noto-cjk)", path.display());
        }
        let fonts = load(path, None).unwrap();
        let family = |i: u32| FontRef::from_index(&fonts.data, i).unwrap().localized_strings(StringId::FAMILY_NAME).english_or_first().unwrap().to_string();
        assert_eq!(family(fonts.regular.index), "Noto Sans CJK SC");
        assert_eq!(family(fonts.mono.index), "Noto Sans Mono CJK SC");
    }

    #[test]
    fn report_signature_strokes_fit_the_box_keeping_their_shape() {
        let p = |x, y| StrokePoint { x, y, t: 0 };
        let strokes = vec![vec![p(100.0, 50.0), p(700.0, 250.0)], vec![p(400.0, 150.0)]];
        let fitted = fit_strokes(&strokes, 10.0, 20.0, 180.0, 60.0);
        let all: Vec<(f32, f32)> = fitted.iter().flatten().copied().collect();
        assert_eq!(all.len(), 3);
        let near = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).abs() < 1e-3 && (a.1 - b.1).abs() < 1e-3;
        // 600 x 200 pad pixels scale by 0.3 to 180 x 60: the stroke spans the box exactly.
        assert!(near(all[0], (10.0, 20.0)) && near(all[1], (190.0, 80.0)) && near(all[2], (100.0, 50.0)), "{all:?}");
        assert!(fit_strokes(&[], 0.0, 0.0, 10.0, 10.0).is_empty());
    }

    #[test]
    fn report_text_breaks_between_chinese_characters_and_latin_words() {
        assert_eq!(tokens("出水阀法兰，漏水 / outlet valve"), ["出", "水", "阀", "法", "兰，", "漏", "水 ", "/ ", "outlet ", "valve"]);
        assert_eq!(tokens("第\u{a0}1\u{a0}版 / Rev.\u{a0}1"), ["第\u{a0}1\u{a0}版 ", "/ ", "Rev.\u{a0}1"]);
    }
}
