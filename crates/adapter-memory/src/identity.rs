//! Identity's ports: tenants, users, sessions, password resets and login throttling.

use aura_audit::PendingEvent;
use aura_identity::{
    AccountId, CountedFailure, Email, Membership, PartnerGrant, PartnerRef, PasswordHash,
    RefreshFamily, RefreshLookup, ThrottleKey, ThrottlePolicy, ThrottleState, TokenHash, User,
    ports::{
        LoginRecord, LoginThrottle, PasswordResetStore, PrincipalRecord, SessionStore,
        TenantRepository, UserRepository,
    },
};
use aura_shared_kernel::{
    Conflict, Page, PageRequest, StoreError, SystemScope, Tenant, TenantId, TenantScope,
    TenantSlug, UserId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    MemoryStore,
    partners::is_consultancy,
    state::{FamilyRow, RefreshRow, ResetRow, in_scope, seen},
};

#[async_trait::async_trait]
impl TenantRepository for MemoryStore {
    async fn register(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        owner: &User,
        events: Vec<PendingEvent>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            if scope.tenant_id() != tenant.id || owner.tenant_id != tenant.id {
                return Err(StoreError::unexpected(
                    "the first owner must belong to the new tenant",
                ));
            }
            if tx.state.tenants.contains_key(&tenant.id) {
                return Err(StoreError::Conflict(Conflict::IdTaken("tenant")));
            }
            tx.state.check_slug_free(&tenant.slug, None)?;
            tx.state.check_email_free(&owner.email, owner.account_id)?;
            if tx.state.memberships(owner.account_id).next().is_some() {
                return Err(StoreError::Conflict(Conflict::IdTaken("account")));
            }
            tx.state.tenants.insert(tenant.id, tenant.clone());
            tx.state.slugs.insert(tenant.slug.clone(), tenant.id);
            tx.state.put_user(owner);
            for event in events {
                tx.record(tenant.id, event);
            }
            Ok(())
        })
    }

    async fn slug_taken(&self, slug: &TenantSlug) -> Result<bool, StoreError> {
        Ok(self.lock()?.slugs.contains_key(slug))
    }

    async fn get(&self, scope: &TenantScope) -> Result<Tenant, StoreError> {
        self.lock()?
            .tenants
            .get(&scope.tenant_id())
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn update(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, scoped| {
            in_scope(scoped, tenant.id)?;
            let before = tx
                .state
                .tenants
                .get(&tenant.id)
                .ok_or(StoreError::NotFound)?;
            if before.version != expected_version {
                return Err(StoreError::Conflict(Conflict::Version));
            }
            tx.state.check_slug_free(&tenant.slug, Some(tenant.id))?;
            let old_slug = before.slug.clone();
            tx.state.slugs.remove(&old_slug);
            tx.state.slugs.insert(tenant.slug.clone(), tenant.id);
            let mut stored = tenant.clone();
            stored.version = expected_version.wrapping_add(1);
            tx.state.tenants.insert(tenant.id, stored);
            Ok(())
        })
    }

    async fn list_all(&self, _system: &SystemScope) -> Result<Vec<Tenant>, StoreError> {
        let mut tenants: Vec<Tenant> = self.lock()?.tenants.values().cloned().collect();
        tenants.sort_by_key(|t| (t.created_at, t.id));
        Ok(tenants)
    }

    async fn find_partner(
        &self,
        scope: &TenantScope,
        slug: &TenantSlug,
    ) -> Result<Option<(PartnerRef, TenantSlug)>, StoreError> {
        let state = self.lock()?;
        let partner = state
            .slugs
            .get(slug)
            .and_then(|id| state.tenants.get(id))
            .filter(|t| t.is_active && is_consultancy(t) && t.id != scope.tenant_id());
        Ok(partner.map(|t| {
            let found = PartnerRef {
                id: t.id,
                name: t.name.clone(),
            };
            (found, t.slug.clone())
        }))
    }

    async fn grant_partner(
        &self,
        scope: &TenantScope,
        grant: &PartnerGrant,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_tenant(tenant)?;
            tx.state.check_tenant(grant.partner.id)?;
            let key = (tenant, grant.partner.id);
            if tenant == grant.partner.id || tx.state.partners.grants.contains_key(&key) {
                return Err(StoreError::Conflict(Conflict::IdTaken("partner")));
            }
            tx.state.partners.grants.insert(key, grant.clone());
            Ok(())
        })
    }

    async fn partner_grants(&self, scope: &TenantScope) -> Result<Vec<PartnerGrant>, StoreError> {
        let state = self.lock()?;
        let tenant = scope.tenant_id();
        let mut grants: Vec<PartnerGrant> = state
            .partners
            .grants
            .iter()
            .filter(|((client, _), _)| *client == tenant)
            .filter_map(|((_, partner), grant)| {
                // The partner as it is named now.
                let now = state.tenants.get(partner)?;
                let mut grant = grant.clone();
                grant.partner.name = now.name.clone();
                grant.partner_slug = now.slug.clone();
                Some(grant)
            })
            .collect();
        grants.sort_by(|a, b| {
            (a.partner.name.as_str(), a.partner.id).cmp(&(b.partner.name.as_str(), b.partner.id))
        });
        Ok(grants)
    }

    async fn revoke_partner(
        &self,
        scope: &TenantScope,
        partner: TenantId,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let now = self.shared.clock.now();
        self.write_audited(scope, event, |tx, tenant| {
            if tx
                .state
                .partners
                .grants
                .remove(&(tenant, partner))
                .is_none()
            {
                return Err(StoreError::NotFound);
            }
            let held: Vec<UserId> = tx
                .state
                .partners
                .members
                .iter()
                .filter(|((client, _), through)| *client == tenant && **through == partner)
                .map(|((_, member), _)| *member)
                .collect();
            for member in held {
                if let Some(user) = tx.state.users.get_mut(&(tenant, member)) {
                    user.end_sessions();
                    user.bump_version();
                    user.updated_at = now;
                }
            }
            Ok(())
        })
    }
}

