//! The identity use cases. Every method checks its permission through the scope, builds
//! the audit event of its change, and hands both to one port call (one transaction).

use std::{net::IpAddr, sync::Arc};

use aura_audit::{Actor, AuditAction, AuditLog, Changes, PendingEvent, RequestContext};
use aura_tenancy::{
    Clock, Page, PageRequest, Permission, Role, SystemScope, Tenant, TenantId, TenantName,
    TenantScope, TenantSettings, TenantSlug, UserId,
};
use time::Duration;
use uuid::Uuid;

use crate::{
    email::Email,
    error::IdentityError,
    mail::{MailKind, render},
    password::{Password, PasswordHash},
    ports::{
        AccessTokens, LoginRecord, LoginThrottle, Mailer, PasswordHasher, PasswordResetStore,
        Secrets, SessionStore, TenantRepository, UserRepository,
    },
    session::{AccessClaims, RefreshFamily},
    throttle::{ThrottleKey, ThrottlePolicy},
    user::{FullName, User},
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
}

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
        }
    }
}

/// Every port identity uses.
#[derive(Clone)]
pub struct IdentityPorts {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub resets: Arc<dyn PasswordResetStore>,
    pub throttle: Arc<dyn LoginThrottle>,
    pub audit: Arc<dyn AuditLog>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn AccessTokens>,
    pub secrets: Arc<dyn Secrets>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

/// Self-service sign-up: a new tenant and its owner.
#[derive(Debug, Clone)]
pub struct Registration {
    pub organisation_name: TenantName,
    pub slug: Option<TenantSlug>,
    pub email: Email,
    pub full_name: FullName,
    pub password: Password,
}

#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub email: Email,
    pub password: Password,
    /// The client address as trusted by the edge (used for throttling).
    pub client_ip: Option<IpAddr>,
}

/// The answer of sign-in and refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// A user created by an administrator. Without a password, an invitation mail lets the
/// person set one.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: Email,
    pub full_name: FullName,
    pub role: Role,
    pub password: Option<Password>,
}

/// What a user may change about themselves.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub full_name: Option<FullName>,
}

/// What an administrator may change about a user.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub full_name: Option<FullName>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

/// What a tenant's administrators may change (tier and status are platform-only).
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    pub name: Option<TenantName>,
    pub settings: Option<TenantSettings>,
}

/// A request whose access token was verified and whose principal was re-read.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub scope: TenantScope,
    pub session_id: Uuid,
    pub user: User,
    pub tenant: Tenant,
}

/// The identity use cases.
#[derive(Clone)]
pub struct Identity {
    ports: IdentityPorts,
    config: Arc<AuthConfig>,
}

const ENTITY_TENANT: &str = "tenant";
const ENTITY_USER: &str = "user";
const ENTITY_SESSION: &str = "session";

