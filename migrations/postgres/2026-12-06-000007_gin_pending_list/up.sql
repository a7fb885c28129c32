-- A GIN index queues new entries in a pending list (4 MB by default) that every search scans
-- from end to end until it is merged into the index: with writes going on, each `co`/`ew` filter
-- paid about 9 ms to read 417 pending pages. 256 kB bounds that to about 32 pages; a write
-- that overflows the list merges it, so writes still batch their index updates.
ALTER INDEX users_user_name_trigram SET (gin_pending_list_limit = 256);
ALTER INDEX users_display_name_trigram SET (gin_pending_list_limit = 256);
ALTER INDEX user_emails_value_trigram SET (gin_pending_list_limit = 256);
ALTER INDEX groups_display_name_trigram SET (gin_pending_list_limit = 256);
