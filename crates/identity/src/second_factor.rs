//! Multi-factor sign-in (TOTP, RFC 6238): enrolment and its confirmation, recovery codes,
//! turning the factor off, and the second step of a sign-in.
//!
//! After a correct password, [`crate::SignIn::login`] answers a challenge instead of
//! tokens when the account has a confirmed factor (purpose `sign_in`), or when it must
//! use one and has none (purpose `enrolment`: the account holds two or more memberships,
//! or the tenant's owner set `require_mfa`). A challenge is opaque, stored hashed, lives
//! five minutes, names the membership login chose and is used up by the step that gives
//! the tokens. Codes are checked within one step either side, each step at most once per
//! account (replay), and throttled per account like passwords.

use std::{net::IpAddr, sync::Arc};

use aura_audit::{Actor, AuditAction, Changes, PendingEvent, RequestContext};
use aura_shared_kernel::{Tenant, TenantScope};
use time::OffsetDateTime;

use crate::{
    actions,
    error::IdentityError,
    mfa::{
        CHALLENGE_LIFETIME, ChallengePurpose, MfaChallenge, MfaStatus, SecondProof, TotpFactor,
        mfa_required, tenant_requires_mfa,
    },
    password::Password,
    shared::{Core, ENTITY_USER, TokenPair},
    sign_in::{Authenticated, Challenged},
    throttle::ThrottleKey,
    user::User,
};

/// A started enrolment: what the person puts into their authenticator (shown once).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    pub secret_base32: String,
    pub uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(<redacted>)")
    }
}

/// A member as the second-factor steps see them: by a verified token or by a challenge.
struct Member<'a> {
    scope: &'a TenantScope,
    user: &'a User,
    tenant: &'a Tenant,
}

impl<'a> From<&'a Authenticated> for Member<'a> {
    fn from(auth: &'a Authenticated) -> Self {
        Self {
            scope: &auth.scope,
            user: &auth.user,
            tenant: &auth.tenant,
        }
    }
}

impl<'a> From<&'a Challenged> for Member<'a> {
    fn from(challenged: &'a Challenged) -> Self {
        Self {
            scope: &challenged.scope,
            user: &challenged.user,
            tenant: &challenged.tenant,
        }
    }
}

/// A person's second factor and the second step of their sign-in.
#[derive(Clone)]
pub struct SecondFactors {
    core: Arc<Core>,
}

impl SecondFactors {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Whether the caller has a factor, must have one, and how many recovery codes are left.
    pub async fn status(&self, auth: &Authenticated) -> Result<MfaStatus, IdentityError> {
        let member = Member::from(auth);
        let factor = self.core.factor(&member).await?;
        Ok(MfaStatus {
            enabled: factor.as_ref().is_some_and(TotpFactor::is_confirmed),
            pending: factor.as_ref().is_some_and(|f| !f.is_confirmed()),
            required: self.core.must_use_mfa(&member).await?,
            recovery_codes_left: factor.map_or(0, |f| f.recovery_codes_left),
        })
    }

    /// Starts (or restarts) the caller's TOTP enrolment.
    pub async fn start(
        &self,
        auth: &Authenticated,
        ctx: &RequestContext,
    ) -> Result<TotpEnrolment, IdentityError> {
        self.core.start_enrolment(&Member::from(auth), ctx).await
    }

