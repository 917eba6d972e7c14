//! The identity use cases (`SignIn`, `Accounts`, `TenantAdmin`) on the memory store, with
//! small fakes for hashing, tokens, secrets and mail: sign-up, sign-in and its throttle,
//! refresh rotation and reuse, logout, password reset and change, the role rules of tenant
//! administration, validation errors naming their field, version conflicts, the audit
//! events written (action and actor), the last-owner rule, switching between tenants,
//! partners' access, and multi-factor sign-in (enrolment, codes used once, throttling,
//! recovery codes, required second factors). No database: seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use aura_adapter_memory::MemoryStore;
use aura_audit::{
    Actor, AuditAction, AuditLog, AuditQuery, AuditRecord, MixHasher, RequestContext,
};
use aura_identity::actions;
use aura_identity::{
    AccessClaims, AccountTenant, AuthConfig, Authenticated, CustomRole, Email, FullName,
    IdentityError, IdentityPorts, IdentityServices, LoginRequest, MemberScope, Membership,
    NewMember, OpaqueToken, PartnerGrant, Password, PasswordHash, ProfilePatch, Registration,
    RoleDraft, SETTING_CONSULTANCY, SignInOutcome, TenantPatch, TokenHash, TokenPair, User,
    UserPatch,
    mail::OutgoingMail,
    mfa::{
        ChallengePurpose, MfaChallenge, NewTotp, RecoveryCodes, RecoveryHash, SealedSecret,
        SecondProof, TimeStep,
    },
    ports::{
        AccessTokens, AddressRules, CryptoError, MailError, Mailer, PasswordHasher, SecondFactor,
        Secrets, TokenRejected,
    },
};
use aura_jobs::{JobRegistry, RetryPolicy, Worker, WorkerPorts, WorkerSettings};
use aura_shared_kernel::{
    Clock, FixedClock, PageRequest, Permission, Role, SystemScope, Tenant, TenantId, TenantName,
    TenantScope, TenantSettings, TenantSlug, UserId,
};
use serde_json::json;
use time::{Duration, OffsetDateTime, macros::datetime};

// ------------------------------------------------------------------------------ fakes

/// Not a hash: enough for the rules, and instant.
struct PlainHasher;

#[async_trait::async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, CryptoError> {
        Ok(PasswordHash::from_stored(format!(
            "plain${}",
            password.expose()
        )))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, CryptoError> {
        Ok(!hash.is_unset() && hash.as_str() == format!("plain${}", password.expose()))
    }
}

/// Access tokens as a lookup table: a token is valid if issued here and not expired.
struct TableTokens {
    issued: Mutex<HashMap<String, AccessClaims>>,
    next: AtomicU64,
}

impl AccessTokens for TableTokens {
    fn issue(&self, claims: &AccessClaims) -> Result<String, CryptoError> {
        let token = format!("access-{}", self.next.fetch_add(1, Ordering::SeqCst));
        self.issued
            .lock()
            .unwrap()
            .insert(token.clone(), claims.clone());
        Ok(token)
    }

    fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, TokenRejected> {
        let claims = self
            .issued
            .lock()
            .unwrap()
            .get(token)
            .cloned()
            .ok_or(TokenRejected("unknown"))?;
        if now >= claims.expires_at {
            return Err(TokenRejected("expired"));
        }
        Ok(claims)
    }

    fn lifetime(&self) -> Duration {
        Duration::minutes(15)
    }
}

/// Opaque tokens from a counter; their "hash" is their bytes (distinct tokens, distinct
/// hashes, which is all the rules need).
struct CountingSecrets(AtomicU64);

impl Secrets for CountingSecrets {
    fn opaque_token(&self) -> OpaqueToken {
        let plain = format!("opaque-{:020}", self.0.fetch_add(1, Ordering::SeqCst));
        OpaqueToken {
            hash: self.hash_token(&plain),
            plain,
        }
    }

    fn hash_token(&self, plain: &str) -> TokenHash {
        let mut bytes = [0u8; 32];
        for (i, b) in plain.bytes().enumerate() {
            bytes[i % 32] ^= b.wrapping_add(i as u8);
        }
        TokenHash(bytes)
    }
}

/// Not TOTP: a secret is a number, and the code of a step is a fixed function of both
/// (the real algorithm has its own tests in the crypto adapter). Enough for the rules:
/// one step either side, replay, recovery codes used once.
struct CountingTotp(AtomicU64);

impl CountingTotp {
    /// The code an authenticator holding `secret` shows at `at`.
    fn code(secret: &str, at: OffsetDateTime) -> String {
        Self::code_of_step(secret.parse().unwrap(), at.unix_timestamp() / 30)
    }

    fn code_of_step(seed: i64, step: i64) -> String {
        format!("{:06}", (seed * 7_919 + step * 104_729) % 1_000_000)
    }
}

impl SecondFactor for CountingTotp {
    fn new_totp(
        &self,
        account: aura_identity::AccountId,
        _label: &str,
    ) -> Result<NewTotp, CryptoError> {
        let seed = self.0.fetch_add(1, Ordering::SeqCst);
        let mut sealed = account.as_uuid().as_bytes().to_vec();
        sealed.extend(seed.to_be_bytes());
        Ok(NewTotp {
            secret_base32: seed.to_string(),
            uri: format!("otpauth://totp/test?secret={seed}"),
            sealed: SealedSecret(sealed),
        })
    }

    fn check_code(
        &self,
        account: aura_identity::AccountId,
        sealed: &SealedSecret,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Option<TimeStep>, CryptoError> {
        let (owner, seed) = sealed.0.split_at(16);
        if owner != account.as_uuid().as_bytes() {
            return Err(CryptoError("sealed for another account".to_owned()));
        }
        let seed = i64::from_be_bytes(seed.try_into().unwrap());
        let now = now.unix_timestamp() / 30;
        Ok((now - 1..=now + 1)
            .find(|&step| Self::code_of_step(seed, step) == code)
            .map(TimeStep))
    }

    fn recovery_codes(&self, account: aura_identity::AccountId) -> RecoveryCodes {
        let plain: Vec<String> = (0..10)
            .map(|_| format!("R{:09}", self.0.fetch_add(1, Ordering::SeqCst)))
            .collect();
        let hashes = plain
            .iter()
            .map(|code| self.hash_recovery_code(account, code))
            .collect();
        RecoveryCodes { plain, hashes }
    }

    fn hash_recovery_code(&self, account: aura_identity::AccountId, code: &str) -> RecoveryHash {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(account.as_uuid().as_bytes());
        for (i, b) in code.bytes().enumerate() {
            bytes[16 + i % 16] ^= b;
        }
        RecoveryHash(bytes)
    }
}

/// Takes every address as typed (the mail adapter's rules have their own tests).
struct AsTyped;

impl AddressRules for AsTyped {
    fn canonical(&self, address: &str) -> Result<String, &'static str> {
        Ok(address.to_owned())
    }
}

/// Keeps every mail.
#[derive(Default)]
struct Outbox(Mutex<Vec<OutgoingMail>>);

struct OutboxMailer(Arc<Outbox>);

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        self.0.0.lock().unwrap().push(mail);
        Ok(())
    }
}

// ------------------------------------------------------------------------------ world

const PASSWORD: &str = "correct horse battery staple";
const RESET_LINK: &str = "https://app.example/reset?token={token}";

struct World {
    store: MemoryStore,
    clock: Arc<FixedClock>,
    outbox: Arc<Outbox>,
    identity: IdentityServices,
    /// The unused recovery codes of the second factors [`World::session`] enrolled, by
    /// address.
    recovery_codes: Mutex<HashMap<String, Vec<String>>>,
}

impl World {
    fn new() -> Self {
        Self::with_config(AuthConfig {
            reset_url_template: RESET_LINK.to_owned(),
            ..AuthConfig::default()
        })
    }

    fn with_config(config: AuthConfig) -> Self {
        let clock = Arc::new(FixedClock::at(datetime!(2026-12-01 09:00 UTC)));
        let store = MemoryStore::new(Arc::new(MixHasher), clock.clone());
        let outbox = Arc::new(Outbox::default());
        let identity = IdentityServices::new(
            IdentityPorts {
                tenants: Arc::new(store.clone()),
                users: Arc::new(store.clone()),
                roles: Arc::new(store.clone()),
                sessions: Arc::new(store.clone()),
                resets: Arc::new(store.clone()),
                throttle: Arc::new(store.clone()),
                second_factors: Arc::new(store.clone()),
                totp: Arc::new(CountingTotp(AtomicU64::new(1))),
                audit: Arc::new(store.clone()),
                hasher: Arc::new(PlainHasher),
                tokens: Arc::new(TableTokens {
                    issued: Mutex::default(),
                    next: AtomicU64::new(1),
                }),
                secrets: Arc::new(CountingSecrets(AtomicU64::new(1))),
                addresses: Arc::new(AsTyped),
                jobs: Arc::new(store.clone()),
                mailer: Arc::new(OutboxMailer(outbox.clone())),
                clock: clock.clone(),
            },
            config,
        );
        Self {
            store,
            clock,
            outbox,
            identity,
            recovery_codes: Mutex::default(),
        }
    }

    async fn sign_up(&self, organisation: &str, email: &str) -> (Tenant, User) {
        self.identity
            .sign_in
            .register(registration(organisation, email), &ctx())
            .await
            .expect("sign-up")
    }

    async fn login(&self, email: &str, password: &str) -> Result<TokenPair, IdentityError> {
        self.login_from(email, password, ip(1)).await
    }

    /// Signs in with the password alone: a second-factor challenge is a test failure.
    async fn login_from(
        &self,
        email: &str,
        password: &str,
        from: IpAddr,
    ) -> Result<TokenPair, IdentityError> {
        Ok(match self.sign_in_from(email, password, from).await? {
            SignInOutcome::Tokens(pair) => pair,
            SignInOutcome::SecondFactor(challenge) => {
                panic!("unexpected second-factor challenge: {challenge:?}")
            }
        })
    }

    /// What the password step answers.
    async fn sign_in_from(
        &self,
        email: &str,
        password: &str,
        from: IpAddr,
    ) -> Result<SignInOutcome, IdentityError> {
        self.identity
            .sign_in
            .login(
                LoginRequest {
                    email: Email::parse(email).unwrap(),
                    password: Password::presented(password, "password").unwrap(),
                    client_ip: Some(from),
                },
                &ctx(),
            )
            .await
    }

    /// Signs in and authenticates the access token, as a request would. An account that
    /// needs a second factor takes the second step as the person would (see
    /// [`World::second_factor_of`]).
    async fn session(&self, email: &str) -> Authenticated {
        let pair = match self.sign_in_from(email, PASSWORD, ip(1)).await {
            Ok(SignInOutcome::Tokens(pair)) => pair,
            Ok(SignInOutcome::SecondFactor(challenge)) => {
                self.second_factor_of(email, &challenge).await
            }
            Err(error) => panic!("sign-in of {email}: {error:?}"),
        };
        self.identity
            .sign_in
            .authenticate(&pair.access_token)
            .await
            .expect("authenticate")
    }

