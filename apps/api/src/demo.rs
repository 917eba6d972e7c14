//! Demo mode: an in-memory tenant with one user per role and a small company's registers
//! ([`company`]), so the API can be tried at once.

mod company;

use std::collections::HashMap;

use aura_identity::{
    Email, FullName, IdentityServices, LoginRequest, NewMember, Password, Registration,
    SignInOutcome,
};
use aura_shared_kernel::{Role, SystemScope, TenantName, TenantSlug};

pub use company::{CompanyServices, seed as seed_company};

use crate::StartError;

/// Shown once at start; valid only in this process (nothing is persisted).
pub const DEMO_PASSWORD: &str = "demo-password-2026";

pub async fn seed(
    identity: &IdentityServices,
    company: &CompanyServices<'_>,
    now: time::OffsetDateTime,
) -> Result<(), StartError> {
    let system = SystemScope::for_platform_operation("demo-seed");
    let fail = |e: &dyn std::fmt::Display| StartError(format!("demo seed: {e}"));
    let password = Password::new_checked(DEMO_PASSWORD, "password", None).map_err(|e| fail(&e))?;
    let email =
        |local: &str| Email::parse(&format!("{local}@demo.aura.test")).map_err(|e| fail(&e));
    let name = |n: &str| FullName::parse(n).map_err(|e| fail(&e));
    let (tenant, owner) = identity
        .admin
        .create_tenant(
            &system,
            Registration {
                organisation_name: TenantName::parse("Demo Company GmbH").map_err(|e| fail(&e))?,
                slug: Some(TenantSlug::parse("demo").map_err(|e| fail(&e))?),
                email: email("owner")?,
                full_name: name("Olivia Owner")?,
                password: password.clone(),
            },
        )
        .await
        .map_err(|e| fail(&e))?;
    let scope = system.within(tenant.id);
    let mut users = HashMap::from([(Role::Owner, owner.id)]);
    for (local, full_name, role) in [
        ("admin", "Adam Admin", Role::Admin),
        ("member", "Mia Member", Role::Member),
        ("viewer", "Victor Viewer", Role::Viewer),
    ] {
        let member = NewMember {
            email: email(local)?,
            full_name: name(full_name)?,
            role,
            password: Some(password.clone()),
        };
        let user = identity
            .admin
            .create_user(&scope, member, &Default::default())
            .await
            .map_err(|e| fail(&e))?;
        users.insert(role, user.id);
    }
    company::seed(company, &scope, users, now)
        .await
        .map_err(|e| fail(&e))?;
    tracing::warn!(
        "DEMO MODE: no DATABASE_URL set, everything lives in memory and is lost at exit"
    );
    // Signed in already: the member's access token, to paste into /docs' "Authorize".
    // Written to stderr with the banner, not through the log, and only in demo mode: a
    // throw-away in-memory tenant whose password is printed anyway (where stderr is
    // collected as a log, as in a container, the token is as public as that password).
    let signed_in = identity
        .sign_in
        .login(
            LoginRequest {
                email: email("member")?,
                password,
                client_ip: None,
            },
            &Default::default(),
        )
        .await
        .map_err(|e| fail(&e))?;
    // The demo member has no second factor: the password alone signs in.
    let SignInOutcome::Tokens(signed_in) = signed_in else {
        return Err(fail(&"the demo member unexpectedly needs a second factor"));
    };
    eprintln!(
        "\n  AURA-GDPR demo mode — nothing is persisted.\n  Tenant `demo` (Demo Company GmbH, its registers filled in); users owner@, admin@, member@, viewer@demo.aura.test\n  Password for all: {DEMO_PASSWORD}\n  Try it: open /docs, click Authorize and paste this access token of member@ (valid {} minutes;\n  then POST /api/v1/auth/login again):\n\n  {}\n",
        signed_in.expires_in / 60,
        signed_in.access_token
    );
    Ok(())
}
