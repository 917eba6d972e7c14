//! What the identity services share: their ports, their settings, and the steps more than
//! one of them takes (permission checks, throttled attempts, sessions and tokens, password
//! links).

use std::{net::IpAddr, sync::Arc};

use crate::actions;
use aura_audit::{Actor, AuditAction, AuditLog, Changes, PendingEvent, RequestContext};
use aura_jobs::JobQueue;
use aura_shared_kernel::{Clock, Permission, Tenant, TenantScope, ValidationErrors};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    email::Email,
    error::IdentityError,
    mail::{MailKind, render},
    password::Password,
    ports::{
        AccessTokens, AddressRules, LoginThrottle, Mailer, PasswordHasher, PasswordResetStore,
        SecondFactor, SecondFactorStore, Secrets, SessionStore, TenantRepository, UserRepository,
    },
    session::{AccessClaims, RefreshFamily},
    throttle::{ThrottleKey, ThrottlePolicy},
    user::User,
};

/// Settings of the identity use cases.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub registration_enabled: bool,
    /// A refresh token not exchanged within this time dies.
    pub refresh_idle: Duration,
    /// A session ends after this time however actively it is used.
    pub refresh_absolute: Duration,
    pub reset_token_lifetime: Duration,
    pub invitation_lifetime: Duration,
    /// Link in reset and invitation mails; `{token}` is replaced by the token.
    pub reset_url_template: String,
    pub throttle: ThrottlePolicy,
    /// Invitation mails a tenant may have sent per day; a tenant may set a lower
    /// `invitations_per_day`, never a higher one.
    pub invitations_per_day: u32,
}

/// The tenant setting that lowers the daily invitation cap below the installation's.
pub const SETTING_INVITATIONS_PER_DAY: &str = "invitations_per_day";

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            registration_enabled: true,
            refresh_idle: Duration::days(14),
            refresh_absolute: Duration::days(30),
            reset_token_lifetime: Duration::hours(1),
            invitation_lifetime: Duration::days(3),
            reset_url_template: "http://localhost:3000/reset-password?token={token}".to_owned(),
            throttle: ThrottlePolicy::default(),
            invitations_per_day: 20,
        }
    }
}

/// Every port identity uses.
#[derive(Clone)]
pub struct IdentityPorts {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    /// The tenant's custom roles ([`crate::CustomRoles`]).
    pub roles: Arc<dyn crate::roles::CustomRoleRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub resets: Arc<dyn PasswordResetStore>,
    pub throttle: Arc<dyn LoginThrottle>,
    /// Accounts' second factors and the sign-in challenges.
    pub second_factors: Arc<dyn SecondFactorStore>,
    /// TOTP, its sealed secrets and the recovery codes.
    pub totp: Arc<dyn SecondFactor>,
    pub audit: Arc<dyn AuditLog>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn AccessTokens>,
    pub secrets: Arc<dyn Secrets>,
    /// The mail system's rules for addresses people type (sign-up, sign-in, reset,
    /// new users).
    pub addresses: Arc<dyn AddressRules>,
    /// Where reset, invitation and unlock mails are enqueued ([`crate::mail_jobs`]).
    pub jobs: Arc<dyn JobQueue>,
    /// Used by the mail jobs only (requests enqueue).
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

/// The answer of sign-in and refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

pub(crate) const ENTITY_TENANT: &str = "tenant";
pub(crate) const ENTITY_USER: &str = "user";
pub(crate) const ENTITY_SESSION: &str = "session";

/// The ports and settings every identity service holds (one copy, shared).
pub(crate) struct Core {
    pub(crate) ports: IdentityPorts,
    pub(crate) config: AuthConfig,
}

impl Core {
    pub(crate) fn new(ports: IdentityPorts, config: AuthConfig) -> Arc<Self> {
        Arc::new(Self { ports, config })
    }

    /// An address someone typed, by the mail system's rules (see [`Email::parse_with`]).
    pub(crate) fn email(&self, raw: &str, field: &str) -> Result<Email, ValidationErrors> {
        Email::parse_with(raw, field, self.ports.addresses.as_ref())
    }

    /// Checks a permission; a denial is audited.
    pub(crate) async fn require(
        &self,
        scope: &TenantScope,
        permission: Permission,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        Ok(aura_audit::require_audited(self.ports.audit.as_ref(), scope, permission, ctx).await?)
    }