    /// The second sign-in step: an account that must enrol a second factor enrols one
    /// (its recovery codes are kept), one that has a factor signs in with a kept recovery
    /// code (a TOTP code would be a replay at the fixed clock's time step).
    async fn second_factor_of(&self, email: &str, challenge: &MfaChallenge) -> TokenPair {
        let mfa = &self.identity.second_factors;
        if challenge.purpose == ChallengePurpose::Enrolment {
            let enrolment = mfa
                .start_with_challenge(&challenge.token, &ctx())
                .await
                .expect("enrolment at sign-in");
            let code = CountingTotp::code(&enrolment.secret_base32, self.clock.now());
            let (pair, codes) = mfa
                .confirm_with_challenge(&challenge.token, &code, Some(ip(1)), &ctx())
                .await
                .expect("enrolment confirmed");
            self.recovery_codes
                .lock()
                .unwrap()
                .insert(email.to_owned(), codes);
            return pair;
        }
        let code = (self.recovery_codes.lock().unwrap().get_mut(email))
            .and_then(Vec::pop)
            .expect("a second factor `session` enrolled, with codes left");
        self.second_step(challenge, SecondProof::RecoveryCode(code))
            .await
            .expect("the second step")
    }

    /// The tenant admin's `create_user`, acting as `by`.
    async fn add(&self, by: &Authenticated, member: NewMember) -> Result<User, IdentityError> {
        self.identity
            .admin
            .create_user(&by.scope, member, &ctx())
            .await
    }

    /// A user added by the tenant's owner, with the standard password.
    async fn member(&self, owner: &Authenticated, email: &str, role: Role) -> User {
        self.identity
            .admin
            .create_user(&owner.scope, new_member(email, role, true), &ctx())
            .await
            .expect("create user")
    }

    /// The tenant admin's `update_user`, acting as `by`.
    async fn patch_user(
        &self,
        by: &Authenticated,
        id: UserId,
        patch: UserPatch,
    ) -> Result<User, IdentityError> {
        self.identity
            .admin
            .update_user(&by.scope, id, patch, &ctx())
            .await
    }

    async fn events(&self, scope: &TenantScope, action: AuditAction) -> Vec<AuditRecord> {
        let query = AuditQuery {
            action: Some(action.to_string()),
            limit: 500,
            ..AuditQuery::default()
        };
        self.store.list(scope, &query).await.unwrap().items
    }

    /// Runs the queued mail jobs, as the worker does.
    async fn deliver(&self) {
        let mut registry = JobRegistry::new();
        registry.register(self.identity.mail_jobs()).unwrap();
        let worker = Worker::new(
            WorkerPorts {
                queue: Arc::new(self.store.clone()),
                clock: self.clock.clone(),
            },
            WorkerSettings {
                worker_id: "use-case test".to_owned(),
                lease: Duration::minutes(5),
                batch: 100,
                retry: RetryPolicy::default(),
            },
            registry,
        );
        let system = SystemScope::for_platform_operation("use-case test");
        while worker.run_once(&system).await.unwrap() > 0 {}
    }

    /// The token of the latest mail's link (queued mail delivered first).
    async fn mailed_token(&self) -> String {
        self.deliver().await;
        let mails = self.outbox.0.lock().unwrap();
        let text = &mails.last().expect("a mail was sent").text;
        let start = text.find("token=").expect("a link in the mail") + "token=".len();
        text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect()
    }

    async fn mail_count(&self) -> usize {
        self.deliver().await;
        self.outbox.0.lock().unwrap().len()
    }
}

/// Who acted in each of `events`.
fn actors(events: &[AuditRecord]) -> Vec<Actor> {
    events.iter().map(|e| e.actor).collect()
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn registration(organisation: &str, email: &str) -> Registration {
    Registration {
        organisation_name: TenantName::parse(organisation).unwrap(),
        slug: None,
        email: Email::parse(email).unwrap(),
        full_name: FullName::parse("Olivia Owner").unwrap(),
        password: Password::new_checked(PASSWORD, "password", Some(email)).unwrap(),
    }
}

fn new_member(email: &str, role: Role, with_password: bool) -> NewMember {
    NewMember {
        email: Email::parse(email).unwrap(),
        full_name: FullName::parse("Max Member").unwrap(),
        role,
        password: with_password
            .then(|| Password::new_checked(PASSWORD, "password", Some(email)).unwrap()),
    }
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, IdentityError>, expected: &str) {
    match result {
        Err(IdentityError::Conflict { code, .. }) => assert_eq!(code, expected),
        other => panic!("expected the conflict `{expected}`, got {other:?}"),
    }
}

fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, IdentityError>, permission: Permission) {
    match result {
        Err(IdentityError::Forbidden(denied)) => assert_eq!(denied.0, permission),
        other => panic!("expected a refusal for {permission:?}, got {other:?}"),
    }
}

fn assert_invalid_field<T: std::fmt::Debug>(result: Result<T, IdentityError>, field: &str) {
    match result {
        Err(IdentityError::Validation(errors)) => {
            assert!(errors.names(field), "no error for `{field}` in {errors:?}")
        }
        other => panic!("expected a validation error on `{field}`, got {other:?}"),
    }
}

// ------------------------------------------------------------------------------ sign-up

#[tokio::test]
async fn sign_up_creates_a_tenant_and_its_owner_and_audits_both() {
    let world = World::new();
    let (tenant, owner) = world.sign_up("Acme GmbH", "olivia@acme.example").await;
    assert_eq!(owner.role, Role::Owner);
    assert_eq!(owner.tenant_id, tenant.id);
    assert_eq!(tenant.slug.as_str(), "acme-gmbh");

    let auth = world.session("olivia@acme.example").await;
    assert_eq!(auth.scope.tenant_id(), tenant.id);
    assert_eq!(auth.scope.role(), Some(Role::Owner));
    for action in [actions::TENANT_CREATED, actions::USER_CREATED] {
        let events = world.events(&auth.scope, action.clone()).await;
        assert_eq!(actors(&events), [Actor::User(owner.id)], "{action}");
    }

    // The same name again gets the next free slug.
    let (second, _) = world.sign_up("Acme GmbH", "other@acme.example").await;
    assert_eq!(second.slug.as_str(), "acme-gmbh-2");
}

#[tokio::test]
async fn sign_up_refuses_a_taken_slug_or_address_and_can_be_switched_off() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;

    let mut taken_slug = registration("Other", "new@other.example");
    taken_slug.slug = Some(TenantSlug::parse("acme").unwrap());
    let result = world.identity.sign_in.register(taken_slug, &ctx()).await;
    match result {
        Err(IdentityError::Conflict { code, field, .. }) => {
            assert_eq!((code, field), ("slug_taken", Some("slug")));
        }
        other => panic!("expected slug_taken, got {other:?}"),
    }

    let taken_email = registration("Other", "olivia@acme.example");
    let result = world.identity.sign_in.register(taken_email, &ctx()).await;
    assert_conflict(result, "email_taken");

    let closed = World::with_config(AuthConfig {
        registration_enabled: false,
        ..AuthConfig::default()
    });
    let result = closed
        .identity
        .sign_in
        .register(registration("Acme", "olivia@acme.example"), &ctx())
        .await;
    assert!(matches!(result, Err(IdentityError::RegistrationDisabled)));
    // The platform operation works whether or not sign-up is open.
    let system = SystemScope::for_platform_operation("use-case test");
    let (tenant, owner) = closed
        .identity
        .admin
        .create_tenant(&system, registration("Acme", "olivia@acme.example"))
        .await
        .unwrap();
    assert_eq!((owner.role, owner.tenant_id), (Role::Owner, tenant.id));
}

// ------------------------------------------------------------------------------ sign-in

#[tokio::test]
async fn a_failed_sign_in_gives_one_answer_and_is_audited_for_known_accounts() {
    let world = World::new();
    let (_, owner) = world.sign_up("Acme", "olivia@acme.example").await;

    let wrong = world.login("olivia@acme.example", "not the password").await;
    assert!(matches!(wrong, Err(IdentityError::InvalidCredentials)));
    let unknown = world.login("nobody@acme.example", PASSWORD).await;
    assert!(matches!(unknown, Err(IdentityError::InvalidCredentials)));

    let auth = world.session("olivia@acme.example").await;
    let failed = world.events(&auth.scope, actions::USER_LOGIN_FAILED).await;
    assert_eq!(
        actors(&failed),
        [Actor::User(owner.id)],
        "only the known account's failure is audited"
    );
    assert_eq!(failed[0].changes["reason"], json!("wrong_password"));
    let succeeded = world
        .events(&auth.scope, actions::USER_LOGIN_SUCCEEDED)
        .await;
    assert_eq!(actors(&succeeded), [Actor::User(owner.id)]);
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_from_that_address_even_with_the_right_password() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let free = AuthConfig::default().throttle.account_address_free;
    for _ in 0..free {
        let result = world
            .login_from("olivia@acme.example", "wrong guess", ip(66))
            .await;
        assert!(matches!(result, Err(IdentityError::InvalidCredentials)));
    }
    let throttled = world
        .login_from("olivia@acme.example", PASSWORD, ip(66))
        .await;
    match throttled {
        Err(IdentityError::Throttled { retry_after_secs }) => assert!(retry_after_secs >= 1),
        other => panic!("expected a throttled answer, got {other:?}"),
    }
    // The owner at their own address is not slowed down by the attacker's failures.
    world
        .login_from("olivia@acme.example", PASSWORD, ip(7))
        .await
        .expect("another address signs in");
    // Once the delay has passed, the right password works from there too.
    world.clock.advance(Duration::minutes(16));
    world
        .login_from("olivia@acme.example", PASSWORD, ip(66))
        .await
        .expect("after the delay");
}

