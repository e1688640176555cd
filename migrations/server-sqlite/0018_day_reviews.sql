-- The supervisor's review of a technician's day (#12, console/day_reviews.rs): one row per
-- technician and day, projected from the office's `day_reviews` records by the feed writer in
-- the transaction that writes them. `changed_at`: when a time entry of a signed-off day was
-- written after the sign-off (the day is flagged until it is reviewed again).
CREATE TABLE day_review_index (
    id          TEXT PRIMARY KEY,
    technician  TEXT NOT NULL,
    work_date   TEXT NOT NULL,
    status      TEXT NOT NULL,
    note        TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    minutes     INTEGER,
    changed_at  TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX day_review_day ON day_review_index (work_date, technician);

-- A technician's time entries of one day, for the day's review.
CREATE INDEX work_item_technician_day ON work_item_index (technician, work_date) WHERE entity = 'time_entries';
