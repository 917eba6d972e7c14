//! Policies in memory: the kernel's [`MemoryRecord`] (filters, `current_version` derived
//! from the versions on read, the versions removed with the policy) and
//! [`PolicyVersions`]: numbered versions, at most one published.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    Policies, Policy, PolicyFilter, PolicyId, PolicyState, PolicyVersion, VersionStatus,
    ports::PolicyVersions,
};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope};

use crate::{
    MemoryStore,
    registers::{Tables, check_version, matches_search, records::MemoryRecord},
    state::in_scope,
};

impl Tables {
    /// A policy's versions in number order.
    fn policy_versions(
        &self,
        tenant: TenantId,
        policy: PolicyId,
    ) -> impl DoubleEndedIterator<Item = &PolicyVersion> {
        self.versions
            .range((tenant, policy, i32::MIN)..=(tenant, policy, i32::MAX))
            .map(|(_, version)| version)
    }

    /// The number of the policy's published version.
    fn published_number(&self, tenant: TenantId, policy: PolicyId) -> Option<i32> {
        self.policy_versions(tenant, policy)
            .find(|v| v.status == VersionStatus::Published)
            .map(|v| v.number)
    }
}

impl MemoryRecord for Policies {
    fn matches(policy: &Policy, filter: &PolicyFilter) -> bool {
        let f = &policy.fields;
        filter.kind.is_none_or(|k| f.kind == k)
            && filter.status.is_none_or(|s| f.status == s)
            && filter.owner.is_none_or(|o| f.owner_id == Some(o))
            && matches_search(&f.title, filter.search.as_deref())
    }

    fn remove_owned(tables: &mut Tables, tenant: TenantId, id: PolicyId) {
        tables
            .versions
            .retain(|(t, policy, _), _| !(*t == tenant && *policy == id));
    }

    /// `current_version` is the published version's number.
    fn view(tables: &Tables, row: &Policy) -> Policy {
        Policy {
            derived: PolicyState {
                current_version: tables.published_number(row.tenant_id, row.id),
            },
            ..row.clone()
        }
    }
}

#[async_trait::async_trait]
impl PolicyVersions for MemoryStore {
    async fn insert_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            in_scope(tenant, version.tenant_id)?;
            let tables = &mut tx.state.registers;
            if !tables.records.contains(tenant, version.policy_id) {
                return Err(StoreError::NotFound);
            }
            let next = tables
                .policy_versions(tenant, version.policy_id)
                .next_back()
                .map_or(Some(1), |last| last.number.checked_add(1));
            if Some(version.number) != next {
                return Err(StoreError::Conflict(Conflict::VersionNumberTaken));
            }
            if tables.versions.values().any(|v| v.id == version.id) {
                return Err(StoreError::Conflict(Conflict::IdTaken("policy_version")));
            }
            if version.status == VersionStatus::Published
                && tables.published_number(tenant, version.policy_id).is_some()
            {
                return Err(StoreError::Conflict(Conflict::AlreadyPublished));
            }
            tables
                .versions
                .insert((tenant, version.policy_id, version.number), version.clone());
            Ok(())
        })
    }

    async fn get_version(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        number: i32,
    ) -> Result<PolicyVersion, StoreError> {
        self.lock()?
            .registers
            .versions
            .get(&(scope.tenant_id(), policy, number))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    /// Empty for a policy that is not the tenant's (like a filtered query).
    async fn list_versions(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
    ) -> Result<Vec<PolicyVersion>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .registers
            .policy_versions(scope.tenant_id(), policy)
            .rev()
            .cloned()
            .collect())
    }

    async fn update_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        expected_version: i32,
        policy: Option<&Policy>,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            in_scope(tenant, version.tenant_id)?;
            policy.map_or(Ok(()), |p| in_scope(tenant, p.tenant_id))?;
            if policy.is_some_and(|p| p.id != version.policy_id) {
                return Err(StoreError::unexpected(
                    "a version is published with its own policy",
                ));
            }
            let now = tx.clock.now();
            let tables = &mut tx.state.registers;
            let key = (tenant, version.policy_id, version.number);
            let before = tables
                .versions
                .get(&key)
                .filter(|v| v.id == version.id)
                .ok_or(StoreError::NotFound)?;
            check_version(before.version, expected_version)?;
            let row = PolicyVersion {
                created_by: before.created_by,
                created_at: before.created_at,
                ..version.clone()
            };
            if let Some(policy) = policy {
                tables
                    .records
                    .at_version(tenant, policy.id, policy.version.saturating_sub(1))?;
            }
            // Publishing retires the policy's other published version: one stays published.
            let previous = tables
                .published_number(tenant, version.policy_id)
                .filter(|number| *number != version.number);
            if version.status == VersionStatus::Published
                && let Some(number) = previous
                && let Some(old) = tables
                    .versions
                    .get_mut(&(tenant, version.policy_id, number))
            {
                old.status = VersionStatus::Retired;
                old.retired_at = Some(version.published_at.unwrap_or(now));
                old.version += 1;
            }
            tables.versions.insert(key, row);
            if let Some(policy) = policy {
                tables.records.replace(policy);
            }
            Ok(())
        })
    }
}
