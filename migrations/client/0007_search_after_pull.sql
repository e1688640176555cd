-- Search documents of records a pull inserts by the thousand are built after the pull.
--
-- The insert triggers of 0003 build a record's search document (a `search_docs` row and its
-- FTS5 trigram entries) one row at a time: about a third of applying a first pull of 50,000
-- work orders. While a pull writes a page's new records in bulk, `search_bulk` holds a row and
-- the insert triggers stand aside; the page notes the rows it inserted in `search_backlog`
-- (same transaction), and after the pull a background connection builds their documents from
-- `search_source`, oldest backlog first, deleting each entry with the documents it built.
-- A search waits for that to finish; a store opened with a backlog (a crash in between)
-- catches up before anything else. Updates and tombstones keep their 0003 triggers.

CREATE TABLE search_bulk (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);

CREATE TABLE search_backlog (
    seq      INTEGER PRIMARY KEY,
    entity   TEXT NOT NULL,      -- customers | sites | assets | work_orders | repair_records
    from_row INTEGER NOT NULL,   -- rowids of the rows inserted, both ends included
    to_row   INTEGER NOT NULL
);

-- Every record's search document, as the 0003 triggers write it (a store test keeps the two
-- in step: after writes by both paths, `search_docs` equals this view).
CREATE VIEW search_source AS
    SELECT 'customers' AS entity, rowid AS row, 'customer' AS kind, id AS record_id, NULL AS order_id, name AS title,
           concat_ws(' ', code, contact, phone, email) AS body
      FROM customers WHERE deleted = 0
    UNION ALL
    SELECT 'sites', rowid, 'site', id, NULL, name, concat_ws(' ', code, address, region)
      FROM sites WHERE deleted = 0
    UNION ALL
    SELECT 'assets', rowid, 'asset', id, NULL, name, concat_ws(' ', code, model, serial, location, asset_type)
      FROM assets WHERE deleted = 0
    UNION ALL
    SELECT 'work_orders', rowid, 'work_order', id, id, number, coalesce(problem, '')
      FROM work_orders WHERE deleted = 0
    UNION ALL
    SELECT 'repair_records', rowid, 'repair_record', id, work_order_id, fault, concat_ws(' ', cause, action)
      FROM repair_records WHERE deleted = 0;

DROP TRIGGER customers_search_ai;
CREATE TRIGGER customers_search_ai AFTER INSERT ON customers WHEN new.deleted = 0 AND NOT EXISTS (SELECT 1 FROM search_bulk) BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('customer', new.id, NULL, new.name, concat_ws(' ', new.code, new.contact, new.phone, new.email))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;

DROP TRIGGER sites_search_ai;
CREATE TRIGGER sites_search_ai AFTER INSERT ON sites WHEN new.deleted = 0 AND NOT EXISTS (SELECT 1 FROM search_bulk) BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('site', new.id, NULL, new.name, concat_ws(' ', new.code, new.address, new.region))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;

DROP TRIGGER assets_search_ai;
CREATE TRIGGER assets_search_ai AFTER INSERT ON assets WHEN new.deleted = 0 AND NOT EXISTS (SELECT 1 FROM search_bulk) BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('asset', new.id, NULL, new.name, concat_ws(' ', new.code, new.model, new.serial, new.location, new.asset_type))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;

DROP TRIGGER work_orders_search_ai;
CREATE TRIGGER work_orders_search_ai AFTER INSERT ON work_orders WHEN new.deleted = 0 AND NOT EXISTS (SELECT 1 FROM search_bulk) BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('work_order', new.id, new.id, new.number, coalesce(new.problem, ''))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;

DROP TRIGGER repair_records_search_ai;
CREATE TRIGGER repair_records_search_ai AFTER INSERT ON repair_records WHEN new.deleted = 0 AND NOT EXISTS (SELECT 1 FROM search_bulk) BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('repair_record', new.id, new.work_order_id, new.fault, concat_ws(' ', new.cause, new.action))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