#[async_trait::async_trait]
impl UserRepository for MemoryStore {
    async fn find_for_login(&self, email: &Email) -> Result<Option<LoginRecord>, StoreError> {
        let state = self.lock()?;
        let Some(&account) = state.emails.get(email) else {
            return Ok(None);
        };
        // Like `aura_find_login`: accepted memberships first, or the pending one that is
        // the account's only way in; a usable one first (active, in an active tenant),
        // then the one signed into last.
        let usable = |u: &User| {
            u.is_active
                && state
                    .tenants
                    .get(&u.tenant_id)
                    .is_some_and(|tenant| tenant.is_active)
        };
        let user = state
            .memberships(account)
            .filter(|u| !state.held_through_partner(u))
            .filter(|u| u.accepted_at.is_some() || state.only_way_in(u))
            .min_by_key(|u| {
                (
                    std::cmp::Reverse(u.accepted_at.is_some()),
                    std::cmp::Reverse(usable(u)),
                    std::cmp::Reverse(u.last_login_at.is_some()),
                    std::cmp::Reverse(u.last_login_at),
                    u.created_at,
                    u.id,
                )
            });
        let Some(user) = user else {
            return Ok(None);
        };
        let tenant = state.tenants.get(&user.tenant_id);
        Ok(tenant.map(|tenant| LoginRecord {
            user: user.clone(),
            tenant: tenant.clone(),
        }))
    }

    async fn logins_of(&self, email: &Email) -> Result<Vec<LoginRecord>, StoreError> {
        let state = self.lock()?;
        let Some(&account) = state.emails.get(email) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<LoginRecord> = (state.memberships(account))
            .filter(|u| u.accepted_at.is_some() || state.only_way_in(u))
            .filter_map(|u| {
                let tenant = state.tenants.get(&u.tenant_id)?;
                Some(LoginRecord {
                    user: u.clone(),
                    tenant: tenant.clone(),
                })
            })
            .collect();
        found.sort_by_key(|r| (r.user.created_at, r.user.id));
        Ok(found)
    }

    async fn find_account(&self, email: &Email) -> Result<Option<AccountId>, StoreError> {
        Ok(self.lock()?.emails.get(email).copied())
    }

    async fn memberships_of(&self, account: AccountId) -> Result<Vec<Membership>, StoreError> {
        Ok(self.lock()?.memberships_of(account))
    }

