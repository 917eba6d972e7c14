//! Personal-data breaches in memory: their filters (the rows live in the shared
//! `RecordTables`).

use aura_breaches::Breaches;
use aura_records::Record;

use crate::registers::records::MemoryRecord;

impl MemoryRecord for Breaches {
    fn matches(breach: &Record<Breaches>, filter: &aura_breaches::BreachFilter) -> bool {
        filter.admits(breach)
    }
}
