//! Signing in: sign-up, sign-in with throttling, refresh-token rotation, authentication of
//! a request, logout, and password reset. These are the credential flows: the only code
//! that builds a scope from a credential (`TenantScope::for_credential_check`) or from a
//! verified principal (`TenantScope::from_verified_principal`).

use std::{net::IpAddr, sync::Arc};

use crate::actions;
use aura_audit::{Actor, Changes, PendingEvent, RequestContext};
use aura_shared_kernel::{
    PermissionSet, Role, Tenant, TenantName, TenantScope, TenantSlug, ValidationErrors,
    fanout::bounded,
};
use time::Duration;
use uuid::Uuid;

use crate::{
    email::Email,
    error::IdentityError,
    mail::MailKind,
    mfa::{ChallengePurpose, MfaChallenge},
    partners::{Membership, PartnerRef},
    password::{Password, PasswordHash},
    ports::{LoginRecord, PrincipalRecord},
    roles::resolved_permissions,
    session::{AccessClaims, RefreshFamily},
    shared::{
        AuthConfig, Core, ENTITY_SESSION, ENTITY_TENANT, ENTITY_USER, TokenPair, throttle_keys,
    },
    throttle::ThrottleKey,
    user::{FullName, User},
};

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

/// What a correct password gets: a token pair, or — for an account with a second factor,
/// or one that must enrol one — a challenge for the second step
/// ([`crate::SecondFactors`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    Tokens(TokenPair),
    SecondFactor(MfaChallenge),
}

/// A request whose access token was verified and whose principal was re-read.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub scope: TenantScope,
    pub session_id: Uuid,
    pub user: User,
    pub tenant: Tenant,
}

/// A membership of the verified caller's account that may be acted in now (accepted,
/// active, in an active tenant), with a scope acting as that membership's user with its
/// role: what a view across the account's tenants (the portfolio) reads each tenant with.
#[derive(Debug, Clone)]
pub struct MemberScope {
    pub scope: TenantScope,
    pub user: User,
    pub tenant: Tenant,
    /// The partner whose grant the membership is held through (`None` for an own
    /// membership); the scope acts for it.
    pub via_partner: Option<PartnerRef>,
}

/// A tenant of the verified caller's account, as [`SignIn::memberships`] lists it.
#[derive(Debug, Clone)]
pub enum AccountTenant {
    /// A usable membership, with the scope a request in its tenant would have.
    Member(Box<MemberScope>),
    /// A client reached through a partner's grant that the person never entered: no
    /// membership exists there until a switch (`POST /auth/switch`) creates it, so
    /// there is no scope to read the client with; or one entered before the way in
    /// changed (a grant given again with another role, or through another partner),
    /// which the next switch brings to the listed grant. Listed, never read.
    NotEntered {
        tenant: Tenant,
        /// The grant's role (what entering would give).
        role: Role,
        via_partner: PartnerRef,
    },
}

impl From<MemberScope> for AccountTenant {
    fn from(member: MemberScope) -> Self {
        Self::Member(Box::new(member))
    }
}

/// How many of an account's memberships are read at once: enough to overlap their
/// round trips, few enough that one account does not take the connection pool.
pub const MEMBERSHIP_READS_AT_ONCE: usize = 4;

/// The session id given to the principal read when no session is in question (the
/// account's other memberships): it names no refresh family, so `session_active` is
/// false and is not looked at.
const NO_SESSION: Uuid = Uuid::nil();

/// Signing in: how a person gets, keeps, proves and ends a session.
#[derive(Clone)]
pub struct SignIn {
    core: Arc<Core>,
}

