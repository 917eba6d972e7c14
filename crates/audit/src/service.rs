use std::sync::Arc;

use aura_shared_kernel::{Forbidden, Permission, StoreError, TenantScope, UserId};

use crate::event::{Actor, AuditAction, Changes, RequestContext};
use time::OffsetDateTime;

use crate::{
    chain::{BrokenLink, ChainHash, ChainHasher, ChainVerification, verify_segment},
    event::{AuditRecord, PendingEvent},
};

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

    /// Recomputes the tenant's whole chain and reports the first broken link, if any.
    pub async fn verify(&self, scope: &TenantScope) -> Result<ChainVerification, AuditError> {
        scope.require(Permission::ReadAudit)?;
        let mut head = ChainHash::GENESIS;
        let mut checked: u64 = 0;
        let mut last_seq = 0;
        loop {
            let batch = self
                .log
                .chain_after(scope, last_seq, Self::VERIFY_BATCH)
                .await?;
            if batch.is_empty() {
                break;
            }
            match verify_segment(&batch, head, last_seq + 1, self.hasher.as_ref()) {
                Ok(new_head) => head = new_head,
                Err(broken) => {
                    let valid_before = u64::try_from(broken.seq - 1 - last_seq).unwrap_or(0);
                    return Ok(ChainVerification {
                        events_checked: checked + valid_before,
                        valid: false,
                        first_broken_link: Some(broken),
                        head: None,
                    });
                }
            }
            checked += batch.len() as u64;
            last_seq = batch.last().map_or(last_seq, |r| r.seq);
        }
        // The events verify among themselves; the head kept apart from them must be
        // their last link, or events were removed from the end (or the head forged).
        let stored_head = self
            .log
            .head(scope)
            .await?
            .filter(|(seq, _)| *seq > 0)
            .unwrap_or((0, ChainHash::GENESIS));
        if stored_head != (last_seq, head) {
            let reason = if stored_head.0 > last_seq {
                "the chain head is ahead of the stored events (newest events removed)"
            } else {
                "the chain head does not match the last stored event"
            };
            return Ok(ChainVerification {
                events_checked: checked,
                valid: false,
                first_broken_link: Some(BrokenLink {
                    seq: last_seq + 1,
                    event_id: None,
                    reason,
                }),
                head: None,
            });
        }
        Ok(ChainVerification {
            events_checked: checked,
            valid: true,
            first_broken_link: None,
            head: (checked > 0).then(|| head.to_hex()),
        })
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
        context: ctx.clone(),
    };
    log.append(scope, event).await?;
    Err(Forbidden(missing).into())
}
