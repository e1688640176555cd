//! The workshop loop (#12) for a unit the technician could not fix on site, as one record
//! (`workshop_jobs`, under the order): the **receipt** (领取收据: unit, serial, condition,
//! accessories, receipt number, the customer who handed it over — the technician's, on the
//! laptop), the **goods-in / goods-out register** at the workshop (who, when), the **repair card**
//! (修护卡: actual repair time, parts, what was done, by whom), the **supervisor's check** (passed,
//! or sent back to the bench with a note) — the office's, in the console — and the **return** to
//! the customer, who signs for it on the laptop, which voids the receipt.
//!
//! Pure: where a job stands ([`Stage`], read from its fields) and which step may come next
//! ([`check_step`]). The laptop's store, the server's push and the console's steps all ask here,
//! so a step out of order gets the same refusal wherever it is tried.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::Stroke;

/// Where a unit in the workshop loop stands, in the order the steps come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The technician has the unit and the customer's receipt; not booked in at the workshop yet.
    Received,
    /// Booked in at the workshop (goods-in); waiting for its repair card.
    InWorkshop,
    /// Repair card written; waiting for the supervisor's check.
    Repaired,
    /// The supervisor sent it back to the bench (with a note): a new repair card is due.
    SentBack,
    /// The supervisor passed it; it may leave the workshop.
    Passed,
    /// Booked out of the workshop (goods-out); the technician takes it back to the customer.
    GoodsOut,
    /// Returned: the customer signed for it and the receipt is void.
    Returned,
}

impl Stage {
    pub const ALL: [Stage; 7] = [Stage::Received, Stage::InWorkshop, Stage::Repaired, Stage::SentBack, Stage::Passed, Stage::GoodsOut, Stage::Returned];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Received => "received",
            Stage::InWorkshop => "in_workshop",
            Stage::Repaired => "repaired",
            Stage::SentBack => "sent_back",
            Stage::Passed => "passed",
            Stage::GoodsOut => "goods_out",
            Stage::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Received => "received from the customer, not booked in at the workshop",
            Stage::InWorkshop => "in the workshop, waiting for its repair card",
            Stage::Repaired => "repaired, waiting for the supervisor's check",
            Stage::SentBack => "sent back to the bench by the supervisor",
            Stage::Passed => "passed by the supervisor, waiting for goods-out",
            Stage::GoodsOut => "out of the workshop, waiting for the customer's signature",
            Stage::Returned => "returned to the customer (receipt void)",
        })
    }
}

/// The steps of the loop, each written by one side (the write policy says which fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Office: the unit arrives at the workshop.
    GoodsIn,
    /// Office: the repair card (may be rewritten until the check passes it).
    RepairCard,
    /// Office: the supervisor passes the repair or sends it back.
    Check,
    /// Office: the unit leaves the workshop.
    GoodsOut,
    /// Technician: the customer signs for the unit; the receipt is void.
    Return,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::GoodsIn => "goods_in",
            Step::RepairCard => "repair_card",
            Step::Check => "check",
            Step::GoodsOut => "goods_out",
            Step::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        [Step::GoodsIn, Step::RepairCard, Step::Check, Step::GoodsOut, Step::Return].into_iter().find(|st| st.as_str() == s)
    }

    /// The stages this step may be taken from.
    fn from(self) -> &'static [Stage] {
        match self {
            Step::GoodsIn => &[Stage::Received],
            // Rewriting the card before the check is a correction, not a new round.
            Step::RepairCard => &[Stage::InWorkshop, Stage::Repaired, Stage::SentBack],
            Step::Check => &[Stage::Repaired],
            Step::GoodsOut => &[Stage::Passed],
            Step::Return => &[Stage::GoodsOut],
        }
    }

    /// What must happen first, in words, when this step is tried too early.
    fn needs(self) -> &'static str {
        match self {
            Step::GoodsIn => "goods-in is for a unit just received from the customer",
            Step::RepairCard => "the repair card needs the unit booked in at the workshop (goods-in) first",
            Step::Check => "the check needs a repair card first",
            Step::GoodsOut => "goods-out needs the supervisor's check passed first",
            Step::Return => "the return needs the unit booked out of the workshop (goods-out) first",
        }
    }
}

