//! [`PasswordResetStore`] on PostgreSQL: single-use tokens, stored hashed.

use aura_audit::PendingEvent;
use aura_identity::{TokenHash, User, ports::PasswordResetStore};
use aura_shared_kernel::{StoreError, TenantId, TenantScope, UserId};
use diesel::{
    prelude::*,
    sql_types::{Bytea, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;

use crate::{
    lookups::{AcceptedRow, ResetLookupRow},
    pool::{in_tenant, unscoped},
    schema::{accounts, password_reset_tokens as resets, users},
    stores::PgStores,
    users::{account_password_changed, audit_account_change, write_membership, write_user},
};

#[async_trait::async_trait]
impl PasswordResetStore for PgStores {
    async fn issue(
        &self,
        scope: &TenantScope,
        user: UserId,
        token: &TokenHash,
        expires_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let tenant = scope.tenant_id();
        let token = token.0.to_vec();
        self.write_audited(scope, event, async move |conn| {
            // The composite foreign key refuses a user outside the tenant (NotFound).
            diesel::insert_into(resets::table)
                .values((
                    resets::tenant_id.eq(tenant.as_uuid()),
                    resets::token_hash.eq(token),
                    resets::user_id.eq(user.as_uuid()),
                    resets::expires_at.eq(expires_at),
                    resets::created_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }

    async fn find(
        &self,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<(TenantId, UserId)>, StoreError> {
        let row: Option<ResetLookupRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(
                diesel::sql_query("SELECT * FROM aura_find_reset_token($1, $2)")
                    .bind::<Bytea, _>(token.0.as_slice())
                    .bind::<Timestamptz, _>(now)
                    .get_result(conn)
                    .await
                    .optional()?,
            )
        })
        .await?;
        Ok(row.map(|r| {
            (
                TenantId::from_uuid(r.tenant_id),
                UserId::from_uuid(r.user_id),
            )
        }))
    }

    async fn redeem(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        user: &User,
        expected_version: i32,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        if user.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let tenant_uuid = tenant.as_uuid();
        let user_uuid = user.id.as_uuid();
        let token = token.0.to_vec();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let accepted_at: Option<Option<OffsetDateTime>> = users::table
                .find((tenant_uuid, user_uuid))
                .select(users::accepted_at)
                .first(conn)
                .await
                .optional()?;
            let Some(accepted_at) = accepted_at else {
                return Ok(false);
            };
            let pending = accepted_at.is_none();
            // Single use: of two parallel redemptions only one flips `used_at`.
            let used = if pending {
                // The account is not this tenant's to write: the link itself sets its
                // password, as the owner (see `aura_accept_membership`).
                let row: AcceptedRow =
                    diesel::sql_query("SELECT aura_accept_membership($1, $2, $3, $4) AS accepted")
                        .bind::<SqlUuid, _>(user_uuid)
                        .bind::<Bytea, _>(token)
                        .bind::<Text, _>(user.password_hash.as_str())
                        .bind::<Timestamptz, _>(now)
                        .get_result(conn)
                        .await?;
                row.accepted
            } else {
                let flipped = diesel::update(
                    resets::table
                        .filter(resets::tenant_id.eq(tenant_uuid))
                        .filter(resets::token_hash.eq(token))
                        .filter(resets::user_id.eq(user_uuid))
                        .filter(resets::used_at.is_null())
                        .filter(resets::expires_at.gt(now)),
                )
                .set(resets::used_at.eq(now))
                .execute(conn)
                .await?;
                flipped == 1
            };
            if !used {
                return Ok(false);
            }
            // The user's other outstanding links die with this reset.
            diesel::update(
                resets::table
                    .filter(resets::tenant_id.eq(tenant_uuid))
                    .filter(resets::user_id.eq(user_uuid))
                    .filter(resets::used_at.is_null()),
            )
            .set(resets::used_at.eq(now))
            .execute(conn)
            .await?;
            // A stale user row fails the whole transaction: the token stays unused.
            let elsewhere = if pending {
                // Accepted now (by the function, which wrote the account): only the
                // membership is the tenant's to write; the account's new password ends
                // its other sessions.
                write_membership(conn, user, expected_version).await?;
                let account = user.account_id.as_uuid();
                // Readable now: the membership is accepted.
                let version: i32 = accounts::table
                    .find(account)
                    .select(accounts::session_version)
                    .first(conn)
                    .await?;
                account_password_changed(conn, account, version, now).await?
            } else {
                write_user(conn, user, expected_version).await?
            };
            audit_account_change(conn, hasher, tenant, event, &elsewhere, now).await?;
            Ok(true)
        })
        .await
    }
}
