//! The portfolio of the signed-in account: its usable memberships (identity's fresh
//! read, never input), each tenant summarised under its own membership's scope, a few
//! tenants at a time, each summary kept for [`crate::FRESH_FOR`].

use std::sync::Arc;

use aura_audit::RequestContext;
use aura_identity::{AccountTenant, Authenticated, IdentityError, MemberScope, PartnerRef, SignIn};
use aura_shared_kernel::{Role, Tenant, fanout::bounded};
use time::OffsetDateTime;

use crate::{
    cache::{CacheKey, Cached, SummaryCache},
    summary::{Sources, TenantSummary, summarise},
};

/// Where the portfolio learns the caller's tenants: identity's [`SignIn::memberships`]
/// (a fresh read of the verified account's usable memberships, own and through a
/// partner, each with the scope a request there would have).
#[async_trait::async_trait]
pub trait AccountMemberships: Send + Sync {
    async fn memberships(&self, auth: &Authenticated) -> Result<Vec<AccountTenant>, IdentityError>;
}

#[async_trait::async_trait]
impl AccountMemberships for SignIn {
    async fn memberships(&self, auth: &Authenticated) -> Result<Vec<AccountTenant>, IdentityError> {
        SignIn::memberships(self, auth).await
    }
}

/// How many tenants are summarised at once: enough to overlap their reads, few enough
/// that one portfolio does not take the connection pool.
pub const CONCURRENCY: usize = 4;

/// One client tenant in the portfolio.
#[derive(Debug, Clone)]
pub struct PortfolioEntry {
    pub tenant: Tenant,
    /// The account's role there (for a client not entered yet: the grant's).
    pub role: Role,
    /// The partner whose grant the access comes through (`None`: an own membership).
    pub via_partner: Option<PartnerRef>,
    /// False for a partner's client the person never entered: no membership exists
    /// there yet (a switch creates it), so nothing of it is read and `summary` is `None`.
    pub entered: bool,
    /// `None` when the tenant could not be read just now (logged; the other tenants
    /// are still shown), or was not entered yet.
    pub summary: Option<Arc<TenantSummary>>,
    /// When the summary was computed (at most [`crate::FRESH_FOR`] ago).
    pub computed_at: OffsetDateTime,
}

#[derive(Clone)]
pub struct Portfolio {
    memberships: Arc<dyn AccountMemberships>,
    sources: Sources,
    cache: Arc<SummaryCache>,
}

impl Portfolio {
    pub fn new(memberships: Arc<dyn AccountMemberships>, sources: Sources) -> Self {
        Self::with_cache(memberships, sources, SummaryCache::default())
    }

    pub fn with_cache(
        memberships: Arc<dyn AccountMemberships>,
        sources: Sources,
        cache: SummaryCache,
    ) -> Self {
        Self {
            memberships,
            sources,
            cache: Arc::new(cache),
        }
    }

    /// The caller's account's tenants, in the order identity lists the memberships.
    pub async fn overview(
        &self,
        auth: &Authenticated,
        ctx: &RequestContext,
    ) -> Result<Vec<PortfolioEntry>, IdentityError> {
        let memberships = self.memberships.memberships(auth).await?;
        let entries = memberships
            .into_iter()
            .map(|membership| self.entry(auth, membership, ctx))
            .collect();
        Ok(bounded(entries, CONCURRENCY).await)
    }

    async fn entry(
        &self,
        auth: &Authenticated,
        membership: AccountTenant,
        ctx: &RequestContext,
    ) -> PortfolioEntry {
        let now = self.sources.clock.now();
        let MemberScope {
            scope,
            user,
            tenant,
            via_partner,
        } = match membership {
            AccountTenant::Member(member) => *member,
            AccountTenant::NotEntered {
                tenant,
                role,
                via_partner,
            } => {
                return PortfolioEntry {
                    tenant,
                    role,
                    via_partner: Some(via_partner),
                    entered: false,
                    summary: None,
                    computed_at: now,
                };
            }
        };
        let key = CacheKey {
            account: auth.user.account_id,
            tenant: tenant.id,
            user: user.id,
            role: user.role,
            permissions: scope.permissions(),
            partner: scope.partner(),
        };
        let cached = match self.cache.get(&key, now) {
            Some(cached) => Some(cached),
            None => match summarise(&self.sources, &scope, ctx).await {
                Ok(summary) => {
                    let cached = Cached {
                        summary: Arc::new(summary),
                        computed_at: now,
                    };
                    self.cache.put(key, cached.clone(), now);
                    Some(cached)
                }
                Err(error) => {
                    tracing::warn!(tenant = %tenant.id, %error, "portfolio: a tenant's summary failed");
                    None
                }
            },
        };
        PortfolioEntry {
            role: user.role,
            via_partner,
            entered: true,
            summary: cached.as_ref().map(|c| c.summary.clone()),
            computed_at: cached.map_or(now, |c| c.computed_at),
            tenant,
        }
    }
}
