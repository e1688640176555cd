//! The records of the field-service world, as technicians and the office name them.
//!
//! These are plain values: reading and writing them is the store's job, checking checklist
//! answers is the checklist engine's.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Generates a string enum that reads and writes its users' words (`"patrol_inspection"`, `"A"`).
macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $word:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $word)] $var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $word),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($word => Ok($name::$var),)+
                    _ => Err(format!(
                        "'{s}' is not one of: {}",
                        [$($word),+].join(", ")
                    )),
                }
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                v.as_str()?.parse().map_err(|e: String| rusqlite::types::FromSqlError::Other(e.into()))
            }
        }
    };
}

word_enum!(
    /// What a visit is for.
    WorkOrderKind { PatrolInspection = "patrol_inspection", RepairCall = "repair_call", Maintenance = "maintenance" }
);

word_enum!(
    /// Where a work order is in its life. `signed` is the only closed state; a signed order changes
    /// again only through an amendment, which takes it back to `on_site` with a new revision.
    Status {
        New = "new",
        Dispatched = "dispatched",
        EnRoute = "en_route",
        OnSite = "on_site",
        Completed = "completed",
        Signed = "signed",
    }
);

word_enum!(
    /// Service category: every hour of a technician's time is one of these.
    Category {
        /// A: paid by the customer / 有费服务
        Paid = "A",
        /// B: covered by a maintenance contract / 合同服务
        Contract = "B",
        /// C: free, inside the warranty period / 免费服务
        Warranty = "C",
        /// D: internal work: tools, parts, training, admin / 一般行政工作
        Internal = "D",
    }
);

word_enum!(
    /// What a time entry was spent on (#12): the daily report shows minutes per activity beside
    /// the service categories. Internal covers training, meetings, tools and workshop work (D).
    Activity { Repair = "repair", Inspection = "inspection", Travel = "travel", Internal = "internal" }
);

impl Activity {
    pub fn label_zh(self) -> &'static str {
        match self {
            Activity::Repair => "维修",
            Activity::Inspection => "巡检",
            Activity::Travel => "路途",
            Activity::Internal => "内部工作",
        }
    }

    /// The activity of time typed without one: internal for category D, inspection on a patrol
    /// inspection's order, otherwise travel (time on an order outside its repair record).
    pub fn default_for(category: Category, order_kind: Option<WorkOrderKind>) -> Activity {
        match (category, order_kind) {
            (Category::Internal, _) => Activity::Internal,
            (_, Some(WorkOrderKind::PatrolInspection)) => Activity::Inspection,
            _ => Activity::Travel,
        }
    }

    /// The activity of an entry that has none recorded (written before #12): a repair's labour
    /// is repair, category D internal; anything else is not known (the report's "other").
    pub fn derived(repair_record_id: Option<&str>, category: Category) -> Option<Activity> {
        match (repair_record_id, category) {
            (Some(_), _) => Some(Activity::Repair),
            (None, Category::Internal) => Some(Activity::Internal),
            (None, _) => None,
        }
    }
}

word_enum!(
    /// The supervisor's decision on a technician's day (核阅): signed off, or returned with a note.
    DayReviewStatus { SignedOff = "signed_off", Returned = "returned" }
);

/// The office's review of one technician's day (entity `day_reviews`), as the laptop pulled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayReview {
    pub id: String,
    pub technician: String,
    pub work_date: NaiveDate,
    pub status: DayReviewStatus,
    pub note: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: String,
    /// Minutes of the day as the supervisor saw them when deciding.
    pub minutes: Option<i64>,
}

word_enum!(
    Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
);

word_enum!(
    /// Response commitments differ by zone: 6 h in the city, 7 h in the suburbs by default.
    Zone { Urban = "urban", Suburban = "suburban" }
);

impl Category {
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::Paid => "有费服务",
            Category::Contract => "合同服务",
            Category::Warranty => "免费服务",
            Category::Internal => "一般行政工作",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Category::Paid => "paid",
            Category::Contract => "contract",
            Category::Warranty => "free (warranty)",
            Category::Internal => "internal",
        }
    }
}