#[tokio::test]
async fn inactive_users_and_suspended_tenants_cannot_sign_in_or_use_their_tokens() {
    let world = World::new();
    let (tenant, _) = world.sign_up("Acme", "olivia@acme.example").await;
    let owner = world.session("olivia@acme.example").await;
    let member = world.member(&owner, "max@acme.example", Role::Member).await;
    let member_pair = world.login("max@acme.example", PASSWORD).await.unwrap();

    world
        .patch_user(
            &owner,
            member.id,
            UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let refused = world.login("max@acme.example", PASSWORD).await;
    assert!(matches!(refused, Err(IdentityError::InvalidCredentials)));
    let stale = world
        .identity
        .sign_in
        .authenticate(&member_pair.access_token)
        .await;
    assert!(matches!(stale, Err(IdentityError::InvalidToken)));

    let owner_pair = world.login("olivia@acme.example", PASSWORD).await.unwrap();
    let system = SystemScope::for_platform_operation("use-case test");
    let suspended = world
        .identity
        .admin
        .set_tenant_active(&system, tenant.id, false)
        .await
        .unwrap();
    assert!(!suspended.is_active);
    let refused = world.login("olivia@acme.example", PASSWORD).await;
    assert!(matches!(refused, Err(IdentityError::InvalidCredentials)));
    let stale = world
        .identity
        .sign_in
        .authenticate(&owner_pair.access_token)
        .await;
    assert!(matches!(stale, Err(IdentityError::InvalidToken)));
    let refresh = world
        .identity
        .sign_in
        .refresh(&owner_pair.refresh_token, &ctx())
        .await;
    assert!(matches!(refresh, Err(IdentityError::InvalidToken)));
}

// ------------------------------------------------------------------------------ sessions

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_whole_session() {
    let world = World::new();
    let (_, owner) = world.sign_up("Acme", "olivia@acme.example").await;
    let first = world.login("olivia@acme.example", PASSWORD).await.unwrap();
    let sign_in = &world.identity.sign_in;

    let second = sign_in.refresh(&first.refresh_token, &ctx()).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    sign_in.authenticate(&second.access_token).await.unwrap();

    // The first token again: reuse. The session ends for every token of the family.
    let replay = sign_in.refresh(&first.refresh_token, &ctx()).await;
    assert!(matches!(replay, Err(IdentityError::InvalidToken)));
    let after = sign_in.refresh(&second.refresh_token, &ctx()).await;
    assert!(matches!(after, Err(IdentityError::InvalidToken)));
    let access = sign_in.authenticate(&second.access_token).await;
    assert!(matches!(access, Err(IdentityError::InvalidToken)));

    let auth = world.session("olivia@acme.example").await;
    let reused = world
        .events(&auth.scope, actions::AUTH_REFRESH_REUSED)
        .await;
    assert_eq!(
        actors(&reused),
        [Actor::User(owner.id)],
        "one audit event for the reuse"
    );
    // A further replay into the revoked session is not audited again.
    let again = sign_in.refresh(&first.refresh_token, &ctx()).await;
    assert!(matches!(again, Err(IdentityError::InvalidToken)));
    assert_eq!(
        world
            .events(&auth.scope, actions::AUTH_REFRESH_REUSED)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn refresh_tokens_die_when_idle_too_long_and_garbage_is_refused() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let pair = world.login("olivia@acme.example", PASSWORD).await.unwrap();
    let sign_in = &world.identity.sign_in;
    for garbage in ["", "not-a-token", &"x".repeat(600)] {
        let result = sign_in.refresh(garbage, &ctx()).await;
        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }
    world
        .clock
        .advance(AuthConfig::default().refresh_idle + Duration::seconds(1));
    let idle = sign_in.refresh(&pair.refresh_token, &ctx()).await;
    assert!(matches!(idle, Err(IdentityError::InvalidToken)));
}

#[tokio::test]
async fn logout_ends_the_session_and_only_that_session() {
    let world = World::new();
    let (_, owner) = world.sign_up("Acme", "olivia@acme.example").await;
    let laptop = world.login("olivia@acme.example", PASSWORD).await.unwrap();
    let phone = world.login("olivia@acme.example", PASSWORD).await.unwrap();
    let sign_in = &world.identity.sign_in;
    let auth = sign_in.authenticate(&laptop.access_token).await.unwrap();

    sign_in.logout(&auth, &ctx()).await.unwrap();
    let access = sign_in.authenticate(&laptop.access_token).await;
    assert!(matches!(access, Err(IdentityError::InvalidToken)));
    let refresh = sign_in.refresh(&laptop.refresh_token, &ctx()).await;
    assert!(matches!(refresh, Err(IdentityError::InvalidToken)));

    let other = sign_in.authenticate(&phone.access_token).await.unwrap();
    let logged_out = world.events(&other.scope, actions::USER_LOGGED_OUT).await;
    assert_eq!(actors(&logged_out), [Actor::User(owner.id)]);
    assert_eq!(
        logged_out[0].entity_id.as_deref(),
        Some(auth.session_id.to_string().as_str())
    );
}

// ------------------------------------------------------------------------------ passwords

#[tokio::test]
async fn a_password_reset_sets_a_new_password_once_and_ends_every_session() {
    let world = World::new();
    let (_, owner) = world.sign_up("Acme", "olivia@acme.example").await;
    let old = world.login("olivia@acme.example", PASSWORD).await.unwrap();
    let sign_in = &world.identity.sign_in;

    // Unknown addresses get the same answer and no mail.
    let unknown = Email::parse("nobody@acme.example").unwrap();
    sign_in
        .forgot_password(&unknown, Some(ip(1)), &ctx())
        .await
        .unwrap();
    assert_eq!(world.mail_count().await, 0);

    let email = Email::parse("olivia@acme.example").unwrap();
    sign_in
        .forgot_password(&email, Some(ip(1)), &ctx())
        .await
        .unwrap();
    assert_eq!(world.mail_count().await, 1);
    let token = world.mailed_token().await;

    let weak = sign_in.reset_password(&token, "short", &ctx()).await;
    assert_invalid_field(weak, "password");
    let bad_token = sign_in
        .reset_password("forged", "a brand new long passphrase", &ctx())
        .await;
    assert!(matches!(bad_token, Err(IdentityError::InvalidToken)));

    sign_in
        .reset_password(&token, "a brand new long passphrase", &ctx())
        .await
        .unwrap();
    let again = sign_in
        .reset_password(&token, "yet another long passphrase", &ctx())
        .await;
    assert!(matches!(again, Err(IdentityError::InvalidToken)), "one use");

    let access = sign_in.authenticate(&old.access_token).await;
    assert!(matches!(access, Err(IdentityError::InvalidToken)));
    let refresh = sign_in.refresh(&old.refresh_token, &ctx()).await;
    assert!(matches!(refresh, Err(IdentityError::InvalidToken)));
    let old_password = world.login("olivia@acme.example", PASSWORD).await;
    assert!(matches!(
        old_password,
        Err(IdentityError::InvalidCredentials)
    ));
    let pair = world
        .login("olivia@acme.example", "a brand new long passphrase")
        .await
        .unwrap();
    let auth = sign_in.authenticate(&pair.access_token).await.unwrap();
    // The link was issued by the mail job (the system), the reset done by the user.
    for (action, actor) in [
        (actions::USER_PASSWORD_RESET_REQUESTED, Actor::System),
        (actions::USER_PASSWORD_RESET, Actor::User(owner.id)),
    ] {
        let events = world.events(&auth.scope, action.clone()).await;
        assert_eq!(actors(&events), [actor], "{action}");
        assert_eq!(events[0].entity_id, Some(owner.id.to_string()));
    }
}

#[tokio::test]
async fn reset_requests_beyond_the_limit_are_dropped_silently() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let email = Email::parse("olivia@acme.example").unwrap();
    let free = AuthConfig::default().throttle.reset_for_free;
    for _ in 0..free + 3 {
        world
            .identity
            .sign_in
            .forgot_password(&email, Some(ip(1)), &ctx())
            .await
            .expect("the same answer every time");
    }
    assert_eq!(world.mail_count().await, free as usize);
}

#[tokio::test]
async fn a_password_change_checks_the_current_one_and_keeps_only_the_new_session() {
    let world = World::new();
    let (_, owner) = world.sign_up("Acme", "olivia@acme.example").await;
    let other_device = world.login("olivia@acme.example", PASSWORD).await.unwrap();
    let auth = world.session("olivia@acme.example").await;
    let accounts = &world.identity.accounts;

    let wrong = Password::presented("not my password", "current_password").unwrap();
    let result = accounts
        .change_password(&auth, &wrong, "a brand new long passphrase", None, &ctx())
        .await;
    assert_invalid_field(result, "current_password");
    let current = Password::presented(PASSWORD, "current_password").unwrap();
    let result = accounts
        .change_password(&auth, &current, "short", None, &ctx())
        .await;
    assert_invalid_field(result, "new_password");

    let fresh = accounts
        .change_password(&auth, &current, "a brand new long passphrase", None, &ctx())
        .await
        .unwrap();
    let sign_in = &world.identity.sign_in;
    let now = sign_in.authenticate(&fresh.access_token).await.unwrap();
    for stale in [&other_device.access_token] {
        let result = sign_in.authenticate(stale).await;
        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }
    let failed = world.events(&now.scope, actions::USER_LOGIN_FAILED).await;
    assert_eq!(failed.len(), 1, "the wrong current password is audited");
    assert_eq!(failed[0].changes["reason"], json!("wrong_current_password"));
    let changed = world
        .events(&now.scope, actions::USER_PASSWORD_CHANGED)
        .await;
    assert_eq!(actors(&changed), [Actor::User(owner.id)]);
}

#[tokio::test]
async fn a_password_change_on_a_stale_principal_is_a_version_conflict() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let owner = world.session("olivia@acme.example").await;
    let member = world.member(&owner, "max@acme.example", Role::Member).await;
    let max = world.session("max@acme.example").await;

    // An administrator renames Max after Max's request was authenticated.
    world
        .patch_user(
            &owner,
            member.id,
            UserPatch {
                full_name: Some(FullName::parse("Maximilian").unwrap()),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let current = Password::presented(PASSWORD, "current_password").unwrap();
    let result = world
        .identity
        .accounts
        .change_password(&max, &current, "a brand new long passphrase", None, &ctx())
        .await;
    assert_conflict(result, "stale");
    // Nothing changed: the old password still signs in.
    world.login("max@acme.example", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn the_own_profile_changes_with_an_audit_event_and_no_event_when_unchanged() {
    let world = World::new();
    let (_, owner) = world.sign_up("Acme", "olivia@acme.example").await;
    let auth = world.session("olivia@acme.example").await;
    let accounts = &world.identity.accounts;
    let renamed = accounts
        .update_profile(
            &auth,
            ProfilePatch {
                full_name: Some(FullName::parse("Olivia Q. Owner").unwrap()),
            },
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(renamed.full_name.as_str(), "Olivia Q. Owner");
    assert_eq!(renamed.version, owner.version + 1);
    accounts
        .update_profile(&auth, ProfilePatch::default(), &ctx())
        .await
        .unwrap();
    let updated = world.events(&auth.scope, actions::USER_UPDATED).await;
    assert_eq!(
        actors(&updated),
        [Actor::User(owner.id)],
        "an empty patch writes nothing"
    );
}

// ------------------------------------------------------------------------------ administration

#[tokio::test]
async fn each_role_administers_what_the_matrix_allows_and_refusals_are_audited() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let owner = world.session("olivia@acme.example").await;
    world.member(&owner, "adam@acme.example", Role::Admin).await;
    world.member(&owner, "max@acme.example", Role::Member).await;
    world
        .member(&owner, "vera@acme.example", Role::Viewer)
        .await;
    let admin = world.session("adam@acme.example").await;
    let member = world.session("max@acme.example").await;
    let viewer = world.session("vera@acme.example").await;
    let administration = &world.identity.admin;

    // Everyone reads the tenant and its users.
    for auth in [&owner, &admin, &member, &viewer] {
        administration.tenant(&auth.scope, &ctx()).await.unwrap();
        let users = administration
            .list_users(&auth.scope, PageRequest::first(50), &ctx())
            .await
            .unwrap();
        assert_eq!(users.items.len(), 4);
    }
    // Members and viewers manage nobody and not the tenant.
    for auth in [&member, &viewer] {
        let result = administration
            .create_user(
                &auth.scope,
                new_member("new@acme.example", Role::Viewer, true),
                &ctx(),
            )
            .await;
        assert_forbidden(result, Permission::ManageMembers);
        let result = administration
            .update_tenant(&auth.scope, TenantPatch::default(), &ctx())
            .await;
        assert_forbidden(result, Permission::ManageTenant);
    }
    // Admins manage members and viewers, but not owners and admins.
    let created = administration
        .create_user(
            &admin.scope,
            new_member("new@acme.example", Role::Viewer, true),
            &ctx(),
        )
        .await
        .unwrap();
    let result = administration
        .create_user(
            &admin.scope,
            new_member("boss@acme.example", Role::Admin, true),
            &ctx(),
        )
        .await;
    assert_forbidden(result, Permission::ManagePrivilegedUsers);
    let promote = UserPatch {
        role: Some(Role::Admin),
        ..UserPatch::default()
    };
    let result = administration
        .update_user(&admin.scope, created.id, promote.clone(), &ctx())
        .await;
    assert_forbidden(result, Permission::ManagePrivilegedUsers);
    let result = administration
        .delete_user(&admin.scope, owner.user.id, &ctx())
        .await;
    assert_forbidden(result, Permission::ManagePrivilegedUsers);
    // Owners grant the privileged roles.
    let promoted = administration
        .update_user(&owner.scope, created.id, promote, &ctx())
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Admin);

    let denied = world
        .events(&owner.scope, AuditAction::AUTH_PERMISSION_DENIED)
        .await;
    assert_eq!(denied.len(), 7, "every refusal above is audited");
    assert!(
        denied
            .iter()
            .any(|e| e.actor == Actor::User(viewer.user.id))
    );
    assert!(denied.iter().any(|e| e.actor == Actor::User(admin.user.id)));
}

#[tokio::test]
async fn user_changes_are_audited_by_kind_and_role_changes_end_sessions() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let owner = world.session("olivia@acme.example").await;
    let max = world.member(&owner, "max@acme.example", Role::Member).await;
    let max_pair = world.login("max@acme.example", PASSWORD).await.unwrap();
    let administration = &world.identity.admin;
    let patch = |full_name: Option<&str>, role: Option<Role>, is_active: Option<bool>| UserPatch {
        full_name: full_name.map(|n| FullName::parse(n).unwrap()),
        role,
        is_active,
        ..UserPatch::default()
    };

    let steps = [
        (patch(Some("Maximilian"), None, None), actions::USER_UPDATED),
        (
            patch(None, Some(Role::Viewer), None),
            actions::USER_ROLE_CHANGED,
        ),
        (patch(None, None, Some(false)), actions::USER_DEACTIVATED),
        (patch(None, None, Some(true)), actions::USER_REACTIVATED),
    ];
    let mut version = max.version;
    for (patch, action) in steps {
        let updated = administration
            .update_user(&owner.scope, max.id, patch, &ctx())
            .await
            .unwrap();
        version += 1;
        assert_eq!(updated.version, version, "{action}");
        let events = world.events(&owner.scope, action.clone()).await;
        let event = events
            .iter()
            .find(|e| e.entity_id == Some(max.id.to_string()))
            .unwrap_or_else(|| panic!("no {action} event"));
        assert_eq!(event.actor, Actor::User(owner.user.id), "{action}");
    }
    // The role change ended the session Max had before it.
    let stale = world
        .identity
        .sign_in
        .authenticate(&max_pair.access_token)
        .await;
    assert!(matches!(stale, Err(IdentityError::InvalidToken)));
    let max_now = world.session("max@acme.example").await;
    assert_eq!(max_now.scope.role(), Some(Role::Viewer));

    // An unchanged patch writes nothing.
    let before = world.events(&owner.scope, actions::USER_UPDATED).await;
    administration
        .update_user(&owner.scope, max.id, UserPatch::default(), &ctx())
        .await
        .unwrap();
    let after = world.events(&owner.scope, actions::USER_UPDATED).await;
    assert_eq!(before.len(), after.len());

    administration
        .delete_user(&owner.scope, max.id, &ctx())
        .await
        .unwrap();
    let deleted = world.events(&owner.scope, actions::USER_DELETED).await;
    assert_eq!(actors(&deleted), [Actor::User(owner.user.id)]);
    let gone = administration.user(&owner.scope, max.id, &ctx()).await;
    assert!(matches!(gone, Err(IdentityError::NotFound)));
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_deactivated_or_removed() {
    let world = World::new();
    let (tenant, _) = world.sign_up("Acme", "olivia@acme.example").await;
    let olivia = world.session("olivia@acme.example").await;
    let administration = &world.identity.admin;
    let demote = UserPatch {
        role: Some(Role::Admin),
        ..UserPatch::default()
    };
    let deactivate = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };

    let result = administration
        .update_user(&olivia.scope, olivia.user.id, demote.clone(), &ctx())
        .await;
    assert_conflict(result, "last_owner");
    let result = administration
        .update_user(&olivia.scope, olivia.user.id, deactivate.clone(), &ctx())
        .await;
    assert_conflict(result, "last_owner");
    let result = administration
        .delete_user(&olivia.scope, olivia.user.id, &ctx())
        .await;
    assert_conflict(result, "self_removal");
    // Removing the last owner is refused by the rule itself, whoever asks.
    let someone = TenantScope::for_tests(tenant.id, UserId::generate(), Role::Owner);
    let result = administration
        .delete_user(&someone, olivia.user.id, &ctx())
        .await;
    assert_conflict(result, "last_owner");

    // With a second owner, the first may step down; then the second is the last.
    let oscar = world
        .member(&olivia, "oscar@acme.example", Role::Owner)
        .await;
    let stepped_down = administration
        .update_user(&olivia.scope, olivia.user.id, demote.clone(), &ctx())
        .await
        .unwrap();
    assert_eq!(stepped_down.role, Role::Admin);
    let oscar_auth = world.session("oscar@acme.example").await;
    let result = administration
        .update_user(&oscar_auth.scope, oscar.id, demote, &ctx())
        .await;
    assert_conflict(result, "last_owner");
    let result = administration
        .update_user(&oscar_auth.scope, oscar.id, deactivate, &ctx())
        .await;
    assert_conflict(result, "last_owner");
    let stored = administration
        .user(&oscar_auth.scope, oscar.id, &ctx())
        .await
        .unwrap();
    assert_eq!((stored.role, stored.is_active), (Role::Owner, true));
}

#[tokio::test]
async fn an_invited_user_sets_a_password_through_the_mailed_link() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let owner = world.session("olivia@acme.example").await;
    let invited = world
        .identity
        .admin
        .create_user(
            &owner.scope,
            new_member("ines@acme.example", Role::Member, false),
            &ctx(),
        )
        .await
        .unwrap();
    assert!(invited.password_hash.is_unset());
    assert_eq!(world.mail_count().await, 1);
    let refused = world.login("ines@acme.example", PASSWORD).await;
    assert!(matches!(refused, Err(IdentityError::InvalidCredentials)));

    let token = world.mailed_token().await;
    world
        .identity
        .sign_in
        .reset_password(&token, "ines chose this passphrase", &ctx())
        .await
        .unwrap();
    world
        .login("ines@acme.example", "ines chose this passphrase")
        .await
        .unwrap();
    let created = world.events(&owner.scope, actions::USER_CREATED).await;
    let event = created
        .iter()
        .find(|e| e.entity_id == Some(invited.id.to_string()))
        .unwrap();
    assert_eq!(event.actor, Actor::User(owner.user.id));
    assert_eq!(event.changes["invited"], json!(true));
}

#[tokio::test]
async fn tenant_settings_change_with_an_audit_event_and_stay_in_their_tenant() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    world.sign_up("Beta", "bea@beta.example").await;
    let acme = world.session("olivia@acme.example").await;
    let beta = world.session("bea@beta.example").await;
    let administration = &world.identity.admin;

    let updated = administration
        .update_tenant(
            &acme.scope,
            TenantPatch {
                name: Some(TenantName::parse("Acme Europe").unwrap()),
                settings: Some(TenantSettings::parse(json!({"language": "de"})).unwrap()),
            },
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_str(), "Acme Europe");
    assert_eq!(updated.settings.language(), "de");
    assert_eq!(updated.version, acme.tenant.version + 1);
    let events = world.events(&acme.scope, actions::TENANT_UPDATED).await;
    assert_eq!(actors(&events), [Actor::User(acme.user.id)]);

    let untouched = administration.tenant(&beta.scope, &ctx()).await.unwrap();
    assert_eq!(untouched.name.as_str(), "Beta");
    // Another tenant's user is not found, not forbidden.
    let foreign = administration.user(&beta.scope, acme.user.id, &ctx()).await;
    assert!(matches!(foreign, Err(IdentityError::NotFound)));
    let foreign = administration
        .delete_user(&beta.scope, acme.user.id, &ctx())
        .await;
    assert!(matches!(foreign, Err(IdentityError::NotFound)));
}

