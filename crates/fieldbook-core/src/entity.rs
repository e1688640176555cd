//! The synced record types and their fields: the one whitelist the store's generic write path
//! (and later, sync) uses to turn a change into SQL. A change names an entity and fields from
//! here, never a table or column taken from input.

use rusqlite::types::ToSqlOutput;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Integer,
    Real,
    /// Stored as 0/1, carried in changes as `true`/`false`.
    Bool,
    /// Stored as JSON text, carried in changes as the JSON value itself.
    Json,
}

#[derive(Debug)]
pub struct EntitySpec {
    /// The entity name used in changes; also the table name.
    pub name: &'static str,
    /// Every field except `id`. `deleted` (the tombstone) is always last.
    pub fields: &'static [(&'static str, FieldType)],
}

impl EntitySpec {
    pub fn field(&self, name: &str) -> Option<FieldType> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

use FieldType::*;

pub const ENTITIES: &[EntitySpec] = &[
    EntitySpec {
        name: "customers",
        fields: &[("code", Text), ("name", Text), ("contact", Text), ("phone", Text), ("email", Text), ("merged_into", Text), ("deleted", Bool)],
    },
    EntitySpec { name: "sites", fields: &[("code", Text), ("customer_id", Text), ("name", Text), ("address", Text), ("region", Text), ("zone", Text), ("deleted", Bool)] },
    EntitySpec {
        name: "assets",
        fields: &[("code", Text), ("site_id", Text), ("asset_type", Text), ("name", Text), ("model", Text), ("serial", Text), ("location", Text), ("installed_on", Text), ("warranty_ends", Text), ("deleted", Bool)],
    },
    EntitySpec {
        name: "contracts",
        fields: &[("number", Text), ("customer_id", Text), ("starts_on", Text), ("ends_on", Text), ("asset_ids", Json), ("service_level", Text), ("renewal_of", Text), ("deleted", Bool)],
    },
    EntitySpec { name: "parts", fields: &[("sku", Text), ("name_zh", Text), ("name_en", Text), ("unit", Text), ("price_cents", Integer), ("deleted", Bool)] },
    EntitySpec { name: "checklist_templates", fields: &[("code", Text), ("version", Integer), ("body", Json), ("published_at", Text), ("deleted", Bool)] },
    EntitySpec {
        name: "work_orders",
        fields: &[
            ("number", Text), ("kind", Text), ("customer_id", Text), ("site_id", Text), ("asset_ids", Json), ("technician", Text),
            ("priority", Text), ("category", Text), ("status", Text), ("template_id", Text), ("problem", Text), ("scheduled_on", Text),
            ("reported_at", Text), ("response_deadline", Text), ("en_route_at", Text), ("arrived_at", Text), ("completed_at", Text),
            ("revision", Integer), ("follow_up_of", Text), ("review_state", Text), ("review_note", Text), ("plan_id", Text), ("phase", Text),
            ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "inspection_answers",
        fields: &[("work_order_id", Text), ("item_key", Text), ("asset_id", Text), ("value", Json), ("note", Text), ("answered_at", Text), ("deleted", Bool)],
    },
    EntitySpec {
        name: "repair_records",
        fields: &[
            ("work_order_id", Text), ("asset_id", Text), ("fault", Text), ("cause", Text), ("action", Text), ("parts", Json),
            ("labour_minutes", Integer), ("category", Text), ("fee_cents", Integer), ("fee_collected", Bool),
            ("taken_to_workshop", Bool), ("receipt_number", Text), ("recorded_at", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "time_entries",
        fields: &[("technician", Text), ("work_order_id", Text), ("repair_record_id", Text), ("work_date", Text), ("category", Text), ("minutes", Integer), ("note", Text), ("activity", Text), ("deleted", Bool)],
    },
    EntitySpec {
        name: "satisfaction_cards",
        fields: &[
            ("work_order_id", Text), ("attitude", Integer), ("skill", Integer), ("arrival", Integer), ("promise", Integer), ("comment", Text), ("rated_at", Text),
            ("taken_by", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "signatures",
        fields: &[
            ("work_order_id", Text), ("revision", Integer), ("signer_name", Text), ("signer_title", Text), ("signed_at", Text), ("strokes", Json),
            ("signed_content", Text), ("digest", Text), ("device_id", Text), ("device_public_key", Text), ("device_signature", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "amendments",
        fields: &[("work_order_id", Text), ("from_revision", Integer), ("reason", Text), ("amended_by", Text), ("amended_at", Text), ("deleted", Bool)],
    },
    EntitySpec { name: "attachments", fields: &[("media_type", Text), ("byte_size", Integer), ("original_name", Text), ("added_at", Text), ("deleted", Bool)] },
    EntitySpec { name: "service_calendars", fields: &[("version", Integer), ("effective_from", Text), ("body", Json), ("published_at", Text), ("deleted", Bool)] },
    EntitySpec {
        name: "escalations",
        fields: &[
            ("work_order_id", Text), ("repair_record_id", Text), ("escalate_to", Text), ("note", Text), ("raised_at", Text), ("raised_by", Text),
            ("status", Text), ("response", Text), ("answered_by", Text), ("answered_at", Text), ("deleted", Bool),
        ],
    },
    // Spare parts (#12): the stores (the main store, a van per technician), the stock of each part
    // in each store, and a technician's requisitions. A van's store and stock reach its technician.
    EntitySpec { name: "stores", fields: &[("code", Text), ("name", Text), ("kind", Text), ("technician", Text), ("deleted", Bool)] },
    EntitySpec { name: "stock_levels", fields: &[("store_id", Text), ("part_id", Text), ("on_hand", Integer), ("minimum", Integer), ("deleted", Bool)] },
    EntitySpec {
        name: "requisitions",
        fields: &[
            ("technician", Text), ("requested_at", Text), ("lines", Json), ("note", Text), ("status", Text), ("decided_by", Text), ("decided_at", Text),
            ("decision_note", Text), ("shipment", Json), ("received_at", Text), ("received_correct", Bool), ("received_note", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "day_reviews",
        fields: &[("technician", Text), ("work_date", Text), ("status", Text), ("note", Text), ("reviewed_by", Text), ("reviewed_at", Text), ("minutes", Integer), ("deleted", Bool)],
    },
    EntitySpec {
        name: "corrections",
        fields: &[
            ("work_order_id", Text), ("record_entity", Text), ("record_id", Text), ("field", Text), ("old_value", Text), ("value", Text), ("note", Text),
            ("proposed_at", Text), ("proposed_by", Text), ("status", Text), ("decided_by", Text), ("decided_at", Text), ("decision_note", Text),
            ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "workshop_jobs",
        fields: &[
            ("work_order_id", Text), ("repair_record_id", Text), ("receipt_number", Text), ("unit", Text), ("serial", Text), ("condition", Text),
            ("accessories", Text), ("received_at", Text), ("received_by", Text), ("receipt_signer", Text), ("receipt_strokes", Json),
            ("goods_in_at", Text), ("goods_in_by", Text), ("repair_minutes", Integer), ("repair_parts", Json), ("repair_done", Text),
            ("repaired_by", Text), ("repaired_at", Text), ("check_result", Text), ("check_note", Text), ("checked_by", Text), ("checked_at", Text),
            ("goods_out_at", Text), ("goods_out_by", Text), ("returned_at", Text), ("return_signer", Text),
            ("return_strokes", Json), ("receipt_voided_at", Text), ("deleted", Bool),
        ],
    },
];

/// What a technician may propose to correct from site (entity `corrections`), per kind of record:
/// a customer's contact and phone, a site's address, an asset's model, serial and location.
/// Everything else about a customer's records is the office's alone (names, codes, which site or
/// customer a record belongs to, dates, contracts).
pub const CORRECTABLE: &[(&str, &[&str])] = &[("customers", &["contact", "phone"]), ("sites", &["address"]), ("assets", &["model", "serial", "location"])];

/// May a technician propose a correction of this field of this kind of record?
pub fn is_correctable(record_entity: &str, field: &str) -> bool {
    CORRECTABLE.iter().any(|(e, fields)| *e == record_entity && fields.contains(&field))
}

/// The service desk's own records (#11): kept on the server, in the same `records` table, merged
/// by the same rule and written through the same feed writer as every other record, but sent to
/// no laptop and written by none (their policy's owner is [`Owner::Desk`]). A laptop's store has
/// no tables for them; everything that walks a laptop's tables walks [`ENTITIES`] only.
pub const DESK_ENTITIES: &[EntitySpec] = &[
    EntitySpec {
        name: "calls",
        fields: &[
            ("number", Text), ("channel", Text), ("call_type", Text), ("caller_name", Text), ("caller_phone", Text), ("customer_id", Text), ("site_id", Text),
            ("asset_ids", Json), ("equipment_model", Text), ("problem", Text), ("reported_at", Text), ("taken_by", Text), ("priority", Text),
            ("work_order_id", Text), ("complaint_id", Text), ("return_visit_id", Text), ("follows_order_id", Text), ("answer", Text), ("closed_at", Text),
            ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "return_visits",
        fields: &[
            ("work_order_id", Text), ("due_on", Text), ("status", Text), ("visited_at", Text), ("visited_by", Text), ("answered_by", Text), ("solved", Bool),
            ("note", Text), ("card_id", Text), ("new_call_id", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "complaints",
        fields: &[
            ("number", Text), ("source", Text), ("source_id", Text), ("customer_id", Text), ("work_order_ids", Json), ("technicians", Json), ("category", Text),
            ("severity", Text), ("foreign_customer", Bool), ("description", Text), ("responsible", Text), ("registered_at", Text), ("registered_by", Text),
            ("first_report_due", Text), ("first_reported_at", Text), ("close_due", Text), ("status", Text), ("result", Text), ("written_reply", Text),
            ("informed_at", Text), ("informed_how", Text), ("closed_at", Text), ("deleted", Bool),
        ],
    },
    EntitySpec { name: "complaint_steps", fields: &[("complaint_id", Text), ("at", Text), ("by", Text), ("kind", Text), ("note", Text), ("deleted", Bool)] },
    EntitySpec {
        name: "close_exceptions",
        fields: &[("work_order_id", Text), ("revision", Integer), ("kind", Text), ("reason", Text), ("photo_id", Text), ("recorded_by", Text), ("recorded_at", Text), ("deleted", Bool)],
    },
    // Spare parts (#12): every movement of stock, with who and when; the server's alone.
    EntitySpec {
        name: "stock_movements",
        fields: &[
            ("kind", Text), ("part_id", Text), ("from_store", Text), ("to_store", Text), ("quantity", Integer), ("by", Text), ("at", Text),
            ("repair_record_id", Text), ("requisition_id", Text), ("note", Text), ("over_use", Bool), ("deleted", Bool),
        ],
    },
    // A contract's inspection plan (#12, `crate::inspection_plan`): the server generates its
    // patrol-inspection orders ahead of time.
    EntitySpec {
        name: "inspection_plans",
        fields: &[
            ("contract_id", Text), ("name", Text), ("template_code", Text), ("interval", Text), ("site_ids", Json), ("asset_ids", Json), ("technician", Text),
            ("lead_days", Integer), ("active", Bool), ("updated_by", Text), ("deleted", Bool),
        ],
    },
    // The renewal of one contract (#12, console/renewals.rs): the expiry notice made and sent,
    // the renewal visit planned, the outcome. One per contract (its id: `renewal-<contract id>`).
    EntitySpec {
        name: "contract_renewals",
        fields: &[
            ("contract_id", Text), ("notice_made_at", Text), ("notice_made_by", Text), ("sent_how", Text), ("sent_at", Text), ("sent_by", Text),
            ("visit_on", Text), ("visit_by", Text), ("visit_planned_by", Text), ("outcome", Text), ("new_contract_id", Text), ("lost_reason", Text),
            ("decided_at", Text), ("decided_by", Text), ("deleted", Bool),
        ],
    },
];

// ---------------------------------------------------------------------------------------------
// The write policy: who may write what. One table, read by the server's push (every pushed
// change is checked against it before anything is merged) and by the laptop's write path (so
// that a laptop never produces a change the server will refuse). docs/sync.md shows it as a
// table; `crate::policy` is its interpreter.

/// Who may write a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The technician the record belongs to, from their laptop, at any time the record is theirs
    /// to write (and the office).
    Technician,
    /// The technician only when their laptop creates the record; afterwards only the office.
    /// A laptop may repeat the stored value (its writes carry whole records), never change it.
    TechnicianCreates,
    /// The office only (console, import); a laptop never.
    Office,
}

/// What a written value must be. Checked on every laptop write; the laptop's schema CHECKs are
/// the floor (a pulled value a laptop cannot store would stop its sync), lengths the ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRule {
    /// Any value of the field's type.
    Any,
    /// Text of at most this many characters, without control characters other than newline/tab.
    Text(usize),
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A whole number in this range (inclusive).
    Int(i64, i64),
    /// An RFC 3339 date and time.
    Timestamp,
    /// A calendar date, YYYY-MM-DD.
    Date,
    /// Lowercase hex of exactly this many characters (digests, keys, signatures).
    Hex(usize),
    /// JSON of at most this many bytes.
    Json(usize),
    /// An id that must name a record the writer may refer to; the server checks the reference.
    Refers(Ref),
}

/// The references the server checks against its records (`fieldbook-server`'s `push.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    /// The pushing technician's own login.
    TheTechnician,
    /// One of the technician's own work orders.
    OwnOrder,
    /// A site where the technician already has a work order.
    ServedSite,
    /// The customer of the record's site.
    CustomerOfSite,
    /// A JSON array of ids of assets at the record's site.
    AssetsOfSite,
    /// One of the record's order's assets (or '' / null: not per asset).
    AssetOfOrder,
    /// A repair record of the same order (or null).
    RepairOfOrder,
    /// A checklist template the server holds (or null).
    Template,
    /// A work order number no other order has.
    UnusedOrderNumber,
    /// A finding key (`order-id/item[/asset]`) of one of the technician's own orders.
    FindingOfOwnOrder,
    /// The order's one satisfaction card: no other card exists for the order.
    OnlyCardOfOrder,
    /// The record a correction is about (its `record_entity`): the order's customer, the order's
    /// site, or an asset at the order's site.
    RecordOfOrder,
}

/// How a record's id is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdRule {
    /// Any id of 1 to 200 characters (the laptop makes UUIDv7s).
    Chosen,
    /// Derived from the answer's order, item and asset ([`crate::policy::answer_id`]): nobody can
    /// take another order's answer id.
    AnswerSlot,
    /// The SHA-256 of the content, as 64 lowercase hex characters.
    Sha256,
}

/// Whose a record is, for a laptop's write to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Reference data: no laptop writes it.
    Office,
    /// A work order: the technician it is assigned to.
    Assigned,
    /// A record under a work order (`work_order_id`): that order's technician. It never moves.
    OrderOf,
    /// A time entry: its `technician`, and its order's technician when it names one.
    TimeOf,
    /// An attachment: the technician who first pushed its record.
    FirstAuthor,
    /// The service desk's records ([`DESK_ENTITIES`]): the office's, on the server only; no
    /// laptop reads or writes them.
    Desk,
    /// A requisition: the technician named in its `technician`, who asked for the parts. It never
    /// changes hands.
    Requester,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRule {
    pub name: &'static str,
    pub writer: Writer,
    pub value: ValueRule,
    /// Never null (the laptop's column is NOT NULL).
    pub not_null: bool,
    /// A laptop creating the record must give it (NOT NULL without a default).
    pub required: bool,
    /// Restamped by every edit of the record (`answered_at`): a concurrent edit of it is not a
    /// conflict of its own, only the fields people typed are.
    pub incidental: bool,
}

const fn rule(name: &'static str, writer: Writer, value: ValueRule) -> FieldRule {
    FieldRule { name, writer, value, not_null: false, required: false, incidental: false }
}

impl FieldRule {
    const fn not_null(mut self) -> Self {
        self.not_null = true;
        self
    }
    const fn required(mut self) -> Self {
        self.not_null = true;
        self.required = true;
        self
    }
    const fn incidental(mut self) -> Self {
        self.incidental = true;
        self
    }
}

#[derive(Debug)]
pub struct EntityPolicy {
    pub entity: &'static str,
    pub owner: Owner,
    pub id: IdRule,
    /// Every field of the entity's [`EntitySpec`], in the same order.
    pub fields: &'static [FieldRule],
}

impl EntityPolicy {
    pub fn field(&self, name: &str) -> Option<&FieldRule> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const CATEGORIES: &[&str] = &["A", "B", "C", "D"];
/// What a time entry was spent on (`crate::model::Activity`).
const ACTIVITIES: &[&str] = &["repair", "inspection", "travel", "internal"];
const SHORT: usize = 200;
const LONG: usize = 4_000;
const MINUTES_A_DAY: i64 = 24 * 60;

use Ref::*;
use Writer::*;

/// Reference data: written by the office only.
const fn office(name: &'static str) -> FieldRule {
    rule(name, Office, ValueRule::Any)
}

pub const POLICY: &[EntityPolicy] = {
    // Scoped here: `Text` and `Json` are also field types above.
    use ValueRule::*;
    &[
    EntityPolicy {
        entity: "customers",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[office("code"), office("name"), office("contact"), office("phone"), office("email"), office("merged_into"), office("deleted")],
    },
    EntityPolicy {
        entity: "sites",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[office("code"), office("customer_id"), office("name"), office("address"), office("region"), office("zone"), office("deleted")],
    },
    EntityPolicy {
        entity: "assets",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[
            office("code"), office("site_id"), office("asset_type"), office("name"), office("model"), office("serial"), office("location"),
            office("installed_on"), office("warranty_ends"), office("deleted"),
        ],
    },
    EntityPolicy {
        entity: "contracts",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[
            office("number"), office("customer_id"), office("starts_on"), office("ends_on"), office("asset_ids"), office("service_level"), office("renewal_of"),
            office("deleted"),
        ],
    },
    EntityPolicy {
        entity: "parts",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[office("sku"), office("name_zh"), office("name_en"), office("unit"), office("price_cents"), office("deleted")],
    },
    EntityPolicy {
        entity: "checklist_templates",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[office("code"), office("version"), office("body"), office("published_at"), office("deleted")],
    },
    // A laptop creates an order only as a follow-up of a finding on one of its own orders; the
    // office dispatches, moves, reassigns, prioritises, reviews and deletes orders.
    EntityPolicy {
        entity: "work_orders",
        owner: Owner::Assigned,
        id: IdRule::Chosen,
        fields: &[
            rule("number", TechnicianCreates, Refers(UnusedOrderNumber)).required(),
            rule("kind", TechnicianCreates, OneOf(&["repair_call"])).required(),
            rule("customer_id", TechnicianCreates, Refers(CustomerOfSite)).required(),
            rule("site_id", TechnicianCreates, Refers(ServedSite)).required(),
            rule("asset_ids", TechnicianCreates, Refers(AssetsOfSite)).not_null(),
            rule("technician", TechnicianCreates, Refers(TheTechnician)).required(),
            rule("priority", TechnicianCreates, OneOf(&["low", "normal", "high", "urgent"])).not_null(),
            rule("category", TechnicianCreates, OneOf(CATEGORIES)).required(),
            rule("status", Technician, OneOf(&["new", "dispatched", "en_route", "on_site", "completed", "signed"])).required(),
            rule("template_id", TechnicianCreates, Refers(Template)),
            rule("problem", TechnicianCreates, Text(LONG)),
            rule("scheduled_on", TechnicianCreates, Date).required(),
            rule("reported_at", TechnicianCreates, Timestamp).required(),
            rule("response_deadline", TechnicianCreates, Timestamp).required(),
            rule("en_route_at", Technician, Timestamp),
            rule("arrived_at", Technician, Timestamp),
            rule("completed_at", Technician, Timestamp),
            rule("revision", Technician, Int(1, 1_000_000)).not_null(),
            rule("follow_up_of", TechnicianCreates, Refers(FindingOfOwnOrder)).required(),
            rule("review_state", Office, Any),
            rule("review_note", Office, Any),
            // Generated from an inspection plan by the server; a laptop's follow-up has neither.
            rule("plan_id", Office, Any),
            rule("phase", Office, Any),
            rule("deleted", TechnicianCreates, Any).not_null(),
        ],
    },
    EntityPolicy {
        entity: "inspection_answers",
        owner: Owner::OrderOf,
        id: IdRule::AnswerSlot,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)).required(),
            rule("item_key", TechnicianCreates, Text(SHORT)).required(),
            rule("asset_id", TechnicianCreates, Refers(AssetOfOrder)).not_null(),
            rule("value", Technician, Json(64 * 1024)).required(),
            rule("note", Technician, Text(LONG)),
            rule("answered_at", Technician, Timestamp).required().incidental(),
            rule("deleted", Technician, Any).not_null(),
        ],
    },
    EntityPolicy {
        entity: "repair_records",
        owner: Owner::OrderOf,
        id: IdRule::Chosen,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)).required(),
            rule("asset_id", Technician, Refers(AssetOfOrder)),
            rule("fault", Technician, Text(LONG)).required(),
            rule("cause", Technician, Text(LONG)).required(),
            rule("action", Technician, Text(LONG)).required(),
            rule("parts", Technician, Json(64 * 1024)).not_null(),
            rule("labour_minutes", Technician, Int(0, 100 * MINUTES_A_DAY)).required(),
            rule("category", Technician, OneOf(CATEGORIES)).required(),
            rule("fee_cents", Technician, Int(0, 10_000_000_000)).not_null(),
            rule("fee_collected", Technician, Any).not_null(),
            rule("taken_to_workshop", Technician, Any).not_null(),
            rule("receipt_number", Technician, Text(SHORT)),
            rule("recorded_at", TechnicianCreates, Timestamp).required(),
            rule("deleted", Technician, Any).not_null(),
        ],
    },
    EntityPolicy {
        entity: "time_entries",
        owner: Owner::TimeOf,
        id: IdRule::Chosen,
        fields: &[
            rule("technician", TechnicianCreates, Refers(TheTechnician)).required(),
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)),
            rule("repair_record_id", TechnicianCreates, Refers(RepairOfOrder)),
            rule("work_date", Technician, Date).required(),
            rule("category", Technician, OneOf(CATEGORIES)).required(),
            rule("minutes", Technician, Int(1, MINUTES_A_DAY)).required(),
            rule("note", Technician, Text(LONG)),
            rule("activity", Technician, OneOf(ACTIVITIES)),
            rule("deleted", Technician, Any).not_null(),
        ],
    },
    EntityPolicy {
        entity: "satisfaction_cards",
        owner: Owner::OrderOf,
        id: IdRule::Chosen,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OnlyCardOfOrder)).required(),
            rule("attitude", Technician, Int(1, 4)).required(),
            rule("skill", Technician, Int(1, 4)).required(),
            rule("arrival", Technician, Int(1, 4)).required(),
            rule("promise", Technician, Int(1, 4)).required(),
            rule("comment", Technician, Text(LONG)),
            rule("rated_at", Technician, Timestamp).required().incidental(),
            // The desk login that took the card by phone at a return visit; empty: on site.
            rule("taken_by", Office, Any),
            rule("deleted", Technician, Any).not_null(),
        ],
    },
    // A signature never changes once given: every field is the creator's.
    EntityPolicy {
        entity: "signatures",
        owner: Owner::OrderOf,
        id: IdRule::Chosen,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)).required(),
            rule("revision", TechnicianCreates, Int(1, 1_000_000)).required(),
            rule("signer_name", TechnicianCreates, Text(SHORT)).required(),
            rule("signer_title", TechnicianCreates, Text(SHORT)),
            rule("signed_at", TechnicianCreates, Timestamp).required(),
            rule("strokes", TechnicianCreates, Json(1024 * 1024)).required(),
            rule("signed_content", TechnicianCreates, Text(1024 * 1024)).required(),
            rule("digest", TechnicianCreates, Hex(64)).required(),
            rule("device_id", TechnicianCreates, Text(SHORT)).required(),
            rule("device_public_key", TechnicianCreates, Hex(64)).required(),
            rule("device_signature", TechnicianCreates, Hex(128)).required(),
            rule("deleted", TechnicianCreates, Any).not_null(),
        ],
    },
    EntityPolicy {
        entity: "amendments",
        owner: Owner::OrderOf,
        id: IdRule::Chosen,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)).required(),
            rule("from_revision", TechnicianCreates, Int(1, 1_000_000)).required(),
            rule("reason", TechnicianCreates, Text(LONG)).required(),
            rule("amended_by", TechnicianCreates, Refers(TheTechnician)),
            rule("amended_at", TechnicianCreates, Timestamp).required(),
            rule("deleted", TechnicianCreates, Any).not_null(),
        ],
    },
    EntityPolicy {
        entity: "attachments",
        owner: Owner::FirstAuthor,
        id: IdRule::Sha256,
        fields: &[
            rule("media_type", TechnicianCreates, Text(SHORT)).required(),
            rule("byte_size", TechnicianCreates, Int(0, i64::MAX)).required(),
            rule("original_name", TechnicianCreates, Text(SHORT)),
            rule("added_at", TechnicianCreates, Timestamp).required(),
            rule("deleted", Technician, Any).not_null(),
        ],
    },
    // The working-hours calendar and response policies every deadline is computed from
    // (`crate::service_calendar`): published by an admin as numbered versions, never changed.
    EntityPolicy {
        entity: "service_calendars",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[office("version"), office("effective_from"), office("body"), office("published_at"), office("deleted")],
    },
    // A technician asks for the supervisor or an engineer on a repair; the office answers.
    EntityPolicy {
        entity: "escalations",
        owner: Owner::OrderOf,
        id: IdRule::Chosen,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)).required(),
            rule("repair_record_id", TechnicianCreates, Refers(RepairOfOrder)),
            rule("escalate_to", TechnicianCreates, OneOf(&["supervisor", "engineer"])).required(),
            rule("note", Technician, Text(LONG)).required(),
            rule("raised_at", TechnicianCreates, Timestamp).required(),
            rule("raised_by", TechnicianCreates, Refers(TheTechnician)).required(),
            rule("status", Office, Any),
            rule("response", Office, Any),
            rule("answered_by", Office, Any),
            rule("answered_at", Office, Any),
            rule("deleted", Technician, Any).not_null(),
        ],
    },
    // Spare parts (#12). Stores and stock levels are the office's (the server moves stock only by
    // a movement, `fieldbook-server`'s `console/parts.rs`); a technician asks for parts with a
    // requisition, the office decides and ships, the technician confirms what arrived.
    EntityPolicy { entity: "stores", owner: Owner::Office, id: IdRule::Chosen, fields: &[office("code"), office("name"), office("kind"), office("technician"), office("deleted")] },
    EntityPolicy {
        entity: "stock_levels",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[office("store_id"), office("part_id"), office("on_hand"), office("minimum"), office("deleted")],
    },
    EntityPolicy {
        entity: "requisitions",
        owner: Owner::Requester,
        id: IdRule::Chosen,
        fields: &[
            rule("technician", TechnicianCreates, Refers(TheTechnician)).required(),
            rule("requested_at", TechnicianCreates, Timestamp).required(),
            rule("lines", TechnicianCreates, Json(16 * 1024)).required(),
            rule("note", TechnicianCreates, Text(LONG)),
            rule("status", Office, Any),
            rule("decided_by", Office, Any),
            rule("decided_at", Office, Any),
            rule("decision_note", Office, Any),
            rule("shipment", Office, Any),
            rule("received_at", Technician, Timestamp),
            rule("received_correct", Technician, Any),
            rule("received_note", Technician, Text(LONG)),
            rule("deleted", TechnicianCreates, Any).not_null(),
        ],
    },
    // The supervisor's sign-off (核阅) of a technician's day: the office's only, one per technician
    // and day (id `day:{technician}:{work_date}`); it reaches that technician's laptop.
    EntityPolicy {
        entity: "day_reviews",
        owner: Owner::Office,
        id: IdRule::Chosen,
        fields: &[
            office("technician"), office("work_date"), office("status"), office("note"), office("reviewed_by"), office("reviewed_at"), office("minutes"),
            office("deleted"),
        ],
    },
    // A technician proposes a correction of a customer's, site's or asset's field from site
    // (only the fields of [`CORRECTABLE`]); the office confirms or rejects it. The proposal is
    // fixed once made: a second thought is a new proposal.
    EntityPolicy {
        entity: "corrections",
        owner: Owner::OrderOf,
        id: IdRule::Chosen,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)).required(),
            rule("record_entity", TechnicianCreates, OneOf(&["customers", "sites", "assets"])).required(),
            rule("record_id", TechnicianCreates, Refers(RecordOfOrder)).required(),
            rule("field", TechnicianCreates, OneOf(&["contact", "phone", "address", "model", "serial", "location"])).required(),
            rule("old_value", TechnicianCreates, Text(SHORT)),
            rule("value", TechnicianCreates, Text(SHORT)).required(),
            rule("note", TechnicianCreates, Text(LONG)),
            rule("proposed_at", TechnicianCreates, Timestamp).required(),
            rule("proposed_by", TechnicianCreates, Refers(TheTechnician)).required(),
            rule("status", Office, Any),
            rule("decided_by", Office, Any),
            rule("decided_at", Office, Any),
            rule("decision_note", Office, Any),
            rule("deleted", TechnicianCreates, Any).not_null(),
        ],
    },
    // A unit taken to the workshop (crate::workshop): the technician writes the receipt (on
    // creation only) and the return with the customer's signature, which voids the receipt; the
    // office the goods-in/out register, the repair card and the supervisor's check. The server
    // also refuses a void without the return signature and a return before goods-out.
    EntityPolicy {
        entity: "workshop_jobs",
        owner: Owner::OrderOf,
        id: IdRule::Chosen,
        fields: &[
            rule("work_order_id", TechnicianCreates, Refers(OwnOrder)).required(),
            rule("repair_record_id", TechnicianCreates, Refers(RepairOfOrder)).required(),
            rule("receipt_number", TechnicianCreates, Text(SHORT)).required(),
            rule("unit", TechnicianCreates, Text(SHORT)).required(),
            rule("serial", TechnicianCreates, Text(SHORT)),
            rule("condition", TechnicianCreates, Text(LONG)).required(),
            rule("accessories", TechnicianCreates, Text(LONG)),
            rule("received_at", TechnicianCreates, Timestamp).required(),
            rule("received_by", TechnicianCreates, Refers(TheTechnician)).required(),
            rule("receipt_signer", TechnicianCreates, Text(SHORT)).required(),
            rule("receipt_strokes", TechnicianCreates, Json(1024 * 1024)),
            office("goods_in_at"),
            office("goods_in_by"),
            office("repair_minutes"),
            office("repair_parts"),
            office("repair_done"),
            office("repaired_by"),
            office("repaired_at"),
            office("check_result"),
            office("check_note"),
            office("checked_by"),
            office("checked_at"),
            office("goods_out_at"),
            office("goods_out_by"),
            rule("returned_at", Technician, Timestamp),
            rule("return_signer", Technician, Text(SHORT)),
            rule("return_strokes", Technician, Json(1024 * 1024)),
            rule("receipt_voided_at", Technician, Timestamp),
            rule("deleted", TechnicianCreates, Any).not_null(),
        ],
    },
    EntityPolicy {
        entity: "calls",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[
            office("number"), office("channel"), office("call_type"), office("caller_name"), office("caller_phone"), office("customer_id"), office("site_id"),
            office("asset_ids"), office("equipment_model"), office("problem"), office("reported_at"), office("taken_by"), office("priority"),
            office("work_order_id"), office("complaint_id"), office("return_visit_id"), office("follows_order_id"), office("answer"), office("closed_at"),
            office("deleted"),
        ],
    },
    EntityPolicy {
        entity: "return_visits",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[
            office("work_order_id"), office("due_on"), office("status"), office("visited_at"), office("visited_by"), office("answered_by"), office("solved"),
            office("note"), office("card_id"), office("new_call_id"), office("deleted"),
        ],
    },
    EntityPolicy {
        entity: "complaints",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[
            office("number"), office("source"), office("source_id"), office("customer_id"), office("work_order_ids"), office("technicians"), office("category"),
            office("severity"), office("foreign_customer"), office("description"), office("responsible"), office("registered_at"), office("registered_by"),
            office("first_report_due"), office("first_reported_at"), office("close_due"), office("status"), office("result"), office("written_reply"),
            office("informed_at"), office("informed_how"), office("closed_at"), office("deleted"),
        ],
    },
    EntityPolicy {
        entity: "complaint_steps",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[office("complaint_id"), office("at"), office("by"), office("kind"), office("note"), office("deleted")],
    },
    EntityPolicy {
        entity: "close_exceptions",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[office("work_order_id"), office("revision"), office("kind"), office("reason"), office("photo_id"), office("recorded_by"), office("recorded_at"), office("deleted")],
    },
    EntityPolicy {
        entity: "stock_movements",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[
            office("kind"), office("part_id"), office("from_store"), office("to_store"), office("quantity"), office("by"), office("at"),
            office("repair_record_id"), office("requisition_id"), office("note"), office("over_use"), office("deleted"),
        ],
    },
    EntityPolicy {
        entity: "inspection_plans",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[
            office("contract_id"), office("name"), office("template_code"), office("interval"), office("site_ids"), office("asset_ids"), office("technician"),
            office("lead_days"), office("active"), office("updated_by"), office("deleted"),
        ],
    },
    EntityPolicy {
        entity: "contract_renewals",
        owner: Owner::Desk,
        id: IdRule::Chosen,
        fields: &[
            office("contract_id"), office("notice_made_at"), office("notice_made_by"), office("sent_how"), office("sent_at"), office("sent_by"), office("visit_on"),
            office("visit_by"), office("visit_planned_by"), office("outcome"), office("new_contract_id"), office("lost_reason"), office("decided_at"),
            office("decided_by"), office("deleted"),
        ],
    },
    ]
};