impl Status {
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::New => "新建",
            Status::Dispatched => "已派工",
            Status::EnRoute => "在途",
            Status::OnSite => "到场",
            Status::Completed => "已完工",
            Status::Signed => "客户已签字",
        }
    }
}

impl WorkOrderKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            WorkOrderKind::PatrolInspection => "定期巡检",
            WorkOrderKind::RepairCall => "维修",
            WorkOrderKind::Maintenance => "保养",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            WorkOrderKind::PatrolInspection => "patrol inspection",
            WorkOrderKind::RepairCall => "repair call",
            WorkOrderKind::Maintenance => "maintenance",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub code: String,
    pub name: String,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub code: String,
    pub customer_id: String,
    pub name: String,
    pub address: String,
    pub region: String,
    pub zone: Zone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    pub code: String,
    pub site_id: String,
    pub asset_type: String,
    pub name: String,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub location: Option<String>,
    pub installed_on: Option<NaiveDate>,
    pub warranty_ends: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    pub id: String,
    pub number: String,
    pub customer_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub asset_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub id: String,
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub price_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: String,
    pub number: String,
    pub kind: WorkOrderKind,
    pub customer_id: String,
    pub site_id: String,
    pub asset_ids: Vec<String>,
    pub technician: Option<String>,
    pub priority: Priority,
    pub category: Category,
    pub status: Status,
    pub template_id: Option<String>,
    pub problem: Option<String>,
    pub scheduled_on: NaiveDate,
    pub reported_at: DateTime<Utc>,
    pub response_deadline: DateTime<Utc>,
    pub en_route_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub revision: i64,
    pub follow_up_of: Option<String>,
    /// The office's review once the job is done: `approved` or `returned` (set by the office,
    /// pulled from the server; `None` until reviewed).
    #[serde(default)]
    pub review_state: Option<String>,
    /// The office's note with a review, e.g. what to fix on a returned job.
    #[serde(default)]
    pub review_note: Option<String>,
    /// The inspection plan the server generated this order from (`None`: not planned).
    #[serde(default)]
    pub plan_id: Option<String>,
    /// The contract phase (`early`, `middle`, `late`) whose checklist items the form shows
    /// (`crate::inspection_plan`); `None`: every item.
    #[serde(default)]
    pub phase: Option<String>,
}

/// One line of a day's list: the work order with the names a technician recognises it by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrderSummary {
    pub id: String,
    pub number: String,
    pub kind: WorkOrderKind,
    pub status: Status,
    pub priority: Priority,
    pub category: Category,
    pub technician: Option<String>,
    pub customer_name: String,
    pub site_name: String,
    pub address: String,
    pub zone: Zone,
    pub scheduled_on: NaiveDate,
    pub reported_at: DateTime<Utc>,
    pub response_deadline: DateTime<Utc>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub problem: Option<String>,
}