#[test]
fn bad_input_is_refused_naming_its_field() {
    let field = |errors: aura_shared_kernel::ValidationErrors| errors.0[0].field.clone();
    assert_eq!(field(Email::parse("not an address").unwrap_err()), "email");
    assert_eq!(
        field(Email::parse_field("x", "owner_email").unwrap_err()),
        "owner_email"
    );
    assert_eq!(
        field(Password::new_checked("short", "new_password", None).unwrap_err()),
        "new_password"
    );
    assert_eq!(
        field(
            Password::new_checked(
                "olivia@acme.example",
                "password",
                Some("olivia@acme.example")
            )
            .unwrap_err()
        ),
        "password"
    );
    assert_eq!(field(FullName::parse("   ").unwrap_err()), "full_name");
    assert!(TenantName::parse("").is_err());
}

// ------------------------------------------------------------------------------ hardening

/// 112 wrong passwords from four addresses (the attack of issue 18) do not lock the
/// owner out: their address has no failures of its own. An address with failures of its
/// own is refused by the account-wide limit only without a recent sign-in, and that
/// refusal mails an unlock link; refused attempts are not counted.
#[tokio::test]
async fn nobody_can_lock_a_chosen_user_out_of_sign_in() {
    let world = World::new();
    world.sign_up("Acme GmbH", "olivia@acme.example").await;
    let email = "olivia@acme.example";
    for round in 0..28 {
        for attacker in 10..14 {
            let _ = world
                .login_from(email, "wrong wrong wrong", ip(attacker))
                .await;
        }
        if round % 7 == 0 {
            world.clock.advance(Duration::seconds(1));
        }
    }
    // The owner at their own address gets in with the right password.
    world
        .login_from(email, PASSWORD, ip(1))
        .await
        .expect("owner signs in");
    // A typo there afterwards does not lock them out either: they signed in recently.
    let typo = world.login_from(email, "a typo typo typo", ip(1)).await;
    assert!(matches!(typo, Err(IdentityError::InvalidCredentials)));
    world
        .login_from(email, PASSWORD, ip(1))
        .await
        .expect("recent sign-in");

    // A new address with one failure of its own is refused by the account-wide limit…
    let mails_before = world.mail_count().await;
    let first = world.login_from(email, "another typo here", ip(2)).await;
    assert!(matches!(first, Err(IdentityError::InvalidCredentials)));
    // … once it is over again (the owner's sign-in cleared it): 30 addresses × 5.
    for attacker in 100..130 {
        for _ in 0..5 {
            let _ = world
                .login_from(email, "wrong wrong wrong", ip(attacker))
                .await;
        }
    }
    let refused = world.login_from(email, PASSWORD, ip(2)).await;
    assert!(
        matches!(refused, Err(IdentityError::Throttled { .. })),
        "{refused:?}"
    );
    // … and the owner is mailed a link that lifts it (attackers' refusals mail it too,
    // no more often than reset mails: `ResetFor`'s limit).
    assert!(world.mail_count().await > mails_before);
    let token = world.mailed_token().await;
    let subject = world
        .outbox
        .0
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .subject
        .clone();
    assert_eq!(subject, "Sign-in to your account is blocked");
    world
        .identity
        .sign_in
        .reset_password(&token, "an unlocked new passphrase", &ctx())
        .await
        .expect("the unlock link works");
    world
        .login_from(email, "an unlocked new passphrase", ip(2))
        .await
        .expect("unlocked");
}

#[tokio::test]
async fn refused_attempts_are_not_counted() {
    let world = World::new();
    world.sign_up("Acme GmbH", "olivia@acme.example").await;
    let email = "olivia@acme.example";
    let attacker = ip(66);
    let mut refused = 0;
    for _ in 0..50 {
        if let Err(IdentityError::Throttled { .. }) =
            world.login_from(email, "wrong wrong wrong", attacker).await
        {
            refused += 1;
        }
    }
    assert!(refused >= 40, "{refused}");
    // Only the five free attempts reached a password check; the back-off after them
    // is the first step's (1 s), not one renewed by 45 refusals.
    world.clock.advance(Duration::seconds(1));
    let after = world.login_from(email, "wrong wrong wrong", attacker).await;
    assert!(
        matches!(after, Err(IdentityError::InvalidCredentials)),
        "{after:?}"
    );
}

