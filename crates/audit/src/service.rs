use std::sync::Arc;

use aura_shared_kernel::{Forbidden, Permission, StoreError, TenantScope, UserId};

use crate::event::{Actor, AuditAction, Changes, RequestContext};
use time::OffsetDateTime;

use crate::{
    chain::{ChainHash, ChainHasher, ChainVerification, ChainVerifier, Checkpoint},
    event::{AuditRecord, PendingEvent},
};

/// The action of a shredding: the personal values of some events made unreadable.
pub const AUDIT_PERSONAL_SHREDDED: AuditAction = AuditAction::known("audit.personal_shredded");

/// The action that keys a chain whose newest link was sealed before the key.
pub const AUDIT_CHAIN_KEYED: AuditAction = AuditAction::known("audit.chain_keyed");

/// Which events' personal values a shredding removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shredding {
    /// Every event sealed before this instant (the end of the retention period).
    SealedBefore(OffsetDateTime),
    /// Every event of this user: as the actor, or about the user (`user` entity).
    OfUser(UserId),
}

impl Shredding {
    /// Whether `record` is one of the events (the memory store's filter, and a check).
    pub fn selects(&self, record: &AuditRecord) -> bool {
        match self {
            Self::SealedBefore(at) => record.created_at < *at,
            Self::OfUser(user) => {
                record.actor.user_id() == Some(*user)
                    || (record.entity_type == "user"
                        && record.entity_id.as_deref() == Some(&user.to_string()))
            }
        }
    }
}

/// The event a store appends after shredding, given how many events it shredded.
pub type ShreddingEvent = Box<dyn FnOnce(u64) -> PendingEvent + Send>;

/// The audit store. Events that accompany a change are written by that change's port;
/// this port appends stand-alone events (a failed login, a reused refresh token) and reads.
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    /// Seals `event` into the scope's chain and stores it.
    async fn append(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
    ) -> Result<AuditRecord, StoreError>;

    /// Newest first, filtered, at most `query.limit` items.
    async fn list(&self, scope: &TenantScope, query: &AuditQuery) -> Result<AuditPage, StoreError>;

    /// Up to `limit` links after position `after_seq`, in chain order.
    async fn chain_after(
        &self,
        scope: &TenantScope,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// The scope's chain head as the store keeps it apart from the events: the seq and
    /// hash of the newest link ever sealed, `None` before the first. Verification
    /// compares it with the last stored link, so removing the newest events shows.
    async fn head(&self, scope: &TenantScope) -> Result<Option<(i64, ChainHash)>, StoreError>;

    /// Removes the personal values (and their salts) of the scope's keyed events that
    /// `which` selects, then appends `event` with their count (none when there were
    /// none), in one transaction.
    /// Returns the count. The chain keeps their digests, so it still verifies.
    async fn shred_personal(
        &self,
        scope: &TenantScope,
        which: Shredding,
        event: ShreddingEvent,
    ) -> Result<u64, StoreError>;
}

/// Filters for the audit list. `before_seq` is the cursor: the list continues below it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub actor: Option<UserId>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub before_seq: Option<i64>,
    pub limit: usize,
}

impl AuditQuery {
    /// Whether a record passes the filters (the memory adapter's query, and a check).
    pub fn matches(&self, record: &AuditRecord) -> bool {
        self.actor.is_none_or(|a| record.actor.user_id() == Some(a))
            && self
                .action
                .as_deref()
                .is_none_or(|a| record.action.as_str() == a)
            && self
                .entity_type
                .as_deref()
                .is_none_or(|t| record.entity_type == t)
            && self
                .entity_id
                .as_deref()
                .is_none_or(|id| record.entity_id.as_deref() == Some(id))
            && self.from.is_none_or(|from| record.created_at >= from)
            && self.to.is_none_or(|to| record.created_at < to)
            && self.before_seq.is_none_or(|seq| record.seq < seq)
    }
}

/// One page of the audit list; `next_cursor` is the `before_seq` of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub next_cursor: Option<i64>,
}

impl AuditPage {
    /// The page from up to `limit + 1` events, newest first (the extra one only says
    /// that more follow): the next page starts before the last event shown.
    pub fn from_overfetch(mut items: Vec<AuditRecord>, limit: usize) -> Self {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|record| record.seq)
        } else {
            None
        };
        Self { items, next_cursor }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reading and verifying the trail (owners and admins).
#[derive(Clone)]
pub struct AuditService {
    log: Arc<dyn AuditLog>,
    hasher: Arc<dyn ChainHasher>,
}

impl AuditService {
    /// Links read per round trip while verifying.
    const VERIFY_BATCH: usize = 1_000;

    pub fn new(log: Arc<dyn AuditLog>, hasher: Arc<dyn ChainHasher>) -> Self {
        Self { log, hasher }
    }

    pub async fn list(
        &self,
        scope: &TenantScope,
        query: &AuditQuery,
    ) -> Result<AuditPage, AuditError> {
        scope.require(Permission::ReadAudit)?;
        Ok(self.log.list(scope, query).await?)
    }

    /// Recomputes the tenant's whole chain and reports every broken link; an intact
    /// chain's report carries a signed checkpoint of its head.
    pub async fn verify(&self, scope: &TenantScope) -> Result<ChainVerification, AuditError> {
        self.verify_against(scope, &[]).await
    }

