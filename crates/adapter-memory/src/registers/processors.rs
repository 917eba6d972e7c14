//! Processors in memory: their filters, the parent's foreign key, what keeps one from
//! being deleted, and the activities that link to it (derived on read).

use aura_gdpr_registers::{
    Activities, Processor, ProcessorFilter, ProcessorId, ProcessorLinks, Processors,
};
use aura_shared_kernel::{Conflict, StoreError, TenantId};

use crate::registers::{Tables, matches_search, records::MemoryRecord};

impl MemoryRecord for Processors {
    fn matches(processor: &Processor, filter: &ProcessorFilter) -> bool {
        let f = &processor.fields;
        filter.dpa_status.is_none_or(|s| f.dpa_status == s)
            && filter
                .dpa_attention_by
                .is_none_or(|by| f.dpa_needs_attention(by))
            && filter.parent.is_none_or(|p| f.parent_id == Some(p))
            && matches_search(&f.name, filter.search.as_deref())
    }

    /// Activities linking to it and sub-processors keep it (the database's RESTRICT).
    fn check_unused(tables: &Tables, tenant: TenantId, id: ProcessorId) -> Result<(), StoreError> {
        let linked = tables
            .records
            .rows::<Activities>(tenant)
            .any(|a| a.fields.processor_ids.contains(&id));
        let parent = tables
            .records
            .rows::<Processors>(tenant)
            .any(|p| p.fields.parent_id == Some(id));
        if linked || parent {
            Err(StoreError::Conflict(Conflict::InUse))
        } else {
            Ok(())
        }
    }

    /// With the ids of the activities linking to it, sorted (stored rows keep none).
    fn view(tables: &Tables, row: &Processor) -> Processor {
        let mut activity_ids: Vec<_> = tables
            .records
            .rows::<Activities>(row.tenant_id)
            .filter(|a| a.fields.processor_ids.contains(&row.id))
            .map(|a| a.id)
            .collect();
        activity_ids.sort();
        Processor {
            derived: ProcessorLinks { activity_ids },
            ..row.clone()
        }
    }
}
