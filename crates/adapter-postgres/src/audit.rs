//! The audit trail: [`append_event`] seals an event into its tenant's chain inside the
//! caller's transaction, and [`AuditLog`] reads it.

use aura_audit::{
    AuditLog, AuditPage, AuditQuery, AuditRecord, ChainHash, ChainHasher, ChainVersion,
    PendingEvent, Shredding, ShreddingEvent, seal_event,
};
use aura_shared_kernel::{StoreError, TenantId, TenantScope};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Instant;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    models::{AuditRow, convert_all},
    pool::{TxWork, in_tenant},
    prepared::Prepared,
    schema::{audit_chain_heads as heads, audit_events as events},
    stores::PgStores,
};

/// Time as PostgreSQL stores it (microseconds), so the sealed record equals the one read
/// back and its hash covers exactly what is stored.
pub(crate) fn to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}

impl PgStores {
    /// The write path of tenant data: `change`, then the sealing of `event` into the
    /// tenant's audit chain, in one transaction inside the tenant. Both commit or
    /// neither does; a write port that goes through here cannot forget its event.
    pub(crate) async fn write_audited<R, F>(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
        change: F,
    ) -> Result<R, StoreError>
    where
        F: TxWork<R>,
        R: Send,
    {
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        // The event is sealed last, after the change: the tenant's chain head stays
        // locked only from there to the commit.
        let (result, locked_at) = in_tenant(&self.inner.pool, scope, async move |conn| {
            let result = change(conn).await?;
            let sealed = seal_into_chain(conn, hasher, tenant, event, now).await?;
            Ok((result, sealed.locked_at))
        })
        .await?;
        self.inner.chain_lock_held(locked_at.elapsed());
        Ok(result)
    }
}

/// Seals `event` as the next link of `tenant`'s chain and stores it, in the caller's
/// transaction (which must be inside that tenant's context). The chain head row is
/// created if missing and locked `FOR UPDATE`, so concurrent appends queue up and the
/// chain has neither gaps nor forks; the lock ends with the caller's transaction, so
/// call this as the transaction's last statement.
pub(crate) async fn append_event(
    conn: &mut AsyncPgConnection,
    hasher: &dyn ChainHasher,
    tenant: TenantId,
    event: PendingEvent,
    now: OffsetDateTime,
) -> Result<AuditRecord, DbError> {
    Ok(seal_into_chain(conn, hasher, tenant, event, now)
        .await?
        .record)
}

/// A link just stored, and when its chain head was locked (held until the commit).
struct Sealed {
    record: AuditRecord,
    locked_at: Instant,
}

async fn seal_into_chain(
    conn: &mut AsyncPgConnection,
    hasher: &dyn ChainHasher,
    tenant: TenantId,
    event: PendingEvent,
    now: OffsetDateTime,
) -> Result<Sealed, DbError> {
    let tenant_uuid = tenant.as_uuid();
    let (head_seq, prev) = lock_head(conn, tenant_uuid).await?;
    let locked_at = Instant::now();
    let record = seal_event(event, tenant, head_seq + 1, to_micros(now), prev, hasher);
    // The link and the new head in one round trip (pipelined: neither waits for the
    // other's answer), while the lock is held.
    let row = AuditRow::from(&record);
    // Both kept prepared: while the head is locked, no round trip to prepare them.
    let store_link = Prepared(diesel::insert_into(events::table).values(&row)).execute(&mut &*conn);
    let move_head = Prepared(
        diesel::update(heads::table.filter(heads::tenant_id.eq(tenant_uuid))).set((
            heads::seq.eq(record.seq),
            heads::hash.eq(record.hash.0.to_vec()),
        )),
    )
    .execute(&mut &*conn);
    tokio::try_join!(store_link, move_head)?;
    Ok(Sealed { record, locked_at })
}

/// The tenant's chain head (seq, hash), locked `FOR UPDATE` for the rest of the
/// transaction; the head row is made first when the tenant has none yet.
async fn lock_head(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
) -> Result<(i64, ChainHash), DbError> {
    let locked = || {
        heads::table
            .filter(heads::tenant_id.eq(tenant))
            .select((heads::seq, heads::hash))
            .for_update()
    };
    let head: Option<(i64, Vec<u8>)> = locked().first(conn).await.optional()?;
    let (seq, hash) = match head {
        Some(head) => head,
        None => {
            diesel::insert_into(heads::table)
                .values((
                    heads::tenant_id.eq(tenant),
                    heads::seq.eq(0_i64),
                    heads::hash.eq(ChainHash::GENESIS.0.to_vec()),
                ))
                .on_conflict(heads::tenant_id)
                .do_nothing()
                .execute(conn)
                .await?;
            locked().first(conn).await?
        }
    };
    let hash = ChainHash::from_slice(&hash).ok_or_else(|| corrupt("stored chain head"))?;
    Ok((seq, hash))
}

