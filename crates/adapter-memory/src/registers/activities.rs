//! Processing activities in memory: their filters and the foreign key of their links
//! to processors.

use aura_gdpr_registers::{Activities, ActivityFields, ActivityFilter, ProcessingActivity};
use aura_tenancy::{StoreError, TenantId};

use crate::registers::{
    Tables, matches_search,
    records::{MemoryRecord, VersionedTable},
};

impl MemoryRecord for Activities {
    fn table(tables: &Tables) -> &VersionedTable<Self> {
        &tables.activities
    }

    fn table_mut(tables: &mut Tables) -> &mut VersionedTable<Self> {
        &mut tables.activities
    }

    fn matches(activity: &ProcessingActivity, filter: &ActivityFilter) -> bool {
        let f = &activity.fields;
        filter.status.is_none_or(|s| f.status == s)
            && filter.role.is_none_or(|r| f.role == r)
            && filter.owner.is_none_or(|o| f.owner_id == Some(o))
            && filter
                .lawful_basis
                .is_none_or(|b| f.purposes.iter().any(|p| p.lawful_basis == b))
            && filter
                .processor
                .is_none_or(|p| f.processor_ids.contains(&p))
            && matches_search(&f.name, filter.search.as_deref())
    }

    /// Every linked processor must be a processor of the tenant.
    fn check_links(
        tables: &Tables,
        tenant: TenantId,
        fields: &ActivityFields,
    ) -> Result<(), StoreError> {
        if fields
            .processor_ids
            .iter()
            .all(|id| tables.processors.contains(tenant, *id))
        {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}
