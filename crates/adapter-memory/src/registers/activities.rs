//! Processing activities in memory: their table and filters.

use aura_dpias::{DpiaStatus, Dpias, consultation_pending};
use aura_gdpr_registers::{
    Activities, ActivityFilter, ActivityId, DpiaStanding, ProcessingActivity, activity_missing,
};
use aura_shared_kernel::{Conflict, StoreError, TenantId};

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

    /// A DPIA covering it keeps it (the database's RESTRICT).
    fn check_unused(tables: &Tables, tenant: TenantId, id: ActivityId) -> Result<(), StoreError> {
        let covered =
            (tables.records.rows::<Dpias>(tenant)).any(|d| d.fields.activity_ids.contains(&id));
        if covered {
            Err(StoreError::Conflict(Conflict::InUse))
        } else {
            Ok(())
        }
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

/// Whether an approved DPIA covers the activity (Art. 35(1)), and whether one of them
/// awaits the answer to its prior consultation (Art. 36).
fn approved_dpia(tables: &Tables, activity: &ProcessingActivity) -> DpiaStanding {
    let approved = (tables.records.rows::<Dpias>(activity.tenant_id)).filter(|d| {
        d.derived.status == DpiaStatus::Approved && d.fields.activity_ids.contains(&activity.id)
    });
    approved.fold(DpiaStanding::default(), |standing, dpia| DpiaStanding {
        approved: true,
        consultation_pending: standing.consultation_pending || consultation_pending(dpia),
    })
}
