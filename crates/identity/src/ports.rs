//! What identity needs from the outside world. Adapters implement these; the contract
//! suites in the adapter crates hold every implementation to the same behaviour.

use aura_audit::PendingEvent;
use aura_shared_kernel::{
    Page, PageRequest, PermissionSet, StoreError, SystemScope, Tenant, TenantId, TenantScope,
    TenantSlug, UserId,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    email::Email,
    mail::OutgoingMail,
    mfa::{
        ChallengeLookup, ChallengePurpose, NewTotp, RecoveryCodes, RecoveryHash, SealedSecret,
        TimeStep, TotpFactor,
    },
    partners::{Membership, PartnerGrant, PartnerRef},
    password::{Password, PasswordHash},
    session::{AccessClaims, OpaqueToken, RefreshFamily, RefreshLookup, TokenHash},
    throttle::{CountedFailure, ThrottleKey, ThrottlePolicy, ThrottleState},
    user::{AccountId, User},
};

/// The event a store writes, in the same transaction, into the chain of every other
/// tenant where an account-wide credential change (a new password: the account's
/// session version moved) ended the sessions of the account's accepted `member`: the
/// change's event, told as the member of that tenant (no secret is in it: the password
/// is redacted already).
pub fn account_event_elsewhere(event: &PendingEvent, member: UserId) -> PendingEvent {
    let mut elsewhere = event.clone();
    elsewhere.actor = aura_audit::Actor::User(member);
    elsewhere.entity_id = Some(member.to_string());
    elsewhere
}

/// A user and their tenant, as the credential flows see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub user: User,
    pub tenant: Tenant,
}

/// A fresh read of the principal behind a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRecord {
    /// The member as stored, but with an unset `password_hash`: the read that runs on
    /// every request never fetches the hash (`UserRepository::get` has it).
    pub user: User,
    pub tenant: Tenant,
    /// The permissions of the user's custom role as stored now (`None` for a built-in
    /// role): resolved by [`crate::resolved_permissions`].
    pub custom_permissions: Option<PermissionSet>,
    /// False once the token's session (refresh family) was revoked, e.g. by logout.
    pub session_active: bool,
    /// The partner a membership held through a partner's grant acts for. Such a
    /// membership is a principal only while its access holds (the grant stands, the
    /// partner is an active consultancy, the account an accepted, active member of it):
    /// otherwise there is no principal (`None`).
    pub via_partner: Option<TenantId>,
}

#[async_trait::async_trait]
pub trait TenantRepository: Send + Sync {
    /// Creates a tenant and its first owner together, with their audit events, in the
    /// new tenant's scope. `Conflict::EmailTaken` or `Conflict::SlugTaken` when taken.
    async fn register(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        owner: &User,
        events: Vec<PendingEvent>,
    ) -> Result<(), StoreError>;

    /// Whether any tenant uses the slug (the narrow global lookup for sign-up).
    async fn slug_taken(&self, slug: &TenantSlug) -> Result<bool, StoreError>;

    async fn get(&self, scope: &TenantScope) -> Result<Tenant, StoreError>;

