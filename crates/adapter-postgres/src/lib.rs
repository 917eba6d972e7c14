//! PostgreSQL adapter (diesel-async on a deadpool pool, no libpq) for the identity,
//! audit, GDPR register, data-subject request, task and AI assistant ports, and the durable job queue.
//!
//! Defence in depth: every tenant table has `tenant_id` first in its key, composite
//! foreign keys, and ENABLE + FORCE row-level security keyed on the transaction-local
//! setting `app.tenant_id`. The pool is private; tenant work reaches a connection only
//! through one function (`pool::in_tenant`) that opens a transaction and sets the tenant
//! first, and the queries filter by `tenant_id` as well. Lookups across tenants (sign-in
//! by e-mail, presented tokens, slugs, the tenant list) and the job queue's claims,
//! digests and operator views go through narrow SECURITY DEFINER functions. A change and
//! its audit event commit in one transaction. Inside [`with_request_unit`], a request's
//! principal check and its first work share one transaction (`request_unit`).
//!
//! Roles: migrations run as an owner role; the API connects as `aura_app` (or a member
//! of it), which is not owner, not superuser and not BYPASSRLS. See [`init_database`].

mod ai;
mod audit;
mod breaches;
mod documents;
mod dpia_screenings;
mod dpias;
mod error;
mod idempotency;
mod intakes;
mod jobs;
mod json;
mod limits;
mod lookups;
mod models;
mod packs;
mod partners;
mod planned;
mod pool;
mod prepared;
mod registers;
mod request_unit;
mod requests;
mod resets;
mod roles;
mod rows;
mod schema;
mod second_factors;
mod sessions;
mod setup;
mod stores;
mod tasks;
mod tenants;
mod throttle;
mod tls;
mod users;

#[cfg(feature = "test-support")]
pub mod testing;

pub use limits::PgRateLimiter;
pub use pool::{PoolSettings, PoolStatus};
pub use request_unit::with_request_unit;
pub use setup::{
    APP_ROLE, InitReport, MIGRATIONS, SetupError, default_app_role, init_database,
    pending_migrations, revert_all_migrations, revert_migrations_after, run_migrations,
};
pub use stores::PgStores;
#[cfg(feature = "test-support")]
pub use testing::TestDatabase;
