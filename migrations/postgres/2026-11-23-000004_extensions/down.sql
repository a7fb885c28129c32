-- The extension tables themselves (ext_*) are dropped by removing each extension first.
DROP TABLE extensions;
