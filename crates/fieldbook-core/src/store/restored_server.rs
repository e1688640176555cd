//! A server restored from a backup, from the laptop's side (docs/sync.md, "A server restored
//! from a backup"): telling it from what the server says of itself at every sync
//! ([`ServerLineage`]), and recovering — re-sending from the store's own records what this
//! laptop wrote that the server lost, and pulling again from a feed position the restored
//! server shares with the lineage the laptop knew.
//!
//! The outbox entries the old server acknowledged are gone, but the records are not: every
//! field this laptop wrote still carries its stamp, whose node is this device. Those fields are
//! re-sent with their original stamps (so the server's merge treats a copy it already has as the
//! same write: no new feed entry, no conflict) and go through every check of an ordinary push.

use rusqlite::{params, OptionalExtension};
use serde_json::{Map, Value};

use super::{clocks, Store};
use crate::entity::{self, Owner};
use crate::error::Result;
use crate::sync::merge::stamp_node;
use crate::sync::protocol::ServerLineage;

/// Why the laptop concluded the server lost data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoredServer {
    /// The server announced a restore: its epoch is not the one this laptop last synced with.
    NewEpoch { feed_start: i64 },
    /// Same epoch (or none known), but the server is behind what this laptop already saw: its
    /// feed ends before this laptop's cursor, or it acknowledged fewer of this laptop's changes.
    Behind { feed_head: i64, acked_seq: i64 },
}

impl RestoredServer {
    /// Where to pull from again: a position the restored server shares with the lineage this
    /// laptop pulled. An announced restore says where its lineage began; an unannounced one
    /// does not, so the whole feed is pulled again (the merge makes that harmless).
    fn pull_from(&self, cursor: i64) -> i64 {
        match self {
            RestoredServer::NewEpoch { feed_start } => cursor.min(*feed_start),
            RestoredServer::Behind { .. } => 0,
        }
    }
}

/// What a recovery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Records re-sent (one outbox entry each).
    pub resent: usize,
    /// The pull cursor it went back to.
    pub pull_from: i64,
}

/// Entities a laptop writes, in the order ties are pushed: a signature before the order whose
/// signed status needs it, the order before the rest.
fn rank(entity: &str) -> u8 {
    match entity {
        "signatures" => 0,
        "work_orders" => 2,
        _ => 1,
    }
}


/// One record to send again: its place in the queue (the stamp it goes at, the entity's rank,
/// its id), the entity, the entry's stamp (its newest field's), the fields and their own stamps.
type Resend = ((String, u8, String), String, String, Map<String, Value>, Map<String, Value>);
impl Store {
    /// Compares what the server says of itself with what this laptop knows. `None`: nothing was
    /// lost (or nothing is known yet: the first sync with a server that tells its epoch).
    pub fn restored_server(&self, server: &ServerLineage) -> Result<Option<RestoredServer>> {
        let (epoch, acked, cursor): (Option<String>, i64, i64) =
            self.conn.query_row("SELECT server_epoch, server_acked_seq, pull_cursor FROM sync_state WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if epoch.as_deref().is_some_and(|e| e != server.epoch) {
            return Ok(Some(RestoredServer::NewEpoch { feed_start: server.epoch_feed_start }));
        }
        if server.feed_head < cursor || server.acked_seq < acked {
            return Ok(Some(RestoredServer::Behind { feed_head: server.feed_head, acked_seq: server.acked_seq }));
        }
        Ok(None)
    }

