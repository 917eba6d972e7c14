//! [`SessionStore`] on PostgreSQL: refresh-token families with rotation.

use aura_audit::PendingEvent;
use aura_identity::{RefreshFamily, RefreshLookup, TokenHash, ports::SessionStore};
use aura_shared_kernel::{StoreError, TenantScope};
use diesel::{
    prelude::*,
    sql_types::{Bytea, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::DbError,
    lookups::{AcceptedRow, RefreshLookupRow},
    pool::{in_tenant, unscoped},
    rows::in_scope,
    schema::{refresh_families, refresh_tokens, users},
    stores::PgStores,
};

#[async_trait::async_trait]
impl SessionStore for PgStores {
    async fn start(
        &self,
        scope: &TenantScope,
        family: &RefreshFamily,
        first: &TokenHash,
        idle_expires_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        in_scope(scope, family.tenant_id)?;
        let tenant_uuid = scope.tenant_id().as_uuid();
        let first = first.0.to_vec();
        self.write_audited(scope, event, async move |conn| {
            // The composite foreign key refuses a user outside the tenant (NotFound).
            diesel::insert_into(refresh_families::table)
                .values((
                    refresh_families::tenant_id.eq(tenant_uuid),
                    refresh_families::id.eq(family.id),
                    refresh_families::user_id.eq(family.user_id.as_uuid()),
                    refresh_families::session_version.eq(family.session_version),
                    refresh_families::created_at.eq(family.created_at),
                    refresh_families::absolute_expires_at.eq(family.absolute_expires_at),
                ))
                .execute(conn)
                .await?;
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::tenant_id.eq(tenant_uuid),
                    refresh_tokens::token_hash.eq(first),
                    refresh_tokens::family_id.eq(family.id),
                    refresh_tokens::issued_at.eq(family.created_at),
                    refresh_tokens::idle_expires_at.eq(idle_expires_at),
                ))
                .execute(conn)
                .await?;
            let signed_in = diesel::update(
                users::table
                    .filter(users::tenant_id.eq(tenant_uuid))
                    .filter(users::id.eq(family.user_id.as_uuid())),
            )
            .set(users::last_login_at.eq(family.created_at))
            .execute(conn)
            .await?;
            if signed_in == 0 {
                return Err(DbError::Store(StoreError::NotFound));
            }
            // Signing in with the account's password accepts a pending membership, only
            // the one `aura_find_login` offers (the account's creating membership, its
            // only way in); the function re-checks that. Any other pending membership
            // starts no session.
            let accepted: AcceptedRow =
                diesel::sql_query("SELECT aura_accept_sign_in($1, $2) AS accepted")
                    .bind::<SqlUuid, _>(family.user_id.as_uuid())
                    .bind::<Timestamptz, _>(family.created_at)
                    .get_result(conn)
                    .await?;
            if !accepted.accepted {
                return Err(DbError::Store(StoreError::NotFound));
            }
            Ok(())
        })
        .await
    }

    async fn find(&self, presented: &TokenHash) -> Result<Option<RefreshLookup>, StoreError> {
        let row: Option<RefreshLookupRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(
                diesel::sql_query("SELECT * FROM aura_find_refresh_token($1)")
                    .bind::<Bytea, _>(presented.0.as_slice())
                    .get_result(conn)
                    .await
                    .optional()?,
            )
        })
        .await?;
        Ok(row.map(RefreshLookup::from))
    }

    async fn rotate(
        &self,
        scope: &TenantScope,
        presented: &TokenHash,
        next: &TokenHash,
        idle_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let presented = presented.0.to_vec();
        let next = next.0.to_vec();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // Only one exchange can flip `used_at`: a parallel one waits for the row
            // lock, re-checks `used_at IS NULL` and updates nothing.
            let family: Option<Uuid> = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::tenant_id.eq(tenant))
                    .filter(refresh_tokens::token_hash.eq(presented))
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(now))
            .returning(refresh_tokens::family_id)
            .get_result(conn)
            .await
            .optional()?;
            let Some(family) = family else {
                return Ok(false);
            };
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::tenant_id.eq(tenant),
                    refresh_tokens::token_hash.eq(next),
                    refresh_tokens::family_id.eq(family),
                    refresh_tokens::issued_at.eq(now),
                    refresh_tokens::idle_expires_at.eq(idle_expires_at),
                ))
                .execute(conn)
                .await?;
            Ok(true)
        })
        .await
    }

    async fn revoke(
        &self,
        scope: &TenantScope,
        family: Uuid,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let tenant_uuid = scope.tenant_id().as_uuid();
        self.write_audited(scope, event, async move |conn| {
            let in_family = refresh_families::table
                .filter(refresh_families::tenant_id.eq(tenant_uuid))
                .filter(refresh_families::id.eq(family));
            let revoked = diesel::update(in_family.filter(refresh_families::revoked_at.is_null()))
                .set(refresh_families::revoked_at.eq(now))
                .execute(conn)
                .await?;
            if revoked == 0 {
                // Already revoked is fine (reuse of a token of an ended session is
                // still audited); a family that does not exist here is not.
                let exists: Option<Uuid> = in_family
                    .select(refresh_families::id)
                    .first(conn)
                    .await
                    .optional()?;
                if exists.is_none() {
                    return Err(DbError::Store(StoreError::NotFound));
                }
            }
            Ok(())
        })
        .await
    }
}
