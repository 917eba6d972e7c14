//! [`SecondFactorStore`] in memory: accounts' second factors, reached (as under
//! PostgreSQL's row-level security) only through an accepted, active membership of the
//! scope's tenant, and the sign-in challenges of each tenant.

use std::collections::{HashMap, HashSet};

use aura_audit::PendingEvent;
use aura_identity::{
    AccountId, TokenHash,
    mfa::{ChallengeLookup, ChallengePurpose, RecoveryHash, SealedSecret, TimeStep, TotpFactor},
    ports::SecondFactorStore,
};
use aura_shared_kernel::{StoreError, TenantId, TenantScope, UserId};
use time::OffsetDateTime;

use crate::{MemoryStore, state::State};

#[derive(Default)]
pub(crate) struct Tables {
    pub factors: HashMap<AccountId, FactorRow>,
    pub challenges: HashMap<TokenHash, ChallengeRow>,
}

pub(crate) struct FactorRow {
    sealed: SealedSecret,
    confirmed_at: Option<OffsetDateTime>,
    last_used_step: Option<TimeStep>,
    recovery: HashSet<RecoveryHash>,
}

pub(crate) struct ChallengeRow {
    pub tenant: TenantId,
    pub user: UserId,
    purpose: ChallengePurpose,
    expires_at: OffsetDateTime,
    used_at: Option<OffsetDateTime>,
}

impl State {
    /// Whether the scope's tenant reaches the account: an accepted, active member.
    fn reaches(&self, tenant: TenantId, account: AccountId) -> bool {
        self.tenant_users(tenant)
            .any(|u| u.account_id == account && u.accepted_at.is_some() && u.is_active)
    }

    /// The account's factor as the scope's tenant may write it.
    fn factor_mut(&mut self, tenant: TenantId, account: AccountId) -> Option<&mut FactorRow> {
        if !self.reaches(tenant, account) {
            return None;
        }
        self.second_factors.factors.get_mut(&account)
    }
}

impl MemoryStore {
    /// Runs `change` on the account's factor; if it answers true, seals `event` into the
    /// scope's chain with it. False (nothing recorded) otherwise.
    fn change_factor(
        &self,
        scope: &TenantScope,
        account: AccountId,
        event: PendingEvent,
        change: impl FnOnce(&mut FactorRow) -> bool,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            let changed = tx.state.factor_mut(tenant, account).is_some_and(change);
            if changed {
                tx.record(tenant, event);
            }
            Ok(changed)
        })
    }
}

#[async_trait::async_trait]
impl SecondFactorStore for MemoryStore {
    async fn factor(
        &self,
        scope: &TenantScope,
        account: AccountId,
    ) -> Result<Option<TotpFactor>, StoreError> {
        let state = self.lock()?;
        if !state.reaches(scope.tenant_id(), account) {
            return Ok(None);
        }
        Ok(state
            .second_factors
            .factors
            .get(&account)
            .map(|row| TotpFactor {
                account,
                sealed: row.sealed.clone(),
                confirmed_at: row.confirmed_at,
                last_used_step: row.last_used_step,
                recovery_codes_left: u32::try_from(row.recovery.len()).unwrap_or(u32::MAX),
            }))
    }

    async fn accepted_memberships(
        &self,
        scope: &TenantScope,
        account: AccountId,
    ) -> Result<u32, StoreError> {
        let state = self.lock()?;
        let member_here = state
            .tenant_users(scope.tenant_id())
            .any(|u| u.account_id == account && u.accepted_at.is_some());
        if !member_here {
            return Ok(0);
        }
        // Like migration 000036: own accepted, active memberships and the clients reached
        // through a partner, each tenant once.
        let mut reached: std::collections::BTreeSet<_> = state
            .memberships(account)
            .filter(|u| u.accepted_at.is_some() && u.is_active)
            .map(|u| u.tenant_id)
            .collect();
        reached.extend(
            (state.memberships_of(account).into_iter())
                .filter(|m| m.via_partner.is_some() && m.active)
                .map(|m| m.tenant_id),
        );
        Ok(u32::try_from(reached.len()).unwrap_or(u32::MAX))
    }