impl Identity {
    pub fn new(ports: IdentityPorts, config: AuthConfig) -> Self {
        Self {
            ports,
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    pub fn access_token_lifetime(&self) -> Duration {
        self.ports.tokens.lifetime()
    }

    // ---------------------------------------------------------------- sign-up

    /// Self-service sign-up (when enabled): creates a tenant and its owner together.
    pub async fn register(
        &self,
        registration: Registration,
        ctx: &RequestContext,
    ) -> Result<(Tenant, User), IdentityError> {
        if !self.config.registration_enabled {
            return Err(IdentityError::RegistrationDisabled);
        }
        self.create_tenant_with_owner(registration, ctx).await
    }

    /// Platform operation (CLI): creates a tenant and its owner whether or not sign-up
    /// is enabled.
    pub async fn create_tenant(
        &self,
        _system: &SystemScope,
        registration: Registration,
    ) -> Result<(Tenant, User), IdentityError> {
        self.create_tenant_with_owner(registration, &RequestContext::default())
            .await
    }

    async fn create_tenant_with_owner(
        &self,
        registration: Registration,
        ctx: &RequestContext,
    ) -> Result<(Tenant, User), IdentityError> {
        let slug = match registration.slug {
            Some(slug) => {
                if self.ports.tenants.slug_taken(&slug).await? {
                    return Err(IdentityError::conflict(
                        "slug_taken",
                        Some("slug"),
                        "this slug is already taken",
                    ));
                }
                slug
            }
            None => self.free_slug(&registration.organisation_name).await?,
        };
        let password_hash = self.ports.hasher.hash(&registration.password).await?;
        let now = self.ports.clock.now();
        let tenant = Tenant::new(registration.organisation_name, slug, now);
        let owner = User::new(
            tenant.id,
            registration.email,
            registration.full_name,
            Role::Owner,
            password_hash,
            now,
        );
        let actor = Actor::User(owner.id);
        let events = vec![
            PendingEvent::new(
                actor,
                AuditAction::TENANT_CREATED,
                ENTITY_TENANT,
                tenant.id,
                Changes::new()
                    .created("name", &tenant.name)
                    .created("slug", &tenant.slug),
                ctx,
            ),
            PendingEvent::new(
                actor,
                AuditAction::USER_CREATED,
                ENTITY_USER,
                owner.id,
                Changes::new().created("role", &owner.role),
                ctx,
            ),
        ];
        // The new tenant's own scope: its rows are the only ones this write may touch.
        let scope = TenantScope::for_credential_check(tenant.id, Some(owner.id));
        self.ports
            .tenants
            .register(&scope, &tenant, &owner, events)
            .await?;
        Ok((tenant, owner))
    }

    async fn free_slug(&self, name: &TenantName) -> Result<TenantSlug, IdentityError> {
        let base = TenantSlug::derive_from(name.as_str());
        if !self.ports.tenants.slug_taken(&base).await? {
            return Ok(base);
        }
        for n in 2..50 {
            let candidate = base.with_suffix(n);
            if !self.ports.tenants.slug_taken(&candidate).await? {
                return Ok(candidate);
            }
        }
        Err(IdentityError::conflict(
            "slug_taken",
            Some("slug"),
            "no free slug could be derived from the name; choose one",
        ))
    }

    // ---------------------------------------------------------------- sign-in

    /// Counts an attempt under `keys` as a failure *before* it is checked, and answers
    /// how long the caller must wait if the keys' state before this attempt already
    /// throttles it (the attempt stays counted). Counting first, atomically, is what
    /// keeps parallel guesses from all passing a check made before any was counted.
    async fn reserve_attempt(
        &self,
        keys: &[ThrottleKey],
    ) -> Result<Option<Duration>, IdentityError> {
        let now = self.ports.clock.now();
        let counted = self
            .ports
            .throttle
            .record_failure(keys, &self.config.throttle, now)
            .await?;
        Ok(keys
            .iter()
            .zip(&counted)
            .filter_map(|(key, counted)| {
                self.config.throttle.retry_after_counted(key, counted, now)
            })
            .max())
    }

    /// [`Self::reserve_attempt`], refusing a throttled attempt.
    async fn reserve_or_refuse(&self, keys: &[ThrottleKey]) -> Result<(), IdentityError> {
        match self.reserve_attempt(keys).await? {
            Some(wait) => Err(IdentityError::Throttled {
                retry_after_secs: wait.whole_seconds().max(1),
            }),
            None => Ok(()),
        }
    }

    /// A reserved attempt turned out good: the keys tied to the account are cleared, and
    /// the reserved failure is taken back from the address key. The address key is not
    /// cleared: an address spraying many accounts stays throttled even if one guess is
    /// right.
    async fn settle_good_attempt(&self, keys: &[ThrottleKey]) -> Result<(), IdentityError> {
        let (account, others): (Vec<ThrottleKey>, Vec<ThrottleKey>) =
            keys.iter().cloned().partition(|key| {
                matches!(
                    key,
                    ThrottleKey::AccountFromAddress(..) | ThrottleKey::Account(_)
                )
            });
        self.ports.throttle.clear(&account).await?;
        self.ports.throttle.release(&others).await?;
        Ok(())
    }

    /// Signs in. Unknown e-mail, wrong password, inactive user and suspended tenant give
    /// the same answer after the same work (a hash verification).
    pub async fn login(
        &self,
        request: LoginRequest,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let keys = throttle_keys(&request.email, request.client_ip);
        let now = self.ports.clock.now();
        // Throttle before hashing, so a flood cannot burn the CPU; the attempt is counted
        // as a failure until it proves good.
        self.reserve_or_refuse(&keys).await?;

        let record = self.ports.users.find_for_login(&request.email).await?;
        let unset = PasswordHash::unset();
        let hash = record.as_ref().map_or(&unset, |r| &r.user.password_hash);
        let password_ok = self.ports.hasher.verify(&request.password, hash).await?;

        let refusal = match &record {
            None => Some("unknown_account"),
            Some(_) if !password_ok => Some("wrong_password"),
            Some(r) if !r.user.is_active => Some("user_inactive"),
            Some(r) if !r.tenant.is_active => Some("tenant_suspended"),
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            // The failure reserved above stays counted.
            if let Some(record) = &record {
                let scope =
                    TenantScope::for_credential_check(record.tenant.id, Some(record.user.id));
                let event = PendingEvent::new(
                    Actor::User(record.user.id),
                    AuditAction::USER_LOGIN_FAILED,
                    ENTITY_USER,
                    record.user.id,
                    Changes::new().note("reason", reason),
                    ctx,
                );
                self.ports.audit.append(&scope, event).await?;
            }
            tracing::info!(reason, "sign-in refused");
            return Err(IdentityError::InvalidCredentials);
        }
        let Some(LoginRecord { user, tenant }) = record else {
            return Err(IdentityError::InvalidCredentials);
        };

        self.settle_good_attempt(&keys).await?;
        let scope = TenantScope::for_credential_check(tenant.id, Some(user.id));
        let family = RefreshFamily {
            id: Uuid::now_v7(),
            tenant_id: tenant.id,
            user_id: user.id,
            session_version: user.session_version,
            created_at: now,
            absolute_expires_at: now + self.config.refresh_absolute,
        };
        let refresh = self.ports.secrets.opaque_token();
        let event = PendingEvent::new(
            Actor::User(user.id),
            AuditAction::USER_LOGIN_SUCCEEDED,
            ENTITY_SESSION,
            family.id,
            Changes::new(),
            ctx,
        );
        self.ports
            .sessions
            .start(
                &scope,
                &family,
                &refresh.hash,
                self.idle_expiry(&family, now),
                event,
            )
            .await
            .map_err(|e| match e {
                // The account vanished between lookup and sign-in.
                aura_tenancy::StoreError::NotFound => IdentityError::InvalidCredentials,
                other => other.into(),
            })?;
        let access_token = self.issue_access(&user, &tenant, family.id)?;
        Ok(TokenPair {
            access_token,
            refresh_token: refresh.plain,
            expires_in: self.ports.tokens.lifetime().whole_seconds(),
        })
    }

    fn idle_expiry(
        &self,
        family: &RefreshFamily,
        now: time::OffsetDateTime,
    ) -> time::OffsetDateTime {
        (now + self.config.refresh_idle).min(family.absolute_expires_at)
    }

    fn issue_access(
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
            session_version: user.session_version,
            jti: Uuid::new_v4(),
            issued_at: now,
            expires_at: now + self.ports.tokens.lifetime(),
        };
        Ok(self.ports.tokens.issue(&claims)?)
    }

    /// Exchanges a refresh token for a new pair. A token presented a second time revokes
    /// its whole family (RFC 9700 §4.14) and is audited.
    pub async fn refresh(
        &self,
        presented: &str,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        if presented.is_empty() || presented.len() > 512 {
            return Err(IdentityError::InvalidToken);
        }
        let hash = self.ports.secrets.hash_token(presented);
        let Some(found) = self.ports.sessions.find(&hash).await? else {
            return Err(IdentityError::InvalidToken);
        };
        let family = &found.family;
        let scope = TenantScope::for_credential_check(family.tenant_id, Some(family.user_id));
        let now = self.ports.clock.now();
        if found.used {
            // A replay into a session that is already over changes nothing: it is not
            // audited again, so old tokens cannot grow the trail without end.
            if !found.family_revoked {
                self.revoke_for_reuse(&scope, family, ctx).await?;
            }
            return Err(IdentityError::InvalidToken);
        }
        if found.family_revoked || now >= found.idle_expires_at || now >= family.absolute_expires_at
        {
            return Err(IdentityError::InvalidToken);
        }
        let Some(principal) = self
            .ports
            .users
            .find_principal(&scope, family.user_id, family.id)
            .await?
        else {
            return Err(IdentityError::InvalidToken);
        };
        let user = &principal.user;
        if !user.is_active
            || !principal.tenant.is_active
            || !principal.session_active
            || user.session_version != family.session_version
        {
            return Err(IdentityError::InvalidToken);
        }
        let next = self.ports.secrets.opaque_token();
        let rotated = self
            .ports
            .sessions
            .rotate(
                &scope,
                &hash,
                &next.hash,
                self.idle_expiry(family, now),
                now,
            )
            .await?;
        if !rotated {
            // A parallel exchange of the same token won: that is reuse too.
            self.revoke_for_reuse(&scope, family, ctx).await?;
            return Err(IdentityError::InvalidToken);
        }
        let access_token = self.issue_access(user, &principal.tenant, family.id)?;
        Ok(TokenPair {
            access_token,
            refresh_token: next.plain,
            expires_in: self.ports.tokens.lifetime().whole_seconds(),
        })
    }

    async fn revoke_for_reuse(
        &self,
        scope: &TenantScope,
        family: &RefreshFamily,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        tracing::warn!(session = %family.id, "refresh token reused: revoking its family");
        let event = PendingEvent::new(
            Actor::User(family.user_id),
            AuditAction::AUTH_REFRESH_REUSED,
            ENTITY_SESSION,
            family.id,
            Changes::new().note("family_revoked", true),
            ctx,
        );
        let now = self.ports.clock.now();
        self.ports
            .sessions
            .revoke(scope, family.id, now, event)
            .await?;
        Ok(())
    }

    /// Verifies an access token and re-reads its principal, so deactivation, demotion,
    /// logout and suspension take effect on the very next request.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, IdentityError> {
        let claims = self.verify_access_token(token)?;
        self.authenticate_claims(claims).await
    }