/// The write policy of an entity.
pub fn policy(entity: &str) -> Option<&'static EntityPolicy> {
    POLICY.iter().find(|p| p.entity == entity)
}

/// A synced entity: a laptop's ([`ENTITIES`]) or the desk's ([`DESK_ENTITIES`]).
pub fn spec(entity: &str) -> Option<&'static EntitySpec> {
    ENTITIES.iter().chain(DESK_ENTITIES).find(|e| e.name == entity)
}

/// Is this one of the service desk's server-only records?
pub fn is_desk(entity: &str) -> bool {
    DESK_ENTITIES.iter().any(|e| e.name == entity)
}

/// Converts a change's JSON value into the SQL value stored for a field of this type.
pub fn to_sql(ty: FieldType, v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::{Value as Sql, ValueRef};
    match to_sql_ref(ty, v) {
        ToSqlOutput::Owned(v) => v,
        // Borrowed only for null and text (from a JSON string, so UTF-8).
        ToSqlOutput::Borrowed(ValueRef::Text(t)) => Sql::Text(String::from_utf8_lossy(t).into_owned()),
        _ => Sql::Null,
    }
}

/// As [`to_sql`], borrowing the change's text instead of copying it: binding a page of pulled
/// records copied every text field once more than SQLite itself does.
pub fn to_sql_ref(ty: FieldType, v: &Value) -> ToSqlOutput<'_> {
    use rusqlite::types::{Value as Sql, ValueRef};
    match (ty, v) {
        (_, Value::Null) => ToSqlOutput::Borrowed(ValueRef::Null),
        (Json, v) => ToSqlOutput::Owned(Sql::Text(v.to_string())),
        (_, Value::Bool(b)) => ToSqlOutput::Owned(Sql::Integer(*b as i64)),
        (Integer | Bool, Value::Number(n)) => ToSqlOutput::Owned(n.as_i64().map(Sql::Integer).unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)))),
        (_, Value::Number(n)) => ToSqlOutput::Owned(n.as_i64().filter(|_| ty != Real).map(Sql::Integer).unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)))),
        (_, Value::String(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        (_, v) => ToSqlOutput::Owned(Sql::Text(v.to_string())),
    }
}

