-- How many Users and Groups each tenant holds, kept in the transaction that creates or deletes
-- one, so that an unfiltered list's totalResults is a read of a few rows instead of a count of
-- the whole tenant (a million index entries). A tenant's count is spread over shards (the
-- last hex digit of the resource id on PostgreSQL; one shard on SQLite, which has one writer
-- anyway), so concurrent creates in one tenant do not queue on one row.
CREATE TABLE resource_counts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    shard BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, shard)
);
INSERT INTO resource_counts (tenant_id, resource_type, shard, n)
    SELECT tenant_id, 'User', 0, COUNT(*) FROM users GROUP BY tenant_id;
INSERT INTO resource_counts (tenant_id, resource_type, shard, n)
    SELECT tenant_id, 'Group', 0, COUNT(*) FROM groups GROUP BY tenant_id;

-- Finer statistics for the columns that prefix and equality filters use. With the default
-- (100 histogram buckets) PostgreSQL estimated `userName sw "user07532"` at 10,000 of a
-- million users instead of 100, and so walked the creation-order index looking for ten
-- matches (390 ms) instead of reading the hundred and sorting them (0.3 ms).
ALTER TABLE users ALTER COLUMN user_name_folded SET STATISTICS 1000;
ALTER TABLE users ALTER COLUMN display_name_folded SET STATISTICS 1000;
ALTER TABLE users ALTER COLUMN external_id SET STATISTICS 1000;
ALTER TABLE user_emails ALTER COLUMN value_folded SET STATISTICS 1000;
ALTER TABLE groups ALTER COLUMN display_name_folded SET STATISTICS 1000;

-- Folded names compare and sort byte by byte (COLLATE "C"), as SQLite's do. With the
-- database's collation (C.UTF-8 here, often en_US) PostgreSQL cannot read a LIKE prefix as a
-- range of the B-tree: `userName sw "user0017"` sorted by userName walked the whole unique
-- index backwards from the end, filtering a million names (1.4 s), where the range holds the
-- thousand matches. Equality and uniqueness are unchanged.
ALTER TABLE users ALTER COLUMN user_name_folded TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN display_name_folded TYPE TEXT COLLATE "C";
ALTER TABLE user_emails ALTER COLUMN value_folded TYPE TEXT COLLATE "C";
ALTER TABLE groups ALTER COLUMN display_name_folded TYPE TEXT COLLATE "C";
-- The plain indexes now serve prefixes, so the text_pattern_ops copies only cost writes.
DROP INDEX users_user_name_prefix;
DROP INDEX user_emails_value_prefix;
