//! The consultant's portfolio (issue 16): for a person with several memberships, the
//! state of each client tenant at a glance — the register's completeness, processors
//! whose DPA needs attention, overdue tasks, data-subject requests due soon or overdue,
//! open breaches on the 72-hour clock, DPIAs and policies due for review.
//!
//! Computed one tenant at a time ([`summary::summarise`]), each under the scope of that
//! membership (its user and role, so row-level security and the permission matrix
//! apply as in any request), through the registers' own use cases and ports: there is
//! no query across tenants. [`Portfolio`] runs the tenants a few at a time
//! ([`aura_shared_kernel::fanout::bounded`]) and keeps each summary briefly ([`cache::SummaryCache`]).
//!
//! Pure domain crate.

pub mod cache;
mod service;
pub mod summary;

pub use cache::{CACHE_CAPACITY, FRESH_FOR, SummaryCache};
pub use service::{AccountMemberships, CONCURRENCY, Portfolio, PortfolioEntry};
pub use summary::{
    Completeness, OpenBreach, ProcessorAttention, REQUEST_HORIZON_DAYS, REVIEW_HORIZON_DAYS,
    RequestsDue, Sources, TenantSummary, summarise,
};
