//! [`TenantRepository`] on PostgreSQL.

use aura_audit::PendingEvent;
use aura_identity::{PartnerGrant, PartnerRef, User, ports::TenantRepository};
use aura_shared_kernel::{StoreError, SystemScope, Tenant, TenantId, TenantScope, TenantSlug};
use diesel::{prelude::*, sql_types::Text};
use diesel_async::RunQueryDsl;

use crate::{
    audit::append_event,
    lookups::TakenRow,
    models::{TenantRow, convert_all},
    pool::{in_tenant, unscoped},
    rows::{at_version, in_scope, missing_or_stale},
    schema::tenants,
    stores::PgStores,
    users::insert_member,
};

#[async_trait::async_trait]
impl TenantRepository for PgStores {
    async fn register(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        owner: &User,
        events: Vec<PendingEvent>,
    ) -> Result<(), StoreError> {
        // The new tenant's own scope: row-level security admits exactly its rows.
        if scope.tenant_id() != tenant.id || owner.tenant_id != tenant.id {
            return Err(StoreError::unexpected(
                "the scope, the tenant and its first owner must agree",
            ));
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant_row = TenantRow::from(tenant);
        let tenant_id = tenant.id;
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::insert_into(tenants::table)
                .values(tenant_row)
                .execute(conn)
                .await?;
            insert_member(conn, owner).await?;
            for event in events {
                append_event(conn, hasher, tenant_id, event, now).await?;
            }
            Ok(())
        })
        .await
    }

    async fn slug_taken(&self, slug: &TenantSlug) -> Result<bool, StoreError> {
        let row: TakenRow = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query("SELECT aura_slug_taken($1) AS taken")
                .bind::<Text, _>(slug.as_str())
                .get_result(conn)
                .await?)
        })
        .await?;
        Ok(row.taken)
    }

    async fn get(&self, scope: &TenantScope) -> Result<Tenant, StoreError> {
        let query = tenants::table
            .find(scope.tenant_id().as_uuid())
            .select(TenantRow::as_select());
        self.read_one::<TenantRow, _, _>(scope, query).await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        in_scope(scope, tenant.id)?;
        let id = tenant.id.as_uuid();
        let mut changes = TenantRow::from(tenant);
        changes.version = expected_version.wrapping_add(1);
        self.write_audited(scope, event, async move |conn| {
            let target = at_version(tenants::table, tenants::version, id, expected_version);
            let updated = diesel::update(target).set(changes).execute(conn).await?;
            if updated == 0 {
                let exists: Option<uuid::Uuid> = tenants::table
                    .find(id)
                    .select(tenants::id)
                    .first(conn)
                    .await
                    .optional()?;
                return Err(missing_or_stale(exists.is_some()));
            }
            Ok(())
        })
        .await
    }

    async fn list_all(&self, _system: &SystemScope) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query("SELECT * FROM aura_list_tenants()")
                .load(conn)
                .await?)
        })
        .await?;
        convert_all(rows)
    }

    async fn find_partner(
        &self,
        scope: &TenantScope,
        slug: &TenantSlug,
    ) -> Result<Option<(PartnerRef, TenantSlug)>, StoreError> {
        self.find_partner_by_slug(scope, slug).await
    }

    async fn grant_partner(
        &self,
        scope: &TenantScope,
        grant: &PartnerGrant,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.insert_grant(scope, grant, event).await
    }

    async fn partner_grants(&self, scope: &TenantScope) -> Result<Vec<PartnerGrant>, StoreError> {
        self.grants(scope).await
    }

    async fn revoke_partner(
        &self,
        scope: &TenantScope,
        partner: TenantId,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.delete_grant(scope, partner, event).await
    }
}
