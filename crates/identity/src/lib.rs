//! Identity: users and their credentials, sign-up and sign-in, tokens and sessions,
//! password reset, a second factor, switching between tenants, and the administration of a
//! tenant, its users and its partners: four services with
//! one concern each ([`SignIn`], [`Accounts`], [`TenantAdmin`], [`SecondFactors`]), built together as
//! [`IdentityServices`] over one set of ports.
//!
//! Pure domain crate. Hashing, signing, randomness, mail and storage are ports
//! (see [`ports`]); their adapters live in the adapter crates.

mod accounts;
pub mod actions;
mod administration;
mod email;
mod error;
pub mod mail;
pub mod mail_jobs;
pub mod mfa;
mod partners;
mod password;
pub mod ports;
mod roles;
mod second_factor;
mod services;
mod session;
mod shared;
mod sign_in;
mod throttle;
mod user;

pub use accounts::{Accounts, ProfilePatch};
pub use administration::{NewMember, TenantAdmin, TenantPatch, UserPatch};
pub use partners::{Membership, PartnerGrant, PartnerRef, SETTING_CONSULTANCY};
pub use roles::{
    CustomRole, CustomRoleRepository, CustomRoles, RoleDraft, RoleName, resolved_permissions,
};
pub use shared::{AuthConfig, IdentityPorts, SETTING_INVITATIONS_PER_DAY, TokenPair};

pub use email::Email;
pub use error::IdentityError;
pub use password::{Password, PasswordHash};
pub use second_factor::{SecondFactors, TotpEnrolment};
pub use services::IdentityServices;
pub use session::{AccessClaims, OpaqueToken, RefreshFamily, RefreshLookup, TokenHash};
pub use sign_in::{
    AccountTenant, Authenticated, LoginRequest, MemberScope, Registration, SignIn, SignInOutcome,
};
pub use throttle::{CountedFailure, ThrottleKey, ThrottlePolicy, ThrottleState};
pub use user::{AccountId, FullName, User};
