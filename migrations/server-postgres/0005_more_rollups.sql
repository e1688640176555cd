-- Fieldbook server schema 5, PostgreSQL.
-- More per-day rollups (console/rollup.rs, as in 0004): repairs and findings by day and asset
-- (fault-prone assets), and by region — the region of the record's work order — the rollups a
-- report filtered by region reads: minutes, satisfaction, repairs and findings. Filled from the
-- projections when applied to a database with data. Keep in step with the twin in
-- migrations/server-sqlite/0005_more_rollups.sql.
CREATE TABLE asset_day (
    day      TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    repairs  BIGINT NOT NULL DEFAULT 0,
    findings BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, asset_id)
);
CREATE TABLE asset_day_by_region (
    region   TEXT NOT NULL,             -- '' for none
    day      TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    repairs  BIGINT NOT NULL DEFAULT 0,
    findings BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (region, day, asset_id)
);
CREATE TABLE minutes_day_by_region (
    region     TEXT NOT NULL,
    work_date  TEXT NOT NULL,
    technician TEXT NOT NULL,
    entries    BIGINT NOT NULL DEFAULT 0,
    a          BIGINT NOT NULL DEFAULT 0,
    b          BIGINT NOT NULL DEFAULT 0,
    c          BIGINT NOT NULL DEFAULT 0,
    d          BIGINT NOT NULL DEFAULT 0,
    total      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (region, work_date, technician)
);
CREATE TABLE satisfaction_day_by_region (
    region     TEXT NOT NULL,
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
    PRIMARY KEY (region, day, technician)
);
