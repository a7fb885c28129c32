DROP INDEX user_emails_value_prefix;
DROP INDEX users_user_name_prefix;
DROP INDEX groups_display_name_trigram;
DROP INDEX user_emails_value_trigram;
DROP INDEX users_display_name_trigram;
DROP INDEX users_user_name_trigram;
