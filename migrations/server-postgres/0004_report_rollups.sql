-- Fieldbook server schema 4, PostgreSQL.
-- Per-day rollups of the console's year-long reports (console/rollup.rs). Each row sums the
-- projections' rows of one day and group; the feed writer moves a record's contribution (takes
-- the old one away, adds the new one) in the same transaction as the record, so a rollup never
-- disagrees with its projection. A report reads a rollup when its filters fit the rollup's
-- grain and the projections otherwise (a customer, or a technician and a region together).
-- Filled from the projections when this migration is applied to a database with data.
-- Keep in step with the twin in migrations/server-sqlite/0004_report_rollups.sql.

-- Whether a completed repair call was not fixed the first time: the next repair of one of its
-- assets (in another order) came within 30 days, or a follow-up order was raised from it.
ALTER TABLE work_order_index ADD COLUMN not_fixed BIGINT NOT NULL DEFAULT 0;

-- Orders by the day they were reported (UTC, the first 10 characters of reported_at).
-- orders/met/late: orders with a response deadline, those that arrived by it, those that arrived
-- after it (an order not yet arrived is late only once its deadline has passed, so that part is
-- counted when the report runs, from woi_not_arrived). repairs/fixed: completed or signed repair
-- calls, and those fixed the first time.
CREATE TABLE order_day_by_technician (
    day        TEXT NOT NULL,
    technician TEXT NOT NULL,               -- '' for none
    orders     BIGINT NOT NULL DEFAULT 0,
    met        BIGINT NOT NULL DEFAULT 0,
    late       BIGINT NOT NULL DEFAULT 0,
    repairs    BIGINT NOT NULL DEFAULT 0,
    fixed      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, technician)
);
CREATE TABLE order_day_by_area (
    day        TEXT NOT NULL,
    zone       TEXT NOT NULL,               -- '' for none
    region     TEXT NOT NULL,               -- '' for none
    orders     BIGINT NOT NULL DEFAULT 0,
    met        BIGINT NOT NULL DEFAULT 0,
    late       BIGINT NOT NULL DEFAULT 0,
    repairs    BIGINT NOT NULL DEFAULT 0,
    fixed      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, zone, region)
);

-- Time entries by work day and technician: minutes per category (others count in total only).
CREATE TABLE minutes_day (
    work_date  TEXT NOT NULL,
    technician TEXT NOT NULL,
    entries    BIGINT NOT NULL DEFAULT 0,
    a          BIGINT NOT NULL DEFAULT 0,
    b          BIGINT NOT NULL DEFAULT 0,
    c          BIGINT NOT NULL DEFAULT 0,
    d          BIGINT NOT NULL DEFAULT 0,
    total      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (work_date, technician)
);

-- Satisfaction cards by rating day and the order's technician: per criterion the sum of the
-- scores and how many cards have one.
CREATE TABLE satisfaction_day (
    day        TEXT NOT NULL,
    technician TEXT NOT NULL,
    cards      BIGINT NOT NULL DEFAULT 0,
    attitude   BIGINT NOT NULL DEFAULT 0,
    attitude_n BIGINT NOT NULL DEFAULT 0,
    skill      BIGINT NOT NULL DEFAULT 0,
    skill_n    BIGINT NOT NULL DEFAULT 0,
    arrival    BIGINT NOT NULL DEFAULT 0,
    arrival_n  BIGINT NOT NULL DEFAULT 0,
    promise    BIGINT NOT NULL DEFAULT 0,
    promise_n  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, technician)
);

-- Orders with a deadline and no arrival yet: the live part of the response report.
CREATE INDEX woi_not_arrived ON work_order_index (reported_at) WHERE arrived_at IS NULL AND deleted = 0 AND response_deadline IS NOT NULL;
-- Repairs by asset and day: the next repair after another (first-time fix).
CREATE INDEX work_item_asset_day ON work_item_index (asset_id, work_date) WHERE entity = 'repair_records';
