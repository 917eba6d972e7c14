//! The bodies of custom roles: a name and permissions by their stable names (the
//! kernel's `Permission`; the schema lists them from `Permission::ALL`).

use aura_identity::CustomRole;
use aura_shared_kernel::Permission;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{
    ToSchema,
    openapi::schema::{Array, ArrayBuilder},
};
use uuid::Uuid;

use super::enum_of;

/// An array of permission names: every one the service knows, or (`grantable`) every
/// one a custom role may hold.
fn permission_names(grantable: bool) -> Array {
    let names = Permission::ALL
        .into_iter()
        .filter(|p| !grantable || p.grantable_to_custom_roles())
        .map(Permission::as_str);
    ArrayBuilder::new().items(enum_of(names, false)).build()
}

fn grantable_permissions() -> Array {
    permission_names(true)
}

/// A role the tenant defined. Its holders have exactly these permissions (reading a
/// domain comes with handling it: `handle_requests` reads requests too).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c4-5b6e-7c3d-9f00-3a1b2c3d4e5f", "name": "Request desk",
    "permissions": ["read_users", "handle_requests"], "version": 1,
    "created_at": "2026-12-12T09:00:00Z", "updated_at": "2026-12-12T09:00:00Z"}))]
pub struct RoleBody {
    pub id: Uuid,
    pub name: String,
    #[schema(schema_with = grantable_permissions)]
    pub permissions: Vec<&'static str>,
    /// The version `If-Match` names on a change.
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<CustomRole> for RoleBody {
    fn from(role: CustomRole) -> Self {
        Self {
            id: role.id.as_uuid(),
            name: role.name.as_str().to_owned(),
            permissions: role.permissions.iter().map(Permission::as_str).collect(),
            version: role.version,
            created_at: role.created_at,
            updated_at: role.updated_at,
        }
    }
}

/// The tenant's custom roles, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    pub items: Vec<RoleBody>,
}

/// A custom role as a client writes it (create and replace). `manage_privileged_users`
/// is never a custom role's: 422 naming the entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Request desk", "permissions": ["read_users", "handle_requests"]}))]
pub struct RoleRequest {
    /// 1–80 characters, unique in the tenant.
    pub name: String,
    #[schema(schema_with = grantable_permissions)]
    pub permissions: Vec<String>,
}
