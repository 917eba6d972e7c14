//! Rows returned by the SECURITY DEFINER lookup functions (the only paths across
//! tenants; see `migrations/*_global_lookups`).

use aura_identity::{RefreshFamily, RefreshLookup, User, ports::LoginRecord};
use aura_shared_kernel::{StoreError, Tenant, TenantId, UserId};
use diesel::{
    QueryableByName,
    sql_types::{Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::models::{AccountRow, MemberRow, TenantRow, UserRow};

/// `aura_find_login(email)`: a membership of the account and its tenant (the one
/// signed into last comes first).
#[derive(Debug, QueryableByName)]
pub(crate) struct LoginRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    account_id: Uuid,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    full_name: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Bool)]
    user_is_active: bool,
    #[diesel(sql_type = Text)]
    password_hash: String,
    #[diesel(sql_type = Int4)]
    session_version: i32,
    #[diesel(sql_type = Int4)]
    account_session_version: i32,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    invited_by: Option<Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    accepted_at: Option<OffsetDateTime>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_login_at: Option<OffsetDateTime>,
    #[diesel(sql_type = Int4)]
    user_version: i32,
    #[diesel(sql_type = Timestamptz)]
    user_created_at: OffsetDateTime,
    #[diesel(sql_type = Timestamptz)]
    user_updated_at: OffsetDateTime,
    #[diesel(sql_type = Text)]
    tenant_name: String,
    #[diesel(sql_type = Text)]
    tenant_slug: String,
    #[diesel(sql_type = Bool)]
    tenant_is_active: bool,
    #[diesel(sql_type = Text)]
    subscription_tier: String,
    #[diesel(sql_type = Jsonb)]
    tenant_settings: serde_json::Value,
    #[diesel(sql_type = Int4)]
    tenant_version: i32,
    #[diesel(sql_type = Timestamptz)]
    tenant_created_at: OffsetDateTime,
    #[diesel(sql_type = Timestamptz)]
    tenant_updated_at: OffsetDateTime,
}

impl TryFrom<LoginRow> for LoginRecord {
    type Error = StoreError;
    fn try_from(row: LoginRow) -> Result<Self, StoreError> {
        let account = AccountRow {
            id: row.account_id,
            email: row.email,
            password_hash: row.password_hash,
            session_version: row.account_session_version,
            created_at: row.user_created_at,
            updated_at: row.user_updated_at,
        };
        let membership = UserRow {
            tenant_id: row.tenant_id,
            id: row.user_id,
            account_id: row.account_id,
            full_name: row.full_name,
            role: row.role,
            // The login lookup does not return the custom role: sign-in needs none (the
            // permissions are re-read with every request, `find_principal`).
            custom_role_id: None,
            is_active: row.user_is_active,
            session_version: row.session_version,
            invited_by: row.invited_by,
            accepted_at: row.accepted_at,
            last_login_at: row.last_login_at,
            version: row.user_version,
            created_at: row.user_created_at,
            updated_at: row.user_updated_at,
        };
        let user = User::try_from(MemberRow(membership, account))?;
        let tenant = Tenant::try_from(TenantRow {
            id: row.tenant_id,
            name: row.tenant_name,
            slug: row.tenant_slug,
            is_active: row.tenant_is_active,
            subscription_tier: row.subscription_tier,
            settings: row.tenant_settings,
            version: row.tenant_version,
            created_at: row.tenant_created_at,
            updated_at: row.tenant_updated_at,
        })?;
        Ok(LoginRecord { user, tenant })
    }
}

/// `aura_find_refresh_token(hash)`: the token's family and state.
#[derive(Debug, QueryableByName)]
pub(crate) struct RefreshLookupRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    family_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Int4)]
    session_version: i32,
    #[diesel(sql_type = Timestamptz)]
    created_at: OffsetDateTime,
    #[diesel(sql_type = Timestamptz)]
    absolute_expires_at: OffsetDateTime,
    #[diesel(sql_type = Bool)]
    family_revoked: bool,
    #[diesel(sql_type = Bool)]
    used: bool,
    #[diesel(sql_type = Timestamptz)]
    idle_expires_at: OffsetDateTime,
}

impl From<RefreshLookupRow> for RefreshLookup {
    fn from(row: RefreshLookupRow) -> Self {
        RefreshLookup {
            family: RefreshFamily {
                id: row.family_id,
                tenant_id: TenantId::from_uuid(row.tenant_id),
                user_id: UserId::from_uuid(row.user_id),
                session_version: row.session_version,
                created_at: row.created_at,
                absolute_expires_at: row.absolute_expires_at,
            },
            family_revoked: row.family_revoked,
            used: row.used,
            idle_expires_at: row.idle_expires_at,
        }
    }
}

/// `aura_find_reset_token(hash, now)`: the owner of an unused, unexpired token.
#[derive(Debug, QueryableByName)]
pub(crate) struct ResetLookupRow {
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
}

/// `aura_find_account(email)`: the account of an address, if any.
#[derive(Debug, QueryableByName)]
pub(crate) struct AccountLookupRow {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub account: Option<Uuid>,
}

/// `aura_pending_member_email(user)`: the address of a pending or deactivated member of
/// the tenant (whose account it may not read).
#[derive(Debug, QueryableByName)]
pub(crate) struct PendingEmailRow {
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
}

/// `aura_accept_membership(user, token, hash, now)`: whether the link accepted it;
/// `aura_accept_sign_in(user, now)`: whether the membership is accepted.
#[derive(Debug, QueryableByName)]
pub(crate) struct AcceptedRow {
    #[diesel(sql_type = Bool)]
    pub accepted: bool,
}

/// `aura_slug_taken(slug)`.
#[derive(Debug, QueryableByName)]
pub(crate) struct TakenRow {
    #[diesel(sql_type = Bool)]
    pub taken: bool,
}
