-- `co`, `sw` and `ew` filters on userName, emails and displayName: trigram GIN indexes serve
-- LIKE patterns of three characters or more. The extension lives in `public` so that it
-- outlives any one schema (tests run one schema each, and dropping a schema with CASCADE
-- would take the extension, and every index using it, with it).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX users_user_name_trigram ON users USING gin (user_name_folded public.gin_trgm_ops);
CREATE INDEX users_display_name_trigram ON users USING gin (display_name_folded public.gin_trgm_ops);
CREATE INDEX user_emails_value_trigram ON user_emails USING gin (value_folded public.gin_trgm_ops);
CREATE INDEX groups_display_name_trigram ON groups USING gin (display_name_folded public.gin_trgm_ops);
-- `sw` on the same columns: btree indexes with pattern operators, since LIKE 'x%' can use a
-- plain btree only under the C collation, and trigram scans of common prefixes are slow.
CREATE INDEX users_user_name_prefix ON users (tenant_id, user_name_folded text_pattern_ops);
CREATE INDEX user_emails_value_prefix ON user_emails (tenant_id, value_folded text_pattern_ops);
