//! Request and response bodies. Separate from domain types: requests are converted with
//! validation at the edge; unknown fields are rejected so nothing can be smuggled in.

use aura_audit::{Actor, AuditRecord, BrokenLink, ChainVerification, Checkpoint};
use aura_identity::{TokenPair, User};
use aura_shared_kernel::{Role, Tenant};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::schemas::page::{Listed, Page};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "Acme GmbH")]
    pub organisation_name: String,
    /// URL-safe handle; derived from the name when omitted.
    #[schema(example = "acme")]
    pub slug: Option<String>,
    #[schema(example = "owner@acme.example")]
    pub email: String,
    #[schema(example = "Alex Owner")]
    pub full_name: String,
    /// At least 12 characters; long passphrases welcome.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub tenant: TenantBody,
    pub user: UserBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[schema(example = "owner@acme.example")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordBody {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    /// The token from the e-mail.
    pub token: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(example = "accepted")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub full_name: String,
    /// owner, admin, member, viewer, or custom (then `custom_role_id` names the role).
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    /// The tenant's role the user holds when `role` is `custom`.
    pub custom_role_id: Option<Uuid>,
    pub is_active: bool,
    /// True until the person accepts the membership (signs in, or sets a password
    /// through their invitation link). Every added member starts pending, whether or
    /// not the address already had an account.
    pub password_pending: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        Self {
            id: user.id.as_uuid(),
            tenant_id: user.tenant_id.as_uuid(),
            email: user.email.to_string(),
            full_name: user.full_name.as_str().to_owned(),
            role: user.role,
            custom_role_id: user.custom_role.map(|id| id.as_uuid()),
            is_active: user.is_active,
            password_pending: user.accepted_at.is_none(),
            last_login_at: user.last_login_at,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantBody {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub is_active: bool,
    #[schema(example = "free")]
    pub subscription_tier: String,
    #[schema(schema_with = crate::schemas::free_form)]
    pub settings: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Tenant> for TenantBody {
    fn from(tenant: Tenant) -> Self {
        Self {
            id: tenant.id.as_uuid(),
            name: tenant.name.to_string(),
            slug: tenant.slug.to_string(),
            is_active: tenant.is_active,
            subscription_tier: tenant.subscription_tier.as_str().to_owned(),
            settings: tenant.settings.into(),
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchBody {
    pub full_name: Option<String>,
}

/// Tier and status are platform-only and rejected here.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchBody {
    pub name: Option<String>,
    /// The tenant's preferences (replaces them all). Keys the service reads:
    /// `language` (en, de), `ai_enabled`, `ai_rate_limit_per_hour`,
    /// `requests_clock_start` (`receipt`, the default, or `identity_confirmed`: when the
    /// one-month clock of a request awaiting proof of identity starts),
    /// `requests_closing_days` (the organisation's own closing days, `YYYY-MM-DD`, on top
    /// of its country's public holidays), `requests_retention_years` (1–10, default 3:
    /// years after closing before a request's person is pseudonymised),
    /// `requests_intake_enabled` (the public intake page, default off),
    /// `requests_intake_language` (en, de), `privacy_contact` (shown on that page),
    /// `invitations_per_day` (invitation mails per UTC day, at most the installation's
    /// 20; beyond it adding a user is 429 `limit_reached`),
    /// `consultancy` (true: other tenants may grant this one partner access, see
    /// `/api/v1/tenants/me/partners`),
    /// `require_mfa` (true: everyone must sign in with a second factor; only an owner
    /// changes it).
    #[schema(schema_with = crate::schemas::optional_free_form)]
    pub settings: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "jo@example.com", "full_name": "Jo Example", "role": "member"}))]
pub struct CreateUserBody {
    pub email: String,
    pub full_name: String,
    /// owner, admin, member or viewer.
    #[schema(example = "member")]
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    pub full_name: Option<String>,
    /// owner, admin, member or viewer; `custom` (or no role) with `custom_role_id`.
    pub role: Option<String>,
    /// Gives the user one of the tenant's custom roles
    /// (`/api/v1/tenants/me/roles`); only what the caller holds may be given.
    pub custom_role_id: Option<Uuid>,
    pub is_active: Option<bool>,
}

impl Listed for UserBody {
    const LIST_NAME: &'static str = "UserList";
    const LIST_DESCRIPTION: &'static str = "A page of the tenant's users, oldest first.";
}

/// A page of the tenant's users, oldest first.
pub type UserList = Page<UserBody>;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventBody {
    pub id: Uuid,
    /// Position in the tenant's hash chain.
    pub seq: i64,
    /// `user`, `partner` (a user who entered the tenant through a partner's grant) or
    /// `system`.
    pub actor_kind: &'static str,
    pub actor_id: Option<Uuid>,
    /// The partner (tenant) a `partner` actor acted for.
    pub actor_partner_id: Option<Uuid>,
    #[schema(example = "user.login_succeeded")]
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// Before/after values of the changed fields.
    #[schema(schema_with = crate::schemas::free_form)]
    pub changes: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub prev_hash: String,
    pub hash: String,
    /// 1: sealed before the chain was keyed (plain SHA-256); 2: keyed.
    pub chain_version: i16,
    /// The personal values (address, agent, names) were shredded; `ip`, `user_agent`
    /// and the personal fields of `changes` read `{"personal": true}` or null.
    pub personal_shredded: bool,
}

impl From<AuditRecord> for AuditEventBody {
    fn from(record: AuditRecord) -> Self {
        let actor_kind = match record.actor {
            Actor::User(_) => "user",
            Actor::Partner { .. } => "partner",
            Actor::System => "system",
        };
        Self {
            id: record.id,
            seq: record.seq,
            actor_kind,
            actor_id: record.actor.user_id().map(|id| id.as_uuid()),
            actor_partner_id: record.actor.partner().map(|id| id.as_uuid()),
            action: record.action.to_string(),
            entity_type: record.entity_type,
            entity_id: record.entity_id,
            changes: record.changes,
            ip: record.ip,
            user_agent: record.user_agent,
            request_id: record.request_id,
            created_at: record.created_at,
            prev_hash: record.prev_hash.to_hex(),
            hash: record.hash.to_hex(),
            chain_version: record.version.number(),
            personal_shredded: record.personal_digest.is_some() && record.personal.is_none(),
        }
    }
}

impl Listed for AuditEventBody {
    const LIST_NAME: &'static str = "AuditEventList";
    const LIST_DESCRIPTION: &'static str = "A page of the tenant's audit events, newest first.";
}

/// A page of the tenant's audit events, newest first.
pub type AuditEventList = Page<AuditEventBody>;

/// The verification of the tenant's audit chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainReport {
    pub valid: bool,
    pub events_checked: u64,
    /// The hash of the newest event when the chain is intact.
    pub head: Option<String>,
    /// The first of `broken_links`.
    pub first_broken_link: Option<BrokenLinkBody>,
    /// Every broken link in chain order (the first 100; `broken_count` counts them all).
    pub broken_links: Vec<BrokenLinkBody>,
    pub broken_count: u64,
    /// Events sealed before the chain was keyed (plain SHA-256).
    pub unkeyed_links: u64,
    /// Events whose personal values were shredded (erasure, retention); their digests
    /// still verify.
    pub shredded: u64,
    /// How many of the given checkpoints were compared.
    pub checkpoints_checked: u64,
    /// A signed checkpoint of the head, when the chain is intact: keep it outside this
    /// service (the owners also get one by mail every day) and send it back to
    /// `POST /api/v1/audit-events/verify` to show the chain still reaches it unchanged.
    pub checkpoint: Option<CheckpointBody>,
}

impl From<ChainVerification> for ChainReport {
    fn from(report: ChainVerification) -> Self {
        Self {
            valid: report.valid,
            events_checked: report.events_checked,
            head: report.head,
            first_broken_link: report.first_broken_link.map(BrokenLinkBody::from),
            broken_links: report
                .broken_links
                .into_iter()
                .map(BrokenLinkBody::from)
                .collect(),
            broken_count: report.broken_count,
            unkeyed_links: report.unkeyed_links,
            shredded: report.shredded,
            checkpoints_checked: report.checkpoints_checked,
            checkpoint: report.checkpoint.map(CheckpointBody::from),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrokenLinkBody {
    pub seq: i64,
    pub event_id: Option<Uuid>,
    pub reason: String,
}

impl From<BrokenLink> for BrokenLinkBody {
    fn from(broken: BrokenLink) -> Self {
        Self {
            seq: broken.seq,
            event_id: broken.event_id,
            reason: broken.reason.to_owned(),
        }
    }
}

/// A signed statement that link `seq` of the tenant's chain has hash `hash`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointBody {
    pub tenant_id: Uuid,
    pub seq: i64,
    /// 64 hex digits.
    pub hash: String,
    /// When the head link was sealed (RFC 3339, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub sealed_at: OffsetDateTime,
    /// 64 hex digits: the service's keyed signature.
    pub signature: String,
}

impl From<Checkpoint> for CheckpointBody {
    fn from(checkpoint: Checkpoint) -> Self {
        Self {
            tenant_id: checkpoint.tenant_id.as_uuid(),
            seq: checkpoint.seq,
            hash: checkpoint.hash.to_hex(),
            sealed_at: checkpoint.sealed_at,
            signature: checkpoint.signature.to_hex(),
        }
    }
}

/// Checkpoints published earlier, to compare the chain with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyAgainstBody {
    /// Up to 100.
    pub checkpoints: Vec<CheckpointBody>,
}

/// Whose personal values in the audit trail to make unreadable.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditErasureBody {
    /// Every event this user caused or that is about this user.
    pub user_id: Uuid,
}

/// What an erasure did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditErasureReport {
    /// Events whose personal values were shredded.
    pub events: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}