    async fn enter(
        &self,
        scope: &TenantScope,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Option<(UserId, Option<TenantId>)>, StoreError> {
        self.write(|tx| Ok(tx.state.enter(scope.tenant_id(), account, now)))
    }

    async fn find_principal(
        &self,
        scope: &TenantScope,
        user: UserId,
        session: Uuid,
    ) -> Result<Option<PrincipalRecord>, StoreError> {
        let tenant = scope.tenant_id();
        let now = self.shared.clock.now();
        let state = self.lock()?;
        let (Some(found_user), Some(found_tenant)) =
            (state.user(tenant, user), state.tenants.get(&tenant))
        else {
            return Ok(None);
        };
        // As in PostgreSQL, whose join with the account finds none for a pending member.
        if found_user.accepted_at.is_none() {
            return Ok(None);
        }
        let via_partner = state.partner_access(found_user);
        if via_partner.is_none() && state.held_through_partner(found_user) {
            return Ok(None);
        }
        let session_active = state.family_in(tenant, session).is_some_and(|row| {
            row.family.user_id == user
                && row.revoked_at.is_none()
                && now < row.family.absolute_expires_at
        });
        // The custom role as stored now, so a change takes effect on the next request.
        let custom_permissions = found_user
            .custom_role
            .and_then(|id| state.roles.get(&(tenant, id)))
            .map(|role| role.permissions);
        Ok(Some(PrincipalRecord {
            // As in PostgreSQL, whose principal read leaves the hash out.
            user: User {
                password_hash: PasswordHash::unset(),
                ..found_user.clone()
            },
            tenant: found_tenant.clone(),
            custom_permissions,
            session_active,
            via_partner,
        }))
    }

    async fn get(&self, scope: &TenantScope, id: UserId) -> Result<User, StoreError> {
        self.lock()?
            .seen_user(scope.tenant_id(), id)
            .ok_or(StoreError::NotFound)
    }

    async fn list(&self, scope: &TenantScope, page: PageRequest) -> Result<Page<User>, StoreError> {
        let state = self.lock()?;
        let items: Vec<User> = state
            .tenant_users(scope.tenant_id())
            .filter(|u| page.after.is_none_or(|after| u.id.as_uuid() > after))
            .take(page.limit.saturating_add(1))
            .map(seen)
            .collect();
        Ok(Page::from_overfetch(items, page.limit, |u| u.id.as_uuid()))
    }

    async fn insert(
        &self,
        scope: &TenantScope,
        user: &User,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            tx.state.check_new_row(tenant, user.tenant_id)?;
            if tx.state.user(tenant, user.id).is_some() {
                return Err(StoreError::Conflict(Conflict::IdTaken("user")));
            }
            tx.state.check_custom_role(user)?;
            tx.state.insert_member(user)
        })
    }

    async fn update(
        &self,
        scope: &TenantScope,
        user: &User,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let own = event.clone();
        self.write_audited(scope, own, |tx, tenant| {
            tx.state.check_user_update(tenant, user, expected_version)?;
            let elsewhere = tx
                .state
                .put_user_version(user, expected_version.wrapping_add(1));
            tx.record_elsewhere(&event, &elsewhere);
            Ok(())
        })
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: UserId,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            let before = tx.state.user(tenant, id).ok_or(StoreError::NotFound)?;
            tx.state.check_owner_kept(before, None)?;
            tx.state.remove_user(tenant, id);
            Ok(())
        })
    }
}

#[async_trait::async_trait]
impl SessionStore for MemoryStore {
    async fn start(
        &self,
        scope: &TenantScope,
        family: &RefreshFamily,
        first: &TokenHash,
        idle_expires_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            in_scope(tenant, family.tenant_id)?;
            let mut user = tx
                .state
                .user(tenant, family.user_id)
                .cloned()
                .ok_or(StoreError::NotFound)?;
            if tx.state.families.contains_key(&family.id) {
                return Err(StoreError::Conflict(Conflict::IdTaken("session")));
            }
            // Signing in accepts a pending membership only while it is the account's
            // only way in (as `aura_accept_sign_in`); any other starts no session.
            if user.accepted_at.is_none() {
                if !(user.is_active && tx.state.only_way_in(&user)) {
                    return Err(StoreError::NotFound);
                }
                user.accepted_at = Some(family.created_at);
            }
            if tx.state.refresh_tokens.contains_key(first) {
                return Err(StoreError::Conflict(Conflict::TokenTaken));
            }
            tx.state.families.insert(
                family.id,
                FamilyRow {
                    family: family.clone(),
                    revoked_at: None,
                },
            );
            tx.state.refresh_tokens.insert(
                *first,
                RefreshRow {
                    family: family.id,
                    idle_expires_at,
                    used_at: None,
                },
            );
            user.last_login_at = Some(family.created_at);
            tx.state.put_user(&user);
            Ok(())
        })
    }

    async fn find(&self, presented: &TokenHash) -> Result<Option<RefreshLookup>, StoreError> {
        let state = self.lock()?;
        let Some(token) = state.refresh_tokens.get(presented) else {
            return Ok(None);
        };
        Ok(state.families.get(&token.family).map(|row| RefreshLookup {
            family: row.family.clone(),
            family_revoked: row.revoked_at.is_some(),
            used: token.used_at.is_some(),
            idle_expires_at: token.idle_expires_at,
        }))
    }

    async fn rotate(
        &self,
        scope: &TenantScope,
        presented: &TokenHash,
        next: &TokenHash,
        idle_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let token = tx
                .state
                .refresh_tokens
                .get(presented)
                .ok_or(StoreError::NotFound)?;
            let family = token.family;
            if tx.state.family_in(scope.tenant_id(), family).is_none() {
                return Err(StoreError::NotFound);
            }
            if token.used_at.is_some() {
                return Ok(false);
            }
            if tx.state.refresh_tokens.contains_key(next) {
                return Err(StoreError::Conflict(Conflict::TokenTaken));
            }
            if let Some(token) = tx.state.refresh_tokens.get_mut(presented) {
                token.used_at = Some(now);
            }
            tx.state.refresh_tokens.insert(
                *next,
                RefreshRow {
                    family,
                    idle_expires_at,
                    used_at: None,
                },
            );
            Ok(true)
        })
    }

    async fn revoke(
        &self,
        scope: &TenantScope,
        family: Uuid,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            if tx.state.family_in(tenant, family).is_none() {
                return Err(StoreError::NotFound);
            }
            if let Some(row) = tx.state.families.get_mut(&family) {
                // Revoking twice keeps the first time.
                row.revoked_at.get_or_insert(now);
            }
            Ok(())
        })
    }
}

