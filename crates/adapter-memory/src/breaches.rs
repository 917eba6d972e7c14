//! Personal-data breaches in memory: their filters (the rows live in the shared
//! `RecordTables`) and their per-tenant, per-year references.

use aura_breaches::Breaches;
use aura_records::{Record, keep_reference};

use crate::registers::{Tables, records::MemoryRecord};

impl MemoryRecord for Breaches {
    fn matches(breach: &Record<Breaches>, filter: &aura_breaches::BreachFilter) -> bool {
        filter.admits(breach)
    }

    fn assign(tables: &mut Tables, breach: &mut Record<Breaches>) {
        tables.assign_reference(breach);
    }

    fn keep_assigned(stored: &Record<Breaches>, breach: &mut Record<Breaches>) {
        keep_reference(stored, breach);
    }
}
