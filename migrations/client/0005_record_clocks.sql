-- Per-field clock stamps move from one row per field to one JSON object per record.
--
-- A pulled work order has twenty fields: as rows of `field_clocks` it cost twenty B-tree inserts
-- with long text keys, about two thirds of applying it. One row per record keeps the same
-- information (field -> HLC stamp of its last write) at one insert, and a write that changes
-- some fields merges its stamps in with json_patch.

CREATE TABLE record_clocks (
    entity    TEXT NOT NULL,
    record_id TEXT NOT NULL,
    clocks    TEXT NOT NULL,   -- JSON object: field name -> HLC stamp of its last write
    PRIMARY KEY (entity, record_id)
) WITHOUT ROWID;

INSERT INTO record_clocks (entity, record_id, clocks)
    SELECT entity, record_id, json_group_object(field, hlc) FROM field_clocks GROUP BY entity, record_id;

DROP TABLE field_clocks;