    /// Reserves an attempt under `keys`, or answers how long the caller must wait and
    /// whether the account-wide key refused it. The attempt is judged on the stored
    /// state first: a refused attempt reaches no password check and is not counted, so
    /// refusals can neither renew a lock nor lock anyone out. An allowed one is counted
    /// as a failure *before* it is checked and judged again on the state just before
    /// it, atomically, so parallel guesses cannot all pass a check made before any was
    /// counted; one that lost that race is taken back.
    pub(crate) async fn reserve_attempt(
        &self,
        keys: &[ThrottleKey],
    ) -> Result<Option<(Duration, bool)>, IdentityError> {
        let now = self.ports.clock.now();
        let policy = &self.config.throttle;
        let mut read = keys.to_vec();
        read.extend(signed_in_marker(keys));
        let mut states = self.ports.throttle.load(&read).await?;
        let signed_in_at = (states.len() > keys.len())
            .then(|| states.pop().flatten())
            .flatten()
            .map(|marker| marker.last_failure_at);
        if let Some(refusal) = policy.wait(keys, &states, signed_in_at, now) {
            return Ok(Some(refusal));
        }
        let counted = self
            .ports
            .throttle
            .record_failure(keys, policy, now)
            .await?;
        let before: Vec<_> = counted.iter().map(|c| c.before()).collect();
        let refusal = policy.wait(keys, &before, signed_in_at, now);
        if refusal.is_some() {
            self.ports.throttle.release(keys).await?;
        }
        Ok(refusal)
    }

    /// [`Self::reserve_attempt`] for a password check, refusing a throttled attempt.
    /// A refusal by the account-wide limit mails the account's owner (if the address
    /// is an account) a link that lifts it, instead of leaving them locked out.
    pub(crate) async fn reserve_or_refuse(
        &self,
        email: &Email,
        keys: &[ThrottleKey],
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        match self.reserve_attempt(keys).await? {
            Some((wait, account_wide)) => {
                if account_wide {
                    self.offer_unlock(email, ctx).await?;
                }
                Err(IdentityError::Throttled {
                    retry_after_secs: wait.whole_seconds().max(1),
                })
            }
            None => Ok(()),
        }
    }

    /// Mails the account of `email` (if active) an unlock link, at most as often as reset
    /// mails (the `ResetFor` limit, shared with them).
    async fn offer_unlock(&self, email: &Email, ctx: &RequestContext) -> Result<(), IdentityError> {
        self.queue_link(email, None, MailKind::Unlock, ctx).await
    }

    /// Hashes `password` into `user`, which ends every session signed in with the old
    /// one. Returns the version the write names and its event (`action`, by the user,
    /// the password redacted).
    pub(crate) async fn new_password(
        &self,
        user: &mut User,
        password: &Password,
        action: AuditAction,
        now: OffsetDateTime,
        ctx: &RequestContext,
    ) -> Result<(i32, PendingEvent), IdentityError> {
        let new_hash = self.ports.hasher.hash(password).await?;
        let expected_version = user.replace_password(new_hash, now);
        let event = PendingEvent::new(
            Actor::User(user.id),
            action,
            ENTITY_USER,
            user.id,
            Changes::new().redacted("password"),
            ctx,
        );
        Ok((expected_version, event))
    }

    /// A reserved attempt turned out good: the keys tied to the account are cleared, the
    /// reserved failure is taken back from the address key, and the sign-in from this
    /// address is remembered (it spares the address the account-wide limit). The
    /// address key is not cleared: an address spraying many accounts stays throttled
    /// even if one guess is right.
    pub(crate) async fn settle_good_attempt(
        &self,
        keys: &[ThrottleKey],
    ) -> Result<(), IdentityError> {
        let marker: Vec<ThrottleKey> = signed_in_marker(keys).into_iter().collect();
        let now = self.ports.clock.now();
        self.ports
            .throttle
            .record_failure(&marker, &self.config.throttle, now)
            .await?;
        let (account, others): (Vec<ThrottleKey>, Vec<ThrottleKey>) =
            keys.iter().cloned().partition(|key| {
                matches!(
                    key,
                    ThrottleKey::AccountFromAddress(..)
                        | ThrottleKey::Account(_)
                        | ThrottleKey::SecondFactor(_)
                )
            });
        self.ports.throttle.clear(&account).await?;
        self.ports.throttle.release(&others).await?;
        Ok(())
    }

    pub(crate) fn idle_expiry(
        &self,
        family: &RefreshFamily,
        now: time::OffsetDateTime,
    ) -> time::OffsetDateTime {
        (now + self.config.refresh_idle).min(family.absolute_expires_at)
    }

    pub(crate) fn issue_access(
        &self,
        user: &User,
        tenant: &Tenant,
        session: Uuid,
    ) -> Result<String, IdentityError> {
        let now = self.ports.clock.now();
        let claims = AccessClaims {
            user: user.id,
            tenant: tenant.id,
            tenant_slug: tenant.slug.clone(),
            role: user.role,
            session_id: session,
            session_version: user.session_generation(),
            jti: Uuid::new_v4(),
            issued_at: now,
            expires_at: now + self.ports.tokens.lifetime(),
        };
        Ok(self.ports.tokens.issue(&claims)?)
    }

