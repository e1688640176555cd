//! The checklist engine: versioned patrol-inspection templates and the rules that turn a
//! technician's answers into a complete, truthful inspection record.
//!
//! A template has sections of items. Items are pass/fail/NA, numeric readings with a unit and
//! limits, text, single or multiple choice, photos or dates; they may be required and may be shown
//! only when another item has a given answer. A section may repeat once per asset of a type. A
//! failed item, an out-of-limits reading or a choice marked as a hazard is a [`Finding`].
//!
//! The engine is pure: it reads answers and the template and says what is valid, what is shown,
//! what is missing and what was found. The store persists the answers.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldProblem;
use crate::model::Asset;

/// Text in both of the users' languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn both(&self) -> String {
        if self.zh == self.en { self.zh.clone() } else { format!("{} / {}", self.zh, self.en) }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistTemplate {
    pub code: String,
    pub version: i64,
    pub title: Text,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub key: String,
    pub title: Text,
    /// When set, the section is answered once for each of the order's assets of this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_asset_type: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Unique within the template, e.g. `pump.pressure`.
    pub key: String,
    pub label: Text,
    #[serde(flatten)]
    pub kind: ItemKind,
    #[serde(default)]
    pub required: bool,
    /// The item is shown (and required) only when this condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// The contract phases (`early`, `middle`, `late`, `crate::inspection_plan`) in which the
    /// item is on the form; absent: every phase, and orders without a phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemKind {
    /// Answered `pass`, `fail` or `na`. `fail` is a finding.
    PassFail,
    /// A measured value. Outside `[min, max]` it is a finding.
    Numeric {
        unit: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    Text,
    SingleChoice { options: Vec<Choice> },
    MultipleChoice { options: Vec<Choice> },
    /// One or more photos, by attachment id (hex SHA-256).
    Photo,
    Date,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub key: String,
    pub label: Text,
    /// Choosing this option records a finding (e.g. "hidden hazard found").
    #[serde(default)]
    pub finding: bool,
}

/// `show_if`: another item (in the same asset's section, or outside per-asset sections) has one of
/// these values. For a multiple-choice item, it holds when any chosen option is listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub item: String,
    #[serde(alias = "equals", deserialize_with = "one_or_many")]
    pub any_of: Vec<Value>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(v) => v,
        v => vec![v],
    })
}

/// One place an item is answered: the item, and the asset for per-asset sections.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub item_key: String,
    /// Empty when the item is not in a per-asset section.
    pub asset_id: String,
}

/// Something an inspection found: the reason a follow-up repair may be raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub item_key: String,
    pub asset_id: String,
    pub label: Text,
    /// What was found, in both languages, e.g. "0.12 MPa, below minimum 0.2".
    pub reason: Text,
    pub value: Value,
}

