-- The service desk's loop (#11), as far as a laptop takes part in it.
--
-- The service calendar: working hours, holidays, make-up working days and response policies,
-- published by an admin as numbered versions that never change (like checklist templates); every
-- laptop receives them, so a follow-up order it creates gets the deadline the office would give
-- (core::service_calendar picks the version in force when the call was taken).
CREATE TABLE service_calendars (
    id             TEXT PRIMARY KEY,
    version        INTEGER NOT NULL,
    effective_from TEXT NOT NULL,
    body           TEXT NOT NULL,
    published_at   TEXT,
    deleted        INTEGER NOT NULL DEFAULT 0,
    clocks         TEXT
);
--
-- A technician escalates a repair to the supervisor or an engineer, with a note; the office
-- answers (status, response, who, when) and the answer comes back at the next pull. The
-- technician writes the request, the office the answer (entity::POLICY).
CREATE TABLE escalations (
    id               TEXT PRIMARY KEY,
    work_order_id    TEXT NOT NULL REFERENCES work_orders(id),
    repair_record_id TEXT REFERENCES repair_records(id),
    escalate_to      TEXT NOT NULL CHECK (escalate_to IN ('supervisor', 'engineer')),
    note             TEXT NOT NULL,
    raised_at        TEXT NOT NULL,
    raised_by        TEXT NOT NULL,
    status           TEXT CHECK (status IS NULL OR status IN ('open', 'acknowledged', 'resolved')),
    response         TEXT,
    answered_by      TEXT,
    answered_at      TEXT,
    deleted          INTEGER NOT NULL DEFAULT 0,
    clocks           TEXT
);
CREATE INDEX escalations_order ON escalations (work_order_id);

-- A satisfaction card the service desk took by phone at a return visit names the desk login that
-- took it; NULL: the customer filled it in on site.
ALTER TABLE satisfaction_cards ADD COLUMN taken_by TEXT;