    /// Replaces the scope's tenant row with `tenant` if the stored row is still at
    /// `expected_version` (the version the caller read), storing `expected_version + 1`.
    /// `NotFound` when the row is gone, `Conflict::Version` when it moved on (nothing
    /// is written).
    async fn update(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// Every tenant, oldest first (platform operations only).
    async fn list_all(&self, system: &SystemScope) -> Result<Vec<Tenant>, StoreError>;

    /// The narrow global lookup for a grant: the active consultancy of `slug` (a tenant
    /// whose `consultancy` setting is `true`), never the scope's own tenant.
    async fn find_partner(
        &self,
        scope: &TenantScope,
        slug: &TenantSlug,
    ) -> Result<Option<(PartnerRef, TenantSlug)>, StoreError>;

    /// Stores the scope's tenant's grant to a partner, with its event.
    /// `Conflict::IdTaken("partner")` when that partner has one already.
    async fn grant_partner(
        &self,
        scope: &TenantScope,
        grant: &PartnerGrant,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// The scope's tenant's grants, by partner name.
    async fn partner_grants(&self, scope: &TenantScope) -> Result<Vec<PartnerGrant>, StoreError>;

    /// Removes the scope's tenant's grant to `partner` and, in the same transaction,
    /// ends every session of the memberships held through it (their session version
    /// moves), with its event. `NotFound` when there is no such grant.
    async fn revoke_partner(
        &self,
        scope: &TenantScope,
        partner: TenantId,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// Members (a membership joined with its account). Every write keeps at least one active
/// owner per tenant, or fails with `Conflict::LastOwner`; a new account with an address
/// another account has, or a second membership of one account in a tenant, fails with
/// `Conflict::EmailTaken`. Inserting a member of an existing account (its `account_id`)
/// adds the membership and leaves the account as it is; deleting the last membership of
/// an account removes the account.
#[async_trait::async_trait]
pub trait UserRepository: Send + Sync {
    /// The narrow global lookup for sign-in and password reset: an accepted membership
    /// of the address's account (first), or the pending one that created the account
    /// while it is the account's only way in (no accepted membership, no password set
    /// through a link: the account's session version is 0).
    async fn find_for_login(&self, email: &Email) -> Result<Option<LoginRecord>, StoreError>;

    /// Every membership of the address's account that the sign-in lookup answers (the
    /// accepted ones, or the pending one that is the account's only way in), with its
    /// tenant, whatever their state: the caller picks the usable ones. The same narrow
    /// global lookup as [`UserRepository::find_for_login`], every row of it.
    async fn logins_of(&self, email: &Email) -> Result<Vec<LoginRecord>, StoreError>;

    /// The account of an address, whatever tenants it is a member of (the narrow
    /// global lookup for adding a member: an existing account gets a pending membership
    /// instead of a second account).
    async fn find_account(&self, email: &Email) -> Result<Option<AccountId>, StoreError>;

    /// The tenants an account may work in, by tenant name: its accepted memberships
    /// (active or not, in active tenants or not), and each client that granted access to
    /// a partner the account is an accepted, active member of (one row per client, the
    /// partner with the lowest id; never through a membership that is itself held
    /// through a partner). A tenant where the account has a membership of its own is
    /// listed as that one only. The narrow global lookup behind `GET /me/tenants`, keyed
    /// by the verified principal's account (and reused by the portfolio).
    async fn memberships_of(&self, account: AccountId) -> Result<Vec<Membership>, StoreError>;

    /// The membership a switch of `account` into the scope's tenant signs into (and the
    /// partner it is held through, if it is), or `None` when it has no way in: its own membership there if it has one (accepted
    /// and active, else `None`); else, through a partner as in
    /// [`Self::memberships_of`], the client's membership held through that partner,
    /// created accepted on first use, its role set to the grant's (a role that moved ends
    /// that membership's sessions), and `None` if the client deactivated it. `None` too
    /// when the tenant is suspended.
    async fn enter(
        &self,
        scope: &TenantScope,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Option<(UserId, Option<TenantId>)>, StoreError>;

    /// The user, tenant and session behind a verified token, read in the scope of the
    /// token's tenant.
    async fn find_principal(
        &self,
        scope: &TenantScope,
        user: UserId,
        session: Uuid,
    ) -> Result<Option<PrincipalRecord>, StoreError>;

    async fn get(&self, scope: &TenantScope, id: UserId) -> Result<User, StoreError>;

    /// The scope's users ordered by id.
    async fn list(&self, scope: &TenantScope, page: PageRequest) -> Result<Page<User>, StoreError>;

    async fn insert(
        &self,
        scope: &TenantScope,
        user: &User,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// Replaces the user row with `user` (same id) if the stored row is still at
    /// `expected_version` (the version the caller read), storing `expected_version + 1`.
    /// `NotFound` when the row is gone, `Conflict::Version` when it moved on (nothing
    /// is written). A write that moves the `session_version` (password change,
    /// deactivation, role change) also voids the user's open reset and invitation links,
    /// in the same transaction; one that moves the account's session version (a new
    /// password) voids the open links of every membership of the account and writes
    /// [`account_event_elsewhere`] into the chain of each other tenant where the
    /// account has an accepted membership. A pending or deactivated membership's
    /// account is never written through it, and `accepted_at` is never written by it
    /// (only a sign-in or a link accepts).
    async fn update(
        &self,
        scope: &TenantScope,
        user: &User,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    async fn delete(
        &self,
        scope: &TenantScope,
        id: UserId,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// Sign-in sessions: refresh-token families with rotation.
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    /// Opens a family with its first token and records the sign-in on the user
    /// (`last_login_at`, and `accepted_at` if it was pending: the user's `version` does
    /// not move, so a sign-in never makes another writer's read stale), with the login
    /// event. A pending membership is accepted only under the rule of
    /// [`UserRepository::find_for_login`]; any other is `NotFound` (nothing written).
    async fn start(
        &self,
        scope: &TenantScope,
        family: &RefreshFamily,
        first: &TokenHash,
        idle_expires_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// The narrow global lookup of a presented refresh token.
    async fn find(&self, presented: &TokenHash) -> Result<Option<RefreshLookup>, StoreError>;

    /// Marks `presented` used and adds `next` to its family, atomically. False when the
    /// token had already been used (a parallel exchange won): the caller treats it as reuse.
    async fn rotate(
        &self,
        scope: &TenantScope,
        presented: &TokenHash,
        next: &TokenHash,
        idle_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Ends a family (logout, reuse detected), with its event.
    async fn revoke(
        &self,
        scope: &TenantScope,
        family: Uuid,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError>;
}

/// Single-use password-reset tokens, stored hashed.
#[async_trait::async_trait]
pub trait PasswordResetStore: Send + Sync {
    async fn issue(
        &self,
        scope: &TenantScope,
        user: UserId,
        token: &TokenHash,
        expires_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError>;

    /// The narrow global lookup: the owner of an unused, unexpired token.
    async fn find(
        &self,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<(TenantId, UserId)>, StoreError>;

    /// Uses the token and stores `user` (new password, sessions ended) atomically, if the
    /// user row is still at `expected_version` (stored as `expected_version + 1`), with
    /// the effects of [`UserRepository::update`] on links and other tenants' trails. For a
    /// pending membership the token itself (not the tenant's rights) sets the account's
    /// password and moves its session version, and the membership becomes accepted.
    /// False when the token was used or expired in the meantime; `Conflict::Version`
    /// (token left unused, nothing written) when the user row moved on.
    async fn redeem(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        user: &User,
        expected_version: i32,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;
}

/// Failure counters for sign-in throttling, shared by every API instance.
#[async_trait::async_trait]
pub trait LoginThrottle: Send + Sync {
    /// The state of each key (same order), `None` where nothing was counted.
    async fn load(&self, keys: &[ThrottleKey]) -> Result<Vec<Option<ThrottleState>>, StoreError>;

    /// Counts one failure against each key, atomically per key, and returns what was
    /// counted (same order): the state after this failure, as
    /// `ThrottlePolicy::after_failure` computes it, and the `last_failure_at` before it.
    /// Read and written in one step, so parallel callers see distinct counts.
    async fn record_failure(
        &self,
        keys: &[ThrottleKey],
        policy: &ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<Vec<CountedFailure>, StoreError>;

    /// Takes back one counted failure per key (a reserved attempt that turned out
    /// good): the count drops by one and `last_failure_at` is kept; a key whose count
    /// reaches zero is forgotten (`load` answers `None`). Keys never counted are left
    /// alone.
    async fn release(&self, keys: &[ThrottleKey]) -> Result<(), StoreError>;

    async fn clear(&self, keys: &[ThrottleKey]) -> Result<(), StoreError>;
}

/// A failure inside a crypto adapter (never caused by user input).
#[derive(Debug, thiserror::Error)]
#[error("crypto failure: {0}")]
pub struct CryptoError(pub String);

/// Password hashing, run off the async executor by the adapter.
#[async_trait::async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, CryptoError>;

    /// Whether `password` matches. An unset hash takes as long as a real one and fails,
    /// so an unknown account cannot be told apart by timing.
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, CryptoError>;
}

/// Why a presented access token was refused (for logs; clients see one answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access token rejected: {0}")]
pub struct TokenRejected(pub &'static str);

/// Signing and verifying access tokens.
pub trait AccessTokens: Send + Sync {
    fn issue(&self, claims: &AccessClaims) -> Result<String, CryptoError>;
    fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, TokenRejected>;
    fn lifetime(&self) -> Duration;
}

/// Randomness and hashing for opaque tokens.
pub trait Secrets: Send + Sync {
    /// 256 random bits, URL-safe, and their hash.
    fn opaque_token(&self) -> OpaqueToken;
    fn hash_token(&self, plain: &str) -> TokenHash;
}

/// The mail system's rules for an address typed by someone: whether mail can be sent
/// to it, and its one canonical form (Unicode NFC, the domain as IDNA A-labels), so
/// that spellings of one mailbox are one account. Implemented by the mail adapter with
/// the mailer's own parser.
pub trait AddressRules: Send + Sync {
    /// The canonical form of `address` (trimmed, not yet lower-cased), or why it is
    /// refused (a message for the person who typed it).
    fn canonical(&self, address: &str) -> Result<String, &'static str>;
}

#[derive(Debug, thiserror::Error)]
#[error("mail not accepted: {0}")]
pub struct MailError(pub String);

/// Outgoing e-mail. Implementations accept a message for delivery and return quickly.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError>;
}

/// The TOTP algorithm (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), the sealing of
/// its secret and the recovery codes. Implemented by the crypto adapter; the domain never
/// holds an open secret beyond showing a new one once.
pub trait SecondFactor: Send + Sync {
    /// A new random secret for `account`, sealed (bound to the account), with its
    /// base32 form and `otpauth://` URI naming `label` (the account's address).
    fn new_totp(&self, account: AccountId, label: &str) -> Result<NewTotp, CryptoError>;

    /// The step within one step of `now` (before or after) whose code is `code`, or
    /// `None`. A secret that does not open for `account` is an error.
    fn check_code(
        &self,
        account: AccountId,
        sealed: &SealedSecret,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TimeStep>, CryptoError>;

    /// [`crate::mfa::RECOVERY_CODE_COUNT`] fresh random recovery codes for `account`.
    fn recovery_codes(&self, account: AccountId) -> RecoveryCodes;

    /// The keyed hash of a recovery code as typed (spaces, dashes and case ignored).
    fn hash_recovery_code(&self, account: AccountId, code: &str) -> RecoveryHash;
}

/// Accounts' second factors (reached through a membership of the scope's tenant, as the
/// account is) and the sign-in challenges (tenant data). Every change of a factor is
/// written with its event in the scope's tenant chain.
#[async_trait::async_trait]
pub trait SecondFactorStore: Send + Sync {
    /// The account's factor, confirmed or not.
    async fn factor(
        &self,
        scope: &TenantScope,
        account: AccountId,
    ) -> Result<Option<TotpFactor>, StoreError>;

    /// How many tenants the account works in: its accepted, active memberships and the
    /// clients its consultancies' grants let it into, each tenant once (the narrow
    /// global count; 0 unless the account is an accepted member of the scope's tenant).
    async fn accepted_memberships(
        &self,
        scope: &TenantScope,
        account: AccountId,
    ) -> Result<u32, StoreError>;

    /// Stores a new unconfirmed factor, replacing an unconfirmed one. False (nothing
    /// written) when a confirmed factor exists.
    async fn start_enrolment(
        &self,
        scope: &TenantScope,
        account: AccountId,
        sealed: &SealedSecret,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;

    /// Confirms the unconfirmed factor, remembering `step` as used and storing the
    /// recovery codes. False (nothing written) when there is no unconfirmed factor.
    async fn confirm(
        &self,
        scope: &TenantScope,
        account: AccountId,
        step: TimeStep,
        recovery: &[RecoveryHash],
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;

    /// Marks `step` used on the confirmed factor, atomically, if it is newer than the
    /// last step used. False when it is not (a replayed code) or there is no confirmed
    /// factor.
    async fn use_step(
        &self,
        scope: &TenantScope,
        account: AccountId,
        step: TimeStep,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Removes one unused recovery code of the confirmed factor, atomically. False when
    /// it is not one (or was used).
    async fn use_recovery_code(
        &self,
        scope: &TenantScope,
        account: AccountId,
        code: &RecoveryHash,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;

    /// Replaces the recovery codes of the confirmed factor. False when there is none.
    async fn replace_recovery_codes(
        &self,
        scope: &TenantScope,
        account: AccountId,
        recovery: &[RecoveryHash],
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;

    /// Removes the account's factor. False when there is none.
    async fn remove(
        &self,
        scope: &TenantScope,
        account: AccountId,
        event: PendingEvent,
    ) -> Result<bool, StoreError>;

    /// Stores a challenge for `user` of the scope's tenant. The password was right: like
    /// [`SessionStore::start`], this accepts a pending membership under the rule of
    /// [`UserRepository::find_for_login`] (so it may enrol a second factor); any other
    /// pending membership is `NotFound` (nothing written).
    async fn issue_challenge(
        &self,
        scope: &TenantScope,
        user: UserId,
        token: &TokenHash,
        purpose: ChallengePurpose,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// The narrow global lookup of a presented challenge.
    async fn find_challenge(
        &self,
        token: &TokenHash,
    ) -> Result<Option<ChallengeLookup>, StoreError>;

    /// Uses the challenge up, atomically. False when it was used or expired meanwhile.
    async fn take_challenge(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}
