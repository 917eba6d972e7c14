//! Working in several tenants: the caller's tenants, the switch, a client's partners.

use aura_identity::{Membership, PartnerGrant, PartnerRef};
use aura_shared_kernel::{Role, TenantId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A partner (a consultancy's tenant) as a client sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerRefBody {
    pub id: Uuid,
    pub name: String,
}

impl From<PartnerRef> for PartnerRefBody {
    fn from(partner: PartnerRef) -> Self {
        Self {
            id: partner.id.as_uuid(),
            name: partner.name.to_string(),
        }
    }
}

/// A tenant the signed-in account may work in.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipBody {
    pub tenant_id: Uuid,
    pub tenant_name: String,
    pub tenant_slug: String,
    /// The role there (through a partner: the role the client granted the partner).
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    /// False while the tenant is suspended.
    pub tenant_active: bool,
    /// False when the tenant deactivated the membership.
    pub membership_active: bool,
    /// A switch into the tenant can succeed (both flags true).
    pub usable: bool,
    /// The tenant of the token that asked.
    pub current: bool,
    /// The partner whose grant the access comes through; null for the account's own
    /// membership.
    pub via_partner: Option<PartnerRefBody>,
}

impl MembershipBody {
    pub fn of(membership: Membership, current: TenantId) -> Self {
        Self {
            tenant_id: membership.tenant_id.as_uuid(),
            current: membership.tenant_id == current,
            usable: membership.usable(),
            tenant_name: membership.tenant_name.to_string(),
            tenant_slug: membership.tenant_slug.to_string(),
            role: membership.role,
            tenant_active: membership.tenant_active,
            membership_active: membership.active,
            via_partner: membership.via_partner.map(PartnerRefBody::from),
        }
    }
}

/// The tenants the signed-in account may work in, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipList {
    pub items: Vec<MembershipBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchBody {
    /// A tenant from `GET /api/v1/me/tenants`.
    pub tenant_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerGrantBody {
    /// The slug of a consultancy's tenant (one whose `consultancy` setting is true).
    #[schema(example = "acme-privacy-consulting")]
    pub partner: String,
    /// admin, member or viewer: the role the partner's members get here.
    #[schema(example = "member")]
    pub role: String,
}

/// A partner's access to the tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerBody {
    pub partner: PartnerRefBody,
    pub partner_slug: String,
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    pub granted_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
}

impl From<PartnerGrant> for PartnerBody {
    fn from(grant: PartnerGrant) -> Self {
        Self {
            partner: grant.partner.into(),
            partner_slug: grant.partner_slug.to_string(),
            role: grant.role,
            granted_by: grant.granted_by.map(|id| id.as_uuid()),
            granted_at: grant.granted_at,
        }
    }
}

/// The partners with access to the tenant, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerList {
    pub items: Vec<PartnerBody>,
}