    /// The first half of [`Identity::authenticate`]: checks the token's signature and
    /// expiry, reading no store. The tenant it names is authentic (we signed it), which
    /// is enough to count the request against that tenant's rate limit before any
    /// store is read; user, tenant and session may since have been suspended or ended,
    /// so nothing else may be trusted until [`Identity::authenticate_claims`].
    pub fn verify_access_token(&self, token: &str) -> Result<AccessClaims, IdentityError> {
        let now = self.ports.clock.now();
        self.ports.tokens.verify(token, now).map_err(|rejected| {
            tracing::debug!(%rejected, "access token refused");
            IdentityError::InvalidToken
        })
    }

    /// The second half of [`Identity::authenticate`]: re-reads user, tenant and session
    /// of verified claims and builds the caller's scope.
    pub async fn authenticate_claims(
        &self,
        claims: AccessClaims,
    ) -> Result<Authenticated, IdentityError> {
        // Re-read the principal in the verified token's tenant before trusting it further.
        let reading = TenantScope::for_credential_check(claims.tenant, Some(claims.user));
        let principal = self
            .ports
            .users
            .find_principal(&reading, claims.user, claims.session_id)
            .await?
            .ok_or(IdentityError::InvalidToken)?;
        let user = principal.user;
        if !user.is_active
            || !principal.tenant.is_active
            || !principal.session_active
            || user.session_version != claims.session_version
        {
            return Err(IdentityError::InvalidToken);
        }
        let scope = TenantScope::from_verified_principal(principal.tenant.id, user.id, user.role);
        Ok(Authenticated {
            scope,
            session_id: claims.session_id,
            user,
            tenant: principal.tenant,
        })
    }

