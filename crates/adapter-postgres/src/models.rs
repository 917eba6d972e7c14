//! Rows as diesel reads and writes them, and their conversion from and to the domain.
//! A stored row that breaks a domain rule becomes `StoreError::Unexpected`.

use aura_audit::{Actor, AuditAction, AuditRecord, ChainHash, ChainVersion, PersonalPart};
use aura_identity::{AccountId, Email, FullName, PasswordHash, User};
use aura_shared_kernel::{
    CustomRoleId, Role, StoreError, SubscriptionTier, Tenant, TenantId, TenantName, TenantSettings,
    TenantSlug, UserId,
};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::corrupt,
    schema::{accounts, audit_events, tenants, users},
};

/// A tenant row. As a changeset (an update) it replaces every column but the id.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TenantRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub is_active: bool,
    pub subscription_tier: String,
    /// A [`StoredSettings`].
    pub settings: serde_json::Value,
    pub version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl From<&Tenant> for TenantRow {
    fn from(tenant: &Tenant) -> Self {
        Self {
            id: tenant.id.as_uuid(),
            name: tenant.name.as_str().to_owned(),
            slug: tenant.slug.as_str().to_owned(),
            is_active: tenant.is_active,
            subscription_tier: tenant.subscription_tier.as_str().to_owned(),
            settings: StoredSettings::write(&tenant.settings),
            version: tenant.version,
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
        }
    }
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(row: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId::from_uuid(row.id),
            name: TenantName::parse(&row.name).map_err(|_| corrupt("stored tenant name"))?,
            slug: TenantSlug::parse(&row.slug).map_err(|_| corrupt("stored tenant slug"))?,
            is_active: row.is_active,
            subscription_tier: row
                .subscription_tier
                .parse::<SubscriptionTier>()
                .map_err(|_| corrupt("stored subscription tier"))?,
            settings: StoredSettings::read(row.settings)?,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The tenants' `settings` column as stored: an envelope of its own with a version, so the
/// settings object the API shows is never the stored shape.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredSettings {
    #[serde(default = "settings_v1")]
    v: u16,
    values: serde_json::Map<String, serde_json::Value>,
}

fn settings_v1() -> u16 {
    1
}

impl StoredSettings {
    pub(crate) fn write(settings: &TenantSettings) -> serde_json::Value {
        let stored = StoredSettings {
            v: 1,
            values: settings.as_map().clone(),
        };
        serde_json::to_value(stored).unwrap_or_default()
    }

    /// The settings of a stored row. A row written before the envelope holds the bare
    /// settings object (version 1), unless that object happened to be an envelope itself.
    pub(crate) fn read(stored: serde_json::Value) -> Result<TenantSettings, StoreError> {
        let values = match serde_json::from_value::<StoredSettings>(stored.clone()) {
            Ok(StoredSettings { v: 1, values }) => serde_json::Value::Object(values),
            Ok(_) => return Err(corrupt("stored tenant settings of an unknown version")),
            Err(_) => stored,
        };
        TenantSettings::parse(values).map_err(|_| corrupt("stored tenant settings"))
    }
}

/// A membership row (table `users`). As a changeset (an update) it replaces every
/// column but the keys, the account and the acceptance (column privileges keep those
/// from the app role, 000032), and a `None` clears `last_login_at`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
#[diesel(primary_key(tenant_id, id), treat_none_as_null = true)]
pub(crate) struct UserRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    #[diesel(skip_update)]
    pub account_id: Uuid,
    pub full_name: String,
    pub role: String,
    pub custom_role_id: Option<Uuid>,
    pub is_active: bool,
    pub session_version: i32,
    pub invited_by: Option<Uuid>,
    #[diesel(skip_update)]
    pub accepted_at: Option<OffsetDateTime>,
    pub last_login_at: Option<OffsetDateTime>,
    pub version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An account row: who a person is, the same in every tenant.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AccountRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub session_version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An account as the principal check reads it on every request: all but the password
/// hash, which authorisation never needs (the `User` it makes carries an unset hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AccountWithoutHash {
    pub id: Uuid,
    pub email: String,
    pub session_version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl From<AccountWithoutHash> for AccountRow {
    fn from(account: AccountWithoutHash) -> Self {
        Self {
            id: account.id,
            email: account.email,
            password_hash: String::new(),
            session_version: account.session_version,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

/// A member as stored: the membership and its account (read as the pair).
pub(crate) struct MemberRow(pub UserRow, pub AccountRow);

/// What a read of a member selects: the membership left-joined with its account (which
/// row-level security hides from the tenant while the membership is pending).
/// (The account's columns in `AccountRow`'s order.)
pub(crate) fn member_columns() -> (
    diesel::dsl::AsSelect<UserRow, diesel::pg::Pg>,
    diesel::dsl::Nullable<<accounts::table as diesel::Table>::AllColumns>,
) {
    (UserRow::as_select(), accounts::all_columns.nullable())
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        Self {
            tenant_id: user.tenant_id.as_uuid(),
            id: user.id.as_uuid(),
            account_id: user.account_id.as_uuid(),
            full_name: user.full_name.as_str().to_owned(),
            role: user.role.as_str().to_owned(),
            custom_role_id: user.custom_role.map(|id| id.as_uuid()),
            is_active: user.is_active,
            session_version: user.session_version,
            invited_by: user.invited_by.map(|id| id.as_uuid()),
            accepted_at: user.accepted_at,
            last_login_at: user.last_login_at,
            version: user.version,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

impl From<&User> for AccountRow {
    fn from(user: &User) -> Self {
        Self {
            id: user.account_id.as_uuid(),
            email: user.email.as_str().to_owned(),
            password_hash: user.password_hash.as_str().to_owned(),
            session_version: user.account_session_version,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

impl TryFrom<MemberRow> for User {
    type Error = StoreError;
    fn try_from(MemberRow(row, account): MemberRow) -> Result<Self, StoreError> {
        if row.account_id != account.id {
            return Err(corrupt("a membership joined with another account"));
        }
        Ok(User {
            id: UserId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            account_id: AccountId::from_uuid(account.id),
            email: Email::parse(&account.email).map_err(|_| corrupt("stored e-mail address"))?,
            full_name: FullName::parse(&row.full_name).map_err(|_| corrupt("stored full name"))?,
            role: row
                .role
                .parse::<Role>()
                .map_err(|_| corrupt("stored role"))?,
            custom_role: row.custom_role_id.map(CustomRoleId::from_uuid),
            is_active: row.is_active,
            password_hash: PasswordHash::from_stored(account.password_hash),
            session_version: row.session_version,
            account_session_version: account.session_version,
            invited_by: row.invited_by.map(UserId::from_uuid),
            accepted_at: row.accepted_at,
            last_login_at: row.last_login_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const ACTOR_USER: &str = "user";
const ACTOR_PARTNER: &str = "partner";
const ACTOR_SYSTEM: &str = "system";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
// A missing value is written NULL (every optional column's default), not `DEFAULT`: one
// statement text whatever is missing, so the chain's insert stays one prepared statement.
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct AuditRow {
    pub tenant_id: Uuid,
    pub seq: i64,
    pub id: Uuid,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// The exact text a keyed link covers.
    pub changes: String,
    /// Version 1 only: a keyed link keeps them in `personal`.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub chain_version: i16,
    pub personal: Option<String>,
    pub personal_salt: Option<Vec<u8>>,
    pub personal_digest: Option<Vec<u8>>,
    /// The partner an actor of kind `partner` acted for.
    pub actor_partner: Option<Uuid>,
}

impl From<&AuditRecord> for AuditRow {
    fn from(record: &AuditRecord) -> Self {
        let (actor_kind, actor_id, actor_partner) = match record.actor {
            Actor::User(id) => (ACTOR_USER, Some(id.as_uuid()), None),
            Actor::Partner { member, partner } => (
                ACTOR_PARTNER,
                Some(member.as_uuid()),
                Some(partner.as_uuid()),
            ),
            Actor::System => (ACTOR_SYSTEM, None, None),
        };
        let unkeyed = record.version == ChainVersion::Unkeyed;
        Self {
            tenant_id: record.tenant_id.as_uuid(),
            seq: record.seq,
            id: record.id,
            actor_kind: actor_kind.to_owned(),
            actor_id,
            action: record.action.as_str().to_owned(),
            entity_type: record.entity_type.clone(),
            entity_id: record.entity_id.clone(),
            changes: record.stored_changes.clone(),
            ip: record.ip.clone().filter(|_| unkeyed),
            user_agent: record.user_agent.clone().filter(|_| unkeyed),
            request_id: record.request_id.clone(),
            created_at: record.created_at,
            prev_hash: record.prev_hash.0.to_vec(),
            hash: record.hash.0.to_vec(),
            chain_version: record.version.number(),
            personal: record.personal.as_ref().map(|p| p.json.clone()),
            personal_salt: record.personal.as_ref().map(|p| p.salt.clone()),
            personal_digest: record.personal_digest.map(|d| d.0.to_vec()),
            actor_partner,
        }
    }
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;
    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let actor = match (row.actor_kind.as_str(), row.actor_id, row.actor_partner) {
            (ACTOR_USER, Some(id), None) => Actor::User(UserId::from_uuid(id)),
            (ACTOR_PARTNER, Some(id), Some(partner)) => Actor::Partner {
                member: UserId::from_uuid(id),
                partner: TenantId::from_uuid(partner),
            },
            (ACTOR_SYSTEM, None, None) => Actor::System,
            _ => return Err(corrupt("stored audit actor")),
        };
        let hash = |bytes: &[u8], what| ChainHash::from_slice(bytes).ok_or_else(|| corrupt(what));
        let personal = match (row.personal, row.personal_salt) {
            (Some(json), Some(salt)) => Some(PersonalPart { json, salt }),
            _ => None,
        };
        Ok(AuditRecord {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            seq: row.seq,
            actor,
            action: AuditAction::from_stored(row.action),
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            changes: serde_json::Value::Null,
            stored_changes: row.changes,
            ip: row.ip,
            user_agent: row.user_agent,
            request_id: row.request_id,
            created_at: row.created_at,
            version: ChainVersion::from_number(row.chain_version)
                .ok_or_else(|| corrupt("stored audit chain version"))?,
            personal,
            personal_digest: row
                .personal_digest
                .map(|d| hash(&d, "stored audit personal digest"))
                .transpose()?,
            prev_hash: hash(&row.prev_hash, "stored audit prev_hash")?,
            hash: hash(&row.hash, "stored audit hash")?,
        }
        .read_back())
    }
}

/// Converts every row, failing on the first broken one.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_are_stored_in_their_envelope_and_old_rows_still_read() {
        let settings = TenantSettings::parse(json!({"language": "de", "v": "x"})).unwrap();
        let stored = StoredSettings::write(&settings);
        assert_eq!(
            stored,
            json!({"v": 1, "values": {"language": "de", "v": "x"}})
        );
        assert_eq!(StoredSettings::read(stored).unwrap(), settings);

        let before_the_envelope = json!({"language": "fr", "ai_enabled": false});
        let read = StoredSettings::read(before_the_envelope.clone()).unwrap();
        assert_eq!(serde_json::Value::from(read), before_the_envelope);
        assert!(StoredSettings::read(json!({})).unwrap().as_map().is_empty());
        assert!(StoredSettings::read(json!({"v": 2, "values": {}})).is_err());
    }
}
