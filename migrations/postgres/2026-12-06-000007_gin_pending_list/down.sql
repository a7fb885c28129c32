ALTER INDEX users_user_name_trigram RESET (gin_pending_list_limit);
ALTER INDEX users_display_name_trigram RESET (gin_pending_list_limit);
ALTER INDEX user_emails_value_trigram RESET (gin_pending_list_limit);
ALTER INDEX groups_display_name_trigram RESET (gin_pending_list_limit);
