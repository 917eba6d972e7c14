//! Data-subject requests in memory: their filters and their per-tenant, per-year
//! reference numbers. Memory holds no data at rest, so nothing is sealed here (the
//! PostgreSQL store seals the person; its contracts check it).

use aura_records::Record;
use aura_requests::request::{RequestFilter, Requests, reference};

use crate::registers::{Tables, records::MemoryRecord};

impl MemoryRecord for Requests {
    fn matches(request: &Record<Requests>, filter: &RequestFilter) -> bool {
        let (f, d) = (&request.fields, &request.derived);
        let email = |wanted: &str| {
            (f.subject.email.as_deref())
                .is_some_and(|e| e.trim().to_lowercase() == wanted.trim().to_lowercase())
        };
        filter.status.is_none_or(|s| d.status == s)
            && filter.right.is_none_or(|r| f.rights.contains(&r))
            && filter.assignee.is_none_or(|a| f.assignee_id == Some(a))
            && filter
                .due_by
                .is_none_or(|by| d.due_on.is_some_and(|due| due <= by))
            && (filter.overdue_on)
                .is_none_or(|on| d.status.is_open() && d.due_on.is_some_and(|due| due < on))
            && filter.email.as_deref().is_none_or(email)
    }

    /// The next number of the tenant and the year of receipt.
    fn assign(tables: &mut Tables, request: &mut Record<Requests>) {
        let year = request.fields.received_at.year();
        let last = (tables.request_numbers)
            .entry((request.tenant_id, year))
            .or_insert(0);
        *last += 1;
        request.derived.reference = reference(year, *last);
    }

    fn keep_assigned(stored: &Record<Requests>, request: &mut Record<Requests>) {
        request
            .derived
            .reference
            .clone_from(&stored.derived.reference);
    }
}