fn text<'a>(f: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    f.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Where a job stands, read from its fields (as stored, or as they will stand after a write).
pub fn stage(f: &Map<String, Value>) -> Stage {
    if text(f, "returned_at").is_some() {
        Stage::Returned
    } else if text(f, "goods_out_at").is_some() {
        Stage::GoodsOut
    } else if text(f, "check_result") == Some("passed") {
        Stage::Passed
    } else if text(f, "check_result") == Some("sent_back") {
        Stage::SentBack
    } else if text(f, "repaired_at").is_some() {
        Stage::Repaired
    } else if text(f, "goods_in_at").is_some() {
        Stage::InWorkshop
    } else {
        Stage::Received
    }
}

/// May this step be taken now? The refusal names the job (by its receipt number), where it
/// stands and what must come first.
pub fn check_step(f: &Map<String, Value>, step: Step) -> Result<(), String> {
    let now = stage(f);
    if step.from().contains(&now) {
        return Ok(());
    }
    let receipt = text(f, "receipt_number").unwrap_or("?");
    let why = if now > *step.from().last().expect("every step has a stage") {
        format!("that step is already past (the unit is {now})")
    } else {
        format!("{}; the unit is {now}", step.needs())
    };
    Err(format!("workshop receipt {receipt}: cannot record {}: {why}", step.as_str().replace('_', "-")))
}

/// Whether pen strokes hold a signature: at least one point, every coordinate a finite number.
/// The same test the service voucher's signature passes (`Store::sign`).
pub fn strokes_problem(strokes: &[Stroke]) -> Option<&'static str> {
    if strokes.iter().map(Vec::len).sum::<usize>() == 0 {
        return Some("the signature is empty: the customer must sign on the pad");
    }
    if strokes.iter().flatten().any(|p| !p.x.is_finite() || !p.y.is_finite()) {
        return Some("a stroke point is not a finite number");
    }
    None
}

/// A pushed or stored strokes value that holds a signature (JSON array of strokes).
pub fn strokes_value_signed(v: Option<&Value>) -> bool {
    v.and_then(|v| serde_json::from_value::<Vec<Stroke>>(v.clone()).ok()).is_some_and(|s| strokes_problem(&s).is_none())
}

