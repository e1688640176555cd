-- Fieldbook server schema 19, sqlite. Keep in step with the twin in
-- migrations/server-postgres/0019_movement_rollup.sql.

-- The parts hook (console/parts.rs) looks up the movements a repair record already made every
-- time a repair record is written: without this index that was a scan of every movement, per
-- repair pushed.
CREATE INDEX movement_repair ON movement_index (repair_record_id);

-- Stock movements per month and part (console/rollup.rs, MOVEMENTS): the movements and
-- parts-quality reports read a year's whole months from here instead of half a million
-- movements. Kept in the same transaction as movement_index; filled from it when applied to a
-- database with data.
CREATE TABLE movement_month (
    month             TEXT NOT NULL,   -- YYYY-MM of the movement's time (UTC)
    part_id           TEXT NOT NULL,
    movements         BIGINT NOT NULL DEFAULT 0,
    quality_movements BIGINT NOT NULL DEFAULT 0,
    goods_in          BIGINT NOT NULL DEFAULT 0,
    issue             BIGINT NOT NULL DEFAULT 0,
    transfer          BIGINT NOT NULL DEFAULT 0,
    used              BIGINT NOT NULL DEFAULT 0,
    faulty_return     BIGINT NOT NULL DEFAULT 0,
    write_off         BIGINT NOT NULL DEFAULT 0,
    over_use          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, part_id)
);