#[async_trait::async_trait]
impl PasswordResetStore for MemoryStore {
    async fn issue(
        &self,
        scope: &TenantScope,
        user: UserId,
        token: &TokenHash,
        expires_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(scope, event, |tx, tenant| {
            if tx.state.user(tenant, user).is_none() {
                return Err(StoreError::NotFound);
            }
            if tx.state.resets.contains_key(token) {
                return Err(StoreError::Conflict(Conflict::TokenTaken));
            }
            tx.state.resets.insert(
                *token,
                ResetRow {
                    tenant,
                    user,
                    expires_at,
                    used_at: None,
                },
            );
            Ok(())
        })
    }

    async fn find(
        &self,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<(TenantId, UserId)>, StoreError> {
        Ok(self
            .lock()?
            .resets
            .get(token)
            .filter(|row| row.usable(now))
            .map(|row| (row.tenant, row.user)))
    }

    async fn redeem(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        user: &User,
        expected_version: i32,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            // Unknown, foreign, used, expired or someone else's token: nothing to redeem.
            let usable =
                tx.state.resets.get(token).is_some_and(|row| {
                    row.tenant == tenant && row.user == user.id && row.usable(now)
                });
            let Some(before) = tx.state.user(tenant, user.id) else {
                return Ok(false);
            };
            let pending = before.accepted_at.is_none();
            // As `aura_accept_membership`: an active member and a password.
            if !usable || (pending && (!before.is_active || user.password_hash.is_unset())) {
                return Ok(false);
            }
            tx.state.check_user_update(tenant, user, expected_version)?;
            // The user's other outstanding links die with this reset (as in PostgreSQL).
            for row in tx.state.resets.values_mut() {
                if row.tenant == tenant && row.user == user.id && row.used_at.is_none() {
                    row.used_at = Some(now);
                }
            }
            let mut elsewhere = tx
                .state
                .put_user_version(user, expected_version.wrapping_add(1));
            if pending {
                // The link, not the tenant, sets the account's password.
                elsewhere = tx.state.accept_with_password(user);
            }
            tx.record_elsewhere(&event, &elsewhere);
            tx.record(tenant, event);
            Ok(true)
        })
    }
}

#[async_trait::async_trait]
impl LoginThrottle for MemoryStore {
    async fn load(&self, keys: &[ThrottleKey]) -> Result<Vec<Option<ThrottleState>>, StoreError> {
        let state = self.lock()?;
        Ok(keys
            .iter()
            .map(|key| state.throttle.get(&key.key()).copied())
            .collect())
    }

    async fn record_failure(
        &self,
        keys: &[ThrottleKey],
        policy: &ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<Vec<CountedFailure>, StoreError> {
        let mut state = self.lock()?;
        let mut counted = Vec::with_capacity(keys.len());
        for key in keys {
            let key = key.key();
            let before = state.throttle.get(&key).copied();
            let next = policy.after_failure(before, now);
            state.throttle.insert(key, next);
            counted.push(CountedFailure {
                state: next,
                previous_failure_at: before
                    .filter(|_| next.failures > 1)
                    .map(|b| b.last_failure_at),
            });
        }
        Ok(counted)
    }

    async fn release(&self, keys: &[ThrottleKey]) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        for key in keys {
            let key = key.key();
            match state.throttle.get_mut(&key) {
                Some(row) if row.failures > 1 => row.failures -= 1,
                Some(_) => {
                    // Zero failures: forgotten, as in PostgreSQL.
                    state.throttle.remove(&key);
                }
                None => {}
            }
        }
        Ok(())
    }

    async fn clear(&self, keys: &[ThrottleKey]) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        for key in keys {
            state.throttle.remove(&key.key());
        }
        Ok(())
    }
}
