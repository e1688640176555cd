//! Small read-only queries the desktop needs and the core does not offer (yet). They only read,
//! through the store's connection; every write goes through the core.

use chrono::NaiveDate;
use fieldbook_core::{Error, Store};

use crate::CommandError;

/// The ids of the work orders scheduled on `day` that concern a customer, a site or an asset,
/// most urgent first.
pub fn related_orders(
    store: &Store,
    kind: &str,
    record_id: &str,
    day: NaiveDate,
) -> Result<Vec<String>, CommandError> {
    let condition = match kind {
        "customer" => "customer_id = ?1",
        "site" => "site_id = ?1",
        "asset" => "EXISTS (SELECT 1 FROM json_each(asset_ids) a WHERE a.value = ?1)",
        "work_order" => "id = ?1",
        other => {
            return Err(Error::invalid(
                "related work orders",
                "kind",
                format!("'{other}' is not one of: customer, site, asset, work_order"),
            )
            .into())
        }
    };
    let sql = format!(
        "SELECT id FROM work_orders WHERE deleted = 0 AND scheduled_on = ?2 AND {condition}
         ORDER BY response_deadline, number"
    );
    let conn = store.connection();
    let mut stmt = conn.prepare(&sql).map_err(Error::from)?;
    let rows = stmt
        .query_map(rusqlite_params(record_id, day), |r| r.get::<_, String>(0))
        .map_err(Error::from)?;
    Ok(rows.collect::<Result<_, _>>().map_err(Error::from)?)
}

fn rusqlite_params(record_id: &str, day: NaiveDate) -> [String; 2] {
    [record_id.to_owned(), day.format("%Y-%m-%d").to_string()]
}
