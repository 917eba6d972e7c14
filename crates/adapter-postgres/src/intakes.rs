//! [`IntakeStore`] on PostgreSQL: pending intakes of the public request page, the
//! submission sealed under the tenant's key (the stores' `PersonalDataSeal`, context
//! naming the intake), the link's token only as its hash. Taking an intake for confirmation is one
//! `UPDATE … WHERE confirmed_at IS NULL AND expires_at > now RETURNING`: of two
//! concurrent confirmations the second waits for the first and then matches nothing.

use aura_identity::TokenHash;
use aura_requests::intake::{IntakeId, IntakeStore, IntakeSubmission, PendingIntake, PublicTenant};
use aura_shared_kernel::{StoreError, TenantId, TenantName, TenantScope, TenantSlug};
use diesel::{
    QueryableByName,
    prelude::*,
    sql_types::{Jsonb, Text, Uuid as SqlUuid},
};
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::corrupt,
    models::StoredSettings,
    pool::{in_tenant, unscoped},
    schema::request_intakes as intakes,
    stores::PgStores,
};

impl PgStores {
    fn seal_intake(&self, tenant: TenantId, intake: &PendingIntake) -> Result<Vec<u8>, StoreError> {
        let plain = serde_json::to_vec(&intake.submission)
            .map_err(|_| StoreError::unexpected("an intake submission did not serialize"))?;
        self.inner
            .seal
            .seal(tenant, &PendingIntake::seal_context(intake.id), &plain)
            .map_err(|_| StoreError::unexpected("an intake submission could not be sealed"))
    }

    fn open_intake(&self, tenant: TenantId, row: IntakeRow) -> Result<PendingIntake, StoreError> {
        let id = IntakeId::from_uuid(row.id);
        let plain = self
            .inner
            .seal
            .open(tenant, &PendingIntake::seal_context(id), &row.sealed)
            .map_err(|_| corrupt("a sealed intake submission"))?;
        let submission: IntakeSubmission =
            serde_json::from_slice(&plain).map_err(|_| corrupt("an intake submission"))?;
        let token_hash = <[u8; 32]>::try_from(row.token_hash.as_slice())
            .map_err(|_| corrupt("an intake token hash"))?;
        Ok(PendingIntake {
            id,
            token_hash: TokenHash(token_hash),
            submission,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

/// The columns an intake is read back from.
#[derive(Queryable)]
struct IntakeRow {
    id: Uuid,
    token_hash: Vec<u8>,
    sealed: Vec<u8>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

/// `aura_find_public_intake(slug)`: an active tenant's id, name and settings.
#[derive(QueryableByName)]
struct PublicTenantRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    tenant_name: String,
    #[diesel(sql_type = Jsonb)]
    tenant_settings: serde_json::Value,
}

#[async_trait::async_trait]
impl IntakeStore for PgStores {
    async fn find_public_tenant(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<PublicTenant>, StoreError> {
        let wanted = slug.as_str().to_owned();
        let row: Option<PublicTenantRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(
                diesel::sql_query("SELECT * FROM aura_find_public_intake($1)")
                    .bind::<Text, _>(wanted)
                    .get_result(conn)
                    .await
                    .optional()?,
            )
        })
        .await?;
        row.map(|row| {
            Ok(PublicTenant {
                id: TenantId::from_uuid(row.tenant_id),
                name: TenantName::parse(&row.tenant_name)
                    .map_err(|_| corrupt("a tenant name"))?
                    .to_string(),
                slug: slug.clone(),
                settings: StoredSettings::read(row.tenant_settings)?,
            })
        })
        .transpose()
    }

    async fn insert_pending(
        &self,
        scope: &TenantScope,
        intake: &PendingIntake,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id();
        let sealed = self.seal_intake(tenant, intake)?;
        let values = (
            intakes::tenant_id.eq(tenant.as_uuid()),
            intakes::id.eq(intake.id.as_uuid()),
            intakes::token_hash.eq(intake.token_hash.0.to_vec()),
            intakes::sealed.eq(sealed),
            intakes::created_at.eq(intake.created_at),
            intakes::expires_at.eq(intake.expires_at),
        );
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::insert_into(intakes::table)
                .values(values)
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }

    async fn take_confirmed(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingIntake>, StoreError> {
        let tenant = scope.tenant_id();
        let hash = token.0.to_vec();
        let row: Option<IntakeRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            let target = intakes::table
                .filter(intakes::tenant_id.eq(tenant.as_uuid()))
                .filter(intakes::token_hash.eq(hash))
                .filter(intakes::confirmed_at.is_null())
                .filter(intakes::expires_at.gt(now));
            Ok(diesel::update(target)
                .set(intakes::confirmed_at.eq(now))
                .returning((
                    intakes::id,
                    intakes::token_hash,
                    intakes::sealed,
                    intakes::created_at,
                    intakes::expires_at,
                ))
                .get_result(conn)
                .await
                .optional()?)
        })
        .await?;
        row.map(|row| self.open_intake(tenant, row)).transpose()
    }

    async fn release(&self, scope: &TenantScope, id: IntakeId) -> Result<(), StoreError> {
        let tenant = scope.tenant_id();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let target = intakes::table
                .filter(intakes::tenant_id.eq(tenant.as_uuid()))
                .filter(intakes::id.eq(id.as_uuid()));
            diesel::update(target)
                .set(intakes::confirmed_at.eq(None::<OffsetDateTime>))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }

    async fn purge_expired(
        &self,
        scope: &TenantScope,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let tenant = scope.tenant_id();
        let confirmed_before = now - PendingIntake::CONFIRMED_KEPT;
        let purged = in_tenant(&self.inner.pool, scope, async move |conn| {
            let gone = intakes::table
                .filter(intakes::tenant_id.eq(tenant.as_uuid()))
                .filter(
                    intakes::expires_at
                        .le(now)
                        .or(intakes::confirmed_at.le(confirmed_before)),
                );
            Ok(diesel::delete(gone).execute(conn).await?)
        })
        .await?;
        Ok(purged as u64)
    }
}