#[tokio::test]
async fn reset_links_die_with_a_password_change_deactivation_or_role_change() {
    let world = World::new();
    let (_, owner) = world.sign_up("Acme GmbH", "olivia@acme.example").await;
    let auth = world.session("olivia@acme.example").await;
    let member = world.member(&auth, "max@acme.example", Role::Member).await;
    let sign_in = world.identity.sign_in.clone();
    let forgot = |email: &'static str| {
        let sign_in = sign_in.clone();
        async move {
            sign_in
                .forgot_password(&Email::parse(email).unwrap(), None, &ctx())
                .await
                .unwrap();
        }
    };
    let redeem = |token: String| {
        let sign_in = sign_in.clone();
        async move {
            sign_in
                .reset_password(&token, "a reset new passphrase", &ctx())
                .await
        }
    };

    // Role change.
    forgot("max@acme.example").await;
    let token = world.mailed_token().await;
    world
        .patch_user(
            &auth,
            member.id,
            UserPatch {
                role: Some(Role::Viewer),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        redeem(token).await,
        Err(IdentityError::InvalidToken)
    ));

    // Deactivation: the open link dies, and a new request sends nothing.
    forgot("max@acme.example").await;
    let token = world.mailed_token().await;
    world
        .patch_user(
            &auth,
            member.id,
            UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        redeem(token).await,
        Err(IdentityError::InvalidToken)
    ));
    let mails = world.mail_count().await;
    forgot("max@acme.example").await;
    assert_eq!(
        world.mail_count().await,
        mails,
        "nothing for a deactivated account"
    );

    // Password change.
    forgot("olivia@acme.example").await;
    let token = world.mailed_token().await;
    world
        .identity
        .accounts
        .change_password(
            &auth,
            &Password::presented(PASSWORD, "current_password").unwrap(),
            "a changed long passphrase",
            Some(ip(1)),
            &ctx(),
        )
        .await
        .unwrap();
    assert!(matches!(
        redeem(token).await,
        Err(IdentityError::InvalidToken)
    ));
    let _ = owner;
}

#[tokio::test]
async fn invitations_are_capped_per_tenant_and_day_and_mails_fence_tenant_text() {
    let world = World::new();
    world.sign_up("Acme GmbH", "olivia@acme.example").await;
    let owner = world.session("olivia@acme.example").await;
    let settings = TenantSettings::parse(json!({ "invitations_per_day": 2 })).unwrap();
    world
        .identity
        .admin
        .update_tenant(
            &owner.scope,
            TenantPatch {
                name: Some(TenantName::parse("Acme: sign in at evil.example/login").unwrap()),
                settings: Some(settings),
            },
            &ctx(),
        )
        .await
        .unwrap();
    let invite = async |email: &str| {
        world
            .identity
            .admin
            .create_user(&owner.scope, new_member(email, Role::Member, false), &ctx())
            .await
    };
    invite("a@acme.example").await.unwrap();
    invite("b@acme.example").await.unwrap();
    match invite("c@acme.example").await {
        Err(IdentityError::LimitReached {
            setting,
            retry_after_secs,
        }) => {
            assert_eq!(setting, "invitations_per_day");
            assert_eq!(retry_after_secs, 15 * 3600, "until midnight UTC");
        }
        other => panic!("expected the daily cap, got {other:?}"),
    }
    // A member added with a password counts too: the address may already have an
    // account elsewhere (then it is an invitation), and a count that told the two apart
    // would tell which addresses have accounts. The next day the cap is fresh.
    assert!(matches!(
        world
            .identity
            .admin
            .create_user(
                &owner.scope,
                new_member("d@acme.example", Role::Member, true),
                &ctx(),
            )
            .await,
        Err(IdentityError::LimitReached { .. })
    ));
    world.clock.advance(Duration::days(1));
    invite("c@acme.example").await.unwrap();

    assert_eq!(world.mail_count().await, 3);
    let mails = world.outbox.0.lock().unwrap();
    for mail in mails.iter() {
        assert!(
            mail.text.contains("“Acme sign in at evil example login”"),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains("evil.example") && !mail.html.contains("evil.example"));
    }
}

/// Issue 16: an address that already has an account (in another tenant) becomes a
/// pending membership of the same account, answered like a new one; the inviting tenant
/// never sets the account's password, the pending membership signs nobody in, and
/// removing it leaves the account.
#[tokio::test]
async fn adding_an_existing_account_makes_a_pending_membership_of_it() {
    let world = World::new();
    let (tenant_a, consultant) = world.sign_up("Client A", "kim@consult.example").await;
    world.sign_up("Client B", "owner@b.example").await;
    let owner_b = world.session("owner@b.example").await;

    let mut with_password = new_member("kim@consult.example", Role::Admin, true);
    with_password.full_name = FullName::parse("Kim as B knows her").unwrap();
    with_password.password =
        Some(Password::new_checked("another long passphrase", "password", None).unwrap());
    let member = world
        .add(&owner_b, with_password)
        .await
        .expect("no email_taken: an invitation");
    assert_eq!(member.account_id, consultant.account_id, "one account");
    assert_ne!(member.id, consultant.id, "its own membership");
    assert_eq!(member.accepted_at, None, "pending");
    assert_eq!(member.invited_by, Some(owner_b.user.id));

    // The account's password is untouched, and sign-in still lands in A.
    let pair = world
        .login("kim@consult.example", PASSWORD)
        .await
        .expect("sign-in");
    let in_a = world
        .identity
        .sign_in
        .authenticate(&pair.access_token)
        .await
        .unwrap();
    assert_eq!(in_a.tenant.id, tenant_a.id);
    assert_eq!(in_a.user.full_name.as_str(), consultant.full_name.as_str());
    assert!(
        world
            .login("kim@consult.example", "another long passphrase")
            .await
            .is_err(),
        "B's password opens nothing"
    );

    // Removing the pending membership leaves the account signing in to A.
    world
        .identity
        .admin
        .delete_user(&owner_b.scope, member.id, &ctx())
        .await
        .expect("remove the member");
    world
        .login("kim@consult.example", PASSWORD)
        .await
        .expect("the account stays");

    // A second invitation of one account into one tenant is refused (the tenant knows
    // its own members: no other tenant's data is revealed).
    let again = world
        .add(
            &owner_b,
            new_member("kim@consult.example", Role::Member, false),
        )
        .await
        .expect("invited again");
    assert_eq!(again.accepted_at, None);
    let twice = world
        .add(
            &owner_b,
            new_member("kim@consult.example", Role::Member, false),
        )
        .await;
    assert_conflict(twice, "email_taken");
}

// -------------------------------------------------------------------------- custom roles

fn role_draft(name: &str, permissions: &[&str]) -> RoleDraft {
    let names: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
    RoleDraft::parse(name, &names).expect("a valid role")
}

fn give(custom_role: &CustomRole) -> UserPatch {
    UserPatch {
        custom_role: Some(custom_role.id),
        ..UserPatch::default()
    }
}

#[tokio::test]
async fn a_custom_role_is_what_its_holders_may_do_from_their_next_request() {
    let world = World::new();
    world.sign_up("Roles GmbH", "olivia@roles.example").await;
    let owner = world.session("olivia@roles.example").await;
    let roles = &world.identity.roles;
    let desk = roles
        .create(
            &owner.scope,
            role_draft("Desk", &["handle_requests"]),
            &ctx(),
        )
        .await
        .unwrap();
    let clerk = world
        .member(&owner, "clerk@roles.example", Role::Viewer)
        .await;
    let given = world
        .patch_user(&owner, clerk.id, give(&desk))
        .await
        .unwrap();
    assert_eq!(
        (given.role, given.custom_role),
        (Role::Custom, Some(desk.id))
    );

    let held = world.session("clerk@roles.example").await;
    assert_eq!(held.scope.role(), Some(Role::Custom));
    assert!(held.scope.require(Permission::HandleRequests).is_ok());
    assert!(held.scope.require(Permission::ReadRequests).is_ok());
    assert!(held.scope.require(Permission::ReadRecords).is_err());

    // The role changes; the same token holds the new set at its next authentication.
    let token = world.login("clerk@roles.example", PASSWORD).await.unwrap();
    roles
        .update(
            &owner.scope,
            desk.id,
            role_draft("Desk", &["handle_breaches"]),
            1,
            &ctx(),
        )
        .await
        .unwrap();
    let again = world
        .identity
        .sign_in
        .authenticate(&token.access_token)
        .await
        .unwrap();
    assert!(again.scope.require(Permission::HandleBreaches).is_ok());
    assert!(again.scope.require(Permission::HandleRequests).is_err());

    // Each change is audited.
    for action in [actions::ROLE_CREATED, actions::ROLE_UPDATED] {
        let events = world.events(&owner.scope, action.clone()).await;
        assert_eq!(actors(&events), [Actor::User(owner.user.id)], "{action}");
    }
}

#[tokio::test]
async fn custom_roles_never_escalate_and_stay_while_held() {
    let world = World::new();
    world
        .sign_up("Guarded GmbH", "olivia@guarded.example")
        .await;
    let owner = world.session("olivia@guarded.example").await;
    let roles = &world.identity.roles;

    // Only owners define roles; nobody defines one holding the owners' permission.
    world
        .member(&owner, "adam@guarded.example", Role::Admin)
        .await;
    let admin = world.session("adam@guarded.example").await;
    let refused = roles
        .create(&admin.scope, role_draft("Mine", &["read_records"]), &ctx())
        .await;
    assert_forbidden(refused, Permission::ManagePrivilegedUsers);
    let names = vec!["manage_privileged_users".to_owned()];
    assert!(
        RoleDraft::parse("Root", &names)
            .unwrap_err()
            .names("permissions[0]")
    );

    // A people desk gives only what it holds.
    let desk = roles
        .create(
            &owner.scope,
            role_draft("People", &["read_users", "manage_members", "read_records"]),
            &ctx(),
        )
        .await
        .unwrap();
    let writers = roles
        .create(
            &owner.scope,
            role_draft("Writers", &["write_records"]),
            &ctx(),
        )
        .await
        .unwrap();
    let pat = world
        .member(&owner, "pat@guarded.example", Role::Viewer)
        .await;
    world.patch_user(&owner, pat.id, give(&desk)).await.unwrap();
    let people = world.session("pat@guarded.example").await;
    let vic = world
        .member(&owner, "vic@guarded.example", Role::Viewer)
        .await;
    let member = UserPatch {
        role: Some(Role::Member),
        ..UserPatch::default()
    };
    // (The member role's first permission the desk lacks: reading the tenant.)
    assert_forbidden(
        world.patch_user(&people, vic.id, member).await,
        Permission::ReadTenant,
    );
    assert_forbidden(
        world.patch_user(&people, pat.id, give(&writers)).await,
        Permission::WriteRecords,
    );
    // An id of no role of the tenant is the client's mistake, named.
    let unknown = UserPatch {
        custom_role: Some(aura_shared_kernel::CustomRoleId::generate()),
        ..UserPatch::default()
    };
    assert_invalid_field(
        world.patch_user(&owner, vic.id, unknown).await,
        "custom_role_id",
    );

    // A role somebody holds is not removed; once nobody does, it is.
    assert_conflict(
        roles.delete(&owner.scope, desk.id, 1, &ctx()).await,
        "role_in_use",
    );
    let back = UserPatch {
        role: Some(Role::Viewer),
        ..UserPatch::default()
    };
    let pat = world.patch_user(&owner, pat.id, back).await.unwrap();
    assert_eq!(pat.custom_role, None);
    roles
        .delete(&owner.scope, desk.id, 1, &ctx())
        .await
        .unwrap();
    assert!(matches!(
        roles.get(&owner.scope, desk.id, &ctx()).await,
        Err(IdentityError::NotFound)
    ));
    // A name is the tenant's once.
    assert_conflict(
        roles
            .create(&owner.scope, role_draft("Writers", &[]), &ctx())
            .await,
        "role_name_taken",
    );
}

