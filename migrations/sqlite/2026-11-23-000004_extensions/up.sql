-- The catalog of tenant-defined schema extensions. Each extension has its own table (named by
-- the server, `ext_<hex>`) with one typed column per declared attribute (`c<N>`), created by DDL
-- when a tenant admin declares it. `document` is the RFC 7643 section 7 schema served by
-- /Schemas; `column_names` maps each attribute name to its column. The catalog lives in the
-- database, so every server process sees a declaration as soon as it commits. Table names need
-- no index here: the database itself refuses a second table of one name.
CREATE TABLE extensions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    urn_folded TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    table_name TEXT NOT NULL,
    next_column BIGINT NOT NULL,
    document TEXT NOT NULL,
    column_names TEXT NOT NULL,
    PRIMARY KEY (tenant_id, urn_folded)
);
-- Raised by every change to a tenant's extensions and read with each bearer token, so a
-- server process knows without another query whether its cached copy of a tenant's schemas
-- is current.
ALTER TABLE tenants ADD COLUMN catalog_version BIGINT NOT NULL DEFAULT 0;