    async fn start_enrolment(
        &self,
        scope: &TenantScope,
        account: AccountId,
        sealed: &SealedSecret,
        _now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if !tx.state.reaches(tenant, account) {
                return Err(StoreError::NotFound);
            }
            let factors = &mut tx.state.second_factors.factors;
            if factors
                .get(&account)
                .is_some_and(|f| f.confirmed_at.is_some())
            {
                return Ok(false);
            }
            factors.insert(
                account,
                FactorRow {
                    sealed: sealed.clone(),
                    confirmed_at: None,
                    last_used_step: None,
                    recovery: HashSet::new(),
                },
            );
            tx.record(tenant, event);
            Ok(true)
        })
    }

    async fn confirm(
        &self,
        scope: &TenantScope,
        account: AccountId,
        step: TimeStep,
        recovery: &[RecoveryHash],
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.change_factor(scope, account, event, |row| {
            if row.confirmed_at.is_some() {
                return false;
            }
            row.confirmed_at = Some(now);
            row.last_used_step = Some(step);
            row.recovery = recovery.iter().copied().collect();
            true
        })
    }

    async fn use_step(
        &self,
        scope: &TenantScope,
        account: AccountId,
        step: TimeStep,
        _now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let Some(row) = tx.state.factor_mut(scope.tenant_id(), account) else {
                return Ok(false);
            };
            if row.confirmed_at.is_none() || row.last_used_step.is_some_and(|last| step <= last) {
                return Ok(false);
            }
            row.last_used_step = Some(step);
            Ok(true)
        })
    }

    async fn use_recovery_code(
        &self,
        scope: &TenantScope,
        account: AccountId,
        code: &RecoveryHash,
        _now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.change_factor(scope, account, event, |row| {
            row.confirmed_at.is_some() && row.recovery.remove(code)
        })
    }

    async fn replace_recovery_codes(
        &self,
        scope: &TenantScope,
        account: AccountId,
        recovery: &[RecoveryHash],
        _now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.change_factor(scope, account, event, |row| {
            if row.confirmed_at.is_none() {
                return false;
            }
            row.recovery = recovery.iter().copied().collect();
            true
        })
    }

    async fn remove(
        &self,
        scope: &TenantScope,
        account: AccountId,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if !tx.state.reaches(tenant, account)
                || tx.state.second_factors.factors.remove(&account).is_none()
            {
                return Ok(false);
            }
            tx.record(tenant, event);
            Ok(true)
        })
    }

    async fn issue_challenge(
        &self,
        scope: &TenantScope,
        user: UserId,
        token: &TokenHash,
        purpose: ChallengePurpose,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let tenant = scope.tenant_id();
            if tx.state.second_factors.challenges.contains_key(token) {
                return Err(StoreError::Conflict(
                    aura_shared_kernel::Conflict::TokenTaken,
                ));
            }
            let mut member = tx
                .state
                .user(tenant, user)
                .cloned()
                .ok_or(StoreError::NotFound)?;
            // As a session's start: the right password accepts a pending membership only
            // while it is the account's only way in.
            if member.accepted_at.is_none() {
                if !(member.is_active && tx.state.only_way_in(&member)) {
                    return Err(StoreError::NotFound);
                }
                member.accepted_at = Some(now);
                tx.state.put_user(&member);
            }
            tx.state.second_factors.challenges.insert(
                *token,
                ChallengeRow {
                    tenant,
                    user,
                    purpose,
                    expires_at,
                    used_at: None,
                },
            );
            Ok(())
        })
    }

    async fn find_challenge(
        &self,
        token: &TokenHash,
    ) -> Result<Option<ChallengeLookup>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .second_factors
            .challenges
            .get(token)
            .map(|row| ChallengeLookup {
                tenant: row.tenant,
                user: row.user,
                purpose: row.purpose,
                expires_at: row.expires_at,
                used: row.used_at.is_some(),
            }))
    }

    async fn take_challenge(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let Some(row) = tx.state.second_factors.challenges.get_mut(token) else {
                return Ok(false);
            };
            if row.tenant != scope.tenant_id() || row.used_at.is_some() || now >= row.expires_at {
                return Ok(false);
            }
            row.used_at = Some(now);
            Ok(true)
        })
    }
}
