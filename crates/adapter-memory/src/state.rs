//! The tables and the helpers every write shares (rules checked before any change,
//! audit sealing).

use std::collections::{BTreeMap, HashMap};

use aura_audit::{AuditRecord, ChainHash, ChainHasher, PendingEvent, seal_event};
use aura_identity::{
    AccountId, Email, RefreshFamily, ThrottleState, TokenHash, User, ports::account_event_elsewhere,
};
use aura_shared_kernel::{Clock, Conflict, Role, StoreError, Tenant, TenantId, TenantSlug, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// A sign-in session (refresh-token family).
#[derive(Debug, Clone)]
pub(crate) struct FamilyRow {
    pub family: RefreshFamily,
    pub revoked_at: Option<OffsetDateTime>,
}

/// One refresh token of a family.
#[derive(Debug, Clone)]
pub(crate) struct RefreshRow {
    pub family: Uuid,
    pub idle_expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// A password-reset token.
#[derive(Debug, Clone)]
pub(crate) struct ResetRow {
    pub tenant: TenantId,
    pub user: UserId,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

impl ResetRow {
    pub fn usable(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub tenants: BTreeMap<TenantId, Tenant>,
    pub slugs: HashMap<TenantSlug, TenantId>,
    /// Keyed by tenant first, like the PostgreSQL primary key: a tenant's users are one
    /// ordered range, and a lookup outside the scope's tenant finds nothing.
    pub users: BTreeMap<(TenantId, UserId), User>,
    /// The platform-wide unique e-mail index: one account per address. An account's
    /// columns (address, password, its session version) are kept alike in every one
    /// of its memberships.
    pub emails: HashMap<Email, AccountId>,
    pub families: HashMap<Uuid, FamilyRow>,
    pub refresh_tokens: HashMap<TokenHash, RefreshRow>,
    pub resets: HashMap<TokenHash, ResetRow>,
    /// Keyed by `ThrottleKey::key()`.
    pub throttle: HashMap<String, ThrottleState>,
    /// Per-tenant chains in sequence order.
    pub audit: HashMap<TenantId, Vec<AuditRecord>>,
    /// Per-tenant chain heads (seq and hash of the newest sealed link), kept apart from
    /// the events like PostgreSQL's `audit_chain_heads`: removing events leaves it.
    pub audit_heads: HashMap<TenantId, (i64, ChainHash)>,
    /// The GDPR registers (organisation, activities, processors, policies).
    pub registers: crate::registers::Tables,
    /// The AI assistant's suggestions and usage counters.
    pub ai: crate::ai::Tables,
    /// The documents' versions, sealed chunks and wrapped data keys.
    pub documents: crate::documents::Tables,
    /// Tasks, keyed by (tenant, id).
    pub tasks: crate::tasks::Tasks,
    /// Origins of tasks the system made (`TaskRepository::insert_once`): taken for good.
    pub task_origins: std::collections::BTreeSet<(TenantId, String)>,
    /// The job queue, keyed by (tenant, id).
    pub jobs: crate::jobs::Jobs,
    /// Idempotency entries, keyed by (tenant or sign-up, key hash).
    pub idempotency: crate::idempotency::Entries,
    /// Accountability packs and their bytes, keyed by (tenant, id).
    pub packs: crate::packs::PackTable,
    /// The tenants' custom roles, keyed by (tenant, id).
    pub roles: crate::roles::RoleTable,
    /// Partner grants and the memberships held through them.
    pub partners: crate::partners::Tables,
    /// Accounts' second factors and the sign-in challenges.
    pub second_factors: crate::second_factors::Tables,
}

impl State {
    pub fn user(&self, tenant: TenantId, id: UserId) -> Option<&User> {
        self.users.get(&(tenant, id))
    }

    /// A member as their tenant reads them: a pending membership's account is not the
    /// tenant's to read (as under PostgreSQL's row-level security): no password hash,
    /// and the account's session version as 0.
    pub fn seen_user(&self, tenant: TenantId, id: UserId) -> Option<User> {
        self.user(tenant, id).map(seen)
    }

    pub fn tenant_users(&self, tenant: TenantId) -> impl Iterator<Item = &User> {
        let low = (tenant, UserId::from_uuid(Uuid::nil()));
        let high = (tenant, UserId::from_uuid(Uuid::max()));
        self.users.range(low..=high).map(|(_, user)| user)
    }

    /// Like the foreign key to the tenants table: `NotFound` for an unknown tenant.
    pub fn check_tenant(&self, tenant: TenantId) -> Result<(), StoreError> {
        if self.tenants.contains_key(&tenant) {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// A new row of `row_tenant` written in the scope of `tenant`: a row claiming another
    /// tenant is refused like a foreign row, and so is an unknown tenant (`NotFound`).
    pub fn check_new_row(&self, tenant: TenantId, row_tenant: TenantId) -> Result<(), StoreError> {
        in_scope(tenant, row_tenant)?;
        self.check_tenant(tenant)
    }

    /// `Conflict::EmailTaken` when another account has the address.
    pub fn check_email_free(&self, email: &Email, account: AccountId) -> Result<(), StoreError> {
        let holder = self.emails.get(email).copied();
        check_free(holder, Some(account), Conflict::EmailTaken)
    }

    /// The memberships of an account, in every tenant.
    pub fn memberships(&self, account: AccountId) -> impl Iterator<Item = &User> {
        self.users.values().filter(move |u| u.account_id == account)
    }

    /// Whether the pending `member` may sign in (and so be accepted): the membership that
    /// created its account, while no membership is accepted and no link set the
    /// account's password (as `aura_find_login`).
    pub fn only_way_in(&self, member: &User) -> bool {
        member.id.as_uuid() == member.account_id.as_uuid()
            && member.account_session_version == 0
            && !self
                .memberships(member.account_id)
                .any(|u| u.accepted_at.is_some())
    }

    /// Adds a member: a new account (its address free), or a membership of an existing
    /// one, which keeps the account as it is (at most one membership per tenant).
    pub fn insert_member(&mut self, user: &User) -> Result<(), StoreError> {
        let existing = self.memberships(user.account_id).next().cloned();
        let mut stored = user.clone();
        match existing {
            Some(other) => {
                if self
                    .memberships(user.account_id)
                    .any(|u| u.tenant_id == user.tenant_id)
                {
                    return Err(StoreError::Conflict(Conflict::EmailTaken));
                }
                stored.email = other.email;
                stored.password_hash = other.password_hash;
                stored.account_session_version = other.account_session_version;
            }
            // A new account's first membership shares its id; another account must exist.
            None if user.account_id.as_uuid() != user.id.as_uuid() => {
                return Err(StoreError::NotFound);
            }
            None => self.check_email_free(&user.email, user.account_id)?,
        }
        self.put_user(&stored);
        Ok(())
    }

    /// `Conflict::SlugTaken` when another tenant has the slug.
    pub fn check_slug_free(
        &self,
        slug: &TenantSlug,
        except: Option<TenantId>,
    ) -> Result<(), StoreError> {
        check_free(self.slugs.get(slug).copied(), except, Conflict::SlugTaken)
    }

    /// The last-owner rule: when `before` is an active owner and `after` (None: deleted)
    /// no longer is, another active owner must remain in the tenant.
    pub fn check_owner_kept(&self, before: &User, after: Option<&User>) -> Result<(), StoreError> {
        let active_owner = |u: &User| u.role == Role::Owner && u.is_active;
        if !active_owner(before) || after.is_some_and(active_owner) {
            return Ok(());
        }
        let another = self
            .tenant_users(before.tenant_id)
            .any(|u| u.id != before.id && active_owner(u));
        if another {
            Ok(())
        } else {
            Err(StoreError::Conflict(Conflict::LastOwner))
        }
    }

    /// The checks of replacing a user row in `tenant`: the row exists there at
    /// `expected_version` (else `Conflict::Version`), the e-mail is free, an owner
    /// remains. Returns the row as it was.
    pub fn check_user_update(
        &self,
        tenant: TenantId,
        user: &User,
        expected_version: i32,
    ) -> Result<&User, StoreError> {
        in_scope(tenant, user.tenant_id)?;
        let before = self.user(tenant, user.id).ok_or(StoreError::NotFound)?;
        if before.version != expected_version {
            return Err(StoreError::Conflict(Conflict::Version));
        }
        if before.account_id != user.account_id {
            return Err(StoreError::unexpected(
                "a membership cannot move to another account",
            ));
        }
        // The password is written only with the account's next session version, from
        // the one the caller read (like the PostgreSQL store), and never through a
        // pending membership (whose account the caller did not read).
        let account_moved = account_readable(before)
            && user.account_session_version != before.account_session_version;
        if account_moved
            && user.account_session_version.wrapping_sub(1) != before.account_session_version
        {
            return Err(StoreError::Conflict(Conflict::Version));
        }
        self.check_email_free(&user.email, user.account_id)?;
        self.check_custom_role(user)?;
        self.check_owner_kept(before, Some(user))?;
        Ok(before)
    }

    /// Replaces a user row (checked by [`State::check_user_update`]) and carries its
    /// account's columns to the account's other memberships.
    pub fn put_user(&mut self, user: &User) {
        let key = (user.tenant_id, user.id);
        if let Some(before) = self.users.get(&key)
            && before.email != user.email
        {
            self.emails.remove(&before.email);
        }
        self.emails.insert(user.email.clone(), user.account_id);
        for other in self.users.values_mut() {
            if other.account_id == user.account_id {
                other.email = user.email.clone();
                other.password_hash = user.password_hash.clone();
                other.account_session_version = user.account_session_version;
            }
        }
        self.users.insert(key, user.clone());
    }

    /// Replaces a user row (checked) and stores it at `version`. A write that ends the
    /// user's sessions (password, deactivation, role) voids their open reset and
    /// invitation links too, as the PostgreSQL store does in the same transaction; a
    /// new password voids those of every membership of the account. A pending
    /// membership's write leaves the account as stored. Returns the account's accepted
    /// memberships in other tenants when the password changed (to audit there).
    pub fn put_user_version(&mut self, user: &User, version: i32) -> Vec<(TenantId, UserId)> {
        let Some(before) = self.users.get(&(user.tenant_id, user.id)).cloned() else {
            return Vec::new();
        };
        let mut stored = user.clone();
        stored.version = version;
        // Acceptance is the store's (sign-in, link), never a membership write's.
        stored.accepted_at = before.accepted_at;
        let mut elsewhere = Vec::new();
        if !account_readable(&before) {
            stored.email = before.email.clone();
            stored.password_hash = before.password_hash.clone();
            stored.account_session_version = before.account_session_version;
        } else if before.account_session_version == user.account_session_version {
            // No new password: the account's stays as stored.
            stored.password_hash = before.password_hash.clone();
        } else {
            elsewhere = self.account_password_changed(&stored, user.updated_at);
        }
        if before.session_generation() != stored.session_generation() {
            self.void_links(
                |row| row.tenant == user.tenant_id && row.user == user.id,
                user.updated_at,
            );
        }
        self.put_user(&stored);
        elsewhere
    }

    /// Sets the account of `member` to `member`'s password and account session version
    /// (a pending membership accepted with its link).
    pub fn accept_with_password(&mut self, member: &User) -> Vec<(TenantId, UserId)> {
        let elsewhere = self.account_password_changed(member, member.updated_at);
        let mut stored = self
            .user(member.tenant_id, member.id)
            .cloned()
            .unwrap_or_else(|| member.clone());
        stored.password_hash = member.password_hash.clone();
        stored.account_session_version = stored.account_session_version.wrapping_add(1);
        stored.accepted_at.get_or_insert(member.updated_at);
        self.put_user(&stored);
        elsewhere
    }

    /// Like `aura_account_password_changed`: voids the open links of every membership
    /// of `member`'s account and returns its accepted memberships in other tenants.
    fn account_password_changed(
        &mut self,
        member: &User,
        now: OffsetDateTime,
    ) -> Vec<(TenantId, UserId)> {
        let all: Vec<(TenantId, UserId)> = self
            .memberships(member.account_id)
            .map(|u| (u.tenant_id, u.id))
            .collect();
        self.void_links(|row| all.contains(&(row.tenant, row.user)), now);
        self.memberships(member.account_id)
            .filter(|u| u.tenant_id != member.tenant_id && u.accepted_at.is_some())
            .map(|u| (u.tenant_id, u.id))
            .collect()
    }

    fn void_links(&mut self, of: impl Fn(&ResetRow) -> bool, now: OffsetDateTime) {
        for row in self.resets.values_mut() {
            if row.used_at.is_none() && of(row) {
                row.used_at = Some(now);
            }
        }
    }

    /// Removes a user and, like the foreign keys' `ON DELETE CASCADE`, their sessions
    /// and reset tokens (and, like `ON DELETE SET NULL`, their places in tasks).
    pub fn remove_user(&mut self, tenant: TenantId, id: UserId) {
        if let Some(user) = self.users.remove(&(tenant, id))
            && self.memberships(user.account_id).next().is_none()
        {
            // An account left with no membership goes with its last one.
            self.emails.remove(&user.email);
            self.second_factors.factors.remove(&user.account_id);
        }
        self.second_factors
            .challenges
            .retain(|_, row| !(row.tenant == tenant && row.user == id));
        self.forget_user_in_tasks(tenant, id);
        self.partners.members.remove(&(tenant, id));
        self.families
            .retain(|_, row| !(row.family.tenant_id == tenant && row.family.user_id == id));
        let families = &self.families;
        self.refresh_tokens
            .retain(|_, row| families.contains_key(&row.family));
        self.resets
            .retain(|_, row| !(row.tenant == tenant && row.user == id));
    }

    /// The family of a refresh token, if both exist in `tenant`.
    pub fn family_in(&self, tenant: TenantId, family: Uuid) -> Option<&FamilyRow> {
        self.families
            .get(&family)
            .filter(|row| row.family.tenant_id == tenant)
    }
}

/// `user` as their tenant reads them (see [`State::seen_user`]).
pub(crate) fn seen(user: &User) -> User {
    let mut seen = user.clone();
    if !account_readable(user) {
        seen.password_hash = aura_identity::PasswordHash::unset();
        seen.account_session_version = 0;
    }
    seen
}

/// Whether a membership's tenant reads (and writes) its account: accepted and active,
/// as the `member_of_tenant` policy.
pub(crate) fn account_readable(member: &User) -> bool {
    member.accepted_at.is_some() && member.is_active
}

/// A unique index's check: `taken` when the value has a `holder` other than `except`
/// (the row being rewritten).
fn check_free<H: PartialEq>(
    holder: Option<H>,
    except: Option<H>,
    taken: Conflict,
) -> Result<(), StoreError> {
    match holder {
        Some(holder) if Some(&holder) != except.as_ref() => Err(StoreError::Conflict(taken)),
        _ => Ok(()),
    }
}

/// A row written in the scope of `tenant` must be one of its rows: one claiming another
/// tenant is refused like a foreign row, `NotFound` (the answer tells nothing of others).
pub(crate) fn in_scope(tenant: TenantId, row_tenant: TenantId) -> Result<(), StoreError> {
    if row_tenant == tenant {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// A write in progress: the locked tables plus what sealing audit events needs.
pub(crate) struct Tx<'a> {
    pub state: &'a mut State,
    pub hasher: &'a dyn ChainHasher,
    pub clock: &'a dyn Clock,
}

impl Tx<'_> {
    /// Seals `event` as the next link of `tenant`'s chain and stores it. Infallible, so
    /// a write calls it after its checks, together with its change.
    pub fn record(&mut self, tenant: TenantId, event: PendingEvent) -> AuditRecord {
        let (head_seq, prev) = self
            .state
            .audit_heads
            .get(&tenant)
            .copied()
            .unwrap_or((0, ChainHash::GENESIS));
        let record = seal_event(
            event,
            tenant,
            head_seq + 1,
            self.clock.now(),
            prev,
            self.hasher,
        );
        self.state
            .audit_heads
            .insert(tenant, (record.seq, record.hash));
        self.state
            .audit
            .entry(tenant)
            .or_default()
            .push(record.clone());
        record
    }

    /// Writes [`account_event_elsewhere`] into the chain of each tenant in `elsewhere`.
    pub fn record_elsewhere(&mut self, event: &PendingEvent, elsewhere: &[(TenantId, UserId)]) {
        for &(tenant, member) in elsewhere {
            self.record(tenant, account_event_elsewhere(event, member));
        }
    }
}
