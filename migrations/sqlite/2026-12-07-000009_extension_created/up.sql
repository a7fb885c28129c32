-- Extension tables of layout 2 hold each row's resource's `meta.created` (it never changes), and
-- their non-unique indexes end in (created, id), the default order of a list: a page of the
-- resources matching an extension attribute, and their count, then come from that index alone
-- instead of from every matching resource's row. Layout 1 is a table as first made; the server
-- brings such tables to layout 2 when it starts (`scim_store::extensions::upgrade`), and the
-- trigger it gives each table fills `created` in rows written by older server processes.
ALTER TABLE extensions ADD COLUMN layout BIGINT NOT NULL DEFAULT 1;