/// A part used in a repair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartUsed {
    pub sku: String,
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serials: Vec<String>,
    /// The faulty part taken out was brought back to the parts store.
    #[serde(default)]
    pub faulty_returned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairRecord {
    pub id: String,
    pub work_order_id: String,
    pub asset_id: Option<String>,
    pub fault: String,
    pub cause: String,
    pub action: String,
    pub parts: Vec<PartUsed>,
    pub labour_minutes: u32,
    pub category: Category,
    pub fee_cents: i64,
    pub fee_collected: bool,
    pub taken_to_workshop: bool,
    pub receipt_number: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

word_enum!(
    /// Whom a technician asks for help with a repair.
    EscalateTo { Supervisor = "supervisor", Engineer = "engineer" }
);

word_enum!(
    /// Where an escalation stands, as the office answers it: `open` until the office has
    /// acknowledged it (someone is on it) or resolved it (with a response).
    EscalationStatus { Open = "open", Acknowledged = "acknowledged", Resolved = "resolved" }
);

/// A technician's request for the supervisor or an engineer on a repair, with the office's
/// answer once it has been pulled (`status`, `response`, `answered_by`, `answered_at`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub id: String,
    pub work_order_id: String,
    pub repair_record_id: Option<String>,
    pub escalate_to: EscalateTo,
    pub note: String,
    pub raised_at: DateTime<Utc>,
    pub raised_by: String,
    pub status: EscalationStatus,
    pub response: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// What a technician enters for a repair; the store adds the id and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRepairRecord {
    #[serde(default)]
    pub asset_id: Option<String>,
    pub fault: String,
    pub cause: String,
    pub action: String,
    #[serde(default)]
    pub parts: Vec<PartUsed>,
    pub labour_minutes: u32,
    pub category: Category,
    #[serde(default)]
    pub fee_cents: i64,
    #[serde(default)]
    pub fee_collected: bool,
    #[serde(default)]
    pub taken_to_workshop: bool,
    #[serde(default)]
    pub receipt_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeEntry {
    pub id: String,
    pub technician: String,
    pub work_order_id: Option<String>,
    pub repair_record_id: Option<String>,
    pub work_date: NaiveDate,
    pub category: Category,
    pub minutes: u32,
    pub note: Option<String>,
    /// What the time was spent on; `None` for entries recorded before activities existed (the
    /// daily report derives one where it can: a repair's labour is `repair`, category D is
    /// `internal`; others count as "other").
    #[serde(default)]
    pub activity: Option<Activity>,
}

/// The customer's opinion card, filled in after every call. Each criterion is rated 1 (poor) to
/// 4 (very good).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionCard {
    pub attitude: u8,
    pub skill: u8,
    pub arrival: u8,
    pub promise: u8,
    pub comment: Option<String>,
}

/// One point of a pen stroke: position on the pad and milliseconds since the stroke started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StrokePoint {
    pub x: f64,
    pub y: f64,
    pub t: u32,
}

pub type Stroke = Vec<StrokePoint>;

/// The customer's signature over one revision of a work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub id: String,
    pub work_order_id: String,
    pub revision: i64,
    pub signer_name: String,
    pub signer_title: Option<String>,
    pub signed_at: DateTime<Utc>,
    pub strokes: Vec<Stroke>,
    /// Canonical JSON of exactly what was signed.
    pub signed_content: String,
    /// Hex SHA-256 of `signed_content`.
    pub digest: String,
    pub device_id: String,
    pub device_public_key: String,
    pub device_signature: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Hex SHA-256 of the content.
    pub id: String,
    pub media_type: String,
    pub byte_size: i64,
    pub original_name: Option<String>,
}

/// A stored checklist answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub item_key: String,
    /// Empty for items that are not repeated per asset.
    pub asset_id: String,
    pub value: serde_json::Value,
    pub note: Option<String>,
    pub answered_at: DateTime<Utc>,
}

/// A part of the technician's van stock (#12), as the laptop sees it offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VanStockLine {
    pub part_id: String,
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    /// On hand as last pulled from the server.
    pub on_hand: i64,
    pub minimum: i64,
    /// Used by repair records not synced yet.
    pub unsynced_use: i64,
    /// On hand less the unsynced use; below zero when the van has been over-used.
    pub available: i64,
}

/// A part a repair uses beyond what the van holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shortfall {
    pub sku: String,
    pub wanted: i64,
    pub available: i64,
}

/// One line of a requisition or of its shipment: a part and how many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequisitionLine {
    pub part_id: String,
    pub quantity: i64,
}

/// A technician's request for parts (#12) and the office's answer once pulled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requisition {
    pub id: String,
    pub technician: String,
    pub requested_at: String,
    pub lines: Vec<RequisitionLine>,
    pub note: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub shipment: Vec<RequisitionLine>,
    pub received_at: Option<String>,
    pub received_correct: Option<bool>,
    pub received_note: Option<String>,
}
