-- Time outside repairs and the supervisor's sign-off (#12).
--
-- What a time entry was spent on: repair, inspection (from arrival on site), travel, internal work
-- (training, meetings, tools, the workshop). NULL for entries written before activities existed;
-- the daily report derives one for them (a repair's labour is repair, category D internal).
ALTER TABLE time_entries ADD COLUMN activity TEXT CHECK (activity IS NULL OR activity IN ('repair', 'inspection', 'travel', 'internal'));

-- The supervisor's review (核阅) of one technician's day, written in the office console and
-- pulled by that technician's laptop only: signed off, or returned with a note. `minutes` is the
-- day's total as the supervisor saw it. The laptop never writes these (entity::POLICY).
CREATE TABLE day_reviews (
    id          TEXT PRIMARY KEY,
    technician  TEXT NOT NULL,
    work_date   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('signed_off', 'returned')),
    note        TEXT,
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    minutes     INTEGER,
    deleted     INTEGER NOT NULL DEFAULT 0,
    clocks      TEXT
);
CREATE INDEX day_reviews_day ON day_reviews (work_date, technician);
