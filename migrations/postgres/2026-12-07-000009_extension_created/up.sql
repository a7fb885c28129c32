-- Extension tables of layout 2 hold each row's resource's `meta.created` (it never changes), and
-- their non-unique indexes end in (created, id), the default order of a list: a page of the
-- resources matching an extension attribute, and their count, then come from that index alone
-- instead of from every matching resource's row. Layout 1 is a table as first made; the server
-- brings such tables to layout 2 when it starts (`scim_store::extensions::upgrade`).
ALTER TABLE extensions ADD COLUMN layout BIGINT NOT NULL DEFAULT 1;
-- Fills `created` in rows written without it: by server processes older than this migration,
-- which go on running beside new ones while a release rolls out. The argument is the resource
-- table. Each layout 2 table calls it only for such rows (`WHEN (NEW.created IS NULL)`).
CREATE FUNCTION scim_extension_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_ARGV[0] = 'users' THEN
        NEW.created := (SELECT created FROM users WHERE tenant_id = NEW.tenant_id AND id = NEW.id);
    ELSE
        NEW.created := (SELECT created FROM groups WHERE tenant_id = NEW.tenant_id AND id = NEW.id);
    END IF;
    RETURN NEW;
END
$$;
