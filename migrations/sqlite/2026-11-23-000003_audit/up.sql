-- Every change to a user or group, written in the transaction of the change: when, by which
-- token (or JWT subject), to which resource, and which attributes changed.
CREATE TABLE audit_events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_events_resource ON audit_events (tenant_id, resource_id, at);
CREATE INDEX audit_events_at ON audit_events (tenant_id, at);