// ------------------------------------------------------------------ switching, partners

impl World {
    /// Invites `email` into the tenant of `owner` and accepts it through the mailed link
    /// (which sets the account's password to `PASSWORD` again). Returns the membership.
    async fn join(&self, owner: &Authenticated, email: &str, role: Role) -> User {
        let member = self
            .add(owner, new_member(email, role, false))
            .await
            .expect("invited");
        let token = self.mailed_token().await;
        self.identity
            .sign_in
            .reset_password(&token, PASSWORD, &ctx())
            .await
            .expect("accepted through the link");
        member
    }

    async fn switch(
        &self,
        from: &Authenticated,
        to: TenantId,
    ) -> Result<Authenticated, IdentityError> {
        let pair = self.identity.sign_in.switch(from, to, &ctx()).await?;
        Ok(self
            .identity
            .sign_in
            .authenticate(&pair.access_token)
            .await
            .expect("the switched pair authenticates"))
    }

    /// Makes the tenant of `owner` a consultancy (its `consultancy` setting).
    async fn offer_as_partner(&self, owner: &Authenticated) {
        let settings = TenantSettings::parse(json!({ SETTING_CONSULTANCY: true })).unwrap();
        self.identity
            .admin
            .update_tenant(
                &owner.scope,
                TenantPatch {
                    name: None,
                    settings: Some(settings),
                },
                &ctx(),
            )
            .await
            .expect("settings");
    }

    async fn grant(
        &self,
        owner: &Authenticated,
        partner: &Tenant,
        role: Role,
    ) -> Result<PartnerGrant, IdentityError> {
        self.identity
            .admin
            .grant_partner(&owner.scope, &partner.slug, role, &ctx())
            .await
    }
}

fn tenant_ids(memberships: &[Membership]) -> Vec<TenantId> {
    memberships.iter().map(|m| m.tenant_id).collect()
}

/// Issue 16: one account in three tenants lists them and switches among them; each
/// switch is a new session of that tenant's membership (audited there as
/// `session.switched`), the earlier tokens keep working for their own tenant, and a
/// tenant without a usable membership is `NotFound` like one that does not exist.
#[tokio::test]
async fn one_account_in_three_tenants_switches_among_them() {
    let world = World::new();
    let (tenant_a, _) = world.sign_up("Alpha", "kim@consult.example").await;
    let (tenant_b, _) = world.sign_up("Beta", "owner@b.example").await;
    let (tenant_c, _) = world.sign_up("Gamma", "owner@c.example").await;
    let (tenant_d, _) = world.sign_up("Delta", "owner@d.example").await;
    let owner_b = world.session("owner@b.example").await;
    let owner_c = world.session("owner@c.example").await;
    let owner_d = world.session("owner@d.example").await;
    let in_b = world
        .join(&owner_b, "kim@consult.example", Role::Viewer)
        .await;
    world
        .join(&owner_c, "kim@consult.example", Role::Admin)
        .await;
    // A pending invitation into D is no way in.
    world
        .add(
            &owner_d,
            new_member("kim@consult.example", Role::Member, false),
        )
        .await
        .unwrap();

    let kim = world.session("kim@consult.example").await;
    let listed = world.identity.accounts.tenants(&kim).await.unwrap();
    assert_eq!(
        tenant_ids(&listed),
        [tenant_a.id, tenant_b.id, tenant_c.id],
        "by name; the pending one left out"
    );
    assert!(listed.iter().all(|m| m.usable() && m.via_partner.is_none()));
    let roles: Vec<Role> = listed.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Owner, Role::Viewer, Role::Admin]);

    let b = world.switch(&kim, tenant_b.id).await.expect("into B");
    assert_eq!((b.tenant.id, b.user.id), (tenant_b.id, in_b.id));
    assert_eq!(b.scope.role(), Some(Role::Viewer));
    assert_eq!(b.scope.partner(), None);
    let c = world.switch(&b, tenant_c.id).await.expect("from B into C");
    assert_eq!(c.scope.role(), Some(Role::Admin));
    let back = world.switch(&c, tenant_a.id).await.expect("back into A");
    assert_eq!(back.scope.role(), Some(Role::Owner));
    // Every earlier session stays its own tenant's.
    for (session, tenant) in [(&kim, &tenant_a), (&b, &tenant_b), (&c, &tenant_c)] {
        assert_eq!(session.scope.tenant_id(), tenant.id);
        world
            .identity
            .accounts
            .tenants(session)
            .await
            .expect("still signed in");
    }
    let switched = world.events(&b.scope, actions::SESSION_SWITCHED).await;
    assert_eq!(actors(&switched), [Actor::User(in_b.id)]);
    assert_eq!(switched[0].entity_id, Some(b.session_id.to_string()));

    // No usable membership, or no tenant at all: the same answer.
    for nowhere in [tenant_d.id, TenantId::generate()] {
        let refused = world.switch(&kim, nowhere).await;
        assert!(
            matches!(refused, Err(IdentityError::NotFound)),
            "{refused:?}"
        );
    }
    world
        .patch_user(
            &owner_b,
            in_b.id,
            UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let deactivated = world.switch(&kim, tenant_b.id).await;
    assert!(matches!(deactivated, Err(IdentityError::NotFound)));
    let listed = world.identity.accounts.tenants(&kim).await.unwrap();
    let b_listed = listed.iter().find(|m| m.tenant_id == tenant_b.id).unwrap();
    assert!(!b_listed.active && !b_listed.usable());
}

/// Issue 16: removing the membership in B ends B's sessions at once, while the same
/// account keeps working in A.
#[tokio::test]
async fn removing_a_membership_ends_its_sessions_and_no_other() {
    let world = World::new();
    let (tenant_a, _) = world.sign_up("Alpha", "kim@consult.example").await;
    let (tenant_b, _) = world.sign_up("Beta", "owner@b.example").await;
    let owner_b = world.session("owner@b.example").await;
    let in_b = world
        .join(&owner_b, "kim@consult.example", Role::Member)
        .await;
    let kim = world.session("kim@consult.example").await;
    let pair_b = world
        .identity
        .sign_in
        .switch(&kim, tenant_b.id, &ctx())
        .await
        .unwrap();

    world
        .identity
        .admin
        .delete_user(&owner_b.scope, in_b.id, &ctx())
        .await
        .unwrap();
    let gone = world
        .identity
        .sign_in
        .authenticate(&pair_b.access_token)
        .await;
    assert!(matches!(gone, Err(IdentityError::InvalidToken)), "{gone:?}");
    let refresh = world
        .identity
        .sign_in
        .refresh(&pair_b.refresh_token, &ctx())
        .await;
    assert!(matches!(refresh, Err(IdentityError::InvalidToken)));
    let listed = world.identity.accounts.tenants(&kim).await.unwrap();
    assert_eq!(
        tenant_ids(&listed),
        [tenant_a.id],
        "A's session still works"
    );
}

/// Issue 16: a client grants a consultancy access with a role; the consultancy's member
/// sees the client (`via_partner`), switches in with the granted role, and every event
/// of theirs in the client names the partner. Only owners grant and revoke, never the
/// owner role, only to a consultancy; revoking ends the sessions at once, and so does
/// the person leaving the consultancy.
#[tokio::test]
async fn a_partner_member_enters_a_client_with_the_granted_role_until_revoked() {
    let world = World::new();
    let (partner, _) = world
        .sign_up("Privacy Partners", "boss@partners.example")
        .await;
    let (client, _) = world.sign_up("Client", "owner@client.example").await;
    let (other, _) = world.sign_up("Other", "owner@other.example").await;
    let boss = world.session("boss@partners.example").await;
    let owner = world.session("owner@client.example").await;
    let consultant = world
        .member(&boss, "kim@partners.example", Role::Member)
        .await;
    let kim = world.session("kim@partners.example").await;

    // Not a consultancy yet: no such partner.
    let refused = world.grant(&owner, &partner, Role::Member).await;
    assert!(
        matches!(refused, Err(IdentityError::NotFound)),
        "{refused:?}"
    );
    world.offer_as_partner(&boss).await;
    assert_invalid_field(world.grant(&owner, &partner, Role::Owner).await, "role");
    let admin = world
        .member(&owner, "admin@client.example", Role::Admin)
        .await;
    let admin = world.session(admin.email.as_str()).await;
    assert_forbidden(
        world.grant(&admin, &partner, Role::Member).await,
        Permission::ManagePrivilegedUsers,
    );
    let grant = world.grant(&owner, &partner, Role::Member).await.unwrap();
    assert_eq!((grant.partner.id, grant.role), (partner.id, Role::Member));
    assert_conflict(
        world.grant(&owner, &partner, Role::Viewer).await,
        "partner_granted",
    );
    let listed = world
        .identity
        .admin
        .partners(&owner.scope, &ctx())
        .await
        .unwrap();
    assert_eq!(listed, [grant]);

    let tenants = world.identity.accounts.tenants(&kim).await.unwrap();
    assert_eq!(tenant_ids(&tenants), [client.id, partner.id]);
    let via = tenants[0]
        .via_partner
        .as_ref()
        .expect("through the partner");
    assert_eq!((via.id, tenants[0].role), (partner.id, Role::Member));
    assert_eq!(tenants[0].user_id, None, "not entered yet");
    assert!(
        world.switch(&kim, other.id).await.is_err(),
        "no grant there"
    );
    // A partner role makes a second factor required: the session kim signed into before
    // the grant, without one, does not switch in; signing in again enrols one.
    let unenrolled = world.switch(&kim, client.id).await;
    assert!(
        matches!(unenrolled, Err(IdentityError::SecondFactorRequired)),
        "{unenrolled:?}"
    );
    let kim = world.session("kim@partners.example").await;
    let status = world.identity.second_factors.status(&kim).await.unwrap();
    assert!(status.enabled && status.required, "{status:?}");

    let inside = world
        .switch(&kim, client.id)
        .await
        .expect("into the client");
    assert_eq!(inside.scope.tenant_id(), client.id);
    assert_eq!(inside.scope.role(), Some(Role::Member));
    assert_eq!(inside.scope.partner(), Some(partner.id));
    assert_eq!(inside.user.account_id, consultant.account_id);
    // Its actions in the client name the partner: the switch and what follows.
    let member = inside.user.id;
    let named = Actor::Partner {
        member,
        partner: partner.id,
    };
    let switched = world.events(&owner.scope, actions::SESSION_SWITCHED).await;
    assert_eq!(actors(&switched), [named]);
    world
        .identity
        .accounts
        .update_profile(
            &inside,
            ProfilePatch {
                full_name: Some(FullName::parse("Kim (Privacy Partners)").unwrap()),
            },
            &ctx(),
        )
        .await
        .unwrap();
    let updated = world.events(&owner.scope, actions::USER_UPDATED).await;
    assert_eq!(actors(&updated), [named]);
    // A second switch reuses the membership.
    let again = world.switch(&kim, client.id).await.unwrap();
    assert_eq!(again.user.id, member);

    // Revoked: every session through the partner ends at once; nothing lists it.
    world
        .identity
        .admin
        .revoke_partner(&owner.scope, partner.id, &ctx())
        .await
        .unwrap();
    for session in [&inside, &again] {
        let token = world
            .identity
            .sign_in
            .switch(session, client.id, &ctx())
            .await;
        assert!(matches!(token, Err(IdentityError::NotFound)), "{token:?}");
    }
    let listed = world.identity.accounts.tenants(&kim).await.unwrap();
    assert_eq!(tenant_ids(&listed), [partner.id]);
    let revoked = world
        .identity
        .admin
        .revoke_partner(&owner.scope, partner.id, &ctx())
        .await;
    assert!(matches!(revoked, Err(IdentityError::NotFound)));

    // Granted again: a new switch works; leaving the consultancy ends it again.
    world.grant(&owner, &partner, Role::Viewer).await.unwrap();
    let viewer = world.switch(&kim, client.id).await.unwrap();
    assert_eq!(
        (viewer.user.id, viewer.scope.role()),
        (member, Some(Role::Viewer))
    );
    world
        .identity
        .admin
        .delete_user(&boss.scope, consultant.id, &ctx())
        .await
        .unwrap();
    let principal = aura_identity::ports::UserRepository::find_principal(
        &world.store,
        &viewer.scope,
        member,
        viewer.session_id,
    )
    .await
    .unwrap();
    assert_eq!(principal, None, "no longer the partner's member");
}

