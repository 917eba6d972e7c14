//! The shared kernel every domain builds on: tenants, users' ids, roles and the
//! permission matrix, the scopes that every tenant-owned read or write must carry, the
//! clock, the plausible range of dates a client may send (`date`), time zones (the `TimeZones` port, an instant said in UTC and in local time),
//! validation errors, store errors (with their typed conflicts) and pages.
//!
//! Pure domain crate: no framework, driver or crypto dependency (a tidy test enforces it).
//! Write ports live in the crates that own the use cases (they also take audit events).

mod clock;
pub mod date;
mod error;
pub mod fanout;
mod ids;
mod page;
mod role;
mod scope;
mod seal;
mod store;
mod tenant;
mod zone;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{FieldError, Forbidden, ValidationErrors};
pub use ids::{CustomRoleId, TenantId, UserId};
pub use page::{Page, PageRequest};
pub use role::{Permission, PermissionSet, Role};
pub use scope::{Principal, SystemScope, TenantScope};
pub use seal::{KeyedHash, PersonalDataSeal, SealFailed};
pub use store::{Conflict, StoreError};
pub use tenant::{SubscriptionTier, Tenant, TenantName, TenantSettings, TenantSlug};
pub use zone::{LocalInstant, TimeZoneName, TimeZones};
