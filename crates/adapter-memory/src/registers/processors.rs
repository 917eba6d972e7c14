//! `ProcessorRepository`: processors, sub-processors and the activities that link to them.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    Processor, ProcessorFields,
    ports::{ListPage, ProcessorQuery, ProcessorRepository},
};
use aura_tenancy::{StoreError, TenantId, TenantScope};
use uuid::Uuid;

use crate::{
    MemoryStore,
    registers::{Tables, check_version, matches_search, page, tenant_rows},
};

impl Tables {
    /// The processor as read: with the ids of the activities linking to it, sorted.
    fn processor_view(&self, row: &Processor) -> Processor {
        let mut activity_ids: Vec<Uuid> = tenant_rows(&self.activities, row.tenant_id)
            .filter(|a| a.fields.processor_ids.contains(&row.id))
            .map(|a| a.id)
            .collect();
        activity_ids.sort();
        Processor {
            activity_ids,
            ..row.clone()
        }
    }

    /// `NotFound` unless the parent (if any) is a processor of `tenant`.
    fn check_parent(&self, tenant: TenantId, fields: &ProcessorFields) -> Result<(), StoreError> {
        match fields.parent_id {
            Some(parent) if !self.processors.contains_key(&(tenant, parent)) => {
                Err(StoreError::NotFound)
            }
            _ => Ok(()),
        }
    }

    /// `Conflict("in_use")` when an activity links to the processor or it has
    /// sub-processors.
    fn check_processor_unused(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let linked =
            tenant_rows(&self.activities, tenant).any(|a| a.fields.processor_ids.contains(&id));
        let parent = tenant_rows(&self.processors, tenant).any(|p| p.fields.parent_id == Some(id));
        if linked || parent {
            Err(StoreError::Conflict("in_use".to_owned()))
        } else {
            Ok(())
        }
    }
}

fn matches(processor: &Processor, query: &ProcessorQuery) -> bool {
    let f = &processor.fields;
    query.dpa_status.is_none_or(|s| f.dpa_status == s)
        && query
            .dpa_attention_by
            .is_none_or(|by| f.dpa_needs_attention(by))
        && query.parent.is_none_or(|p| f.parent_id == Some(p))
        && matches_search(&f.name, query.search.as_deref())
}

/// The row as stored: derived values are not kept.
fn stored(processor: &Processor) -> Processor {
    Processor {
        activity_ids: Vec::new(),
        ..processor.clone()
    }
}

#[async_trait::async_trait]
impl ProcessorRepository for MemoryStore {
    async fn insert(
        &self,
        scope: &TenantScope,
        processor: &Processor,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if processor.tenant_id != tenant || !tx.state.tenants.contains_key(&tenant) {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            if tables.processors.contains_key(&(tenant, processor.id)) {
                return Err(StoreError::Conflict("processor_id".to_owned()));
            }
            tables.check_parent(tenant, &processor.fields)?;
            tables
                .processors
                .insert((tenant, processor.id), stored(processor));
            tx.record(tenant, event);
            Ok(())
        })
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Processor, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        tables
            .processors
            .get(&(scope.tenant_id(), id))
            .map(|row| tables.processor_view(row))
            .ok_or(StoreError::NotFound)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ProcessorQuery,
    ) -> Result<ListPage<Processor>, StoreError> {
        let rows: Vec<Processor> = {
            let state = self.lock()?;
            let tables = &state.registers;
            tenant_rows(&tables.processors, scope.tenant_id())
                .filter(|p| matches(p, query))
                .map(|p| tables.processor_view(p))
                .collect()
        };
        page(rows, query.sort, query.after.as_ref(), query.limit)
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Processor>, StoreError> {
        let state = self.lock()?;
        let tables = &state.registers;
        Ok(tenant_rows(&tables.processors, scope.tenant_id())
            .map(|p| tables.processor_view(p))
            .collect())
    }

    async fn update(
        &self,
        scope: &TenantScope,
        processor: &Processor,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if processor.tenant_id != tenant {
                return Err(StoreError::NotFound);
            }
            let tables = &mut tx.state.registers;
            let before = tables
                .processors
                .get(&(tenant, processor.id))
                .ok_or(StoreError::NotFound)?;
            check_version(before.version, expected_version)?;
            tables.check_parent(tenant, &processor.fields)?;
            let row = Processor {
                created_at: before.created_at,
                ..stored(processor)
            };
            tables.processors.insert((tenant, processor.id), row);
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
                .processors
                .get(&(tenant, id))
                .ok_or(StoreError::NotFound)?;
            check_version(before.version, expected_version)?;
            tables.check_processor_unused(tenant, id)?;
            tables.processors.remove(&(tenant, id));
            tx.record(tenant, event);
            Ok(())
        })
    }
}
