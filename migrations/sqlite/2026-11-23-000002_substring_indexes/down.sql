DROP TABLE IF EXISTS sqlite_stat1;
DROP TABLE IF EXISTS sqlite_stat4;
DROP TRIGGER user_emails_trigram_delete;
DROP TRIGGER user_emails_trigram_insert;
DROP TABLE user_emails_trigram;
DROP TRIGGER users_trigram_update;
DROP TRIGGER users_trigram_delete;
DROP TRIGGER users_trigram_insert;
DROP TABLE users_trigram;
