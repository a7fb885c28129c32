ALTER TABLE extensions DROP COLUMN layout;
