-- New rows' trigram index entries are written by the store, many rows a statement, before the
-- transaction commits (`Trigrams` in crates/scim-store/src/tx.rs): inserted one statement at a
-- time by these triggers, FTS5 wrote each as a segment of its own. The update and delete
-- triggers stay.
DROP TRIGGER users_trigram_insert;
DROP TRIGGER groups_trigram_insert;
DROP TRIGGER user_emails_trigram_insert;