    /// Confirms the caller's enrolment with a first code; answers the recovery codes
    /// (shown this once).
    pub async fn confirm(
        &self,
        auth: &Authenticated,
        code: &str,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<Vec<String>, IdentityError> {
        self.core
            .confirm_enrolment(&Member::from(auth), code, client_ip, ctx)
            .await
    }

    /// Turns the caller's factor off after checking the password again. Refused while
    /// the caller must use a second factor.
    pub async fn disable(
        &self,
        auth: &Authenticated,
        password: &Password,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let member = Member::from(auth);
        self.core
            .confirm_password(auth, password, "password", client_ip, ctx)
            .await?;
        self.core.confirmed_factor(&member).await?;
        if self.core.must_use_mfa(&member).await? {
            return Err(IdentityError::conflict(
                "mfa_required",
                None,
                "a second factor is required for this account; it cannot be turned off",
            ));
        }
        let event = self
            .core
            .mfa_event(&member, actions::USER_MFA_DISABLED, ctx);
        let account = auth.user.account_id;
        if !self
            .core
            .ports
            .second_factors
            .remove(&auth.scope, account, event)
            .await?
        {
            return Err(IdentityError::NotFound);
        }
        Ok(())
    }

    /// New recovery codes (the old ones stop working) after checking the password again.
    pub async fn replace_recovery_codes(
        &self,
        auth: &Authenticated,
        password: &Password,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<Vec<String>, IdentityError> {
        let member = Member::from(auth);
        self.core
            .confirm_password(auth, password, "password", client_ip, ctx)
            .await?;
        self.core.confirmed_factor(&member).await?;
        let account = auth.user.account_id;
        let codes = self.core.ports.totp.recovery_codes(account);
        let event = self
            .core
            .mfa_event(&member, actions::USER_MFA_RECOVERY_CODES_REPLACED, ctx);
        let now = self.core.ports.clock.now();
        if !self
            .core
            .ports
            .second_factors
            .replace_recovery_codes(&auth.scope, account, &codes.hashes, now, event)
            .await?
        {
            return Err(IdentityError::NotFound);
        }
        Ok(codes.plain)
    }

    /// The second step of a sign-in: a code (or a recovery code) for the challenge login
    /// answered gives the token pair, and uses the challenge up.
    pub async fn finish_sign_in(
        &self,
        challenge: &str,
        proof: SecondProof,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let challenged = self
            .core
            .challenged(challenge, ChallengePurpose::SignIn)
            .await?;
        let member = Member::from(&challenged);
        let keys = self.core.reserve_code_attempt(&member, client_ip).await?;
        // The factor may have been turned off since the challenge.
        let factor = self
            .core
            .factor(&member)
            .await?
            .filter(TotpFactor::is_confirmed)
            .ok_or(IdentityError::InvalidToken)?;
        let now = self.core.ports.clock.now();
        let via = match proof {
            SecondProof::Code(code) => {
                self.core
                    .use_code(&member, &factor, &code, now, ctx)
                    .await?;
                "totp"
            }
            SecondProof::RecoveryCode(code) => {
                self.core
                    .use_recovery_code(&member, &code, now, ctx)
                    .await?;
                "recovery_code"
            }
        };
        self.core.settle_good_attempt(&keys).await?;
        self.core.finish(&challenged, via, now, ctx).await
    }

    /// Starts the enrolment of an account that must use a second factor and has none,
    /// with the challenge its sign-in answered.
    pub async fn start_with_challenge(
        &self,
        challenge: &str,
        ctx: &RequestContext,
    ) -> Result<TotpEnrolment, IdentityError> {
        let challenged = self
            .core
            .challenged(challenge, ChallengePurpose::Enrolment)
            .await?;
        self.core
            .start_enrolment(&Member::from(&challenged), ctx)
            .await
    }

    /// Confirms that enrolment with a first code: the sign-in is finished (the token
    /// pair) and the recovery codes are shown this once.
    pub async fn confirm_with_challenge(
        &self,
        challenge: &str,
        code: &str,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<(TokenPair, Vec<String>), IdentityError> {
        let challenged = self
            .core
            .challenged(challenge, ChallengePurpose::Enrolment)
            .await?;
        let codes = self
            .core
            .confirm_enrolment(&Member::from(&challenged), code, client_ip, ctx)
            .await?;
        let now = self.core.ports.clock.now();
        let pair = self.core.finish(&challenged, "enrolment", now, ctx).await?;
        Ok((pair, codes))
    }
}

impl Core {
    /// Whether a correct password still needs a second step, and if so the challenge
    /// for it (stored hashed in the membership's tenant).
    pub(crate) async fn second_step(
        &self,
        scope: &TenantScope,
        user: &User,
        tenant: &Tenant,
        now: OffsetDateTime,
    ) -> Result<Option<MfaChallenge>, IdentityError> {
        let Some(purpose) = self.needed_step(scope, user, tenant).await? else {
            return Ok(None);
        };
        let token = self.ports.secrets.opaque_token();
        self.ports
            .second_factors
            .issue_challenge(
                scope,
                user.id,
                &token.hash,
                purpose,
                now,
                now + CHALLENGE_LIFETIME,
            )
            .await?;
        Ok(Some(MfaChallenge {
            purpose,
            token: token.plain,
            expires_in: CHALLENGE_LIFETIME.whole_seconds(),
        }))
    }

    /// The one rule of the second step, for a sign-in and a switch alike: a code for an
    /// account with a confirmed factor, an enrolment for one that must use a factor and
    /// has none, nothing otherwise.
    pub(crate) async fn needed_step(
        &self,
        scope: &TenantScope,
        user: &User,
        tenant: &Tenant,
    ) -> Result<Option<ChallengePurpose>, IdentityError> {
        let member = Member {
            scope,
            user,
            tenant,
        };
        if self
            .factor(&member)
            .await?
            .is_some_and(|f| f.is_confirmed())
        {
            Ok(Some(ChallengePurpose::SignIn))
        } else if self.must_use_mfa(&member).await? {
            Ok(Some(ChallengePurpose::Enrolment))
        } else {
            Ok(None)
        }
    }

    async fn factor(&self, member: &Member<'_>) -> Result<Option<TotpFactor>, IdentityError> {
        Ok(self
            .ports
            .second_factors
            .factor(member.scope, member.user.account_id)
            .await?)
    }

    /// The member's confirmed factor, or 404.
    async fn confirmed_factor(&self, member: &Member<'_>) -> Result<TotpFactor, IdentityError> {
        self.factor(member)
            .await?
            .filter(TotpFactor::is_confirmed)
            .ok_or(IdentityError::NotFound)
    }

    /// The tenant requires a second factor, or the account holds enough memberships.
    async fn must_use_mfa(&self, member: &Member<'_>) -> Result<bool, IdentityError> {
        if tenant_requires_mfa(member.tenant) {
            return Ok(true);
        }
        let memberships = self
            .ports
            .second_factors
            .accepted_memberships(member.scope, member.user.account_id)
            .await?;
        Ok(mfa_required(member.tenant, memberships))
    }

    fn mfa_event(
        &self,
        member: &Member<'_>,
        action: AuditAction,
        ctx: &RequestContext,
    ) -> PendingEvent {
        PendingEvent::new(
            Actor::User(member.user.id),
            action,
            ENTITY_USER,
            member.user.id,
            Changes::new().note("factor", "totp"),
            ctx,
        )
    }

    async fn start_enrolment(
        &self,
        member: &Member<'_>,
        ctx: &RequestContext,
    ) -> Result<TotpEnrolment, IdentityError> {
        let account = member.user.account_id;
        let already = IdentityError::conflict(
            "mfa_enabled",
            None,
            "a second factor is on already; turn it off first to enrol another",
        );
        if self.factor(member).await?.is_some_and(|f| f.is_confirmed()) {
            return Err(already);
        }
        let totp = self
            .ports
            .totp
            .new_totp(account, member.user.email.as_str())?;
        let event = self.mfa_event(member, actions::USER_MFA_ENROLMENT_STARTED, ctx);
        let now = self.ports.clock.now();
        if !self
            .ports
            .second_factors
            .start_enrolment(member.scope, account, &totp.sealed, now, event)
            .await?
        {
            return Err(already);
        }
        Ok(TotpEnrolment {
            secret_base32: totp.secret_base32,
            uri: totp.uri,
        })
    }

    async fn confirm_enrolment(
        &self,
        member: &Member<'_>,
        code: &str,
        client_ip: Option<IpAddr>,
        ctx: &RequestContext,
    ) -> Result<Vec<String>, IdentityError> {
        let account = member.user.account_id;
        let not_started = IdentityError::conflict(
            "mfa_not_started",
            None,
            "no enrolment is waiting for confirmation; start one first",
        );
        let keys = self.reserve_code_attempt(member, client_ip).await?;
        let Some(factor) = self.factor(member).await?.filter(|f| !f.is_confirmed()) else {
            return Err(not_started);
        };
        let now = self.ports.clock.now();
        let Some(step) = self
            .ports
            .totp
            .check_code(account, &factor.sealed, code, now)?
        else {
            return Err(self.code_refused(member, "wrong_code", ctx).await);
        };
        let codes = self.ports.totp.recovery_codes(account);
        let event = self.mfa_event(member, actions::USER_MFA_ENABLED, ctx);
        if !self
            .ports
            .second_factors
            .confirm(member.scope, account, step, &codes.hashes, now, event)
            .await?
        {
            return Err(not_started);
        }
        self.settle_good_attempt(&keys).await?;
        Ok(codes.plain)
    }

    /// Reserves a code attempt for the member's account (and the client address, which
    /// shares the password attempts' limit), or refuses it: 429 even for a right code.
    async fn reserve_code_attempt(
        &self,
        member: &Member<'_>,
        client_ip: Option<IpAddr>,
    ) -> Result<Vec<ThrottleKey>, IdentityError> {
        let mut keys = vec![ThrottleKey::SecondFactor(member.user.account_id)];
        keys.extend(client_ip.map(ThrottleKey::Address));
        match self.reserve_attempt(&keys).await? {
            Some((wait, _)) => Err(IdentityError::Throttled {
                retry_after_secs: wait.whole_seconds().max(1),
            }),
            None => Ok(keys),
        }
    }

    /// Accepts a TOTP code once: its step must be newer than the last one used.
    async fn use_code(
        &self,
        member: &Member<'_>,
        factor: &TotpFactor,
        code: &str,
        now: OffsetDateTime,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let account = member.user.account_id;
        let Some(step) = self
            .ports
            .totp
            .check_code(account, &factor.sealed, code, now)?
        else {
            return Err(self.code_refused(member, "wrong_code", ctx).await);
        };
        if !self
            .ports
            .second_factors
            .use_step(member.scope, account, step, now)
            .await?
        {
            return Err(self.code_refused(member, "replayed_code", ctx).await);
        }
        Ok(())
    }

    /// Uses up one recovery code, with its event.
    async fn use_recovery_code(
        &self,
        member: &Member<'_>,
        code: &str,
        now: OffsetDateTime,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let account = member.user.account_id;
        let hash = self.ports.totp.hash_recovery_code(account, code);
        let event = self.mfa_event(member, actions::USER_MFA_RECOVERY_CODE_USED, ctx);
        if !self
            .ports
            .second_factors
            .use_recovery_code(member.scope, account, &hash, now, event)
            .await?
        {
            return Err(self.code_refused(member, "wrong_recovery_code", ctx).await);
        }
        Ok(())
    }

    /// A refused code: audited as a failed sign-in (the reserved attempt stays
    /// counted). An audit failure is the answer then.
    async fn code_refused(
        &self,
        member: &Member<'_>,
        reason: &'static str,
        ctx: &RequestContext,
    ) -> IdentityError {
        tracing::info!(reason, "second factor refused");
        let event = PendingEvent::new(
            Actor::User(member.user.id),
            actions::USER_LOGIN_FAILED,
            ENTITY_USER,
            member.user.id,
            Changes::new().note("reason", reason),
            ctx,
        );
        match self.ports.audit.append(member.scope, event).await {
            Ok(_) => IdentityError::InvalidSecondFactor,
            Err(error) => error.into(),
        }
    }

    /// Uses the challenge up and starts the session it was for.
    async fn finish(
        &self,
        challenged: &Challenged,
        via: &'static str,
        now: OffsetDateTime,
        ctx: &RequestContext,
    ) -> Result<TokenPair, IdentityError> {
        let Challenged {
            scope,
            user,
            tenant,
            token,
        } = challenged;
        if !self
            .ports
            .second_factors
            .take_challenge(scope, token, now)
            .await?
        {
            return Err(IdentityError::InvalidToken);
        }
        let changes = Changes::new().note("second_factor", via);
        self.start_session(scope, user, tenant, now, changes, ctx)
            .await
            .map_err(|e| match e {
                IdentityError::NotFound => IdentityError::InvalidToken,
                other => other,
            })
    }
}
