-- Fieldbook server schema 10, PostgreSQL: the service desk's loop (#11).
-- The desk's records (calls, return visits, complaints and their steps, close exceptions) are
-- records like any other, JSON in `records` (fieldbook_core::entity::DESK_ENTITIES), sent to no
-- laptop. These are their typed, indexed projections, kept by the feed writer in the same
-- transaction as every record write (console/index.rs), so the console's lists answer quickly at
-- a million work orders. Keep in step with the twin in migrations/server-sqlite/0010_service_desk.sql.

-- The call register: every call from any channel, whatever became of it.
CREATE TABLE call_index (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL,
    channel          TEXT,
    call_type        TEXT,
    caller_name      TEXT,
    caller_phone     TEXT,
    customer_id      TEXT,
    site_id          TEXT,
    priority         TEXT,
    problem          TEXT,
    reported_at      TEXT NOT NULL,
    taken_by         TEXT,
    work_order_id    TEXT,
    complaint_id     TEXT,
    return_visit_id  TEXT,
    follows_order_id TEXT,
    closed_at        TEXT,
    deleted          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX call_reported ON call_index (reported_at, id);
CREATE INDEX call_type_reported ON call_index (call_type, reported_at, id);
CREATE INDEX call_customer ON call_index (customer_id, reported_at);
CREATE INDEX call_order ON call_index (work_order_id);

-- Return visits (回访), one per completed repair call. technician, customer_id and in_warranty
-- (the order's category is C) are the order's, kept current when the order changes.
CREATE TABLE return_visit_index (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL,
    technician    TEXT,
    customer_id   TEXT,
    in_warranty   BIGINT NOT NULL DEFAULT 0,
    completed_at  TEXT,
    due_on        TEXT NOT NULL,
    status        TEXT NOT NULL,
    visited_at    TEXT,
    solved        BIGINT,
    new_call_id   TEXT,
    deleted       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX rv_status_due ON return_visit_index (status, due_on, id);
CREATE INDEX rv_due ON return_visit_index (due_on, id);
CREATE INDEX rv_technician ON return_visit_index (technician, due_on);
CREATE INDEX rv_order ON return_visit_index (work_order_id);

-- Complaints (客户投诉), numbered YYMM-NNN.
CREATE TABLE complaint_index (
    id                TEXT PRIMARY KEY,
    number            TEXT NOT NULL,
    source            TEXT,
    customer_id       TEXT,
    category          TEXT,
    severity          TEXT,
    foreign_customer  BIGINT NOT NULL DEFAULT 0,
    responsible       TEXT,
    status            TEXT NOT NULL,
    registered_at     TEXT NOT NULL,
    first_report_due  TEXT,
    first_reported_at TEXT,
    close_due         TEXT,
    closed_at         TEXT,
    deleted           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX complaint_status_due ON complaint_index (status, close_due, id);
CREATE INDEX complaint_registered ON complaint_index (registered_at, id);
CREATE INDEX complaint_number ON complaint_index (number);

-- Which technicians a complaint names, for the scorecard.
CREATE TABLE complaint_technicians (
    complaint_id  TEXT NOT NULL,
    technician    TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    deleted       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (complaint_id, technician)
);
CREATE INDEX complaint_tech ON complaint_technicians (technician, registered_at);

-- Complaint numbers per month (YYMM), taken under the feed lock.
CREATE TABLE complaint_numbers (
    month TEXT PRIMARY KEY,
    last  BIGINT NOT NULL
);

-- Escalations a technician raised from a repair, and the office's answer.
CREATE TABLE escalation_index (
    id               TEXT PRIMARY KEY,
    work_order_id    TEXT NOT NULL,
    repair_record_id TEXT,
    technician       TEXT,
    escalate_to      TEXT,
    status           TEXT NOT NULL,
    raised_at        TEXT NOT NULL,
    answered_at      TEXT,
    deleted          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX escalation_status ON escalation_index (status, raised_at, id);
CREATE INDEX escalation_order ON escalation_index (work_order_id);

-- Orders closed without the customer's signature, and why (refused to sign, paper voucher).
CREATE TABLE close_exception_index (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL,
    revision      BIGINT,
    kind          TEXT NOT NULL,
    recorded_by   TEXT,
    recorded_at   TEXT NOT NULL,
    deleted       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX close_exception_order ON close_exception_index (work_order_id);
CREATE INDEX close_exception_recorded ON close_exception_index (recorded_at, id);