impl SignIn {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.core.config
    }

    /// An address someone typed, checked and canonicalised by the mail system's rules.
    pub fn email(&self, raw: &str, field: &str) -> Result<Email, ValidationErrors> {
        self.core.email(raw, field)
    }

    pub fn access_token_lifetime(&self) -> Duration {
        self.core.ports.tokens.lifetime()
    }

    /// Self-service sign-up (when enabled): creates a tenant and its owner together.
    pub async fn register(
        &self,
        registration: Registration,
        ctx: &RequestContext,
    ) -> Result<(Tenant, User), IdentityError> {
        if !self.core.config.registration_enabled {
            return Err(IdentityError::RegistrationDisabled);
        }
        self.core.create_tenant_with_owner(registration, ctx).await
    }

    /// the same answer after the same work (a hash verification).
    pub async fn login(
        &self,
        request: LoginRequest,
        ctx: &RequestContext,
    ) -> Result<SignInOutcome, IdentityError> {
        let keys = throttle_keys(&request.email, request.client_ip);
        let now = self.core.ports.clock.now();
        // Throttle before hashing, so a flood cannot burn the CPU; the attempt is counted
        // as a failure until it proves good.
        self.core
            .reserve_or_refuse(&request.email, &keys, ctx)
            .await?;

        let record = self.core.ports.users.find_for_login(&request.email).await?;
        let unset = PasswordHash::unset();
        let hash = record.as_ref().map_or(&unset, |r| &r.user.password_hash);
        let password_ok = self
            .core
            .ports
            .hasher
            .verify(&request.password, hash)
            .await?;

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
                    actions::USER_LOGIN_FAILED,
                    ENTITY_USER,
                    record.user.id,
                    Changes::new().note("reason", reason),
                    ctx,
                );
                self.core.ports.audit.append(&scope, event).await?;
            }
            tracing::info!(reason, "sign-in refused");
            return Err(IdentityError::InvalidCredentials);
        }
        let Some(LoginRecord { user, tenant }) = record else {
            return Err(IdentityError::InvalidCredentials);
        };

        self.core.settle_good_attempt(&keys).await?;
        let scope = TenantScope::for_credential_check(tenant.id, Some(user.id));
        let outcome = async {
            // The branch point of multi-factor sign-in: the password alone gives no
            // tokens to an account with a second factor, or one that must enrol one.
            if let Some(challenge) = self.core.second_step(&scope, &user, &tenant, now).await? {
                return Ok(SignInOutcome::SecondFactor(challenge));
            }
            self.core
                .start_session(&scope, &user, &tenant, now, Changes::new(), ctx)
                .await
                .map(SignInOutcome::Tokens)
        };
        outcome.await.map_err(|e| match e {
            // The account vanished between lookup and sign-in.
            IdentityError::NotFound => IdentityError::InvalidCredentials,
            other => other,
        })
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
        let hash = self.core.ports.secrets.hash_token(presented);
        let Some(found) = self.core.ports.sessions.find(&hash).await? else {
            return Err(IdentityError::InvalidToken);
        };
        let family = &found.family;
        let scope = TenantScope::for_credential_check(family.tenant_id, Some(family.user_id));
        let now = self.core.ports.clock.now();
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
            .core
            .ports
            .users
            .find_principal(&scope, family.user_id, family.id)
            .await?
        else {
            return Err(IdentityError::InvalidToken);
        };
        let user = &principal.user;
        if !user.is_active
            || user.accepted_at.is_none()
            || !principal.tenant.is_active
            || !principal.session_active
            || user.session_generation() != family.session_version
        {
            return Err(IdentityError::InvalidToken);
        }
        let next = self.core.ports.secrets.opaque_token();
        let rotated = self
            .core
            .ports
            .sessions
            .rotate(
                &scope,
                &hash,
                &next.hash,
                self.core.idle_expiry(family, now),
                now,
            )
            .await?;
        if !rotated {
            // A parallel exchange of the same token won: that is reuse too.
            self.revoke_for_reuse(&scope, family, ctx).await?;
            return Err(IdentityError::InvalidToken);
        }
        self.core
            .token_pair(user, &principal.tenant, family.id, next.plain)
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
            actions::AUTH_REFRESH_REUSED,
            ENTITY_SESSION,
            family.id,
            Changes::new().note("family_revoked", true),
            ctx,
        );
        let now = self.core.ports.clock.now();
        self.core
            .ports
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

    /// The first half of [`SignIn::authenticate`]: checks the token's signature and
    /// expiry, reading no store. The tenant it names is authentic (we signed it), which
    /// is enough to count the request against that tenant's rate limit before any
    /// store is read; user, tenant and session may since have been suspended or ended,
    /// so nothing else may be trusted until [`SignIn::authenticate_claims`].
    pub fn verify_access_token(&self, token: &str) -> Result<AccessClaims, IdentityError> {
        let now = self.core.ports.clock.now();
        self.core
            .ports
            .tokens
            .verify(token, now)
            .map_err(|rejected| {
                tracing::debug!(%rejected, "access token refused");
                IdentityError::InvalidToken
            })
    }

    /// The second half of [`SignIn::authenticate`]: re-reads user, tenant and session
    /// of verified claims and builds the caller's scope.
    pub async fn authenticate_claims(
        &self,
        claims: AccessClaims,
    ) -> Result<Authenticated, IdentityError> {
        // Re-read the principal in the verified token's tenant before trusting it further.
        let reading = TenantScope::for_credential_check(claims.tenant, Some(claims.user));
        let principal = self
            .core
            .ports
            .users
            .find_principal(&reading, claims.user, claims.session_id)
            .await?
            .ok_or(IdentityError::InvalidToken)?;
        if !principal.session_active
            || principal.user.session_generation() != claims.session_version
        {
            return Err(IdentityError::InvalidToken);
        }
        let scope = principal_scope(&principal).ok_or(IdentityError::InvalidToken)?;
        Ok(Authenticated {
            scope,
            session_id: claims.session_id,
            user: principal.user,
            tenant: principal.tenant,
        })
    }

    /// A new session in `tenant` for the caller's account: a token pair of the
    /// membership the account holds there — its own, or one held through a partner's
    /// grant (see [`crate::ports::UserRepository::enter`]) —, in a new refresh family
    /// started with its `session.switched` event in that tenant's trail. The caller's
    /// session stays as it is (it is another membership's). No way in — no membership,
    /// a pending or deactivated one, a suspended tenant, an id that names no tenant —
    /// is `NotFound`, alike.
    pub async fn switch(
        &self,
        auth: &Authenticated,
        tenant: aura_shared_kernel::TenantId,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let now = self.core.ports.clock.now();
        let entering = TenantScope::for_credential_check(tenant, None);
        let Some((member, via_partner)) = self
            .core
            .ports
            .users
            .enter(&entering, auth.user.account_id, now)
            .await?
        else {
            return Err(IdentityError::NotFound);
        };
        let scope = TenantScope::for_credential_check(tenant, Some(member));
        let user = self.core.ports.users.get(&scope, member).await?;
        let target = self.core.ports.tenants.get(&scope).await?;
        // A switch signs into the target: an account that must use a second factor there
        // (a partner role, several tenants, the target's `require_mfa`) and has none
        // confirmed enrols one in the session it has before it gets the target's tokens.
        let step = self.core.needed_step(&scope, &user, &target).await?;
        if step == Some(ChallengePurpose::Enrolment) {
            return Err(IdentityError::SecondFactorRequired);
        }
        let actor = match via_partner {
            Some(partner) => Actor::Partner { member, partner },
            None => Actor::User(member),
        };
        self.core
            .start_session_as(
                &scope,
                &user,
                &target,
                now,
                (actor, actions::SESSION_SWITCHED, Changes::new()),
                ctx,
            )
            .await
    }

    /// The tenants the caller's account may work in now, in the order of
    /// [`crate::ports::UserRepository::memberships_of`] (keyed by the verified principal's
    /// account, never input): its own usable memberships and the clients it reaches
    /// through a partner's grant. Each membership is read fresh in its own tenant's scope
    /// by the principal read a request uses ([`crate::ports::UserRepository::find_principal`])
    /// and scoped by [`principal_scope`], as a request in that tenant would be: its
    /// role, a custom role's permissions as stored now, acting for the partner a
    /// partner-held membership is held through; one no longer usable (deactivated,
    /// removed, a revoked grant, a suspended tenant) is left out at once.
    ///
    /// A partner's client the person never entered has no membership yet (a switch
    /// creates it, audited in the client's trail, after the second-factor check): it
    /// is listed as [`AccountTenant::NotEntered`], with the grant's role and partner,
    /// and nothing of the client is read beyond its tenant row — so is one entered
    /// before the way in changed. A read never creates a membership.
    ///
    /// The reads (one principal read per membership, each a single statement) run
    /// [`MEMBERSHIP_READS_AT_ONCE`] at a time, like the portfolio's summaries after them.
    pub async fn memberships(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<AccountTenant>, IdentityError> {
        let account = auth.user.account_id;
        let listed = self.core.ports.users.memberships_of(account).await?;
        let reads: Vec<_> = (listed.into_iter().filter(Membership::usable))
            .map(|membership| self.account_tenant(account, membership))
            .collect();
        // Each read is its own tenant's; a few at a time, in the listing's order.
        let read = bounded(reads, MEMBERSHIP_READS_AT_ONCE).await;
        Ok(read
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect())
    }

    /// One listed tenant of `account`, read in its own scope: `None` when it may not be
    /// acted in now.
    async fn account_tenant(
        &self,
        account: crate::AccountId,
        membership: Membership,
    ) -> Result<Option<AccountTenant>, IdentityError> {
        let Some(user) = membership.user_id else {
            return self.not_entered(membership).await;
        };
        let reading = TenantScope::for_credential_check(membership.tenant_id, Some(user));
        let listed_partner = membership.via_partner.as_ref().map(|p| p.id);
        // A membership held through a partner is as the last switch left it: through
        // that partner, with the role of the grant then. One that no longer matches
        // the way in the listing finds (a grant given again with another role, or
        // access now through another partner) is not read as it stands but listed as
        // not entered: the next switch brings it to the listed grant.
        let principal = (self.core.ports.users)
            .find_principal(&reading, user, NO_SESSION)
            .await?
            .filter(|p| p.user.account_id == account)
            .filter(|p| {
                p.via_partner == listed_partner
                    && (listed_partner.is_none() || p.user.role == membership.role)
            });
        let Some(principal) = principal else {
            return self.not_entered(membership).await;
        };
        Ok(principal_scope(&principal).map(|scope| {
            AccountTenant::from(MemberScope {
                scope,
                user: principal.user,
                tenant: principal.tenant,
                via_partner: membership.via_partner,
            })
        }))
    }

    /// A partner's client as listed, without a membership to read it with: its tenant
    /// row (read in its own scope) with the grant's role and partner; `None` for an own
    /// membership or a tenant gone or suspended meanwhile.
    async fn not_entered(
        &self,
        membership: Membership,
    ) -> Result<Option<AccountTenant>, IdentityError> {
        let Some(via_partner) = membership.via_partner else {
            return Ok(None);
        };
        let reading = TenantScope::for_credential_check(membership.tenant_id, None);
        let tenant = match self.core.ports.tenants.get(&reading).await {
            Ok(tenant) if tenant.is_active => tenant,
            Ok(_) | Err(aura_shared_kernel::StoreError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        Ok(Some(AccountTenant::NotEntered {
            tenant,
            role: membership.role,
            via_partner,
        }))
    }

    /// Ends the caller's session: its refresh tokens and its access tokens.
    pub async fn logout(
        &self,
        auth: &Authenticated,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let event = PendingEvent::new(
            Actor::of(&auth.scope),
            actions::USER_LOGGED_OUT,
            ENTITY_SESSION,
            auth.session_id,
            Changes::new(),
            ctx,
        );
        let now = self.core.ports.clock.now();
        self.core
            .ports
            .sessions
            .revoke(&auth.scope, auth.session_id, now, event)
            .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- password reset

    /// Starts a password reset: the mail is enqueued (see [`crate::mail_jobs`]). Answers
    /// the same whether or not the address is known or active; beyond a few requests per
    /// address and client the request is silently dropped.
    pub async fn forgot_password(
        &self,
        email: &Email,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        self.core
            .queue_link(email, client_ip, MailKind::PasswordReset, ctx)
            .await
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
        let hash = self.core.ports.secrets.hash_token(token);
        let now = self.core.ports.clock.now();
        let Some((tenant, user_id)) = self.core.ports.resets.find(&hash, now).await? else {
            return Err(IdentityError::InvalidToken);
        };
        let scope = TenantScope::for_credential_check(tenant, Some(user_id));
        let mut user = match self.core.ports.users.get(&scope, user_id).await {
            Ok(user) => user,
            Err(aura_shared_kernel::StoreError::NotFound) => {
                return Err(IdentityError::InvalidToken);
            }
            Err(other) => return Err(other.into()),
        };
        // A deactivated account gets the answer of an unknown token: nothing changes.
        if !user.is_active {
            return Err(IdentityError::InvalidToken);
        }
        let password = Password::new_checked(new_password, "password", Some(user.email.as_str()))?;
        // The link came by mail to the account's address: following it accepts a
        // pending membership (an invitation into another tenant).
        user.accepted_at.get_or_insert(now);
        let (expected_version, event) = self
            .core
            .new_password(&mut user, &password, actions::USER_PASSWORD_RESET, now, ctx)
            .await?;
        if !self
            .core
            .ports
            .resets
            .redeem(&scope, &hash, &user, expected_version, now, event)
            .await?
        {
            return Err(IdentityError::InvalidToken);
        }
        self.core
            .ports
            .throttle
            .clear(&[ThrottleKey::Account(user.email.clone())])
            .await?;
        Ok(())
    }
}

/// The membership a presented second-factor challenge names, read in its tenant.
pub(crate) struct Challenged {
    pub(crate) scope: TenantScope,
    pub(crate) user: User,
    pub(crate) tenant: Tenant,
    pub(crate) token: crate::session::TokenHash,
}

impl Core {
    /// The membership behind a presented challenge of `purpose`: a credential check (the
    /// challenge stands for the password checked moments before), so its scope is built
    /// here. A used, expired, unknown or other-purpose challenge, or a membership or
    /// tenant no longer active, is [`IdentityError::InvalidToken`].
    pub(crate) async fn challenged(
        &self,
        presented: &str,
        purpose: ChallengePurpose,
    ) -> Result<Challenged, IdentityError> {
        if presented.is_empty() || presented.len() > 512 {
            return Err(IdentityError::InvalidToken);
        }
        let token = self.ports.secrets.hash_token(presented);
        let now = self.ports.clock.now();
        let Some(found) = self.ports.second_factors.find_challenge(&token).await? else {
            return Err(IdentityError::InvalidToken);
        };
        if found.used || now >= found.expires_at || found.purpose != purpose {
            return Err(IdentityError::InvalidToken);
        }
        let scope = TenantScope::for_credential_check(found.tenant, Some(found.user));
        let user = match self.ports.users.get(&scope, found.user).await {
            Ok(user) => user,
            Err(aura_shared_kernel::StoreError::NotFound) => {
                return Err(IdentityError::InvalidToken);
            }
            Err(other) => return Err(other.into()),
        };
        let tenant = self.ports.tenants.get(&scope).await?;
        if !user.is_active || !tenant.is_active {
            return Err(IdentityError::InvalidToken);
        }
        Ok(Challenged {
            scope,
            user,
            tenant,
            token,
        })
    }

    /// Enqueues a mail of `kind` with a link for the active account of `email`, unless
    /// reset-like mails to that address (or from `client_ip`) are over their limit.
    /// Answers the same, after the same lookups, whether or not the address is an
    /// account: the request never issues a token nor renders a mail.
    pub(crate) async fn queue_link(
        &self,
        email: &Email,
        client_ip: Option<IpAddr>,
        kind: MailKind,
        _ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let mut keys = vec![ThrottleKey::ResetFor(email.clone())];
        keys.extend(client_ip.map(ThrottleKey::ResetFrom));
        if self.reserve_attempt(&keys).await?.is_some() {
            tracing::info!(
                kind = kind.as_str(),
                "account mail dropped by the rate limit"
            );
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
        self.queue_mail(&scope, user.id, kind).await
    }

    pub(crate) async fn create_tenant_with_owner(
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
                actions::TENANT_CREATED,
                ENTITY_TENANT,
                tenant.id,
                Changes::new()
                    .created("name", &tenant.name)
                    .created("slug", &tenant.slug),
                ctx,
            ),
            PendingEvent::new(
                actor,
                actions::USER_CREATED,
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
}

/// The scope of a principal read fresh after a verified token, or `None` when the
/// membership may not act now (deactivated, pending, or its tenant suspended): its role's
/// permissions (a custom role's as stored now), acting for the partner a membership held
/// through one is held through. The one way a user scope is built: `authenticate_claims`
/// for the token's own membership (after its session checks), `memberships` for the
/// account's others.
fn principal_scope(principal: &PrincipalRecord) -> Option<TenantScope> {
    let PrincipalRecord { user, tenant, .. } = principal;
    if !user.is_active || user.accepted_at.is_none() || !tenant.is_active {
        return None;
    }
    let permissions = resolved_permissions(user.role, principal.custom_permissions);
    let scope = verified_scope(tenant, user, permissions);
    Some(match principal.via_partner {
        Some(partner) => scope.acting_for(partner),
        None => scope,
    })
}

/// A user scope for a membership read fresh after a verified token (through
/// [`principal_scope`] only).
fn verified_scope(tenant: &Tenant, user: &User, permissions: PermissionSet) -> TenantScope {
    TenantScope::from_verified_principal(tenant.id, user.id, user.role, permissions)
}
