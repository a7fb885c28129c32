-- How many Users and Groups each tenant created in each month, day, hour, minute and second:
-- `level` is the length of the `meta.created` prefix counted (7, 10, 13, 16 or 19 characters of
-- the fixed-width text), kept in the transaction that creates or deletes a resource, sharded as
-- resource_counts is. A page deep in the default order (creation time, then id) descends these
-- counts to the second its first row was created in and skips only that second's rows: an
-- OFFSET of 500,000 stepped through half a million index entries (330 ms under load).
-- The month rows sum to a tenant's count of each type, which `resource_counts` kept until
-- now: that table is no longer written or read, and goes in a later release, once no process
-- that writes it runs (expand, then contract).
CREATE TABLE created_counts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    level BIGINT NOT NULL,
    prefix TEXT NOT NULL,
    shard BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, level, prefix, shard)
);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'User', 7, substr(created, 1, 7), 0, COUNT(*) FROM users
    GROUP BY tenant_id, substr(created, 1, 7);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'User', 10, substr(created, 1, 10), 0, COUNT(*) FROM users
    GROUP BY tenant_id, substr(created, 1, 10);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'User', 13, substr(created, 1, 13), 0, COUNT(*) FROM users
    GROUP BY tenant_id, substr(created, 1, 13);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'User', 16, substr(created, 1, 16), 0, COUNT(*) FROM users
    GROUP BY tenant_id, substr(created, 1, 16);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'User', 19, substr(created, 1, 19), 0, COUNT(*) FROM users
    GROUP BY tenant_id, substr(created, 1, 19);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'Group', 7, substr(created, 1, 7), 0, COUNT(*) FROM groups
    GROUP BY tenant_id, substr(created, 1, 7);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'Group', 10, substr(created, 1, 10), 0, COUNT(*) FROM groups
    GROUP BY tenant_id, substr(created, 1, 10);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'Group', 13, substr(created, 1, 13), 0, COUNT(*) FROM groups
    GROUP BY tenant_id, substr(created, 1, 13);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'Group', 16, substr(created, 1, 16), 0, COUNT(*) FROM groups
    GROUP BY tenant_id, substr(created, 1, 16);
INSERT INTO created_counts (tenant_id, resource_type, level, prefix, shard, n)
    SELECT tenant_id, 'Group', 19, substr(created, 1, 19), 0, COUNT(*) FROM groups
    GROUP BY tenant_id, substr(created, 1, 19);