/// The laptop-side rule the server enforces on every push of a job (as it will stand after it):
/// the receipt is void only with the customer's return signature, the return comes only after
/// goods-out, and a return, once signed, never changes. `stored` is the job before the push.
pub fn check_laptop_return(stored: Option<&Map<String, Value>>, after: &Map<String, Value>) -> Result<(), String> {
    let receipt = text(after, "receipt_number").unwrap_or("?");
    const RETURN: [&str; 4] = ["returned_at", "return_signer", "return_strokes", "receipt_voided_at"];
    if let Some(before) = stored.filter(|b| text(b, "returned_at").is_some()) {
        if RETURN.iter().any(|k| before.get(*k) != after.get(*k)) {
            return Err(format!("workshop receipt {receipt}: the return is signed; a signed return never changes"));
        }
        return Ok(());
    }
    let returning = RETURN.iter().any(|k| after.get(*k).is_some_and(|v| !v.is_null()));
    if !returning {
        return Ok(());
    }
    if text(after, "receipt_voided_at").is_some() && (text(after, "return_signer").is_none() || !strokes_value_signed(after.get("return_strokes"))) {
        return Err(format!("workshop receipt {receipt}: a receipt is voided only by the customer's signature on return; take the signature on the laptop"));
    }
    let before = stored.cloned().unwrap_or_default();
    check_step(&before, Step::Return)?;
    if text(after, "returned_at").is_none() || text(after, "receipt_voided_at").is_none() || text(after, "return_signer").is_none() || !strokes_value_signed(after.get("return_strokes")) {
        return Err(format!(
            "workshop receipt {receipt}: a return is the customer's name and signature, the time and the receipt voided, together"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn stages_follow_the_steps_and_out_of_order_steps_say_what_comes_first() {
        let mut f = map(json!({"receipt_number": "R-1"}));
        assert_eq!(stage(&f), Stage::Received);
        let e = check_step(&f, Step::RepairCard).unwrap_err();
        assert!(e.contains("R-1") && e.contains("goods-in") && e.contains("not booked in"), "{e}");
        assert!(check_step(&f, Step::GoodsIn).is_ok());
        f.insert("goods_in_at".into(), json!("2026-12-06T08:00:00Z"));
        assert_eq!(stage(&f), Stage::InWorkshop);
        assert!(check_step(&f, Step::GoodsIn).unwrap_err().contains("already past"));
        assert!(check_step(&f, Step::Check).unwrap_err().contains("repair card first"));
        f.insert("repaired_at".into(), json!("2026-12-06T09:00:00Z"));
        assert_eq!(stage(&f), Stage::Repaired);
        assert!(check_step(&f, Step::GoodsOut).unwrap_err().contains("check passed first"));
        f.insert("check_result".into(), json!("sent_back"));
        assert_eq!(stage(&f), Stage::SentBack);
        assert!(check_step(&f, Step::RepairCard).is_ok());
        assert!(check_step(&f, Step::Check).is_err());
        f.insert("check_result".into(), json!("passed"));
        assert_eq!(stage(&f), Stage::Passed);
        assert!(check_step(&f, Step::Return).unwrap_err().contains("goods-out"));
        f.insert("goods_out_at".into(), json!("2026-12-06T10:00:00Z"));
        assert!(check_step(&f, Step::Return).is_ok());
        f.insert("returned_at".into(), json!("2026-12-06T11:00:00Z"));
        assert_eq!(stage(&f), Stage::Returned);
        assert!(check_step(&f, Step::Return).unwrap_err().contains("already past"));
    }

    #[test]
    fn the_receipt_is_voided_only_with_the_return_signature_after_goods_out() {
        let strokes = json!([[{"x": 1.0, "y": 2.0, "t": 0}, {"x": 3.0, "y": 4.0, "t": 5}]]);
        let out = map(json!({"receipt_number": "R-1", "goods_in_at": "a", "repaired_at": "b", "check_result": "passed", "goods_out_at": "c"}));
        let mut void = out.clone();
        void.insert("receipt_voided_at".into(), json!("2026-12-06T11:00:00Z"));
        assert!(check_laptop_return(Some(&out), &void).unwrap_err().contains("voided only by the customer's signature"));
        let mut signed = void.clone();
        for (k, v) in [("returned_at", json!("2026-12-06T11:00:00Z")), ("return_signer", json!("王经理")), ("return_strokes", strokes.clone())] {
            signed.insert(k.into(), v);
        }
        assert!(check_laptop_return(Some(&out), &signed).is_ok());
        let mut empty = signed.clone();
        empty.insert("return_strokes".into(), json!([[]]));
        assert!(check_laptop_return(Some(&out), &empty).is_err());
        // Before goods-out: refused however complete.
        let in_shop = map(json!({"receipt_number": "R-1", "goods_in_at": "a"}));
        assert!(check_laptop_return(Some(&in_shop), &signed).unwrap_err().contains("goods-out"));
        // Signed once, never changed.
        let mut changed = signed.clone();
        changed.insert("return_signer".into(), json!("someone else"));
        assert!(check_laptop_return(Some(&signed), &changed).unwrap_err().contains("never changes"));
        assert!(check_laptop_return(Some(&signed), &signed).is_ok());
        // A receipt without any return is fine.
        assert!(check_laptop_return(None, &map(json!({"receipt_number": "R-1"}))).is_ok());
    }
}
