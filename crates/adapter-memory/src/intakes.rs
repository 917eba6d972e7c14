//! [`IntakeStore`] on the memory store: the pending intakes under a lock of their own
//! (they touch no other table; the tenants are read from the store's tables for the slug
//! lookup). No seal: nothing here outlives the process.

use std::{collections::HashMap, sync::MutexGuard};

use aura_identity::TokenHash;
use aura_requests::intake::{IntakeId, IntakeStore, PendingIntake, PublicTenant};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope, TenantSlug};
use time::OffsetDateTime;

use crate::MemoryStore;

pub(crate) struct IntakeRow {
    intake: PendingIntake,
    confirmed_at: Option<OffsetDateTime>,
}

/// The pending intakes, keyed like the table's primary key.
pub(crate) type IntakeTable = HashMap<(TenantId, IntakeId), IntakeRow>;

impl MemoryStore {
    fn intake_rows(&self) -> Result<MutexGuard<'_, IntakeTable>, StoreError> {
        self.shared
            .intakes
            .lock()
            .map_err(|_| StoreError::unexpected("memory intake lock poisoned"))
    }
}

#[async_trait::async_trait]
impl IntakeStore for MemoryStore {
    async fn find_public_tenant(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<PublicTenant>, StoreError> {
        let state = self.lock()?;
        let tenant = state
            .slugs
            .get(slug)
            .and_then(|id| state.tenants.get(id))
            .filter(|tenant| tenant.is_active);
        Ok(tenant.map(|tenant| PublicTenant {
            id: tenant.id,
            name: tenant.name.to_string(),
            slug: tenant.slug.clone(),
            settings: tenant.settings.clone(),
        }))
    }

    async fn insert_pending(
        &self,
        scope: &TenantScope,
        intake: &PendingIntake,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id();
        if !self.lock()?.tenants.contains_key(&tenant) {
            return Err(StoreError::NotFound);
        }
        let mut rows = self.intake_rows()?;
        let taken = rows
            .iter()
            .any(|((t, _), row)| *t == tenant && row.intake.token_hash == intake.token_hash);
        if taken {
            return Err(Conflict::TokenTaken.into());
        }
        if rows.contains_key(&(tenant, intake.id)) {
            return Err(Conflict::IdTaken("intake").into());
        }
        rows.insert(
            (tenant, intake.id),
            IntakeRow {
                intake: intake.clone(),
                confirmed_at: None,
            },
        );
        Ok(())
    }

    async fn take_confirmed(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingIntake>, StoreError> {
        let tenant = scope.tenant_id();
        let mut rows = self.intake_rows()?;
        let row = rows.iter_mut().find(|((t, _), row)| {
            *t == tenant
                && row.intake.token_hash == *token
                && row.confirmed_at.is_none()
                && now < row.intake.expires_at
        });
        Ok(row.map(|(_, row)| {
            row.confirmed_at = Some(now);
            row.intake.clone()
        }))
    }

    async fn release(&self, scope: &TenantScope, id: IntakeId) -> Result<(), StoreError> {
        if let Some(row) = self.intake_rows()?.get_mut(&(scope.tenant_id(), id)) {
            row.confirmed_at = None;
        }
        Ok(())
    }

    async fn purge_expired(
        &self,
        scope: &TenantScope,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let tenant = scope.tenant_id();
        let confirmed_before = now - PendingIntake::CONFIRMED_KEPT;
        let mut rows = self.intake_rows()?;
        let before = rows.len();
        rows.retain(|(t, _), row| {
            *t != tenant
                || !(row.intake.expires_at <= now
                    || row.confirmed_at.is_some_and(|at| at <= confirmed_before))
        });
        Ok((before - rows.len()) as u64)
    }
}
