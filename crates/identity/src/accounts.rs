//! A signed-in user's own account: their profile and their password.

use std::{net::IpAddr, sync::Arc};

use crate::actions;
use aura_audit::{Actor, Changes, PendingEvent, RequestContext};

use crate::{
    error::IdentityError,
    partners::Membership,
    password::Password,
    shared::{Core, ENTITY_USER, TokenPair, throttle_keys},
    sign_in::Authenticated,
    user::{FullName, User},
};

/// What a user may change about themselves.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub full_name: Option<FullName>,
}

/// A user's own account.
#[derive(Clone)]
pub struct Accounts {
    core: Arc<Core>,
}

impl Accounts {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// The tenants the caller's account may work in (see
    /// [`crate::ports::UserRepository::memberships_of`]): keyed by the verified
    /// principal's account, never by input.
    pub async fn tenants(&self, auth: &Authenticated) -> Result<Vec<Membership>, IdentityError> {
        Ok(self
            .core
            .ports
            .users
            .memberships_of(auth.user.account_id)
            .await?)
    }

    /// Changes the caller's name.
    pub async fn update_profile(
        &self,
        auth: &Authenticated,
        patch: ProfilePatch,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        let before = self.core.ports.users.get(&auth.scope, auth.user.id).await?;
        let mut user = before.clone();
        if let Some(name) = patch.full_name {
            user.full_name = name;
        }
        if user == before {
            return Ok(user);
        }
        user.updated_at = self.core.ports.clock.now();
        let expected_version = user.bump_version();
        let event = PendingEvent::new(
            Actor::of(&auth.scope),
            actions::USER_UPDATED,
            ENTITY_USER,
            user.id,
            Changes::new()
                .field("full_name", &before.full_name, &user.full_name)
                .personal(&["full_name"]),
            ctx,
        );
        self.core
            .ports
            .users
            .update(&auth.scope, &user, expected_version, event)
            .await?;
        Ok(user)
    }

    /// Changes the caller's password after checking the current one; ends every other
    /// session and returns a fresh pair for this client.
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &Password,
        new_password: &str,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let mut user = auth.user.clone();
        let password =
            Password::new_checked(new_password, "new_password", Some(user.email.as_str()))?;
        self.core
            .confirm_password(auth, current, "current_password", client_ip, ctx)
            .await?;
        let now = self.core.ports.clock.now();
        // The version of the principal read at authentication: an administrator's change
        // committed since (deactivation, role) makes this write stale instead of undone.
        let (expected_version, event) = self
            .core
            .new_password(
                &mut user,
                &password,
                actions::USER_PASSWORD_CHANGED,
                now,
                ctx,
            )
            .await?;
        self.core
            .ports
            .users
            .update(&auth.scope, &user, expected_version, event)
            .await?;
        let via = Changes::new().note("via", "password_change");
        self.core
            .start_session(&auth.scope, &user, &auth.tenant, now, via, ctx)
            .await
    }
}

impl Core {
    /// Checks the signed-in person's password again before a sensitive change (a new
    /// password, turning a second factor off). The password is guessed here as at
    /// sign-in: the same throttle applies, and a wrong one is audited and refused as
    /// `field` "is not correct".
    pub(crate) async fn confirm_password(
        &self,
        auth: &Authenticated,
        presented: &Password,
        field: &'static str,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let user = &auth.user;
        let keys = throttle_keys(&user.email, client_ip);
        self.reserve_or_refuse(&user.email, &keys, ctx).await?;
        // The principal read carries no password hash: the stored one is read here.
        let stored = self.ports.users.get(&auth.scope, user.id).await?;
        if !self
            .ports
            .hasher
            .verify(presented, &stored.password_hash)
            .await?
        {
            // The failure reserved above stays counted.
            let event = PendingEvent::new(
                Actor::User(user.id),
                actions::USER_LOGIN_FAILED,
                ENTITY_USER,
                user.id,
                Changes::new().note("reason", "wrong_current_password"),
                ctx,
            );
            self.ports.audit.append(&auth.scope, event).await?;
            return Err(
                aura_shared_kernel::ValidationErrors::single(field, "is not correct").into(),
            );
        }
        self.settle_good_attempt(&keys).await
    }
}
