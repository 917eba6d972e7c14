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
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        full_name -> Text,
        role -> Text,
        is_active -> Bool,
        session_version -> Int4,
        last_login_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        account_id -> Uuid,
        invited_by -> Nullable<Uuid>,
        accepted_at -> Nullable<Timestamptz>,
        custom_role_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    tenant_roles (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        permissions -> Array<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    accounts (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        session_version -> Int4,
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
        changes -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> Timestamptz,
        prev_hash -> Bytea,
        hash -> Bytea,
        chain_version -> Int2,
        personal -> Nullable<Text>,
        personal_salt -> Nullable<Bytea>,
        personal_digest -> Nullable<Bytea>,
        actor_partner -> Nullable<Uuid>,
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

diesel::table! {
    organisation_profiles (tenant_id) {
        tenant_id -> Uuid,
        profile -> Jsonb,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    processors (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        dpa_status -> Text,
        dpa_signed_on -> Nullable<Date>,
        dpa_review_on -> Nullable<Date>,
        parent_id -> Nullable<Uuid>,
        details -> Jsonb,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    processing_activities (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        role -> Text,
        status -> Text,
        owner_id -> Nullable<Uuid>,
        review_date -> Nullable<Date>,
        lawful_bases -> Array<Text>,
        details -> Jsonb,
        created_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    activity_processors (tenant_id, activity_id, processor_id) {
        tenant_id -> Uuid,
        activity_id -> Uuid,
        processor_id -> Uuid,
    }
}

diesel::table! {
    policies (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        title -> Text,
        kind -> Text,
        status -> Text,
        owner_id -> Nullable<Uuid>,
        review_interval_months -> Nullable<Int2>,
        next_review_date -> Nullable<Date>,
        current_version -> Nullable<Int4>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    policy_versions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        policy_id -> Uuid,
        number -> Int4,
        content -> Text,
        status -> Text,
        change_note -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        published_by -> Nullable<Uuid>,
        published_at -> Nullable<Timestamptz>,
        retired_at -> Nullable<Timestamptz>,
        version -> Int4,
    }
}

diesel::table! {
    ai_suggestions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        status -> Text,
        content -> Jsonb,
        citations -> Jsonb,
        provider -> Text,
        model -> Text,
        template_version -> Text,
        record_ids -> Array<Uuid>,
        generated_at -> Timestamptz,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        version -> Int4,
    }
}

diesel::table! {
    tasks (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        title -> Text,
        description -> Nullable<Text>,
        category -> Text,
        due_date -> Nullable<Date>,
        status -> Text,
        assigned_to -> Nullable<Uuid>,
        link_kind -> Nullable<Text>,
        link_id -> Nullable<Uuid>,
        recurrence -> Text,
        created_by -> Nullable<Uuid>,
        completed_by -> Nullable<Uuid>,
        completed_at -> Nullable<Timestamptz>,
        previous_id -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    ai_usage (tenant_id, window_start, user_id) {
        tenant_id -> Uuid,
        window_start -> Timestamptz,
        used -> Int4,
        user_id -> Uuid,
    }
}

diesel::table! {
    jobs (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        payload -> Jsonb,
        subject_id -> Nullable<Uuid>,
        dedupe_key -> Text,
        status -> Text,
        run_at -> Timestamptz,
        attempts -> Int4,
        max_attempts -> Int4,
        last_error -> Nullable<Text>,
        outcome -> Nullable<Text>,
        locked_by -> Nullable<Text>,
        lease_token -> Nullable<Uuid>,
        locked_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    data_subject_requests (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        reference -> Text,
        channel -> Text,
        received_at -> Timestamptz,
        status -> Text,
        rights -> Array<Text>,
        subject_category -> Text,
        assignee_id -> Nullable<Uuid>,
        first_due_on -> Nullable<Date>,
        due_on -> Nullable<Date>,
        closed_at -> Nullable<Timestamptz>,
        sealed -> Bytea,
        email_lookup -> Nullable<Bytea>,
        details -> Jsonb,
        created_by -> Nullable<Uuid>,
        pseudonymised -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    record_numbers (tenant_id, series, year) {
        tenant_id -> Uuid,
        series -> Text,
        year -> Int4,
        last -> Int4,
    }
}

diesel::table! {
    dpia_screenings (tenant_id, activity_id) {
        tenant_id -> Uuid,
        activity_id -> Uuid,
        answers -> Jsonb,
        updated_by -> Nullable<Uuid>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    tenant_roles,
    accounts,
    refresh_families,
    refresh_tokens,
    password_reset_tokens,
    audit_events,
    audit_chain_heads,
    organisation_profiles,
    processors,
    processing_activities,
    activity_processors,
    policies,
    policy_versions,
    ai_suggestions,
    ai_usage,
    tasks,
    jobs,
    data_subject_requests,
);

diesel::table! {
    request_intakes (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        token_hash -> Bytea,
        sealed -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    personal_data_breaches (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        reference -> Text,
        title -> Text,
        status -> Text,
        became_aware_at -> Timestamptz,
        authority_deadline -> Timestamptz,
        due_on -> Date,
        risk -> Nullable<Text>,
        notified_at -> Nullable<Timestamptz>,
        drill -> Bool,
        kinds -> Array<Text>,
        activity_ids -> Array<Uuid>,
        processor_ids -> Array<Uuid>,
        owner_id -> Nullable<Uuid>,
        assignee_id -> Nullable<Uuid>,
        closed_at -> Nullable<Timestamptz>,
        details -> Jsonb,
        created_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    dpias (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        title -> Text,
        status -> Text,
        revision -> Int4,
        revision_of -> Nullable<Uuid>,
        activity_ids -> Array<Uuid>,
        review_date -> Nullable<Date>,
        residual_level -> Nullable<Text>,
        owner_id -> Nullable<Uuid>,
        approved_at -> Nullable<Timestamptz>,
        details -> Jsonb,
        created_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    dpia_activities (tenant_id, dpia_id, activity_id) {
        tenant_id -> Uuid,
        dpia_id -> Uuid,
        activity_id -> Uuid,
    }
}

diesel::allow_tables_to_appear_in_same_query!(dpias, dpia_activities);

diesel::table! {
    documents (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        title -> Text,
        kind -> Text,
        owner_id -> Nullable<Uuid>,
        retention_until -> Nullable<Date>,
        legal_hold -> Bool,
        activity_ids -> Array<Uuid>,
        processor_ids -> Array<Uuid>,
        policy_ids -> Array<Uuid>,
        task_ids -> Array<Uuid>,
        breach_ids -> Array<Uuid>,
        request_ids -> Array<Uuid>,
        dpia_ids -> Array<Uuid>,
        details -> Jsonb,
        created_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    document_versions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        document_id -> Uuid,
        number -> Int4,
        file_name -> Text,
        media_type -> Text,
        size -> Int8,
        sha256 -> Text,
        chunks -> Int4,
        uploaded_by -> Nullable<Uuid>,
        uploaded_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    document_chunks (tenant_id, version_id, chunk_index) {
        tenant_id -> Uuid,
        version_id -> Uuid,
        chunk_index -> Int4,
        sealed -> Nullable<Bytea>,
    }
}

diesel::table! {
    document_keys (tenant_id) {
        tenant_id -> Uuid,
        wrapped -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    document_uploads (tenant_id, version_id) {
        tenant_id -> Uuid,
        version_id -> Uuid,
        document_id -> Uuid,
        size -> Int8,
        staged_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    documents,
    document_versions,
    document_chunks,
    document_uploads
);

diesel::table! {
    accountability_packs (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        status -> Text,
        period_from -> Date,
        period_to -> Date,
        language -> Text,
        requested_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        built_at -> Nullable<Timestamptz>,
        size -> Nullable<Int8>,
        sha256 -> Nullable<Text>,
        failure -> Nullable<Text>,
        content -> Nullable<Bytea>,
    }
}

diesel::table! {
    partner_grants (tenant_id, partner_id) {
        tenant_id -> Uuid,
        partner_id -> Uuid,
        role -> Text,
        granted_by -> Nullable<Uuid>,
        granted_at -> Timestamptz,
    }
}

diesel::table! {
    partner_members (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        partner_id -> Uuid,
    }
}

diesel::allow_tables_to_appear_in_same_query!(partner_members, users);
diesel::allow_tables_to_appear_in_same_query!(partner_members, accounts);
diesel::allow_tables_to_appear_in_same_query!(partner_members, tenants);
diesel::allow_tables_to_appear_in_same_query!(partner_members, refresh_families);
diesel::allow_tables_to_appear_in_same_query!(partner_members, tenant_roles);