fn fetch_limit(limit: usize) -> i64 {
    i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1)
}

#[async_trait::async_trait]
impl AuditLog for PgStores {
    async fn append(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
    ) -> Result<AuditRecord, StoreError> {
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let sealed = in_tenant(&self.inner.pool, scope, async move |conn| {
            seal_into_chain(conn, hasher, tenant, event, now).await
        })
        .await?;
        self.inner.chain_lock_held(sealed.locked_at.elapsed());
        Ok(sealed.record)
    }

    async fn list(&self, scope: &TenantScope, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<AuditRow> = in_tenant(&self.inner.pool, scope, async |conn| {
            let mut q = events::table
                .filter(events::tenant_id.eq(tenant))
                .select(AuditRow::as_select())
                .into_boxed();
            if let Some(actor) = query.actor {
                q = q.filter(events::actor_id.eq(actor.as_uuid()));
            }
            if let Some(action) = &query.action {
                q = q.filter(events::action.eq(action.clone()));
            }
            if let Some(entity_type) = &query.entity_type {
                q = q.filter(events::entity_type.eq(entity_type.clone()));
            }
            if let Some(entity_id) = &query.entity_id {
                q = q.filter(events::entity_id.eq(entity_id.clone()));
            }
            if let Some(from) = query.from {
                q = q.filter(events::created_at.ge(from));
            }
            if let Some(to) = query.to {
                q = q.filter(events::created_at.lt(to));
            }
            if let Some(before) = query.before_seq {
                q = q.filter(events::seq.lt(before));
            }
            Ok(q.order(events::seq.desc())
                .limit(fetch_limit(query.limit))
                .load(conn)
                .await?)
        })
        .await?;
        let items: Vec<AuditRecord> = convert_all(rows)?;
        Ok(AuditPage::from_overfetch(items, query.limit))
    }

    async fn chain_after(
        &self,
        scope: &TenantScope,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<AuditRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(events::table
                .filter(events::tenant_id.eq(tenant))
                .filter(events::seq.gt(after_seq))
                .order(events::seq.asc())
                .limit(limit)
                .select(AuditRow::as_select())
                .load(conn)
                .await?)
        })
        .await?;
        convert_all(rows)
    }

    async fn head(&self, scope: &TenantScope) -> Result<Option<(i64, ChainHash)>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let row: Option<(i64, Vec<u8>)> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(heads::table
                .filter(heads::tenant_id.eq(tenant))
                .select((heads::seq, heads::hash))
                .first(conn)
                .await
                .optional()?)
        })
        .await?;
        row.map(|(seq, hash)| {
            ChainHash::from_slice(&hash)
                .map(|hash| (seq, hash))
                .ok_or_else(|| corrupt("stored chain head"))
        })
        .transpose()
    }

    async fn shred_personal(
        &self,
        scope: &TenantScope,
        which: Shredding,
        event: ShreddingEvent,
    ) -> Result<u64, StoreError> {
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let tenant_uuid = tenant.as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let keyed = events::table
                .filter(events::tenant_id.eq(tenant_uuid))
                .filter(events::chain_version.eq(ChainVersion::Keyed.number()))
                .filter(events::personal.is_not_null());
            let cleared = (
                events::personal.eq(None::<String>),
                events::personal_salt.eq(None::<Vec<u8>>),
            );
            let count = match which {
                Shredding::SealedBefore(at) => {
                    diesel::update(keyed.filter(events::created_at.lt(at)))
                        .set(cleared)
                        .execute(conn)
                        .await?
                }
                Shredding::OfUser(user) => {
                    let about_user = events::entity_type
                        .eq("user")
                        .and(events::entity_id.eq(user.to_string()));
                    diesel::update(keyed.filter(events::actor_id.eq(user.as_uuid()).or(about_user)))
                        .set(cleared)
                        .execute(conn)
                        .await?
                }
            };
            let count = count as u64;
            // Nothing changed, nothing to record.
            if count > 0 {
                append_event(conn, hasher, tenant, event(count), now).await?;
            }
            Ok(count)
        })
        .await
    }
}
