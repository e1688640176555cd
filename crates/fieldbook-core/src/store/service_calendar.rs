//! The laptop's side of the service calendar: the versions it pulled, and the deadline of an
//! order it creates (a follow-up, an import) by `crate::service_calendar`, as the office would
//! compute it for the same call.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::Store;
use crate::error::Result;
use crate::model::Zone;
use crate::service_calendar::{self, CalendarVersion, ContractTerms, Deadline};
use crate::service_category;

impl Store {
    /// What a call taken at `reported_at` from `customer_id` about `assets` at a site in `zone`
    /// is promised, by the calendar version in force then.
    pub fn response_deadline(&self, reported_at: DateTime<Utc>, zone: Zone, customer_id: &str, assets: &[String]) -> Result<Deadline> {
        deadline_in(&self.conn, reported_at, zone, customer_id, assets)
    }

    /// The service category a repair of `asset_id` on `work_date` defaults to, and why
    /// (`crate::service_category`): from the contracts and the warranty this laptop holds for
    /// the asset's customer (it receives them with its orders). The repair form preselects it.
    pub fn default_category(&self, asset_id: &str, work_date: NaiveDate) -> Result<service_category::Default> {
        let found = self
            .conn
            .query_row("SELECT a.warranty_ends, s.customer_id FROM assets a JOIN sites s ON s.id = a.site_id WHERE a.id = ?1 AND a.deleted = 0", [asset_id], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        let Some((warranty, customer)) = found else {
            return Err(crate::Error::NotFound { entity: "asset", key: asset_id.to_owned(), hint: " on this laptop; sync, or pick one of the order's assets" });
        };
        let warranty = warranty.and_then(|w| NaiveDate::parse_from_str(&w, "%Y-%m-%d").ok());
        Ok(service_category::default_for(asset_id, warranty, &contract_terms(&self.conn, &customer)?, work_date))
    }
}

fn deadline_in(conn: &Connection, reported_at: DateTime<Utc>, zone: Zone, customer_id: &str, assets: &[String]) -> Result<Deadline> {
    deadline_with(conn, &versions(conn)?, &[], reported_at, zone, customer_id, assets)
}

/// The deadline with the calendar versions already read and contracts not yet stored (an import
/// file's) considered beside the store's.
pub(crate) fn deadline_with(
    conn: &Connection, versions: &[CalendarVersion], more_contracts: &[ContractTerms], reported_at: DateTime<Utc>, zone: Zone, customer_id: &str, assets: &[String],
) -> Result<Deadline> {
    let calendar = service_calendar::calendar_at(versions, reported_at);
    let mut contracts = contract_terms(conn, customer_id)?;
    contracts.extend(more_contracts.iter().cloned());
    let contract = calendar.contract_for(&contracts, customer_id, assets, calendar.local(reported_at).date_naive());
    Ok(calendar.deadline(reported_at, zone, contract))
}

/// Every calendar version this store holds.
pub(crate) fn versions(conn: &Connection) -> Result<Vec<CalendarVersion>> {
    let mut stmt = conn.prepare_cached("SELECT version, effective_from, body FROM service_calendars WHERE deleted = 0")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, serde_json::Value>(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    service_calendar::versions_from_records(rows)
}

fn contract_terms(conn: &Connection, customer_id: &str) -> Result<Vec<ContractTerms>> {
    let mut stmt = conn.prepare_cached("SELECT number, starts_on, ends_on, asset_ids FROM contracts WHERE customer_id = ?1 AND deleted = 0")?;
    let rows = stmt.query_map([customer_id], |r| {
        Ok(ContractTerms {
            number: r.get(0)?,
            customer_id: customer_id.to_owned(),
            starts_on: r.get::<_, NaiveDate>(1)?,
            ends_on: r.get::<_, NaiveDate>(2)?,
            asset_ids: serde_json::from_value(r.get::<_, serde_json::Value>(3)?).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
