//! [`CustomRoleRepository`] on PostgreSQL: table `tenant_roles` (RLS like every tenant
//! table), the permissions by name in a `text[]`. A membership names its role through
//! the composite key `users_custom_role_fkey` (RESTRICT), so a role in use is not
//! deleted and a membership never holds another tenant's role.

use aura_audit::PendingEvent;
use aura_identity::{CustomRole, CustomRoleRepository, RoleName};
use aura_shared_kernel::{
    Conflict, CustomRoleId, Permission, PermissionSet, StoreError, TenantId, TenantScope,
};
use diesel::{
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
};
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    pool::in_tenant,
    rows::{delete_at_version, expect_changed, new_in_scope},
    schema::tenant_roles as roles,
    stores::PgStores,
};

const TABLE: &str = "tenant_roles";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = roles, check_for_backend(diesel::pg::Pg))]
#[diesel(primary_key(tenant_id, id))]
struct RoleRow {
    tenant_id: Uuid,
    id: Uuid,
    name: String,
    permissions: Vec<String>,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<&CustomRole> for RoleRow {
    fn from(role: &CustomRole) -> Self {
        Self {
            tenant_id: role.tenant_id.as_uuid(),
            id: role.id.as_uuid(),
            name: role.name.as_str().to_owned(),
            permissions: stored_names(role.permissions),
            version: role.version,
            created_at: role.created_at,
            updated_at: role.updated_at,
        }
    }
}

impl TryFrom<RoleRow> for CustomRole {
    type Error = StoreError;
    fn try_from(row: RoleRow) -> Result<Self, StoreError> {
        Ok(CustomRole {
            id: CustomRoleId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            name: RoleName::parse(&row.name).map_err(|_| corrupt("stored role name"))?,
            permissions: stored_set(&row.permissions)?,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn stored_names(set: PermissionSet) -> Vec<String> {
    set.iter().map(|p| p.as_str().to_owned()).collect()
}

/// A stored role's permission names as a set (also read by the principal read in
/// `users.rs`, joined into its one statement).
pub(crate) fn stored_set(names: &[String]) -> Result<PermissionSet, StoreError> {
    names
        .iter()
        .map(|name| {
            name.parse::<Permission>()
                .map_err(|_| corrupt("stored permission name"))
        })
        .collect()
}

/// A membership still holding the role: the delete is refused (`Conflict::InUse`).
fn in_use(error: DieselError) -> DbError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            DbError::Store(Conflict::InUse.into())
        }
        other => other.into(),
    }
}

#[async_trait::async_trait]
impl CustomRoleRepository for PgStores {
    async fn list(&self, scope: &TenantScope) -> Result<Vec<CustomRole>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<RoleRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(roles::table
                .filter(roles::tenant_id.eq(tenant))
                .order((roles::name.asc(), roles::id.asc()))
                .select(RoleRow::as_select())
                .load(conn)
                .await?)
        })
        .await?;
        rows.into_iter().map(CustomRole::try_from).collect()
    }

    async fn get(&self, scope: &TenantScope, id: CustomRoleId) -> Result<CustomRole, StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        self.read_one::<RoleRow, _, _>(scope, roles::table.find(key).select(RoleRow::as_select()))
            .await
    }

    async fn insert(
        &self,
        scope: &TenantScope,
        role: &CustomRole,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        new_in_scope(scope, role.tenant_id)?;
        let row = RoleRow::from(role);
        self.execute_audited(scope, event, diesel::insert_into(roles::table).values(row))
            .await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        role: &CustomRole,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        new_in_scope(scope, role.tenant_id)?;
        let key = (scope.tenant_id().as_uuid(), role.id.as_uuid());
        let mut row = RoleRow::from(role);
        row.version = expected_version + 1;
        self.write_audited(scope, event, async move |conn| {
            let changed = diesel::update(
                roles::table
                    .find(key)
                    .filter(roles::version.eq(expected_version)),
            )
            .set((
                roles::name.eq(row.name),
                roles::permissions.eq(row.permissions),
                roles::version.eq(row.version),
                roles::updated_at.eq(row.updated_at),
            ))
            .execute(conn)
            .await?;
            expect_changed(conn, changed, TABLE, key).await
        })
        .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: CustomRoleId,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        self.write_audited(scope, event, async move |conn| {
            let deleted = delete_at_version(conn, TABLE, key, expected_version)
                .await
                .map_err(in_use)?;
            expect_changed(conn, deleted, TABLE, key).await
        })
        .await
    }
}
