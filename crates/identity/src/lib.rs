//! Identity: users and their credentials, sign-up and sign-in, tokens and sessions,
//! password reset, and the administration of a tenant and its users.
//!
//! Pure domain crate. Hashing, signing, randomness, mail and storage are ports
//! (see [`ports`]); their adapters live in the adapter crates.

mod email;
mod error;
pub mod mail;
mod password;
pub mod ports;
mod service;
mod session;
mod throttle;
mod user;

pub use email::Email;
pub use error::IdentityError;
pub use password::{Password, PasswordHash};
pub use service::{
    AuthConfig, Authenticated, Identity, IdentityPorts, LoginRequest, NewMember, ProfilePatch,
    Registration, TenantPatch, TokenPair, UserPatch,
};
pub use session::{AccessClaims, OpaqueToken, RefreshFamily, RefreshLookup, TokenHash};
pub use throttle::{CountedFailure, ThrottleKey, ThrottlePolicy, ThrottleState};
pub use user::{FullName, User};
