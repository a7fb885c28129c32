-- Extension tables keep their `created` column and indexes, which older code ignores.
DROP FUNCTION scim_extension_created() CASCADE;
ALTER TABLE extensions DROP COLUMN layout;
