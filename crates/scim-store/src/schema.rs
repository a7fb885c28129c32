//! The tables, kept by hand with types both backends map (`Text`, `BigInt`, `Bool`). A test
//! selects every column of every table on both backends, so drift from the migrations fails.

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        created -> Text,
        catalog_version -> BigInt,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        tenant_id -> Text,
        hash -> Text,
        scopes -> Text,
        created -> Text,
        expires -> Nullable<Text>,
        revoked -> Nullable<Text>,
    }
}

diesel::table! {
    users (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        user_name -> Text,
        user_name_folded -> Text,
        display_name -> Nullable<Text>,
        display_name_folded -> Nullable<Text>,
        external_id -> Nullable<Text>,
        active -> Nullable<Bool>,
        schemas -> Text,
        data -> Text,
        password_hash -> Nullable<Text>,
        version -> BigInt,
        created -> Text,
        last_modified -> Text,
    }
}

diesel::table! {
    user_emails (tenant_id, user_id, value_folded) {
        tenant_id -> Text,
        user_id -> Text,
        value_folded -> Text,
    }
}

diesel::table! {
    groups (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        display_name -> Text,
        display_name_folded -> Text,
        external_id -> Nullable<Text>,
        schemas -> Text,
        data -> Text,
        version -> BigInt,
        created -> Text,
        last_modified -> Text,
    }
}

diesel::table! {
    group_members (tenant_id, group_id, member_id) {
        tenant_id -> Text,
        group_id -> Text,
        member_id -> Text,
        member_type -> Text,
    }
}

diesel::table! {
    audit_events (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        at -> Text,
        actor -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        attributes -> Text,
    }
}

diesel::table! {
    extensions (tenant_id, urn_folded) {
        tenant_id -> Text,
        urn_folded -> Text,
        resource_type -> Text,
        table_name -> Text,
        next_column -> BigInt,
        document -> Text,
        column_names -> Text,
        layout -> BigInt,
    }
}

// No longer written or read (the month rows of `created_counts` hold the counts); a later
// migration drops it.
diesel::table! {
    resource_counts (tenant_id, resource_type, shard) {
        tenant_id -> Text,
        resource_type -> Text,
        shard -> BigInt,
        n -> BigInt,
    }
}

diesel::table! {
    created_counts (tenant_id, resource_type, level, prefix, shard) {
        tenant_id -> Text,
        resource_type -> Text,
        level -> BigInt,
        prefix -> Text,
        shard -> BigInt,
        n -> BigInt,
    }
}

diesel::joinable!(tokens -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    extensions,
    tenants,
    tokens,
    users,
    user_emails,
    groups,
    group_members,
    resource_counts,
    created_counts
);
