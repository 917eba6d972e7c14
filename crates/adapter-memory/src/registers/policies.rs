//! `PolicyRepository`: policies and their numbered versions, at most one published.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    Policy, PolicyVersion, VersionStatus,
    ports::{ListPage, PolicyQuery, PolicyRepository},
};
use aura_tenancy::{Conflict, StoreError, TenantId, TenantScope};
use uuid::Uuid;

use crate::{
    MemoryStore,
    registers::{Tables, check_version, matches_search, page, tenant_rows},
};

impl Tables {
    /// A policy's versions in number order.
    fn policy_versions(
        &self,
        tenant: TenantId,
        policy: Uuid,
    ) -> impl DoubleEndedIterator<Item = &PolicyVersion> {
        self.versions
            .range((tenant, policy, i32::MIN)..=(tenant, policy, i32::MAX))
            .map(|(_, version)| version)
    }

    /// The number of the policy's published version.
    fn published_number(&self, tenant: TenantId, policy: Uuid) -> Option<i32> {
        self.policy_versions(tenant, policy)
            .find(|v| v.status == VersionStatus::Published)
            .map(|v| v.number)
    }

    /// The policy as read: `current_version` is the published version's number.
    fn policy_view(&self, row: &Policy) -> Policy {
        Policy {
            current_version: self.published_number(row.tenant_id, row.id),
            ..row.clone()
        }
    }

    /// The checks of storing `policy` over the row at `expected_version`; returns the
    /// row to store (creation time kept).
    fn checked_policy_update(
        &self,
        tenant: TenantId,
        policy: &Policy,
        expected_version: i32,
    ) -> Result<Policy, StoreError> {
        if policy.tenant_id != tenant {
            return Err(StoreError::NotFound);
        }
        let before = self
            .policies
            .get(&(tenant, policy.id))
            .ok_or(StoreError::NotFound)?;
        check_version(before.version, expected_version)?;
        Ok(Policy {
            created_at: before.created_at,
            ..policy.clone()
        })
    }
}

fn matches(policy: &Policy, query: &PolicyQuery) -> bool {
    let f = &policy.fields;
    query.kind.is_none_or(|k| f.kind == k)
        && query.status.is_none_or(|s| f.status == s)
        && query.owner.is_none_or(|o| f.owner_id == Some(o))
        && matches_search(&f.title, query.search.as_deref())
}

#[async_trait::async_trait]
impl PolicyRepository for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        policy: &Policy,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if policy.tenant_id != tenant || !tx.state.tenants.contains_key(&tenant) {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            if tables.policies.contains_key(&(tenant, policy.id)) {
                return Err(StoreError::Conflict(Conflict::IdTaken("policy")));
            }
            // A new policy has no versions: nothing is published yet.
            let row = Policy {
                current_version: None,
                ..policy.clone()
            };
            tables.policies.insert((tenant, policy.id), row);
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Policy, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        tables
            .policies
            .get(&(scope.tenant_id(), id))
            .map(|row| tables.policy_view(row))
            .ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &PolicyQuery,
    ) -> Result<ListPage<Policy>, StoreError> {
        let rows: Vec<Policy> = {
            let state = self.lock()?;
            let tables = &state.registers;
            tenant_rows(&tables.policies, scope.tenant_id())
                .filter(|p| matches(p, query))
                .map(|p| tables.policy_view(p))
                .collect()
        };
        page(rows, query.sort, query.after.as_ref(), query.limit)
    }

    async fn update(
        &self,
        scope: &TenantScope,
        policy: &Policy,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            let row = tx
                .state
                .registers
                .checked_policy_update(tenant, policy, expected_version)?;
            tx.state.registers.policies.insert((tenant, policy.id), row);
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            let tables = &mut tx.state.registers;
            let before = tables
                .policies
                .get(&(tenant, id))
                .ok_or(StoreError::NotFound)?;
            check_version(before.version, expected_version)?;
            tables.policies.remove(&(tenant, id));
            tables
                .versions
                .retain(|(t, policy, _), _| !(*t == tenant && *policy == id));
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn insert_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if version.tenant_id != tenant {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            if !tables.policies.contains_key(&(tenant, version.policy_id)) {
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
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn get_version(
        &self,
        scope: &TenantScope,
        policy: Uuid,
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
        policy: Uuid,
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
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if version.tenant_id != tenant {
                return Err(StoreError::NotFound);
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
            let policy_row = match policy {
                Some(policy) if policy.id != version.policy_id => {
                    return Err(StoreError::unexpected(
                        "a version is published with its own policy",
                    ));
                }
                Some(policy) => Some(tables.checked_policy_update(
                    tenant,
                    policy,
                    policy.version.saturating_sub(1),
                )?),
                None => None,
            };
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
            if let Some(policy_row) = policy_row {
                tables.policies.insert((tenant, policy_row.id), policy_row);
            }
            tx.record(tenant, event);
            Ok(())
        })
    }
}
