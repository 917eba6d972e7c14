//! The identity services, built together over one shared set of ports.

use crate::{
    accounts::Accounts,
    administration::TenantAdmin,
    mail_jobs::AccountMails,
    roles::CustomRoles,
    second_factor::SecondFactors,
    shared::{AuthConfig, Core, IdentityPorts},
    sign_in::SignIn,
};

/// The identity services, each with one concern; they share their ports and settings.
/// This is wiring only: every use case is a method of one of the services.
#[derive(Clone)]
pub struct IdentityServices {
    /// Sign-up, sign-in, refresh, authentication, logout, password reset.
    pub sign_in: SignIn,
    /// A signed-in user's own profile and password.
    pub accounts: Accounts,
    /// The tenant's settings, users and roles; platform operations on tenants.
    pub admin: TenantAdmin,
    /// The tenant's custom roles.
    pub roles: CustomRoles,
    /// A person's second factor (TOTP, recovery codes) and the second sign-in step.
    pub second_factors: SecondFactors,
    mails: AccountMails,
}

impl IdentityServices {
    /// The handler of the mail jobs these services enqueue, for the worker's registry
    /// (it mails through these services' `mailer`).
    pub fn mail_jobs(&self) -> AccountMails {
        self.mails.clone()
    }
}

impl IdentityServices {
    pub fn new(ports: IdentityPorts, config: AuthConfig) -> Self {
        let core = Core::new(ports, config);
        Self {
            mails: AccountMails(core.clone()),
            sign_in: SignIn::new(core.clone()),
            accounts: Accounts::new(core.clone()),
            roles: CustomRoles::new(core.clone()),
            second_factors: SecondFactors::new(core.clone()),
            admin: TenantAdmin::new(core),
        }
    }
}
