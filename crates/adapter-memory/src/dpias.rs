//! DPIAs in memory: their filters (the rows live in the shared `RecordTables`).

use aura_dpias::{DpiaFilter, Dpias};
use aura_records::Record;

use crate::registers::records::MemoryRecord;

impl MemoryRecord for Dpias {
    fn matches(dpia: &Record<Dpias>, filter: &DpiaFilter) -> bool {
        filter.admits(dpia)
    }
}
