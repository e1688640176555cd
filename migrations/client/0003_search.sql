-- Search as you type across customers, sites, assets, work orders and repair records.
--
-- `search_docs` holds one text document per record, kept current by triggers; `search_index` is
-- an FTS5 index over it with the trigram tokenizer, which matches any 3+ character substring —
-- Chinese has no spaces between words, so word tokenizers would not find 消防 inside 华安消防设备.
-- Shorter terms are matched with LIKE on `search_docs` (see Store::search).

CREATE TABLE search_docs (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,      -- customer | site | asset | work_order | repair_record
    record_id TEXT NOT NULL,
    order_id  TEXT,               -- the work order a work order or repair record belongs to
    title     TEXT NOT NULL,
    body      TEXT NOT NULL,
    UNIQUE (kind, record_id)
);

CREATE VIRTUAL TABLE search_index USING fts5(title, body, content='search_docs', content_rowid='id', tokenize='trigram');

CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_index(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_index(search_index, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_index(search_index, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO search_index(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TRIGGER customers_search_ai AFTER INSERT ON customers WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('customer', new.id, NULL, new.name, concat_ws(' ', new.code, new.contact, new.phone, new.email))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER customers_search_au AFTER UPDATE OF name, code, contact, phone, email ON customers WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('customer', new.id, NULL, new.name, concat_ws(' ', new.code, new.contact, new.phone, new.email))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER customers_search_del AFTER UPDATE OF deleted ON customers WHEN new.deleted = 1 BEGIN
    DELETE FROM search_docs WHERE kind = 'customer' AND record_id = new.id;
END;

CREATE TRIGGER sites_search_ai AFTER INSERT ON sites WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('site', new.id, NULL, new.name, concat_ws(' ', new.code, new.address, new.region))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER sites_search_au AFTER UPDATE OF name, code, address, region ON sites WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('site', new.id, NULL, new.name, concat_ws(' ', new.code, new.address, new.region))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER sites_search_del AFTER UPDATE OF deleted ON sites WHEN new.deleted = 1 BEGIN
    DELETE FROM search_docs WHERE kind = 'site' AND record_id = new.id;
END;

CREATE TRIGGER assets_search_ai AFTER INSERT ON assets WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('asset', new.id, NULL, new.name, concat_ws(' ', new.code, new.model, new.serial, new.location, new.asset_type))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER assets_search_au AFTER UPDATE OF name, code, model, serial, location, asset_type ON assets WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('asset', new.id, NULL, new.name, concat_ws(' ', new.code, new.model, new.serial, new.location, new.asset_type))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER assets_search_del AFTER UPDATE OF deleted ON assets WHEN new.deleted = 1 BEGIN
    DELETE FROM search_docs WHERE kind = 'asset' AND record_id = new.id;
END;

CREATE TRIGGER work_orders_search_ai AFTER INSERT ON work_orders WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('work_order', new.id, new.id, new.number, coalesce(new.problem, ''))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER work_orders_search_au AFTER UPDATE OF number, problem ON work_orders WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('work_order', new.id, new.id, new.number, coalesce(new.problem, ''))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER work_orders_search_del AFTER UPDATE OF deleted ON work_orders WHEN new.deleted = 1 BEGIN
    DELETE FROM search_docs WHERE kind = 'work_order' AND record_id = new.id;
END;

CREATE TRIGGER repair_records_search_ai AFTER INSERT ON repair_records WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('repair_record', new.id, new.work_order_id, new.fault, concat_ws(' ', new.cause, new.action))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER repair_records_search_au AFTER UPDATE OF fault, cause, action ON repair_records WHEN new.deleted = 0 BEGIN
    INSERT INTO search_docs(kind, record_id, order_id, title, body)
    VALUES ('repair_record', new.id, new.work_order_id, new.fault, concat_ws(' ', new.cause, new.action))
    ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body;
END;
CREATE TRIGGER repair_records_search_del AFTER UPDATE OF deleted ON repair_records WHEN new.deleted = 1 BEGIN
    DELETE FROM search_docs WHERE kind = 'repair_record' AND record_id = new.id;
END;

-- Records stored before this migration.
INSERT INTO search_docs(kind, record_id, order_id, title, body)
    SELECT 'customer', id, NULL, name, concat_ws(' ', code, contact, phone, email) FROM customers WHERE deleted = 0;
INSERT INTO search_docs(kind, record_id, order_id, title, body)
    SELECT 'site', id, NULL, name, concat_ws(' ', code, address, region) FROM sites WHERE deleted = 0;
INSERT INTO search_docs(kind, record_id, order_id, title, body)
    SELECT 'asset', id, NULL, name, concat_ws(' ', code, model, serial, location, asset_type) FROM assets WHERE deleted = 0;
INSERT INTO search_docs(kind, record_id, order_id, title, body)
    SELECT 'work_order', id, id, number, coalesce(problem, '') FROM work_orders WHERE deleted = 0;
INSERT INTO search_docs(kind, record_id, order_id, title, body)
    SELECT 'repair_record', id, work_order_id, fault, concat_ws(' ', cause, action) FROM repair_records WHERE deleted = 0;
