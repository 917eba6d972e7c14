//! `ActivityRepository`: processing activities and their links to processors.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    ActivityFields, ProcessingActivity,
    ports::{ActivityQuery, ActivityRepository, ListPage},
};
use aura_tenancy::{StoreError, TenantId, TenantScope};
use uuid::Uuid;

use crate::{
    MemoryStore,
    registers::{Tables, check_version, matches_search, page, tenant_rows},
};

impl Tables {
    /// `NotFound` unless every linked processor is a processor of `tenant` (the link
    /// table's foreign key).
    pub(crate) fn check_processor_links(
        &self,
        tenant: TenantId,
        fields: &ActivityFields,
    ) -> Result<(), StoreError> {
        if fields
            .processor_ids
            .iter()
            .all(|id| self.processors.contains_key(&(tenant, *id)))
        {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}

fn matches(activity: &ProcessingActivity, query: &ActivityQuery) -> bool {
    let f = &activity.fields;
    query.status.is_none_or(|s| f.status == s)
        && query.role.is_none_or(|r| f.role == r)
        && query.owner.is_none_or(|o| f.owner_id == Some(o))
        && query
            .lawful_basis
            .is_none_or(|b| f.purposes.iter().any(|p| p.lawful_basis == b))
        && query.processor.is_none_or(|p| f.processor_ids.contains(&p))
        && matches_search(&f.name, query.search.as_deref())
}

#[async_trait::async_trait]
impl ActivityRepository for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        activity: &ProcessingActivity,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if activity.tenant_id != tenant || !tx.state.tenants.contains_key(&tenant) {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            if tables.activities.contains_key(&(tenant, activity.id)) {
                return Err(StoreError::Conflict("activity_id".to_owned()));
            }
            tables.check_processor_links(tenant, &activity.fields)?;
            tables
                .activities
                .insert((tenant, activity.id), activity.clone());
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<ProcessingActivity, StoreError> {
        self.lock()?
            .registers
            .activities
            .get(&(scope.tenant_id(), id))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ActivityQuery,
    ) -> Result<ListPage<ProcessingActivity>, StoreError> {
        let rows: Vec<ProcessingActivity> = {
            let state = self.lock()?;
            tenant_rows(&state.registers.activities, scope.tenant_id())
                .filter(|a| matches(a, query))
                .cloned()
                .collect()
        };
        page(rows, query.sort, query.after.as_ref(), query.limit)
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<ProcessingActivity>, StoreError> {
        let state = self.lock()?;
        Ok(tenant_rows(&state.registers.activities, scope.tenant_id())
            .cloned()
            .collect())
    }

    async fn update(
        &self,
        scope: &TenantScope,
        activity: &ProcessingActivity,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if activity.tenant_id != tenant {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            let before = tables
                .activities
                .get(&(tenant, activity.id))
                .ok_or(StoreError::NotFound)?;
            check_version(before.version, expected_version)?;
            tables.check_processor_links(tenant, &activity.fields)?;
            // Creation facts are not the caller's to change.
            let row = ProcessingActivity {
                created_by: before.created_by,
                created_at: before.created_at,
                ..activity.clone()
            };
            tables.activities.insert((tenant, activity.id), row);
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
                .activities
                .get(&(tenant, id))
                .ok_or(StoreError::NotFound)?;
            check_version(before.version, expected_version)?;
            // Its links to processors go with it.
            tables.activities.remove(&(tenant, id));
            tx.record(tenant, event);
            Ok(())
        })
    }
}
