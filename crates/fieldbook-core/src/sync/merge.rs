//! The per-field merge every replica applies: last writer by hybrid logical clock wins, a
//! concurrent overwrite is kept as a conflict, and a tombstone never comes back.
//!
//! It depends only on stamps and values, never on arrival order, so replicas that have seen the
//! same writes hold the same record.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The current state of a record on one replica: values and their stamps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    pub fields: Map<String, Value>,
    pub clocks: Map<String, Value>,
}

/// A write arriving at a replica.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingWrite<'a> {
    pub fields: &'a Map<String, Value>,
    /// Stamp per field (a push gives every field the entry's stamp).
    pub clocks: Stamps<'a>,
    /// Per field, the stamp the writer had seen before writing; `None` when unknown (pulls).
    pub base: Option<&'a Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stamps<'a> {
    /// One stamp for every field (an outbox entry).
    All(&'a str),
    /// A stamp per field (a feed change), in either form of [`crate::sync::stamps`].
    PerField(&'a Map<String, Value>),
}

impl Stamps<'_> {
    fn get(&self, field: &str) -> Option<&str> {
        match self {
            Stamps::All(s) => Some(s),
            Stamps::PerField(m) => crate::sync::stamps::stamp_of(m, field),
        }
    }
}

/// A concurrent write that lost (or won over a value that is kept here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    /// The value the record now holds.
    pub kept_value: Value,
    pub kept_hlc: String,
    /// The competing value, not lost: kept here for review.
    pub other_value: Value,
    pub other_hlc: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeOutcome {
    /// Fields whose value or stamp changed on this replica.
    pub changed: Vec<String>,
    pub conflicts: Vec<FieldConflict>,
}

/// The node (device id, or `server`) that wrote a stamp.
pub fn stamp_node(hlc: &str) -> &str {
    hlc.splitn(3, '-').nth(2).unwrap_or("")
}

/// Merges `incoming` into `state` in place.
pub fn merge_into(state: &mut RecordState, incoming: &IncomingWrite<'_>) -> MergeOutcome {
    let mut out = MergeOutcome::default();
    for (field, value) in incoming.fields {
        let Some(stamp) = incoming.clocks.get(field) else { continue };
        let current_stamp = state.clocks.get(field).and_then(Value::as_str).map(str::to_owned);
        let current_value = state.fields.get(field).cloned();
        let Some(current_stamp) = current_stamp else {
            state.fields.insert(field.clone(), value.clone());
            state.clocks.insert(field.clone(), Value::String(stamp.to_owned()));
            out.changed.push(field.clone());
            continue;
        };
        if current_stamp == stamp {
            continue; // the same write, seen again
        }
        let incoming_wins = stamp > current_stamp.as_str();
        if field == "deleted" {
            // A tombstone is final: deleted once, deleted for good.
            let now_deleted = current_value.as_ref().and_then(Value::as_bool).unwrap_or(false) || value.as_bool().unwrap_or(false);
            let stamp_max = if incoming_wins { stamp.to_owned() } else { current_stamp };
            if Some(&Value::Bool(now_deleted)) != current_value.as_ref() || state.clocks.get(field).and_then(Value::as_str) != Some(&stamp_max) {
                state.fields.insert(field.clone(), Value::Bool(now_deleted));
                state.clocks.insert(field.clone(), Value::String(stamp_max));
                out.changed.push(field.clone());
            }
            continue;
        }
        let concurrent = match incoming.base {
            Some(base) => {
                let seen = base.get(field).and_then(Value::as_str);
                seen != Some(current_stamp.as_str()) && current_value.as_ref() != Some(value)
            }
            None => false,
        };
        if incoming_wins {
            if concurrent {
                out.conflicts.push(FieldConflict {
                    field: field.clone(),
                    kept_value: value.clone(),
                    kept_hlc: stamp.to_owned(),
                    other_value: current_value.clone().unwrap_or(Value::Null),
                    other_hlc: current_stamp.clone(),
                });
            }
            state.fields.insert(field.clone(), value.clone());
            state.clocks.insert(field.clone(), Value::String(stamp.to_owned()));
            out.changed.push(field.clone());
        } else if concurrent {
            out.conflicts.push(FieldConflict {
                field: field.clone(),
                kept_value: current_value.unwrap_or(Value::Null),
                kept_hlc: current_stamp,
                other_value: value.clone(),
                other_hlc: stamp.to_owned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn push(state: &mut RecordState, fields: Value, hlc: &str, base: Value) -> MergeOutcome {
        let (f, b) = (map(fields), map(base));
        merge_into(state, &IncomingWrite { fields: &f, clocks: Stamps::All(hlc), base: Some(&b) })
    }

    const T1: &str = "000000000000001-0000000000-a";
    const T2: &str = "000000000000002-0000000000-b";
    const T3: &str = "000000000000003-0000000000-a";

    #[test]
    fn a_write_that_saw_the_current_value_is_no_conflict() {
        let mut s = RecordState::default();
        push(&mut s, json!({"action": "x"}), T1, json!({"action": null}));
        let out = push(&mut s, json!({"action": "y"}), T2, json!({"action": T1}));
        assert_eq!(out.conflicts, []);
        assert_eq!(s.fields["action"], "y");
    }

    #[test]
    fn concurrent_writes_keep_the_loser_whichever_arrives_first() {
        // Both wrote on top of T1 without seeing each other.
        for order in [[0, 1], [1, 0]] {
            let mut s = RecordState::default();
            push(&mut s, json!({"action": "x"}), T1, json!({}));
            let writes = [(json!({"action": "office"}), T2), (json!({"action": "laptop"}), T3)];
            let mut conflicts = Vec::new();
            for i in order {
                conflicts.extend(push(&mut s, writes[i].0.clone(), writes[i].1, json!({"action": T1})).conflicts);
            }
            assert_eq!(s.fields["action"], "laptop", "the later stamp wins");
            assert_eq!(conflicts.len(), 1, "{order:?}");
            assert_eq!(conflicts[0].kept_value, "laptop");
            assert_eq!(conflicts[0].other_value, "office");
        }
    }

    #[test]
    fn a_tombstone_is_never_undone() {
        let mut s = RecordState::default();
        push(&mut s, json!({"deleted": false}), T1, json!({}));
        push(&mut s, json!({"deleted": true}), T2, json!({"deleted": T1}));
        push(&mut s, json!({"deleted": false}), T3, json!({"deleted": T2}));
        assert_eq!(s.fields["deleted"], true);
    }

    #[test]
    fn node_of_a_stamp() {
        assert_eq!(stamp_node("000000000000003-0000000000-0196-abcd"), "0196-abcd");
    }

    proptest! {
        /// Any order of the same writes gives the same record, and every written value is either
        /// the final one of its field or recorded as a conflict... or was seen and overwritten.
        #[test]
        fn merge_is_order_independent(writes in proptest::collection::vec((0u8..3, 0u8..4, 0u64..20, 0u8..3), 1..12), seed in any::<u64>()) {
            let stamped: Vec<(String, Value, String)> = writes.iter().enumerate().map(|(i, (f, v, t, n))| {
                (format!("f{f}"), json!(v), format!("{t:015}-{i:010}-n{n}"))
            }).collect();
            let apply = |order: &[usize]| {
                let mut s = RecordState::default();
                for &i in order {
                    let (f, v, h) = &stamped[i];
                    let fields = map(json!({f.clone(): v.clone()}));
                    merge_into(&mut s, &IncomingWrite { fields: &fields, clocks: Stamps::All(h), base: None });
                }
                s
            };
            let forward: Vec<usize> = (0..stamped.len()).collect();
            let mut shuffled = forward.clone();
            let mut x = seed;
            for i in (1..shuffled.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (x >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(apply(&forward), apply(&shuffled));
        }
    }
}
