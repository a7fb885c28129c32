-- The extension tables themselves (ext_*) are dropped by removing each extension first.
DROP TABLE extensions;
ALTER TABLE tenants DROP COLUMN catalog_version;
