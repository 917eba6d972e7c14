//! Working in several tenants: an account's memberships, and partners — a consultancy
//! (a tenant that offers itself as one with its `consultancy` setting) whose members a
//! client tenant lets in with a role. A partner's member enters the client through a
//! switch ([`crate::SignIn::switch`]) as a membership of the client held through the
//! partner: it lasts while the grant stands and the person is an active member of the
//! partner, and every audit event of it names the partner ([`aura_audit::Actor::Partner`]).

use aura_audit::{Changes, PendingEvent, RequestContext};
use aura_shared_kernel::{
    Conflict, Permission, Role, StoreError, TenantId, TenantName, TenantScope, TenantSlug, UserId,
    ValidationErrors,
};
use time::OffsetDateTime;

use crate::{actions, administration::TenantAdmin, error::IdentityError};

/// The tenant setting by which a tenant offers itself as a partner (`true`).
pub const SETTING_CONSULTANCY: &str = "consultancy";

pub(crate) const ENTITY_PARTNER: &str = "partner";

/// A partner tenant as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRef {
    pub id: TenantId,
    pub name: TenantName,
}

/// A tenant an account may work in: its own membership there, or a client that granted
/// access to a partner the account is an active member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub tenant_name: TenantName,
    pub tenant_slug: TenantSlug,
    pub tenant_active: bool,
    /// The membership in the tenant; `None` for a partner's client not entered yet.
    pub user_id: Option<UserId>,
    /// The membership's role (through a partner: the grant's).
    pub role: Role,
    /// Whether the membership is active (a client may deactivate one held through a
    /// partner like any other).
    pub active: bool,
    /// The partner whose grant the access comes through.
    pub via_partner: Option<PartnerRef>,
}

impl Membership {
    /// Whether a switch into the tenant can succeed.
    pub fn usable(&self) -> bool {
        self.active && self.tenant_active
    }
}

/// A client's grant of access to a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerGrant {
    pub partner: PartnerRef,
    pub partner_slug: TenantSlug,
    /// The role the partner's members get in the client: never owner.
    pub role: Role,
    pub granted_by: Option<UserId>,
    pub granted_at: OffsetDateTime,
}

impl PartnerGrant {
    /// The roles a partner may be granted: admin, member, viewer (owning a tenant stays
    /// with its own people).
    pub fn grantable(role: Role) -> Result<Role, ValidationErrors> {
        if role == Role::Owner {
            return Err(ValidationErrors::single(
                "role",
                "a partner may be granted admin, member or viewer",
            ));
        }
        Ok(role)
    }
}

/// A client's partners: grant, list, revoke (owners grant and revoke; whoever may read
/// the tenant's users lists them).
impl TenantAdmin {
    /// Grants the consultancy of `slug` access to the scope's tenant with `role`. An
    /// unknown slug, or a tenant that is no consultancy, is `NotFound`; a partner granted
    /// already is 409 `partner_granted`.
    pub async fn grant_partner(
        &self,
        scope: &TenantScope,
        slug: &TenantSlug,
        role: Role,
        ctx: &RequestContext,
    ) -> Result<PartnerGrant, IdentityError> {
        let core = &self.core;
        core.require(scope, Permission::ManagePrivilegedUsers, ctx)
            .await?;
        let role = PartnerGrant::grantable(role)?;
        let Some((partner, partner_slug)) = core.ports.tenants.find_partner(scope, slug).await?
        else {
            return Err(IdentityError::NotFound);
        };
        let grant = PartnerGrant {
            partner,
            partner_slug,
            role,
            granted_by: scope.user_id(),
            granted_at: core.ports.clock.now(),
        };
        let event = PendingEvent::new(
            scope,
            actions::PARTNER_GRANTED,
            ENTITY_PARTNER,
            grant.partner.id,
            Changes::new()
                .created("role", &grant.role)
                .note("partner_name", grant.partner.name.as_str()),
            ctx,
        );
        match core.ports.tenants.grant_partner(scope, &grant, event).await {
            Err(StoreError::Conflict(Conflict::IdTaken(_))) => Err(IdentityError::conflict(
                "partner_granted",
                Some("partner"),
                "this partner has access already; revoke it first to change its role",
            )),
            other => Ok(other.map(|()| grant)?),
        }
    }

    /// The scope's tenant's partners, by name.
    pub async fn partners(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<Vec<PartnerGrant>, IdentityError> {
        let core = &self.core;
        core.require(scope, Permission::ReadUsers, ctx).await?;
        Ok(core.ports.tenants.partner_grants(scope).await?)
    }

    /// Ends a partner's access: the grant goes and every session of a membership held
    /// through it ends at once. `NotFound` when the partner has no grant.
    pub async fn revoke_partner(
        &self,
        scope: &TenantScope,
        partner: TenantId,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let core = &self.core;
        core.require(scope, Permission::ManagePrivilegedUsers, ctx)
            .await?;
        let event = PendingEvent::new(
            scope,
            actions::PARTNER_REVOKED,
            ENTITY_PARTNER,
            partner,
            Changes::new().note("sessions_ended", true),
            ctx,
        );
        Ok(core
            .ports
            .tenants
            .revoke_partner(scope, partner, event)
            .await?)
    }
}