impl ChecklistTemplate {
    /// Checks the template itself: unique keys, conditions pointing at earlier items, sane limits.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let record = format!("checklist template {} v{}", self.code, self.version);
        let mut problems = Vec::new();
        let mut seen: HashMap<&str, Option<&str>> = HashMap::new();
        if self.code.trim().is_empty() {
            problems.push(FieldProblem::new(&record, "code", "must not be empty"));
        }
        if self.version < 1 {
            problems.push(FieldProblem::new(&record, "version", "must be 1 or more"));
        }
        for section in &self.sections {
            for item in &section.items {
                if item.key.trim().is_empty() {
                    problems.push(FieldProblem::new(&record, "items", format!("an item in section '{}' has an empty key", section.key)));
                }
                if seen.insert(&item.key, section.per_asset_type.as_deref()).is_some() {
                    problems.push(FieldProblem::new(&record, &item.key, "item key is used twice; every item needs its own key"));
                }
                match &item.kind {
                    ItemKind::Numeric { min: Some(lo), max: Some(hi), .. } if lo > hi => {
                        problems.push(FieldProblem::new(&record, &item.key, format!("minimum {lo} is above maximum {hi}")));
                    }
                    ItemKind::SingleChoice { options } | ItemKind::MultipleChoice { options } if options.is_empty() => {
                        problems.push(FieldProblem::new(&record, &item.key, "a choice item needs at least one option"));
                    }
                    _ => {}
                }
                if let Some(phases) = &item.phases {
                    if phases.is_empty() {
                        problems.push(FieldProblem::new(&record, &item.key, "phases is empty; list the phases the item is shown in (early, middle, late) or leave phases out"));
                    }
                    for p in phases {
                        if !crate::inspection_plan::PHASES.contains(&p.as_str()) {
                            problems.push(FieldProblem::new(&record, &item.key, format!("phase '{p}' is not a contract phase; use early, middle or late")));
                        }
                    }
                }
                if let Some(cond) = &item.show_if {
                    match seen.get(cond.item.as_str()) {
                        Some(scope) if cond.item != item.key => {
                            if scope.is_some() && *scope != section.per_asset_type.as_deref() {
                                problems.push(FieldProblem::new(&record, &item.key, format!(
                                    "show_if refers to '{}', which is repeated per asset of another type", cond.item)));
                            }
                        }
                        _ => problems.push(FieldProblem::new(&record, &item.key, format!(
                            "show_if refers to '{}', which is not an earlier item of this template", cond.item))),
                    }
                }
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    /// The template as the form of an order in `phase` shows it: items marked for other phases
    /// left out (with everything that depends on them). No phase: the template as it is.
    pub fn for_phase(&self, phase: Option<&str>) -> ChecklistTemplate {
        let mut t = self.clone();
        if let Some(phase) = phase {
            for s in &mut t.sections {
                s.items.retain(|i| i.phases.as_ref().is_none_or(|ps| ps.iter().any(|p| p == phase)));
            }
        }
        t
    }

    /// Whether any item is shown in some phases only.
    pub fn has_phases(&self) -> bool {
        self.sections.iter().flat_map(|s| &s.items).any(|i| i.phases.is_some())
    }

    fn find(&self, key: &str) -> Option<(&Section, &Item)> {
        self.sections.iter().find_map(|s| s.items.iter().find(|i| i.key == key).map(|i| (s, i)))
    }

    /// Every slot of this template for an order with these assets, in form order.
    pub fn slots(&self, assets: &[Asset]) -> Vec<(Slot, &Section, &Item)> {
        let mut out = Vec::new();
        for section in &self.sections {
            let asset_ids: Vec<&str> = match &section.per_asset_type {
                None => vec![""],
                Some(t) => assets.iter().filter(|a| &a.asset_type == t).map(|a| a.id.as_str()).collect(),
            };
            for asset_id in asset_ids {
                for item in &section.items {
                    out.push((Slot { item_key: item.key.clone(), asset_id: asset_id.to_owned() }, section, item));
                }
            }
        }
        out
    }

    /// Parses a raw answer for `slot` into its stored form, or says precisely what is wrong.
    /// `record` names the work order in error messages.
    pub fn check_answer(&self, record: &str, slot: &Slot, assets: &[Asset], raw: &Value) -> Result<Value, FieldProblem> {
        let field = if slot.asset_id.is_empty() { slot.item_key.clone() } else { format!("{} (asset {})", slot.item_key, asset_label(assets, &slot.asset_id)) };
        let bad = |problem: String| FieldProblem::new(record, &field, problem);
        let Some((section, item)) = self.find(&slot.item_key) else {
            return Err(bad(format!("no such item in checklist {} v{}", self.code, self.version)));
        };
        match (&section.per_asset_type, slot.asset_id.is_empty()) {
            (Some(t), true) => return Err(bad(format!("this item is answered per asset of type '{t}'; give the asset"))),
            (None, false) => return Err(bad("this item is not answered per asset; leave the asset out".into())),
            (Some(t), false) => {
                if !assets.iter().any(|a| a.id == slot.asset_id && &a.asset_type == t) {
                    return Err(bad(format!("asset is not one of this order's assets of type '{t}'")));
                }
            }
            (None, true) => {}
        }
        normalize(&item.kind, raw).map_err(bad)
    }

    /// Whether `slot` is shown given the other answers (conditions are evaluated transitively).
    pub fn is_shown(&self, slot: &Slot, answers: &BTreeMap<Slot, Value>) -> bool {
        let mut key = slot.item_key.as_str();
        // Conditions only point at earlier items, so the chain is finite; the bound guards
        // against a hand-edited template with a cycle.
        for _ in 0..64 {
            let Some((_, item)) = self.find(key) else { return false };
            let Some(cond) = &item.show_if else { return true };
            let Some((cond_section, _)) = self.find(&cond.item) else { return false };
            let cond_slot = Slot {
                item_key: cond.item.clone(),
                asset_id: if cond_section.per_asset_type.is_some() { slot.asset_id.clone() } else { String::new() },
            };
            let holds = match answers.get(&cond_slot) {
                None => false,
                Some(Value::Array(chosen)) => chosen.iter().any(|c| cond.any_of.contains(c)),
                Some(v) => cond.any_of.contains(v),
            };
            if !holds {
                return false;
            }
            key = &cond.item;
        }
        false
    }

    /// Required, shown slots that have no answer: what stops the order from being completed.
    pub fn missing(&self, record: &str, assets: &[Asset], answers: &BTreeMap<Slot, Value>) -> Vec<FieldProblem> {
        self.slots(assets)
            .into_iter()
            .filter(|(slot, _, item)| item.required && !answers.contains_key(slot) && self.is_shown(slot, answers))
            .map(|(slot, section, item)| {
                let field = if slot.asset_id.is_empty() { slot.item_key.clone() } else { format!("{} (asset {})", slot.item_key, asset_label(assets, &slot.asset_id)) };
                FieldProblem::new(record, field, format!("required: {} — {}", section.title.both(), item.label.both()))
            })
            .collect()
    }

    /// The item with this key, if the template has one.
    pub fn item(&self, item_key: &str) -> Option<&Item> {
        self.sections.iter().flat_map(|s| s.items.iter()).find(|i| i.key == item_key)
    }

    /// Why one answer is a finding, if it is (visibility aside: the office's reports count
    /// answers one by one, as they arrive).
    pub fn finding_of(&self, item_key: &str, value: &Value) -> Option<Text> {
        finding_reason(&self.item(item_key)?.kind, value)
    }

    /// The findings among the shown answers, in form order.
    pub fn findings(&self, assets: &[Asset], answers: &BTreeMap<Slot, Value>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (slot, _, item) in self.slots(assets) {
            let Some(value) = answers.get(&slot) else { continue };
            if !self.is_shown(&slot, answers) {
                continue;
            }
            if let Some(reason) = finding_reason(&item.kind, value) {
                out.push(Finding { item_key: slot.item_key, asset_id: slot.asset_id, label: item.label.clone(), reason, value: value.clone() });
            }
        }
        out
    }
}

fn asset_label(assets: &[Asset], id: &str) -> String {
    assets.iter().find(|a| a.id == id).map(|a| a.code.clone()).unwrap_or_else(|| id.to_owned())
}

fn fmt_num(n: f64) -> String {
    let s = format!("{n}");
    s
}

/// Turns a raw JSON answer into the stored value for this item kind.
fn normalize(kind: &ItemKind, raw: &Value) -> Result<Value, String> {
    let option_keys = |options: &[Choice]| options.iter().map(|o| o.key.as_str()).collect::<Vec<_>>().join(", ");
    match kind {
        ItemKind::PassFail => match raw.as_str().map(|s| s.trim().to_ascii_lowercase()) {
            Some(s) if matches!(s.as_str(), "pass" | "fail" | "na") => Ok(Value::String(s)),
            _ => Err(format!("expected \"pass\", \"fail\" or \"na\", got {raw}")),
        },
        ItemKind::Numeric { unit, .. } => {
            let n = match raw {
                Value::Number(n) => n.as_f64(),
                // Readings typed into a form arrive as text; accept a plain number only.
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match n {
                Some(n) if n.is_finite() => Ok(serde_json::json!(n)),
                _ => Err(format!("reading is not a number: {raw} (enter the value in {unit}, e.g. 0.35)")),
            }
        }
        ItemKind::Text => match raw.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(Value::String(s.trim().to_owned())),
            Some(_) => Err("text is empty; write what was checked or leave the item unanswered".into()),
            None => Err(format!("expected text, got {raw}")),
        },
        ItemKind::SingleChoice { options } => match raw.as_str() {
            Some(s) if options.iter().any(|o| o.key == s) => Ok(Value::String(s.to_owned())),
            _ => Err(format!("{raw} is not one of the options: {}", option_keys(options))),
        },
        ItemKind::MultipleChoice { options } => {
            let Some(chosen) = raw.as_array() else {
                return Err(format!("expected a list of options, e.g. [\"{}\"], got {raw}", options[0].key));
            };
            let mut keys = Vec::new();
            for c in chosen {
                match c.as_str() {
                    Some(s) if options.iter().any(|o| o.key == s) => {
                        if !keys.contains(&s) {
                            keys.push(s)
                        }
                    }
                    _ => return Err(format!("{c} is not one of the options: {}", option_keys(options))),
                }
            }
            // Stored in option order so that equal answers are equal values.
            let ordered: Vec<Value> = options.iter().filter(|o| keys.contains(&o.key.as_str())).map(|o| Value::String(o.key.clone())).collect();
            Ok(Value::Array(ordered))
        }
        ItemKind::Photo => {
            let ids: Vec<&Value> = match raw {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            if ids.is_empty() {
                return Err("no photo given; attach at least one photo".into());
            }
            let mut out = Vec::new();
            for id in ids {
                match id.as_str() {
                    Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => out.push(Value::String(s.to_ascii_lowercase())),
                    _ => return Err(format!("{id} is not an attachment id (64 hex characters); attach the photo first")),
                }
            }
            Ok(Value::Array(out))
        }
        ItemKind::Date => match raw.as_str().map(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")) {
            Some(Ok(d)) => Ok(Value::String(d.format("%Y-%m-%d").to_string())),
            _ => Err(format!("expected a date as YYYY-MM-DD, got {raw}")),
        },
    }
}

fn finding_reason(kind: &ItemKind, value: &Value) -> Option<Text> {
    match kind {
        ItemKind::PassFail if value == "fail" => Some(Text { zh: "不合格".into(), en: "failed".into() }),
        ItemKind::Numeric { unit, min, max } => {
            let n = value.as_f64()?;
            if let Some(lo) = min.filter(|lo| n < *lo) {
                return Some(Text {
                    zh: format!("{} {unit}，低于下限 {}", fmt_num(n), fmt_num(lo)),
                    en: format!("{} {unit}, below minimum {}", fmt_num(n), fmt_num(lo)),
                });
            }
            if let Some(hi) = max.filter(|hi| n > *hi) {
                return Some(Text {
                    zh: format!("{} {unit}，高于上限 {}", fmt_num(n), fmt_num(hi)),
                    en: format!("{} {unit}, above maximum {}", fmt_num(n), fmt_num(hi)),
                });
            }
            None
        }
        ItemKind::SingleChoice { options } | ItemKind::MultipleChoice { options } => {
            let chosen: Vec<&str> = match value {
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                v => v.as_str().into_iter().collect(),
            };
            let hits: Vec<&Choice> = options.iter().filter(|o| o.finding && chosen.contains(&o.key.as_str())).collect();
            if hits.is_empty() {
                return None;
            }
            Some(Text {
                zh: hits.iter().map(|o| o.label.zh.as_str()).collect::<Vec<_>>().join("、"),
                en: hits.iter().map(|o| o.label.en.as_str()).collect::<Vec<_>>().join(", "),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Text {
        Text { zh: s.into(), en: s.into() }
    }

    fn asset(id: &str, ty: &str) -> Asset {
        Asset {
            id: id.into(), code: id.to_uppercase(), site_id: "s".into(), asset_type: ty.into(), name: id.into(),
            model: None, serial: None, location: None, installed_on: None, warranty_ends: None,
        }
    }

    /// A small template exercising every kind and rule, written the way template files are.
    fn template() -> ChecklistTemplate {
        serde_json::from_value(json!({
            "code": "FP-PATROL", "version": 2, "title": {"zh": "巡检", "en": "Patrol"},
            "sections": [
                {"key": "general", "title": {"zh": "总体", "en": "General"}, "items": [
                    {"key": "panel", "label": {"zh": "控制柜", "en": "Panel"}, "kind": "pass_fail", "required": true},
                    {"key": "panel.fault", "label": {"zh": "故障描述", "en": "Fault"}, "kind": "text", "required": true,
                     "show_if": {"item": "panel", "equals": "fail"}},
                    {"key": "hazards", "label": {"zh": "隐患", "en": "Hazards"}, "kind": "multiple_choice", "options": [
                        {"key": "none", "label": {"zh": "无", "en": "None"}},
                        {"key": "blocked_exit", "label": {"zh": "通道堵塞", "en": "Blocked exit"}, "finding": true},
                        {"key": "wiring", "label": {"zh": "线路老化", "en": "Old wiring"}, "finding": true}
                    ]},
                    {"key": "hazards.photo", "label": t("photo"), "kind": "photo", "required": true,
                     "show_if": {"item": "hazards", "any_of": ["blocked_exit", "wiring"]}},
                    {"key": "phase", "label": t("phase"), "kind": "single_choice", "options": [
                        {"key": "early", "label": t("early")}, {"key": "late", "label": t("late")}]},
                    {"key": "next_visit", "label": t("next"), "kind": "date"}
                ]},
                {"key": "pumps", "title": t("Pumps"), "per_asset_type": "fire_pump", "items": [
                    {"key": "pump.pressure", "label": t("pressure"), "kind": "numeric", "unit": "MPa", "min": 0.2, "max": 1.2, "required": true},
                    {"key": "pump.leak", "label": t("leak"), "kind": "pass_fail", "required": true},
                    {"key": "pump.leak.where", "label": t("where"), "kind": "text", "required": true,
                     "show_if": {"item": "pump.leak", "equals": "fail"}}
                ]}
            ]
        }))
        .expect("fixture template parses")
    }

    fn assets() -> Vec<Asset> {
        vec![asset("p1", "fire_pump"), asset("p2", "fire_pump"), asset("d1", "detector")]
    }

    fn slot(item: &str, asset: &str) -> Slot {
        Slot { item_key: item.into(), asset_id: asset.into() }
    }

    fn check(item: &str, asset: &str, raw: Value) -> Result<Value, FieldProblem> {
        template().check_answer("work order WO-1", &slot(item, asset), &assets(), &raw)
    }

    #[test]
    fn template_fixture_is_valid_and_repeats_pump_section_per_pump() {
        let tpl = template();
        tpl.validate().unwrap();
        let slots = tpl.slots(&assets());
        let pump_slots: Vec<_> = slots.iter().filter(|(s, _, _)| s.item_key == "pump.pressure").map(|(s, _, _)| s.asset_id.as_str()).collect();
        assert_eq!(pump_slots, ["p1", "p2"], "one pressure reading per fire pump, none for the detector");
    }

    #[test]
    fn pass_fail_accepts_pass_fail_na_only() {
        assert_eq!(check("panel", "", json!("PASS")).unwrap(), json!("pass"));
        assert_eq!(check("panel", "", json!("na")).unwrap(), json!("na"));
        let err = check("panel", "", json!("ok")).unwrap_err();
        assert_eq!(err.field, "panel");
        assert!(err.problem.contains("\"pass\", \"fail\" or \"na\""), "{err}");
    }

    #[test]
    fn numeric_reading_must_be_a_number_and_limits_make_findings() {
        assert_eq!(check("pump.pressure", "p1", json!("0.45")).unwrap(), json!(0.45));
        let err = check("pump.pressure", "p1", json!("abc")).unwrap_err();
        assert!(err.problem.contains("not a number") && err.problem.contains("MPa"), "{err}");
        assert!(err.field.contains("P1"), "names the asset: {err}");

        let tpl = template();
        let mut answers = BTreeMap::new();
        answers.insert(slot("pump.pressure", "p1"), json!(0.1));
        answers.insert(slot("pump.pressure", "p2"), json!(0.5));
        let findings = tpl.findings(&assets(), &answers);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].asset_id, "p1");
        assert!(findings[0].reason.en.contains("below minimum 0.2"), "{:?}", findings[0].reason);
        answers.insert(slot("pump.pressure", "p2"), json!(1.5));
        assert!(tpl.findings(&assets(), &answers)[1].reason.zh.contains("高于上限"));
    }

    #[test]
    fn text_single_multiple_date_and_photo_are_checked() {
        assert!(check("panel.fault", "", json!("  ")).is_err());
        assert_eq!(check("phase", "", json!("late")).unwrap(), json!("late"));
        assert!(check("phase", "", json!("mid")).unwrap_err().problem.contains("early, late"));
        // Multiple choice is stored deduplicated in option order.
        assert_eq!(check("hazards", "", json!(["wiring", "blocked_exit", "wiring"])).unwrap(), json!(["blocked_exit", "wiring"]));
        assert!(check("hazards", "", json!("wiring")).is_err());
        assert_eq!(check("next_visit", "", json!("2026-12-01")).unwrap(), json!("2026-12-01"));
        assert!(check("next_visit", "", json!("01/12/2026")).is_err());
        let sha = "ab".repeat(32);
        assert_eq!(check("hazards.photo", "", json!(sha)).unwrap(), json!([sha]));
        assert!(check("hazards.photo", "", json!("photo.jpg")).unwrap_err().problem.contains("attach"));
    }

    #[test]
    fn per_asset_items_need_a_matching_asset_and_others_must_not_have_one() {
        assert!(check("pump.leak", "", json!("pass")).unwrap_err().problem.contains("per asset"));
        assert!(check("pump.leak", "d1", json!("pass")).unwrap_err().problem.contains("fire_pump"));
        assert!(check("panel", "p1", json!("pass")).unwrap_err().problem.contains("leave the asset out"));
        assert!(check("nope", "", json!("pass")).unwrap_err().problem.contains("no such item"));
    }

    #[test]
    fn conditional_items_appear_only_when_their_condition_holds_per_asset() {
        let tpl = template();
        let mut answers = BTreeMap::new();
        answers.insert(slot("panel", ""), json!("pass"));
        answers.insert(slot("pump.leak", "p1"), json!("fail"));
        answers.insert(slot("pump.leak", "p2"), json!("pass"));
        assert!(!tpl.is_shown(&slot("panel.fault", ""), &answers));
        assert!(tpl.is_shown(&slot("pump.leak.where", "p1"), &answers));
        assert!(!tpl.is_shown(&slot("pump.leak.where", "p2"), &answers), "condition is per asset");
        answers.insert(slot("hazards", ""), json!(["none", "wiring"]));
        assert!(tpl.is_shown(&slot("hazards.photo", ""), &answers), "any chosen option matches");
    }

    #[test]
    fn missing_lists_every_required_shown_unanswered_slot() {
        let tpl = template();
        let mut answers = BTreeMap::new();
        let keys = |m: Vec<FieldProblem>| m.into_iter().map(|p| p.field).collect::<Vec<_>>();
        assert_eq!(
            keys(tpl.missing("WO-1", &assets(), &answers)),
            ["panel", "pump.pressure (asset P1)", "pump.leak (asset P1)", "pump.pressure (asset P2)", "pump.leak (asset P2)"]
        );
        answers.insert(slot("panel", ""), json!("fail"));
        assert!(keys(tpl.missing("WO-1", &assets(), &answers)).contains(&"panel.fault".to_string()), "a failed panel needs its fault text");
        for a in ["p1", "p2"] {
            answers.insert(slot("pump.pressure", a), json!(0.5));
            answers.insert(slot("pump.leak", a), json!("pass"));
        }
        answers.insert(slot("panel.fault", ""), json!("E03"));
        assert!(tpl.missing("WO-1", &assets(), &answers).is_empty());
    }

    #[test]
    fn hidden_answers_are_not_findings() {
        let tpl = template();
        let mut answers = BTreeMap::new();
        answers.insert(slot("panel", ""), json!("fail"));
        answers.insert(slot("hazards", ""), json!(["blocked_exit"]));
        let found: Vec<_> = tpl.findings(&assets(), &answers).into_iter().map(|f| f.item_key).collect();
        assert_eq!(found, ["panel", "hazards"]);
        assert_eq!(tpl.findings(&assets(), &answers)[1].reason.zh, "通道堵塞");
    }

    #[test]
    fn invalid_templates_are_refused_with_each_problem_named() {
        let mut tpl = template();
        tpl.sections[0].items[1].show_if = Some(Condition { item: "later".into(), any_of: vec![json!("x")] });
        tpl.sections[1].items[0].kind = ItemKind::Numeric { unit: "MPa".into(), min: Some(2.0), max: Some(1.0) };
        tpl.sections[0].items[4].key = "panel".into();
        let problems = tpl.validate().unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 3, "{text:?}");
        assert!(text[0].contains("not an earlier item"));
        assert!(text[1].contains("used twice"));
        assert!(text[2].contains("above maximum"));
    }

    #[test]
    fn items_of_other_phases_are_left_off_the_form_and_not_missing() {
        let mut tpl = template();
        assert!(!tpl.has_phases());
        // `panel` only early (its conditional fault text goes with it), `hazards` late or middle.
        tpl.sections[0].items[0].phases = Some(vec!["early".into()]);
        tpl.sections[0].items[2].phases = Some(vec!["middle".into(), "late".into()]);
        tpl.validate().unwrap();
        let late = tpl.for_phase(Some("late"));
        let keys: Vec<&str> = late.sections[0].items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["panel.fault", "hazards", "hazards.photo", "phase", "next_visit"]);
        let answers = BTreeMap::from([(slot("panel", ""), json!("fail"))]);
        let missing: Vec<String> = late.missing("WO-1", &assets(), &answers).into_iter().map(|p| p.field).collect();
        assert!(!missing.iter().any(|m| m.starts_with("panel")), "{missing:?}");
        assert!(!late.is_shown(&slot("panel.fault", ""), &answers), "a condition on an item not on the form does not hold");
        assert!(tpl.for_phase(Some("early")).item("panel").is_some() && tpl.for_phase(Some("early")).item("hazards").is_none());
        // No phase (an order not from a plan): every item, as before.
        assert_eq!(tpl.for_phase(None), tpl);
    }

    #[test]
    fn a_template_with_unknown_or_empty_phases_is_refused() {
        let mut tpl = template();
        tpl.sections[0].items[0].phases = Some(vec!["early".into(), "final".into()]);
        tpl.sections[0].items[2].phases = Some(vec![]);
        let text: Vec<String> = tpl.validate().unwrap_err().iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].contains("'final' is not a contract phase"), "{text:?}");
        assert!(text[1].contains("phases is empty"), "{text:?}");
    }

    #[test]
    fn a_template_written_before_phases_reads_and_writes_the_same() {
        let tpl = template();
        let back = serde_json::to_value(&tpl).unwrap();
        assert!(!back.to_string().contains("phases"), "no phases key is written for items without one");
        let with: ChecklistTemplate = serde_json::from_value(json!({
            "code": "X", "version": 1, "title": t("x"), "sections": [{"key": "s", "title": t("s"), "items": [
                {"key": "a", "label": t("a"), "kind": "pass_fail", "phases": ["late"]}]}]
        })).unwrap();
        assert_eq!(with.sections[0].items[0].phases.as_deref(), Some(&["late".to_string()][..]));
    }
}
