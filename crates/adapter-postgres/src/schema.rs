//! The tables of `migrations/`, written by hand (kept in step with the SQL; the
//! behaviour tests fail on any drift).

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        is_active -> Bool,
        subscription_tier -> Text,
        settings -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        email -> Text,
        full_name -> Text,
        role -> Text,
        is_active -> Bool,
        password_hash -> Text,
        session_version -> Int4,
        last_login_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_families (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        user_id -> Uuid,
        session_version -> Int4,
        created_at -> Timestamptz,
        absolute_expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (tenant_id, token_hash) {
        tenant_id -> Uuid,
        token_hash -> Bytea,
        family_id -> Uuid,
        issued_at -> Timestamptz,
        idle_expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    password_reset_tokens (tenant_id, token_hash) {
        tenant_id -> Uuid,
        token_hash -> Bytea,
        user_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_events (tenant_id, seq) {
        tenant_id -> Uuid,
        seq -> Int8,
        id -> Uuid,
        actor_kind -> Text,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Text>,
        changes -> Jsonb,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> Timestamptz,
        prev_hash -> Bytea,
        hash -> Bytea,
    }
}

diesel::table! {
    audit_chain_heads (tenant_id) {
        tenant_id -> Uuid,
        seq -> Int8,
        hash -> Bytea,
    }
}

diesel::table! {
    login_throttle (key_hash) {
        key_hash -> Bytea,
        failures -> Int4,
        last_failure_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    refresh_families,
    refresh_tokens,
    password_reset_tokens,
    audit_events,
    audit_chain_heads,
);