    /// [`AuditService::verify`], and compares the chain with checkpoints published
    /// earlier: links removed from the end together with the head, or rewritten links,
    /// fall short of them.
    pub async fn verify_against(
        &self,
        scope: &TenantScope,
        checkpoints: &[Checkpoint],
    ) -> Result<ChainVerification, AuditError> {
        scope.require(Permission::ReadAudit)?;
        let mut verifier = ChainVerifier::new(self.hasher.as_ref(), checkpoints);
        let mut last_seq = 0;
        loop {
            let batch = self
                .log
                .chain_after(scope, last_seq, Self::VERIFY_BATCH)
                .await?;
            let Some(last) = batch.last() else { break };
            last_seq = last.seq;
            batch.iter().for_each(|record| verifier.feed(record));
        }
        let head = self.log.head(scope).await?;
        Ok(verifier.finish(head, checkpoints, scope.tenant_id()))
    }

    /// The tenant's chain head as the store keeps it (its newest link's hash, hex), not
    /// verified: the stamp an export prints, to be matched with a verification later.
    /// No permission of its own: whoever may read the export may read its stamp.
    pub async fn head(&self, scope: &TenantScope) -> Result<Option<String>, AuditError> {
        Ok(self
            .log
            .head(scope)
            .await?
            .filter(|(seq, _)| *seq > 0)
            .map(|(_, hash)| hash.to_hex()))
    }

    /// Seals a keyed link after a history of unkeyed ones (from before the key), so the
    /// chain's newest link is keyed and the unkeyed history is pinned under the key.
    /// Whether it had to (the daily upkeep calls it; any new event does the same).
    pub async fn key_chain(&self, scope: &TenantScope) -> Result<bool, AuditError> {
        scope.require(Permission::ReadAudit)?;
        let Some((seq, _)) = self.log.head(scope).await?.filter(|(seq, _)| *seq > 0) else {
            return Ok(false);
        };
        let newest = self.log.chain_after(scope, seq - 1, 1).await?;
        if newest
            .first()
            .is_none_or(|record| record.version != crate::event::ChainVersion::Unkeyed)
        {
            return Ok(false);
        }
        let event = PendingEvent {
            actor: Actor::of(scope),
            action: AUDIT_CHAIN_KEYED,
            entity_type: "audit_trail".into(),
            entity_id: None,
            changes: Changes::new().note("after_seq", seq).into_value(),
            personal: Default::default(),
            context: RequestContext::default(),
        };
        self.log.append(scope, event).await?;
        Ok(true)
    }

    /// Erasure: makes the personal values of every event of `user` (acting, or the
    /// user's own record) unreadable. Owners only: it removes evidence of who did what.
    pub async fn erase_user(
        &self,
        scope: &TenantScope,
        user: UserId,
        ctx: &RequestContext,
    ) -> Result<u64, AuditError> {
        require_audited(
            self.log.as_ref(),
            scope,
            Permission::ManagePrivilegedUsers,
            ctx,
        )
        .await?;
        self.shred(scope, Shredding::OfUser(user), "erasure", ctx)
            .await
    }

    /// Retention: makes the personal values of every event sealed before `before`
    /// unreadable (the daily retention job, in a system scope).
    pub async fn shred_before(
        &self,
        scope: &TenantScope,
        before: OffsetDateTime,
    ) -> Result<u64, AuditError> {
        require_audited(
            self.log.as_ref(),
            scope,
            Permission::ManagePrivilegedUsers,
            &RequestContext::default(),
        )
        .await?;
        self.shred(
            scope,
            Shredding::SealedBefore(before),
            "retention",
            &RequestContext::default(),
        )
        .await
    }

    async fn shred(
        &self,
        scope: &TenantScope,
        which: Shredding,
        reason: &'static str,
        ctx: &RequestContext,
    ) -> Result<u64, AuditError> {
        let actor = Actor::of(scope);
        let ctx = ctx.clone();
        let subject = match which {
            Shredding::OfUser(user) => Some(user.to_string()),
            Shredding::SealedBefore(_) => None,
        };
        let event: ShreddingEvent = Box::new(move |count| PendingEvent {
            actor,
            action: AUDIT_PERSONAL_SHREDDED,
            entity_type: "audit_trail".into(),
            entity_id: subject,
            changes: Changes::new()
                .note("reason", reason)
                .note("events", count)
                .into_value(),
            personal: Default::default(),
            context: ctx,
        });
        Ok(self.log.shred_personal(scope, which, event).await?)
    }
}

/// Checks a permission on the scope; a denial is written to the trail before it is
/// returned, so every use case audits denials the same way.
pub async fn require_audited(
    log: &dyn AuditLog,
    scope: &TenantScope,
    permission: Permission,
    ctx: &RequestContext,
) -> Result<(), AuditError> {
    let Err(Forbidden(missing)) = scope.require(permission) else {
        return Ok(());
    };
    let event = PendingEvent {
        actor: Actor::of(scope),
        action: AuditAction::AUTH_PERMISSION_DENIED,
        entity_type: "permission".into(),
        entity_id: None,
        changes: Changes::new().note("permission", missing).into_value(),
        personal: Default::default(),
        context: ctx.clone(),
    };
    log.append(scope, event).await?;
    Err(Forbidden(missing).into())
}