/// Converts a stored SQL value back to the JSON value a change carries.
pub fn from_sql(ty: FieldType, v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as Sql;
    match (ty, v) {
        (_, Sql::Null) => Value::Null,
        (Bool, Sql::Integer(i)) => Value::Bool(i != 0),
        (Json, Sql::Text(t)) => serde_json::from_slice(t).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned())),
        (_, Sql::Integer(i)) => Value::from(i),
        (_, Sql::Real(r)) => Value::from(r),
        (_, Sql::Text(t)) => Value::String(String::from_utf8_lossy(t).into_owned()),
        (_, Sql::Blob(b)) => Value::String(hex::encode(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whitelist must match the migrations: a field here that the table lacks would fail at
    /// the first write of that entity, far from this list.
    #[test]
    fn every_entity_field_exists_in_the_schema() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::migrate::apply_all(&conn).unwrap();
        for e in ENTITIES {
            let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{}')", e.name)).unwrap();
            let cols: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
            assert!(cols.contains(&"id".to_string()), "{} has no id", e.name);
            for (f, _) in e.fields {
                assert!(cols.contains(&f.to_string()), "{}.{} is not in the schema", e.name, f);
            }
            assert_eq!(e.fields.last().unwrap().0, "deleted", "{}: tombstone last", e.name);
        }
    }

    /// The policy names every synced field, in the whitelist's order, and nothing else: a field
    /// added to the whitelist without a rule would be writable by nobody (or, worse, unchecked).
    #[test]
    fn the_write_policy_covers_every_field_of_every_entity() {
        assert_eq!(POLICY.len(), ENTITIES.len() + DESK_ENTITIES.len());
        for (e, p) in ENTITIES.iter().chain(DESK_ENTITIES).zip(POLICY) {
            assert_eq!(e.name, p.entity);
            let names: Vec<&str> = p.fields.iter().map(|f| f.name).collect();
            let expected: Vec<&str> = e.fields.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, expected, "{}", e.name);
            if p.owner == Owner::Office || p.owner == Owner::Desk {
                assert!(p.fields.iter().all(|f| f.writer == Writer::Office), "{}: reference data is the office's", e.name);
            }
            assert_eq!(p.owner == Owner::Desk, is_desk(e.name), "{}: the desk's records and only they are Owner::Desk", e.name);
        }
    }

    #[test]
    fn values_round_trip_through_sql() {
        for (ty, v) in [(Json, serde_json::json!(["a", 1])), (Bool, Value::Bool(true)), (Integer, Value::from(42)), (Text, Value::from("x")), (Real, Value::from(0.5))] {
            let sql = to_sql(ty, &v);
            let back = from_sql(ty, (&sql).into());
            assert_eq!(back, v, "{ty:?}");
        }
    }
}