    /// A new session (refresh family) for the user, starting at `now`.
    pub(crate) fn new_family(
        &self,
        user: &User,
        tenant: &Tenant,
        now: time::OffsetDateTime,
    ) -> RefreshFamily {
        RefreshFamily {
            id: Uuid::now_v7(),
            tenant_id: tenant.id,
            user_id: user.id,
            session_version: user.session_generation(),
            created_at: now,
            absolute_expires_at: now + self.config.refresh_absolute,
        }
    }

    /// Starts a session for `user`: a new refresh family, its start audited as a
    /// successful login (`changes` say how), and the pair handed to the client. A user
    /// gone before the start is [`IdentityError::NotFound`].
    pub(crate) async fn start_session(
        &self,
        scope: &TenantScope,
        user: &User,
        tenant: &Tenant,
        now: OffsetDateTime,
        changes: Changes,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let how = (Actor::User(user.id), actions::USER_LOGIN_SUCCEEDED, changes);
        self.start_session_as(scope, user, tenant, now, how, ctx)
            .await
    }

    /// [`Self::start_session`], its start audited as `how`: the actor, the action and
    /// the changes of the session's first event (a switch is not a sign-in).
    pub(crate) async fn start_session_as(
        &self,
        scope: &TenantScope,
        user: &User,
        tenant: &Tenant,
        now: OffsetDateTime,
        how: (Actor, AuditAction, Changes),
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let (actor, action, changes) = how;
        let family = self.new_family(user, tenant, now);
        let refresh = self.ports.secrets.opaque_token();
        let event = PendingEvent::new(actor, action, ENTITY_SESSION, family.id, changes, ctx);
        self.ports
            .sessions
            .start(
                scope,
                &family,
                &refresh.hash,
                self.idle_expiry(&family, now),
                event,
            )
            .await?;
        self.token_pair(user, tenant, family.id, refresh.plain)
    }

    /// The pair handed to the client: a new access token and the session's refresh token.
    pub(crate) fn token_pair(
        &self,
        user: &User,
        tenant: &Tenant,
        session: Uuid,
        refresh_token: String,
    ) -> Result<TokenPair, IdentityError> {
        Ok(TokenPair {
            access_token: self.issue_access(user, tenant, session)?,
            refresh_token,
            expires_in: self.ports.tokens.lifetime().whole_seconds(),
        })
    }

    /// Issues a reset, invitation or unlock token and mails its link (run by the mail
    /// job, [`crate::mail_jobs::AccountMails`]).
    pub(crate) async fn send_password_link(
        &self,
        scope: &TenantScope,
        user: &User,
        tenant: &Tenant,
        kind: MailKind,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let lifetime = match kind {
            MailKind::PasswordReset | MailKind::Unlock => self.config.reset_token_lifetime,
            MailKind::Invitation => self.config.invitation_lifetime,
        };
        let token = self.ports.secrets.opaque_token();
        let now = self.ports.clock.now();
        let event = PendingEvent::new(
            scope,
            actions::USER_PASSWORD_RESET_REQUESTED,
            ENTITY_USER,
            user.id,
            Changes::new().note("kind", kind.as_str()),
            ctx,
        );
        self.ports
            .resets
            .issue(scope, user.id, &token.hash, now + lifetime, event)
            .await?;
        let link = self
            .config
            .reset_url_template
            .replace("{token}", &token.plain);
        let mail = render(
            kind,
            tenant.settings.language(),
            user.email.clone(),
            user.full_name.as_str(),
            tenant.name.as_str(),
            &link,
            lifetime.whole_minutes(),
        );
        self.ports.mailer.send(mail).await?;
        Ok(())
    }
}

/// The key that remembers sign-ins to the account of `keys` from their client address.
fn signed_in_marker(keys: &[ThrottleKey]) -> Option<ThrottleKey> {
    keys.iter().find_map(|key| match key {
        ThrottleKey::AccountFromAddress(email, ip) => {
            Some(ThrottleKey::SignedIn(email.clone(), *ip))
        }
        _ => None,
    })
}

pub(crate) fn throttle_keys(email: &Email, ip: Option<IpAddr>) -> Vec<ThrottleKey> {
    match ip {
        Some(ip) => vec![
            ThrottleKey::AccountFromAddress(email.clone(), ip),
            ThrottleKey::Account(email.clone()),
            ThrottleKey::Address(ip),
        ],
        None => vec![ThrottleKey::Account(email.clone())],
    }
}
