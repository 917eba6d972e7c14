//! Processing activities in memory: their table and filters.

use aura_gdpr_registers::{
    Activities, ActivityFilter, ActivityId, DpiaStanding, ProcessingActivity, activity_missing,
};

use aura_shared_kernel::TenantId;

use crate::registers::{Tables, matches_search, records::MemoryRecord};

impl MemoryRecord for Activities {
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

    /// Its screening answers go with it (the database's ON DELETE CASCADE).
    fn remove_owned(tables: &mut Tables, tenant: TenantId, id: ActivityId) {
        tables.dpia_screenings.remove(&(tenant, id));
    }

    /// With what the record still lacks, given the tenant's organisation profile and
    /// its DPIAs.
    fn view(tables: &Tables, row: &ProcessingActivity) -> ProcessingActivity {
        let profile = tables.organisations.get(&row.tenant_id).map(|o| &o.profile);
        let mut activity = row.clone();
        activity.derived.missing =
            activity_missing(&activity.fields, profile, approved_dpia(tables, row));
        activity
    }
}

/// Whether an approved DPIA covers the activity (Art. 35(1)). No DPIA register exists
/// yet: none is approved. The DPIA register answers here from its rows in `tables`.
fn approved_dpia(_tables: &Tables, _activity: &ProcessingActivity) -> DpiaStanding {
    DpiaStanding::default()
}
