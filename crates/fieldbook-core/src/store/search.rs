//! Search as you type across customers, sites, assets, work orders and repair records
//! (migration 0003 keeps the index current).

use rusqlite::Row;
use serde::Serialize;

use super::Store;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// `customer`, `site`, `asset`, `work_order` or `repair_record`.
    pub kind: String,
    pub record_id: String,
    /// For work orders and repair records: the work order to open.
    pub order_id: Option<String>,
    pub title: String,
    pub body: String,
}

fn hit(r: &Row<'_>) -> rusqlite::Result<SearchHit> {
    Ok(SearchHit { kind: r.get(0)?, record_id: r.get(1)?, order_id: r.get(2)?, title: r.get(3)?, body: r.get(4)? })
}

impl Store {
    /// Records whose text contains every term of `query` (case-insensitive substrings), best
    /// matches first. Terms of three or more characters use the trigram index; shorter ones
    /// (common in Chinese: 水泵, 漏水) are matched by substring on the candidates.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        self.after_pull.wait_for_search();
        let (long, short): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| t.chars().count() >= 3);
        let mut args: Vec<String> = Vec::new();
        let like = |args: &mut Vec<String>, t: &str| {
            let escaped = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            args.push(format!("%{escaped}%"));
            format!("(d.title || ' ' || d.body) LIKE ?{} ESCAPE '\\'", args.len())
        };
        let sql = if long.is_empty() {
            let conds: Vec<String> = short.iter().map(|t| like(&mut args, t)).collect();
            format!("SELECT d.kind, d.record_id, d.order_id, d.title, d.body FROM search_docs d WHERE {} ORDER BY d.kind, d.title LIMIT {limit}", conds.join(" AND "))
        } else {
            // Each long term as an FTS5 phrase: quotes doubled so input cannot inject syntax.
            args.push(long.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND "));
            let mut conds = vec![format!("search_index MATCH ?{}", args.len())];
            conds.extend(short.iter().map(|t| like(&mut args, t)));
            format!(
                "SELECT d.kind, d.record_id, d.order_id, d.title, d.body FROM search_index JOIN search_docs d ON d.id = search_index.rowid
                 WHERE {} ORDER BY rank LIMIT {limit}",
                conds.join(" AND ")
            )
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(&args), hit)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Category, NewRepairRecord};
    use crate::Store;

    use crate::store::fixtures::demo_store as store;

    fn kinds(s: &Store, q: &str) -> Vec<(String, String)> {
        s.search(q, 20).unwrap().into_iter().map(|h| (h.kind, h.title)).collect()
    }

    #[test]
    fn finds_chinese_substrings_short_and_long() {
        let (_d, s) = store();
        assert!(kinds(&s, "金桥广场").contains(&("site".into(), "金桥广场 A 座".into())));
        let hits = kinds(&s, "漏水");
        assert!(hits.iter().any(|(k, t)| k == "work_order" && t == "WO-1002"), "two-character terms work: {hits:?}");
        assert!(kinds(&s, "GST200").iter().filter(|(k, _)| k == "asset").count() == 2, "serials and models, case-insensitive");
        assert!(kinds(&s, "gst200 瑞金").iter().all(|(_, t)| t.contains("火灾报警控制器")), "all terms must match");
        assert!(kinds(&s, "\"unbalanced").is_empty() && kinds(&s, "50%_").is_empty(), "search syntax in input is literal");
    }

    #[test]
    fn new_and_edited_records_are_found_and_deleted_ones_are_not() {
        let (_d, mut s) = store();
        s.add_repair("WO-1002", &NewRepairRecord {
            asset_id: None, fault: "机械密封磨损漏水".into(), cause: "长期运行".into(), action: "更换 SEAL-PUMP-45".into(), parts: vec![],
            labour_minutes: 30, category: Category::Paid, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
        }).unwrap();
        let hits = s.search("机械密封", 10).unwrap();
        assert_eq!(hits[0].kind, "repair_record");
        assert_eq!(hits[0].order_id.as_deref(), Some(s.find_order("WO-1002").unwrap().id.as_str()));
        let id = hits[0].record_id.clone();
        s.write(|tx| tx.put("repair_records", &id, &[("deleted", serde_json::json!(true))])).unwrap();
        assert!(s.search("机械密封", 10).unwrap().is_empty());
    }
}
