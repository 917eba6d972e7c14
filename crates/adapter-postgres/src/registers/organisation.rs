//! [`OrganisationRepository`] on PostgreSQL: one profile row per tenant.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{OrganisationProfile, StoredOrganisation, ports::OrganisationRepository};
use aura_tenancy::{Conflict, StoreError, TenantScope};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;
use uuid::Uuid;

use super::missing_or_stale;
use crate::{
    audit::{append_event, to_micros},
    error::{DbError, corrupt},
    pool::in_tenant,
    schema::organisation_profiles as profiles,
    stores::PgStores,
};

/// The tenant's profile, or `None` before it was first saved, in the caller's
/// transaction (an activity's gaps are derived from it where the activity is read).
pub(crate) async fn stored_profile(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> Result<Option<StoredOrganisation>, DbError> {
    let row: Option<(serde_json::Value, i32, OffsetDateTime)> = profiles::table
        .filter(profiles::tenant_id.eq(tenant))
        .select((profiles::profile, profiles::version, profiles::updated_at))
        .first(conn)
        .await
        .optional()?;
    row.map(|(profile, version, updated_at)| {
        Ok(StoredOrganisation {
            profile: serde_json::from_value(profile)
                .map_err(|_| corrupt("stored organisation profile"))?,
            version,
            updated_at: Some(updated_at),
        })
    })
    .transpose()
}

#[async_trait::async_trait]
impl OrganisationRepository for PgStores {
    async fn get(&self, scope: &TenantScope) -> Result<Option<StoredOrganisation>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            stored_profile(conn, tenant).await
        })
        .await
    }

    /// Version 0 means "not saved yet": the row is inserted, and an existing one is
    /// `Conflict::Version`. Otherwise the row must be at `expected_version`:
    /// `Conflict::Version` when it is at another, `NotFound` when there is none yet.
    async fn put(
        &self,
        scope: &TenantScope,
        profile: &OrganisationProfile,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<i32, StoreError> {
        let now = self.now();
        let updated_at = to_micros(now);
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let tenant_uuid = tenant.as_uuid();
        let value = serde_json::to_value(profile)
            .map_err(|_| StoreError::unexpected("organisation profile not serialisable"))?;
        let new_version = expected_version
            .checked_add(1)
            .filter(|_| expected_version >= 0)
            .ok_or_else(|| StoreError::Conflict(Conflict::Version))?;
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let written = if expected_version == 0 {
                diesel::insert_into(profiles::table)
                    .values((
                        profiles::tenant_id.eq(tenant_uuid),
                        profiles::profile.eq(value),
                        profiles::version.eq(new_version),
                        profiles::updated_at.eq(updated_at),
                    ))
                    .on_conflict(profiles::tenant_id)
                    .do_nothing()
                    .execute(conn)
                    .await?
            } else {
                diesel::update(
                    profiles::table
                        .filter(profiles::tenant_id.eq(tenant_uuid))
                        .filter(profiles::version.eq(expected_version)),
                )
                .set((
                    profiles::profile.eq(value),
                    profiles::version.eq(new_version),
                    profiles::updated_at.eq(updated_at),
                ))
                .execute(conn)
                .await?
            };
            if written == 0 && expected_version == 0 {
                return Err(missing_or_stale(true));
            }
            if written == 0 {
                let exists: bool = diesel::select(diesel::dsl::exists(
                    profiles::table.filter(profiles::tenant_id.eq(tenant_uuid)),
                ))
                .get_result(conn)
                .await?;
                return Err(missing_or_stale(exists));
            }
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(new_version)
        })
        .await
    }
}
