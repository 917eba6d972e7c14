//! The public intake of data-subject requests: a person without an account fills in a form
//! on the tenant's public page, gets a confirmation link by e-mail, and only a confirmed
//! submission becomes a request (channel web form, received at the confirmation).
//!
//! - [`form`]: the submission as the page posts it, validated with field-named errors,
//!   and the request fields it becomes.
//! - [`settings`]: the tenant settings that switch the page on and dress it.
//! - [`pending`]: a submission waiting for its confirmation, and the [`IntakeStore`] port
//!   (single-use tokens, expiry; the PostgreSQL store keeps the submission sealed).
//! - [`service`]: [`IntakeService`], the use cases (submit, confirm), and the
//!   [`RequestIntakeSink`] port through which a confirmation opens the request.
//! - [`mail`]: the confirmation mail in English and German.

pub mod form;
pub mod mail;
pub mod pending;
pub mod service;
pub mod settings;

pub use form::{IntakeForm, IntakeSubmission};
pub use pending::{IntakeId, IntakeStore, PendingIntake, PublicTenant};
pub use service::{IntakeError, IntakeService, OpenedRequest, RequestIntakeSink};
pub use settings::{IntakeLanguage, IntakeSettings};
