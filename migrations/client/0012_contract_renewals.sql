-- Contracts and renewals (#12): a contract's service level (basic / standard / full, the words in
-- core::service_category) and the contract it renews, both written by the office only
-- (entity::POLICY). The laptop reads them to preselect a repair's service category.
ALTER TABLE contracts ADD COLUMN service_level TEXT;
ALTER TABLE contracts ADD COLUMN renewal_of TEXT;
