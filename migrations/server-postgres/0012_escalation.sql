-- Repairs past their expected completion (#11, console/escalations.rs): repair calls the
-- technician is on site at, oldest arrival first.
CREATE INDEX woi_on_site ON work_order_index (kind, status, arrived_at, id);
