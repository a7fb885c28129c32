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