    /// Notes the server's epoch and acknowledged number (at every sync, when nothing was lost).
    pub fn note_server_lineage(&mut self, server: &ServerLineage) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_state SET server_epoch = ?1, server_acked_seq = max(server_acked_seq, ?2) WHERE id = 1",
            params![server.epoch, server.acked_seq],
        )?;
        Ok(())
    }

    /// Recovers from a restored server, in one transaction: every field this laptop wrote
    /// stamped after the last change the server still has of it (`acked_hlc`; all of them when
    /// the server knows none) is queued again, one entry per record with each field's own stamp,
    /// ahead of the changes not yet sent; the pull cursor goes back to a position the server
    /// shares with what this laptop pulled; the server's epoch and numbers are noted.
    pub fn recover_from_restored_server(&mut self, server: &ServerLineage, how: &RestoredServer) -> Result<Recovery> {
        let me = self.device.id.clone();
        let after = server.acked_hlc.clone().filter(|_| server.acked_seq > 0);
        self.write(|tx| {
            let conn = tx.conn();
            let mut resend: Vec<Resend> = Vec::new();
            for spec in entity::ENTITIES {
                // Reference data is the office's: never this laptop's to send.
                if entity::policy(spec.name).is_some_and(|p| p.owner == Owner::Office) {
                    continue;
                }
                let cols: Vec<&str> = spec.fields.iter().map(|(n, _)| *n).collect();
                let sql = format!("SELECT id, clocks, {} FROM {} WHERE clocks LIKE ?1", cols.join(", "), spec.name);
                let mut stmt = conn.prepare(&sql)?;
                let mut rows = stmt.query([format!("%{me}%")])?;
                while let Some(r) = rows.next()? {
                    let id: String = r.get(0)?;
                    let Some(text): Option<String> = r.get(1)? else { continue };
                    let stamps = clocks::decode(spec, &id, &text)?;
                    let mut fields = Map::new();
                    let mut own = Map::new();
                    for (i, (name, ty)) in spec.fields.iter().enumerate() {
                        let Some(stamp) = stamps.get(*name).and_then(Value::as_str) else { continue };
                        if stamp_node(stamp) != me || after.as_deref().is_some_and(|a| stamp <= a) {
                            continue;
                        }
                        fields.insert((*name).to_owned(), entity::from_sql(*ty, r.get_ref(i + 2)?));
                        own.insert((*name).to_owned(), Value::String(stamp.to_owned()));
                    }
                    let (Some(first), Some(last)) = (
                        own.values().filter_map(Value::as_str).min().map(str::to_owned),
                        own.values().filter_map(Value::as_str).max().map(str::to_owned),
                    ) else {
                        continue;
                    };
                    // Pushed in the order it was written: a record where it was created (before
                    // the records under it), except an order re-sent as signed, which goes where
                    // it was signed (after its signature).
                    let signed = spec.name == "work_orders" && fields.get("status").and_then(Value::as_str) == Some("signed");
                    let at = if signed { last.clone() } else { first };
                    resend.push(((at, rank(spec.name), id.clone()), spec.name.to_owned(), last, fields, own));
                }
            }
            resend.sort_by(|a, b| a.0.cmp(&b.0));

            // The re-sent entries take the next numbers; the changes not yet sent move after them
            // (same order), since they were written later and may need them (an amendment needs
            // the signature it amends).
            let top: i64 = conn.query_row(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0), coalesce((SELECT max(seq) FROM outbox), 0))",
                [],
                |r| r.get(0),
            )?;
            let now = super::ts(tx.now());
            let conn = tx.conn();
            let mut insert = conn.prepare("INSERT INTO outbox (seq, entity, record_id, fields, hlc, created_at, base, stamps) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{}', ?7)")?;
            let first_pending: Option<i64> = conn.query_row("SELECT min(seq) FROM outbox", [], |r| r.get(0))?;
            if let Some(first) = first_pending {
                // Through negative numbers, so that no entry takes a number another still holds.
                conn.execute("UPDATE outbox SET seq = -(seq + ?1)", [top + resend.len() as i64 + 1 - first])?;
                conn.execute("UPDATE outbox SET seq = -seq", [])?;
            }
            for (i, (_, entity, hlc, fields, own)) in resend.iter().enumerate() {
                insert.execute(params![
                    top + 1 + i as i64,
                    entity,
                    // The record id is the last part of the sort key.
                    &resend[i].0 .2,
                    Value::Object(fields.clone()).to_string(),
                    hlc,
                    now,
                    Value::Object(own.clone()).to_string()
                ])?;
            }
            drop(insert);
            conn.execute("UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(seq) FROM outbox), 0)) WHERE name = 'outbox'", [])?;
            let cursor: i64 = conn.query_row("SELECT pull_cursor FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
            let pull_from = how.pull_from(cursor);
            conn.execute(
                "UPDATE sync_state SET pull_cursor = ?1, server_epoch = ?2, server_acked_seq = ?3, server_restore_seen_at = ?4, server_restore_resent = ?5 WHERE id = 1",
                params![pull_from, server.epoch, server.acked_seq, now, resend.len() as i64],
            )?;
            Ok(Recovery { resent: resend.len(), pull_from })
        })
    }

    /// When this laptop last recovered from a restored server, and how many records it re-sent.
    pub fn last_server_restore(&self) -> Result<Option<(String, i64)>> {
        Ok(self
            .conn
            .query_row("SELECT server_restore_seen_at, server_restore_resent FROM sync_state WHERE id = 1 AND server_restore_seen_at IS NOT NULL", [], |r| {
                Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0)))
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::store::fixtures::demo_store as store;
    use crate::sync::protocol::PushResponse;

    fn lineage(epoch: &str, feed_head: i64, acked_seq: i64, acked_hlc: Option<&str>) -> ServerLineage {
        ServerLineage { epoch: epoch.into(), epoch_feed_start: 5, feed_head, acked_seq, acked_hlc: acked_hlc.map(str::to_owned) }
    }

    fn ack_all(s: &mut Store) -> Vec<crate::sync::protocol::PushEntry> {
        let sent = s.pending_push(100).unwrap();
        let last = sent.last().unwrap().seq;
        s.acknowledge(&PushResponse { acked_seq: last, applied: sent.len() as u32, duplicates: 0, conflicts: 0, rejected: vec![], server_hlc: "000000000000001-0000000000-server".into() }).unwrap();
        sent
    }

    #[test]
    fn a_restored_server_is_told_by_its_epoch_or_by_being_behind() {
        let (_d, mut s) = store();
        s.conn.execute("UPDATE sync_state SET pull_cursor = 40", []).unwrap();
        assert_eq!(s.restored_server(&lineage("e1", 40, 0, None)).unwrap(), None, "nothing known yet");
        s.note_server_lineage(&lineage("e1", 40, 3, None)).unwrap();
        assert_eq!(s.restored_server(&lineage("e1", 45, 3, None)).unwrap(), None);
        assert_eq!(s.restored_server(&lineage("e2", 45, 3, None)).unwrap(), Some(RestoredServer::NewEpoch { feed_start: 5 }));
        assert_eq!(s.restored_server(&lineage("e1", 39, 3, None)).unwrap(), Some(RestoredServer::Behind { feed_head: 39, acked_seq: 3 }));
        assert_eq!(s.restored_server(&lineage("e1", 45, 2, None)).unwrap(), Some(RestoredServer::Behind { feed_head: 45, acked_seq: 2 }));
    }

    #[test]
    fn recovery_resends_what_the_server_lost_ahead_of_unsent_changes() {
        let (_d, mut s) = store();
        let me = s.device().id.clone();
        s.note_server_lineage(&lineage("e1", 0, 0, None)).unwrap();
        s.set_status("WO-1001", Status::EnRoute).unwrap();
        let kept = ack_all(&mut s);
        s.set_status("WO-1001", Status::OnSite).unwrap();
        s.set_status("WO-1002", Status::EnRoute).unwrap();
        let lost = ack_all(&mut s);
        s.set_status("WO-1003", Status::EnRoute).unwrap();
        let unsent = s.pending_push(10).unwrap();
        s.conn.execute("UPDATE sync_state SET pull_cursor = 40", []).unwrap();

        // The server kept the first change only.
        let server = lineage("e2", 30, kept[0].seq, Some(&kept[0].hlc));
        let how = s.restored_server(&server).unwrap().unwrap();
        let r = s.recover_from_restored_server(&server, &how).unwrap();
        // The two lost changes, and the unsent one too (its fields are stamped after what the
        // server has; re-sent with the same stamp it is the same write, seen again).
        assert_eq!(r, Recovery { resent: 3, pull_from: 5 });
        let out = s.pending_push(10).unwrap();
        assert_eq!(out.len(), 4);
        // Both lost orders, each field with the stamp it holds, in the order written.
        let o1 = s.find_order("WO-1001").unwrap().id;
        let o2 = s.find_order("WO-1002").unwrap().id;
        assert_eq!((out[0].record_id.as_str(), out[1].record_id.as_str()), (o1.as_str(), o2.as_str()));
        assert_eq!(out[0].fields["status"], "on_site");
        let stamps = out[0].stamps.as_ref().unwrap();
        assert_eq!(stamps["status"], lost[0].hlc.as_str());
        assert!(!stamps.contains_key("en_route_at") || stamps["en_route_at"].as_str().unwrap() > kept[0].hlc.as_str(), "what the server kept is not re-sent");
        assert!(stamps.values().all(|v| v.as_str().unwrap().ends_with(&me)));
        assert!(out[0].base.is_empty());
        assert_eq!(out[0].hlc, stamps.values().filter_map(Value::as_str).max().unwrap());
        // The unsent change follows them, and the numbers keep growing.
        assert!(out[2].stamps.is_some() && out[3].stamps.is_none());
        assert_eq!(out[3].fields, unsent[0].fields);
        assert!(out.windows(2).all(|w| w[1].seq > w[0].seq) && out[0].seq > lost.last().unwrap().seq);
        s.set_status("WO-1003", Status::OnSite).unwrap();
        assert!(s.pending_push(10).unwrap().last().unwrap().seq > out[3].seq);
        // The epoch and cursor were noted: the same server is not "restored" again.
        assert_eq!(s.pull_cursor().unwrap(), 5);
        assert_eq!(s.restored_server(&lineage("e2", 30, kept[0].seq, Some(&kept[0].hlc))).unwrap(), None);
        assert_eq!(s.last_server_restore().unwrap().unwrap().1, 3);
    }

    #[test]
    fn a_server_that_knows_nothing_of_this_laptop_gets_everything_it_wrote_and_a_full_pull() {
        let (_d, mut s) = store();
        s.set_status("WO-1001", Status::EnRoute).unwrap();
        s.set_status("WO-1002", Status::EnRoute).unwrap();
        ack_all(&mut s);
        s.conn.execute("UPDATE sync_state SET pull_cursor = 40", []).unwrap();
        let server = lineage("e1", 50, 0, None);
        let how = s.restored_server(&server).unwrap().unwrap();
        assert_eq!(how, RestoredServer::Behind { feed_head: 50, acked_seq: 0 });
        let r = s.recover_from_restored_server(&server, &how).unwrap();
        assert_eq!(r.pull_from, 0);
        // Every record stamped by this laptop (here also the orders its own `import` wrote), and
        // never reference data, which is the office's.
        let out = s.pending_push(100).unwrap();
        assert_eq!(out.len(), r.resent);
        assert!(out.iter().all(|e| e.entity == "work_orders"), "{out:?}");
        for number in ["WO-1001", "WO-1002"] {
            let id = s.find_order(number).unwrap().id;
            assert_eq!(out.iter().find(|e| e.record_id == id).unwrap().fields["status"], "en_route");
        }
    }
}