/// Issue 16's portfolio reads each tenant of an account through `SignIn::memberships`:
/// the verified account's accepted, active memberships in active tenants, each with a
/// scope acting as that membership's user and role; never a pending or deactivated one,
/// never another account's.
#[tokio::test]
async fn the_memberships_of_an_account_are_its_accepted_active_ones() {
    let world = World::new();
    let (tenant_a, kim_in_a) = world.sign_up("Client A", "kim@consult.example").await;
    let (tenant_b, _) = world.sign_up("Client B", "owner@b.example").await;
    world.sign_up("Client C", "owner@c.example").await;
    let owner_b = world.session("owner@b.example").await;
    let owner_c = world.session("owner@c.example").await;
    let kim_in_b = world
        .add(
            &owner_b,
            new_member("kim@consult.example", Role::Viewer, false),
        )
        .await
        .unwrap();
    let token = world.mailed_token().await;
    world
        .identity
        .sign_in
        .reset_password(&token, PASSWORD, &ctx())
        .await
        .expect("the invitation accepted");
    // C's invitation stays pending.
    world
        .add(
            &owner_c,
            new_member("kim@consult.example", Role::Member, false),
        )
        .await
        .unwrap();

    let kim = world.session("kim@consult.example").await;
    let listed = |memberships: Vec<AccountTenant>| {
        let mut seen: Vec<_> = (entered(memberships).iter())
            .map(|m| {
                assert_eq!(m.scope.tenant_id(), m.tenant.id);
                assert_eq!(m.scope.user_id(), Some(m.user.id));
                assert_eq!(m.user.account_id, kim.user.account_id);
                (m.tenant.id, m.scope.role())
            })
            .collect();
        seen.sort();
        seen
    };
    let mut expected = vec![
        (tenant_a.id, Some(Role::Owner)),
        (tenant_b.id, Some(Role::Viewer)),
    ];
    expected.sort();
    let memberships = world.identity.sign_in.memberships(&kim).await.unwrap();
    assert_eq!(listed(memberships), expected, "A and B, not the pending C");
    assert_eq!(kim_in_a.account_id, kim.user.account_id);

    // Another account's memberships are its own.
    let of_b = world.identity.sign_in.memberships(&owner_b).await.unwrap();
    assert_eq!(
        (entered(of_b).iter())
            .map(|m| m.tenant.id)
            .collect::<Vec<_>>(),
        [tenant_b.id]
    );

    // Deactivated in B: gone at once, with the token of A still in hand.
    world
        .patch_user(
            &owner_b,
            kim_in_b.id,
            UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let memberships = world.identity.sign_in.memberships(&kim).await.unwrap();
    assert_eq!(
        listed(memberships),
        [(tenant_a.id, Some(Role::Owner))],
        "B deactivated"
    );
}

/// The memberships listed as entered (with a scope), asserting there is no other kind.
fn entered(listed: Vec<AccountTenant>) -> Vec<MemberScope> {
    (listed.into_iter())
        .map(|tenant| match tenant {
            AccountTenant::Member(member) => *member,
            other => panic!("not entered: {other:?}"),
        })
        .collect()
}

/// The portfolio's list includes the clients reached through a partner, with the scope a
/// request there has: the grant's role, acting for the partner. Before the first switch
/// there is no membership to read with (listed as not entered, nothing created); after
/// a revoke the client is gone at once.
#[tokio::test]
async fn the_memberships_of_a_consultant_include_the_clients_of_the_partner() {
    let world = World::new();
    let (partner, _) = world
        .sign_up("Privacy Partners", "boss@partners.example")
        .await;
    let (client, _) = world.sign_up("Client", "owner@client.example").await;
    let boss = world.session("boss@partners.example").await;
    let owner = world.session("owner@client.example").await;
    world
        .member(&boss, "kim@partners.example", Role::Member)
        .await;
    // The first sign-in accepts the membership.
    world.session("kim@partners.example").await;
    world.offer_as_partner(&boss).await;
    world.grant(&owner, &partner, Role::Viewer).await.unwrap();
    // A partner role makes a second factor required: this session enrols one.
    let kim = world.session("kim@partners.example").await;
    let status = world.identity.second_factors.status(&kim).await.unwrap();
    assert!(status.enabled && status.required, "{status:?}");

    let listed = world.identity.sign_in.memberships(&kim).await.unwrap();
    let [
        AccountTenant::NotEntered {
            tenant,
            role,
            via_partner,
        },
        AccountTenant::Member(own),
    ] = &listed[..]
    else {
        panic!("the client not entered, then the partner: {listed:?}");
    };
    assert_eq!(
        (tenant.id, *role, via_partner.id),
        (client.id, Role::Viewer, partner.id)
    );
    assert_eq!((own.tenant.id, own.scope.partner()), (partner.id, None));
    // Listing entered nothing: the client still has no membership of kim's.
    let tenants = world.identity.accounts.tenants(&kim).await.unwrap();
    assert_eq!(tenants[0].user_id, None);

    let inside = world
        .switch(&kim, client.id)
        .await
        .expect("into the client");
    let listed = entered(world.identity.sign_in.memberships(&kim).await.unwrap());
    let in_client = &listed[0];
    assert_eq!(in_client.tenant.id, client.id);
    assert_eq!(in_client.user.id, inside.user.id);
    assert_eq!(in_client.scope.role(), Some(Role::Viewer));
    assert_eq!(in_client.scope.permissions(), inside.scope.permissions());
    assert_eq!(in_client.scope.partner(), Some(partner.id));
    assert_eq!(
        in_client.via_partner.as_ref().map(|p| p.id),
        Some(partner.id)
    );

    world
        .identity
        .admin
        .revoke_partner(&owner.scope, partner.id, &ctx())
        .await
        .unwrap();
    let listed = entered(world.identity.sign_in.memberships(&kim).await.unwrap());
    assert_eq!(
        (listed.iter()).map(|m| m.tenant.id).collect::<Vec<_>>(),
        [partner.id],
        "revoked: gone at once"
    );

    // Granted again with another role: the old membership is not read with its old
    // role; the next switch brings it to the grant's.
    world.grant(&owner, &partner, Role::Member).await.unwrap();
    let listed = world.identity.sign_in.memberships(&kim).await.unwrap();
    assert!(
        matches!(
            &listed[0],
            AccountTenant::NotEntered { tenant, role: Role::Member, .. } if tenant.id == client.id
        ),
        "{listed:?}"
    );
    world.switch(&kim, client.id).await.expect("in again");
    let listed = entered(world.identity.sign_in.memberships(&kim).await.unwrap());
    assert_eq!(
        (listed[0].tenant.id, listed[0].scope.role()),
        (client.id, Some(Role::Member))
    );
}

/// A custom role's holder gets the role's permissions as stored now, as a request would.
#[tokio::test]
async fn the_memberships_of_a_custom_role_holder_carry_its_permissions() {
    let world = World::new();
    let (tenant, _) = world.sign_up("Desk GmbH", "olivia@desk.example").await;
    let owner = world.session("olivia@desk.example").await;
    let desk = world
        .identity
        .roles
        .create(
            &owner.scope,
            role_draft("Requests desk", &["handle_requests"]),
            &ctx(),
        )
        .await
        .unwrap();
    let pat = world.member(&owner, "pat@desk.example", Role::Viewer).await;
    world.patch_user(&owner, pat.id, give(&desk)).await.unwrap();
    let pat = world.session("pat@desk.example").await;

    let listed = entered(world.identity.sign_in.memberships(&pat).await.unwrap());
    let [mine] = &listed[..] else {
        panic!("one membership: {listed:?}");
    };
    assert_eq!(mine.tenant.id, tenant.id);
    assert_eq!(mine.scope.role(), Some(Role::Custom));
    assert!(!mine.scope.permissions().is_empty());
    assert_eq!(mine.scope.permissions(), pat.scope.permissions());
    assert!(mine.scope.require(Permission::HandleRequests).is_ok());
    assert!(mine.scope.require(Permission::WriteRecords).is_err());
}

// ------------------------------------------------------------------ second factors

impl World {
    /// The password step, expecting a challenge.
    async fn challenge(&self, email: &str) -> MfaChallenge {
        match self.sign_in_from(email, PASSWORD, ip(1)).await.unwrap() {
            SignInOutcome::SecondFactor(challenge) => challenge,
            SignInOutcome::Tokens(_) => panic!("tokens without a second factor"),
        }
    }

    /// Enrols `auth` and answers the secret and the recovery codes.
    async fn enrol(&self, auth: &Authenticated) -> (String, Vec<String>) {
        let mfa = &self.identity.second_factors;
        let enrolment = mfa.start(auth, &ctx()).await.unwrap();
        let code = CountingTotp::code(&enrolment.secret_base32, self.clock.now());
        let codes = mfa.confirm(auth, &code, Some(ip(1)), &ctx()).await.unwrap();
        (enrolment.secret_base32, codes)
    }

    async fn second_step(
        &self,
        challenge: &MfaChallenge,
        proof: SecondProof,
    ) -> Result<TokenPair, IdentityError> {
        self.identity
            .second_factors
            .finish_sign_in(&challenge.token, proof, Some(ip(1)), &ctx())
            .await
    }

    fn code(&self, secret: &str) -> SecondProof {
        SecondProof::Code(CountingTotp::code(secret, self.clock.now()))
    }
}

fn assert_invalid_code<T: std::fmt::Debug>(result: Result<T, IdentityError>) {
    assert!(
        matches!(result, Err(IdentityError::InvalidSecondFactor)),
        "{result:?}"
    );
}

fn assert_invalid_token<T: std::fmt::Debug>(result: Result<T, IdentityError>) {
    assert!(
        matches!(result, Err(IdentityError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_enrolled_account_signs_in_with_a_code_that_works_once() {
    let world = World::new();
    let (tenant, owner) = world.sign_up("Acme", "olivia@acme.example").await;
    let auth = world.session("olivia@acme.example").await;
    let mfa = &world.identity.second_factors;
    assert!(!mfa.status(&auth).await.unwrap().enabled);

    // A started enrolment changes nothing at sign-in until it is confirmed.
    let enrolment = mfa.start(&auth, &ctx()).await.unwrap();
    world.login("olivia@acme.example", PASSWORD).await.unwrap();
    assert_invalid_code(mfa.confirm(&auth, "000000", Some(ip(1)), &ctx()).await);
    let first = CountingTotp::code(&enrolment.secret_base32, world.clock.now());
    let codes = mfa
        .confirm(&auth, &first, Some(ip(1)), &ctx())
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    let status = mfa.status(&auth).await.unwrap();
    assert!(status.enabled && !status.pending && !status.required);
    assert_eq!(status.recovery_codes_left, 10);
    assert_conflict(mfa.start(&auth, &ctx()).await, "mfa_enabled");
    for action in [
        actions::USER_MFA_ENROLMENT_STARTED,
        actions::USER_MFA_ENABLED,
    ] {
        let events = world.events(&auth.scope, action.clone()).await;
        assert_eq!(actors(&events), vec![Actor::User(owner.id)], "{action}");
    }

    // The password alone now answers a challenge, never tokens.
    let challenge = world.challenge("olivia@acme.example").await;
    assert_eq!(challenge.purpose, ChallengePurpose::SignIn);
    assert_invalid_code(
        world
            .second_step(&challenge, SecondProof::Code("123456".to_owned()))
            .await,
    );
    // The confirming code's step is used: the same code again is a replay.
    assert_invalid_code(
        world
            .second_step(&challenge, SecondProof::Code(first.clone()))
            .await,
    );
    world.clock.advance(Duration::seconds(30));
    let pair = world
        .second_step(&challenge, world.code(&enrolment.secret_base32))
        .await
        .expect("the next step's code signs in");
    let signed_in = world
        .identity
        .sign_in
        .authenticate(&pair.access_token)
        .await
        .unwrap();
    assert_eq!(signed_in.tenant.id, tenant.id);
    let logins = world
        .events(&auth.scope, actions::USER_LOGIN_SUCCEEDED)
        .await;
    let newest = logins.first().unwrap();
    assert!(
        format!("{:?}", newest.changes).contains("totp"),
        "{newest:?}"
    );

    // The challenge is used up, and a fresh one dies after five minutes.
    world.clock.advance(Duration::seconds(30));
    assert_invalid_token(
        world
            .second_step(&challenge, world.code(&enrolment.secret_base32))
            .await,
    );
    let late = world.challenge("olivia@acme.example").await;
    world.clock.advance(Duration::minutes(5));
    assert_invalid_token(
        world
            .second_step(&late, world.code(&enrolment.secret_base32))
            .await,
    );
    // A code of two steps ago or ahead is refused; one step either side is accepted.
    let challenge = world.challenge("olivia@acme.example").await;
    let seed: i64 = enrolment.secret_base32.parse().unwrap();
    let step = world.clock.now().unix_timestamp() / 30;
    for far in [step - 2, step + 2] {
        let code = SecondProof::Code(CountingTotp::code_of_step(seed, far));
        assert_invalid_code(world.second_step(&challenge, code).await);
    }
    let next = SecondProof::Code(CountingTotp::code_of_step(seed, step + 1));
    world.second_step(&challenge, next).await.unwrap();
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_account_even_for_the_right_code() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let auth = world.session("olivia@acme.example").await;
    let (secret, _) = world.enrol(&auth).await;
    world.clock.advance(Duration::seconds(30));

    let challenge = world.challenge("olivia@acme.example").await;
    for _ in 0..5 {
        let wrong = SecondProof::Code("999999".to_owned());
        assert_invalid_code(world.second_step(&challenge, wrong).await);
    }
    let refused = world.second_step(&challenge, world.code(&secret)).await;
    assert!(
        matches!(refused, Err(IdentityError::Throttled { .. })),
        "{refused:?}"
    );
    // From another address too: the account's codes are what is guessed.
    let from_elsewhere = world
        .identity
        .second_factors
        .finish_sign_in(&challenge.token, world.code(&secret), Some(ip(9)), &ctx())
        .await;
    assert!(matches!(
        from_elsewhere,
        Err(IdentityError::Throttled { .. })
    ));
    let failures = world.events(&auth.scope, actions::USER_LOGIN_FAILED).await;
    assert_eq!(failures.len(), 5, "each wrong code is audited");

    // The delay passes; the right code then signs in and clears the count.
    world.clock.advance(Duration::seconds(2));
    world
        .second_step(&challenge, world.code(&secret))
        .await
        .expect("after the delay");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_new_ones_replace_the_old() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let auth = world.session("olivia@acme.example").await;
    let (_, codes) = world.enrol(&auth).await;
    let mfa = &world.identity.second_factors;

    let challenge = world.challenge("olivia@acme.example").await;
    let recovery = SecondProof::RecoveryCode(codes[3].clone());
    world
        .second_step(&challenge, recovery.clone())
        .await
        .unwrap();
    assert_eq!(mfa.status(&auth).await.unwrap().recovery_codes_left, 9);
    let used = world
        .events(&auth.scope, actions::USER_MFA_RECOVERY_CODE_USED)
        .await;
    assert_eq!(used.len(), 1);

    let again = world.challenge("olivia@acme.example").await;
    assert_invalid_code(world.second_step(&again, recovery).await);
    let unknown = SecondProof::RecoveryCode("R999999999".to_owned());
    assert_invalid_code(world.second_step(&again, unknown).await);

    // New codes need the password; the old ones stop working.
    let wrong = Password::presented("not the password", "password").unwrap();
    assert_invalid_field(
        mfa.replace_recovery_codes(&auth, &wrong, Some(ip(1)), &ctx())
            .await,
        "password",
    );
    let right = Password::presented(PASSWORD, "password").unwrap();
    let fresh = mfa
        .replace_recovery_codes(&auth, &right, Some(ip(1)), &ctx())
        .await
        .unwrap();
    assert_eq!(fresh.len(), 10);
    let old = SecondProof::RecoveryCode(codes[0].clone());
    assert_invalid_code(world.second_step(&again, old).await);
    let new = SecondProof::RecoveryCode(fresh[0].clone());
    world.second_step(&again, new).await.unwrap();
}

#[tokio::test]
async fn turning_the_factor_off_needs_the_password() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let auth = world.session("olivia@acme.example").await;
    let mfa = &world.identity.second_factors;
    let right = Password::presented(PASSWORD, "password").unwrap();
    assert!(matches!(
        mfa.disable(&auth, &right, Some(ip(1)), &ctx()).await,
        Err(IdentityError::NotFound)
    ));
    world.enrol(&auth).await;

    let wrong = Password::presented("not the password", "password").unwrap();
    assert_invalid_field(
        mfa.disable(&auth, &wrong, Some(ip(1)), &ctx()).await,
        "password",
    );
    assert!(mfa.status(&auth).await.unwrap().enabled, "still on");
    mfa.disable(&auth, &right, Some(ip(1)), &ctx())
        .await
        .unwrap();
    let events = world.events(&auth.scope, actions::USER_MFA_DISABLED).await;
    assert_eq!(events.len(), 1);
    world
        .login("olivia@acme.example", PASSWORD)
        .await
        .expect("the password alone again");
}

#[tokio::test]
async fn a_tenant_owner_can_require_a_second_factor_of_everyone() {
    let world = World::new();
    world.sign_up("Acme", "olivia@acme.example").await;
    let owner = world.session("olivia@acme.example").await;
    world.member(&owner, "alex@acme.example", Role::Admin).await;
    world.member(&owner, "max@acme.example", Role::Member).await;
    let admin = world.session("alex@acme.example").await;
    let require = |value: serde_json::Value| TenantPatch {
        settings: Some(TenantSettings::parse(json!({ "require_mfa": value })).unwrap()),
        ..TenantPatch::default()
    };

    // Only the owner changes it, and only to a boolean.
    let by_admin = world
        .identity
        .admin
        .update_tenant(&admin.scope, require(json!(true)), &ctx())
        .await;
    assert_forbidden(by_admin, Permission::ManagePrivilegedUsers);
    let not_a_flag = world
        .identity
        .admin
        .update_tenant(&owner.scope, require(json!("yes")), &ctx())
        .await;
    assert_invalid_field(not_a_flag, "settings.require_mfa");
    world
        .identity
        .admin
        .update_tenant(&owner.scope, require(json!(true)), &ctx())
        .await
        .unwrap();
    // Other settings stay the admin's to change while the flag stays as it is.
    world
        .identity
        .admin
        .update_tenant(
            &admin.scope,
            TenantPatch {
                settings: Some(
                    TenantSettings::parse(json!({ "require_mfa": true, "language": "de" }))
                        .unwrap(),
                ),
                ..TenantPatch::default()
            },
            &ctx(),
        )
        .await
        .expect("the flag unchanged");

    // The member's password now answers an enrolment challenge, and nothing else.
    let challenge = world.challenge("max@acme.example").await;
    assert_eq!(challenge.purpose, ChallengePurpose::Enrolment);
    assert_invalid_token(
        world
            .second_step(&challenge, SecondProof::Code("000000".to_owned()))
            .await,
    );
    let mfa = &world.identity.second_factors;
    let enrolment = mfa
        .start_with_challenge(&challenge.token, &ctx())
        .await
        .unwrap();
    let code = CountingTotp::code(&enrolment.secret_base32, world.clock.now());
    assert_invalid_code(
        mfa.confirm_with_challenge(&challenge.token, "000000", Some(ip(1)), &ctx())
            .await,
    );
    let (pair, codes) = mfa
        .confirm_with_challenge(&challenge.token, &code, Some(ip(1)), &ctx())
        .await
        .expect("confirming signs in");
    assert_eq!(codes.len(), 10);
    let max = world
        .identity
        .sign_in
        .authenticate(&pair.access_token)
        .await
        .unwrap();
    let status = mfa.status(&max).await.unwrap();
    assert!(status.enabled && status.required);
    // Used up: the challenge signs in once.
    assert_invalid_token(
        mfa.confirm_with_challenge(&challenge.token, &code, Some(ip(1)), &ctx())
            .await,
    );
    // Required: it cannot be turned off, and the next sign-in asks for a code.
    let password = Password::presented(PASSWORD, "password").unwrap();
    assert_conflict(
        mfa.disable(&max, &password, Some(ip(1)), &ctx()).await,
        "mfa_required",
    );
    let next = world.challenge("max@acme.example").await;
    assert_eq!(next.purpose, ChallengePurpose::SignIn);
}

#[tokio::test]
async fn an_account_with_two_memberships_must_use_a_second_factor() {
    let world = World::new();
    world.sign_up("Client A", "kim@consult.example").await;
    world.sign_up("Client B", "owner@b.example").await;
    let owner_b = world.session("owner@b.example").await;
    // One membership: the password alone signs in.
    world.login("kim@consult.example", PASSWORD).await.unwrap();

    world
        .add(
            &owner_b,
            new_member("kim@consult.example", Role::Member, false),
        )
        .await
        .unwrap();
    // Still pending: it does not count.
    world.login("kim@consult.example", PASSWORD).await.unwrap();
    let token = world.mailed_token().await;
    world
        .identity
        .sign_in
        .reset_password(&token, "kim's passphrase for both", &ctx())
        .await
        .expect("the invitation accepted");

    let challenge = match world
        .sign_in_from("kim@consult.example", "kim's passphrase for both", ip(1))
        .await
        .unwrap()
    {
        SignInOutcome::SecondFactor(challenge) => challenge,
        SignInOutcome::Tokens(_) => panic!("two memberships need a second factor"),
    };
    assert_eq!(challenge.purpose, ChallengePurpose::Enrolment);
}