    /// Ends the caller's session: its refresh tokens and its access tokens.
    pub async fn logout(
        &self,
        auth: &Authenticated,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let event = PendingEvent::new(
            Actor::User(auth.user.id),
            AuditAction::USER_LOGGED_OUT,
            ENTITY_SESSION,
            auth.session_id,
            Changes::new(),
            ctx,
        );
        let now = self.ports.clock.now();
        self.ports
            .sessions
            .revoke(&auth.scope, auth.session_id, now, event)
            .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- passwords

    /// Starts a password reset. Answers the same whether or not the address is known;
    /// beyond a few requests per address and client the request is silently dropped.
    pub async fn forgot_password(
        &self,
        email: &Email,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let mut keys = vec![ThrottleKey::ResetFor(email.clone())];
        keys.extend(client_ip.map(ThrottleKey::ResetFrom));
        // Every request is counted; judged on the state before it, atomically, so
        // parallel requests cannot all slip under the limit.
        let limited = self.reserve_attempt(&keys).await?.is_some();
        if limited {
            tracing::info!("password-reset request dropped by the rate limit");
            return Ok(());
        }
        let Some(LoginRecord { user, tenant }) = self.ports.users.find_for_login(email).await?
        else {
            return Ok(());
        };
        if !user.is_active || !tenant.is_active {
            return Ok(());
        }
        let scope = TenantScope::for_credential_check(tenant.id, Some(user.id));
        self.send_password_link(&scope, &user, &tenant, MailKind::PasswordReset, ctx)
            .await
    }

    async fn send_password_link(
        &self,
        scope: &TenantScope,
        user: &User,
        tenant: &Tenant,
        kind: MailKind,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let lifetime = match kind {
            MailKind::PasswordReset => self.config.reset_token_lifetime,
            MailKind::Invitation => self.config.invitation_lifetime,
        };
        let token = self.ports.secrets.opaque_token();
        let now = self.ports.clock.now();
        let event = PendingEvent::new(
            Actor::of(scope),
            AuditAction::USER_PASSWORD_RESET_REQUESTED,
            ENTITY_USER,
            user.id,
            Changes::new().note("kind", format!("{kind:?}").to_lowercase()),
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

    /// Sets a new password with a reset token; ends every session of the user.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        if token.is_empty() || token.len() > 512 {
            return Err(IdentityError::InvalidToken);
        }
        let hash = self.ports.secrets.hash_token(token);
        let now = self.ports.clock.now();
        let Some((tenant, user_id)) = self.ports.resets.find(&hash, now).await? else {
            return Err(IdentityError::InvalidToken);
        };
        let scope = TenantScope::for_credential_check(tenant, Some(user_id));
        let mut user = match self.ports.users.get(&scope, user_id).await {
            Ok(user) => user,
            Err(aura_tenancy::StoreError::NotFound) => return Err(IdentityError::InvalidToken),
            Err(other) => return Err(other.into()),
        };
        let password = Password::new_checked(new_password, "password", Some(user.email.as_str()))?;
        user.password_hash = self.ports.hasher.hash(&password).await?;
        user.end_sessions();
        user.updated_at = now;
        let expected_version = user.bump_version();
        let event = PendingEvent::new(
            Actor::User(user.id),
            AuditAction::USER_PASSWORD_RESET,
            ENTITY_USER,
            user.id,
            Changes::new().redacted("password"),
            ctx,
        );
        if !self
            .ports
            .resets
            .redeem(&scope, &hash, &user, expected_version, now, event)
            .await?
        {
            return Err(IdentityError::InvalidToken);
        }
        self.ports
            .throttle
            .clear(&[ThrottleKey::Account(user.email.clone())])
            .await?;
        Ok(())
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
        // The current password is guessed here as at sign-in: the same throttle applies.
        let keys = throttle_keys(&user.email, client_ip);
        self.reserve_or_refuse(&keys).await?;
        if !self
            .ports
            .hasher
            .verify(current, &user.password_hash)
            .await?
        {
            // The failure reserved above stays counted.
            let event = PendingEvent::new(
                Actor::User(user.id),
                AuditAction::USER_LOGIN_FAILED,
                ENTITY_USER,
                user.id,
                Changes::new().note("reason", "wrong_current_password"),
                ctx,
            );
            self.ports.audit.append(&auth.scope, event).await?;
            return Err(aura_tenancy::ValidationErrors::single(
                "current_password",
                "is not correct",
            )
            .into());
        }
        self.settle_good_attempt(&keys).await?;
        let now = self.ports.clock.now();
        user.password_hash = self.ports.hasher.hash(&password).await?;
        user.end_sessions();
        user.updated_at = now;
        // The version of the principal read at authentication: an administrator's change
        // committed since (deactivation, role) makes this write stale instead of undone.
        let expected_version = user.bump_version();
        let event = PendingEvent::new(
            Actor::User(user.id),
            AuditAction::USER_PASSWORD_CHANGED,
            ENTITY_USER,
            user.id,
            Changes::new().redacted("password"),
            ctx,
        );
        self.ports
            .users
            .update(&auth.scope, &user, expected_version, event)
            .await?;
        self.login_after_change(&auth.scope, &user, &auth.tenant, ctx)
            .await
    }

    async fn login_after_change(
        &self,
        scope: &TenantScope,
        user: &User,
        tenant: &Tenant,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let now = self.ports.clock.now();
        let family = RefreshFamily {
            id: Uuid::now_v7(),
            tenant_id: tenant.id,
            user_id: user.id,
            session_version: user.session_version,
            created_at: now,
            absolute_expires_at: now + self.config.refresh_absolute,
        };
        let refresh = self.ports.secrets.opaque_token();
        let event = PendingEvent::new(
            Actor::User(user.id),
            AuditAction::USER_LOGIN_SUCCEEDED,
            ENTITY_SESSION,
            family.id,
            Changes::new().note("via", "password_change"),
            ctx,
        );
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
        Ok(TokenPair {
            access_token: self.issue_access(user, tenant, family.id)?,
            refresh_token: refresh.plain,
            expires_in: self.ports.tokens.lifetime().whole_seconds(),
        })
    }

    // ---------------------------------------------------------------- own profile

    pub async fn update_profile(
        &self,
        auth: &Authenticated,
        patch: ProfilePatch,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        let before = self.ports.users.get(&auth.scope, auth.user.id).await?;
        let mut user = before.clone();
        if let Some(name) = patch.full_name {
            user.full_name = name;
        }
        if user == before {
            return Ok(user);
        }
        user.updated_at = self.ports.clock.now();
        let expected_version = user.bump_version();
        let event = PendingEvent::new(
            Actor::of(&auth.scope),
            AuditAction::USER_UPDATED,
            ENTITY_USER,
            user.id,
            Changes::new().field("full_name", &before.full_name, &user.full_name),
            ctx,
        );
        self.ports
            .users
            .update(&auth.scope, &user, expected_version, event)
            .await?;
        Ok(user)
    }

    // ---------------------------------------------------------------- tenant administration

    pub async fn tenant(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<Tenant, IdentityError> {
        self.require(scope, Permission::ReadTenant, ctx).await?;
        Ok(self.ports.tenants.get(scope).await?)
    }

    pub async fn update_tenant(
        &self,
        scope: &TenantScope,
        patch: TenantPatch,
        ctx: &RequestContext,
    ) -> Result<Tenant, IdentityError> {
        self.require(scope, Permission::ManageTenant, ctx).await?;
        let before = self.ports.tenants.get(scope).await?;
        let mut tenant = before.clone();
        if let Some(name) = patch.name {
            tenant.name = name;
        }
        if let Some(settings) = patch.settings {
            tenant.settings = settings;
        }
        if tenant == before {
            return Ok(tenant);
        }
        tenant.updated_at = self.ports.clock.now();
        let expected_version = tenant.bump_version();
        let event = PendingEvent::new(
            Actor::of(scope),
            AuditAction::TENANT_UPDATED,
            ENTITY_TENANT,
            tenant.id,
            Changes::new()
                .field("name", &before.name, &tenant.name)
                .field("settings", &before.settings, &tenant.settings),
            ctx,
        );
        self.ports
            .tenants
            .update(scope, &tenant, expected_version, event)
            .await?;
        Ok(tenant)
    }

    /// Platform operation: suspends or reactivates a tenant.
    pub async fn set_tenant_active(
        &self,
        system: &SystemScope,
        tenant: TenantId,
        active: bool,
    ) -> Result<Tenant, IdentityError> {
        let scope = system.within(tenant);
        let before = self.ports.tenants.get(&scope).await?;
        let mut updated = before.clone();
        updated.is_active = active;
        if updated == before {
            return Ok(updated);
        }
        updated.updated_at = self.ports.clock.now();
        let expected_version = updated.bump_version();
        let action = if active {
            AuditAction::TENANT_REACTIVATED
        } else {
            AuditAction::TENANT_SUSPENDED
        };
        let event = PendingEvent::new(
            Actor::System,
            action,
            ENTITY_TENANT,
            tenant,
            Changes::new()
                .field("is_active", &before.is_active, &active)
                .note("by", system.purpose()),
            &RequestContext::default(),
        );
        self.ports
            .tenants
            .update(&scope, &updated, expected_version, event)
            .await?;
        Ok(updated)
    }

    pub async fn list_tenants(&self, system: &SystemScope) -> Result<Vec<Tenant>, IdentityError> {
        Ok(self.ports.tenants.list_all(system).await?)
    }

    // ---------------------------------------------------------------- user administration

    pub async fn list_users(
        &self,
        scope: &TenantScope,
        page: PageRequest,
        ctx: &RequestContext,
    ) -> Result<Page<User>, IdentityError> {
        self.require(scope, Permission::ReadUsers, ctx).await?;
        Ok(self.ports.users.list(scope, page).await?)
    }

    pub async fn user(
        &self,
        scope: &TenantScope,
        id: UserId,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        self.require(scope, Permission::ReadUsers, ctx).await?;
        Ok(self.ports.users.get(scope, id).await?)
    }

    /// Adds a user to the scope's tenant. Members and viewers need `ManageMembers`;
    /// owners and admins need `ManagePrivilegedUsers`.
    pub async fn create_user(
        &self,
        scope: &TenantScope,
        member: NewMember,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        self.require(scope, Permission::ManageMembers, ctx).await?;
        if member.role.is_privileged() {
            self.require(scope, Permission::ManagePrivilegedUsers, ctx)
                .await?;
        }
        let invite = member.password.is_none();
        let password_hash = match &member.password {
            Some(password) => self.ports.hasher.hash(password).await?,
            None => PasswordHash::unset(),
        };
        let now = self.ports.clock.now();
        let user = User::new(
            scope.tenant_id(),
            member.email,
            member.full_name,
            member.role,
            password_hash,
            now,
        );
        let event = PendingEvent::new(
            Actor::of(scope),
            AuditAction::USER_CREATED,
            ENTITY_USER,
            user.id,
            Changes::new()
                .created("role", &user.role)
                .note("invited", invite),
            ctx,
        );
        self.ports.users.insert(scope, &user, event).await?;
        if invite {
            // The user exists now; a mail that cannot go out must not turn that into an
            // error the client would retry into a conflict. The link can be re-sent with
            // "forgot password".
            let tenant = self.ports.tenants.get(scope).await?;
            if let Err(error) = self
                .send_password_link(scope, &user, &tenant, MailKind::Invitation, ctx)
                .await
            {
                tracing::warn!(%error, user = %user.id, "invitation mail not sent");
            }
        }
        Ok(user)
    }

    /// Changes a user's name, role or status. Touching an owner or admin, or granting
    /// those roles, needs `ManagePrivilegedUsers`. A role change or deactivation ends the
    /// user's sessions.
    pub async fn update_user(
        &self,
        scope: &TenantScope,
        id: UserId,
        patch: UserPatch,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        self.require(scope, Permission::ManageMembers, ctx).await?;
        let before = self.ports.users.get(scope, id).await?;
        let privileged = before.role.is_privileged() || patch.role.is_some_and(Role::is_privileged);
        if privileged {
            self.require(scope, Permission::ManagePrivilegedUsers, ctx)
                .await?;
        }
        let mut user = before.clone();
        if let Some(name) = patch.full_name {
            user.full_name = name;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(active) = patch.is_active {
            user.is_active = active;
        }
        if user == before {
            return Ok(user);
        }
        let role_changed = user.role != before.role;
        let status_changed = user.is_active != before.is_active;
        if role_changed || (status_changed && !user.is_active) {
            user.end_sessions();
        }
        user.updated_at = self.ports.clock.now();
        let expected_version = user.bump_version();
        let action = if role_changed {
            AuditAction::USER_ROLE_CHANGED
        } else if status_changed && user.is_active {
            AuditAction::USER_REACTIVATED
        } else if status_changed {
            AuditAction::USER_DEACTIVATED
        } else {
            AuditAction::USER_UPDATED
        };
        let event = PendingEvent::new(
            Actor::of(scope),
            action,
            ENTITY_USER,
            user.id,
            Changes::new()
                .field("full_name", &before.full_name, &user.full_name)
                .field("role", &before.role, &user.role)
                .field("is_active", &before.is_active, &user.is_active),
            ctx,
        );
        self.ports
            .users
            .update(scope, &user, expected_version, event)
            .await?;
        Ok(user)
    }

    /// Removes a user. Nobody removes themselves this way (deactivation is reversible).
    pub async fn delete_user(
        &self,
        scope: &TenantScope,
        id: UserId,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        self.require(scope, Permission::ManageMembers, ctx).await?;
        let user = self.ports.users.get(scope, id).await?;
        if user.role.is_privileged() {
            self.require(scope, Permission::ManagePrivilegedUsers, ctx)
                .await?;
        }
        if scope.user_id() == Some(id) {
            return Err(IdentityError::conflict(
                "self_removal",
                None,
                "you cannot remove your own account",
            ));
        }
        let event = PendingEvent::new(
            Actor::of(scope),
            AuditAction::USER_DELETED,
            ENTITY_USER,
            id,
            Changes::new().note("role", user.role),
            ctx,
        );
        self.ports.users.delete(scope, id, event).await?;
        Ok(())
    }

    /// Checks a permission; a denial is audited.
    pub async fn require(
        &self,
        scope: &TenantScope,
        permission: Permission,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        Ok(aura_audit::require_audited(self.ports.audit.as_ref(), scope, permission, ctx).await?)
    }
}

fn throttle_keys(email: &Email, ip: Option<IpAddr>) -> Vec<ThrottleKey> {
    match ip {
        Some(ip) => vec![
            ThrottleKey::AccountFromAddress(email.clone(), ip),
            ThrottleKey::Account(email.clone()),
            ThrottleKey::Address(ip),
        ],
        None => vec![ThrottleKey::Account(email.clone())],
    }
}
