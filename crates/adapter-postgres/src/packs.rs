//! [`PackStore`] on PostgreSQL: table `accountability_packs` (RLS like every tenant
//! table); a state change is one conditional `UPDATE` (a queued pack becomes ready or
//! failed once; a ready or queued one expires once) sealed with its audit event.

use aura_audit::PendingEvent;
use aura_packs::{BuiltPack, Pack, PackId, PackStatus, Period, ports::PackStore};
use aura_reports::Language;
use aura_shared_kernel::{StoreError, TenantId, TenantScope, UserId};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::corrupt, pool::in_tenant, rows::new_in_scope, schema::accountability_packs as packs,
    stores::PgStores,
};

/// A pack's row without its bytes: its fields name the columns read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = packs, check_for_backend(diesel::pg::Pg))]
struct PackRow {
    tenant_id: Uuid,
    id: Uuid,
    status: String,
    period_from: Date,
    period_to: Date,
    language: String,
    requested_by: Option<Uuid>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    built_at: Option<OffsetDateTime>,
    size: Option<i64>,
    sha256: Option<String>,
    failure: Option<String>,
}

impl TryFrom<PackRow> for Pack {
    type Error = StoreError;
    fn try_from(row: PackRow) -> Result<Self, StoreError> {
        Ok(Pack {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            status: PackStatus::parse(&row.status).ok_or_else(|| corrupt("a pack status"))?,
            period: Period {
                from: row.period_from,
                to: row.period_to,
            },
            language: Language::from_tag(&row.language),
            requested_by: row.requested_by.map(UserId::from_uuid),
            created_at: row.created_at,
            expires_at: row.expires_at,
            built_at: row.built_at,
            size: row.size.map(|s| s.unsigned_abs()),
            sha256: row.sha256,
            failure: row.failure,
        })
    }
}

/// The failure reason as stored (the column holds at most 500 characters).
fn reason(text: &str) -> String {
    text.chars().take(500).collect()
}

/// A pack's change of status.
enum Move {
    Built {
        at: OffsetDateTime,
        size: i64,
        sha256: String,
        bytes: Vec<u8>,
    },
    Failed(String),
    Expired,
}

impl PgStores {
    /// `change` on the tenant's pack `id` if it is in one of the statuses the change
    /// leaves (queued to built or failed; queued or ready to expired), with `event`;
    /// `NotFound` when there is no such pack.
    async fn move_pack(
        &self,
        scope: &TenantScope,
        id: PackId,
        change: Move,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        self.write_audited(scope, event, async move |conn| {
            let target = |from: &'static [&'static str]| {
                packs::table
                    .filter(packs::tenant_id.eq(tenant))
                    .filter(packs::id.eq(id))
                    .filter(packs::status.eq_any(from))
            };
            let changed = match change {
                Move::Built {
                    at,
                    size,
                    sha256,
                    bytes,
                } => {
                    diesel::update(target(&["queued"]))
                        .set((
                            packs::status.eq(PackStatus::Ready.as_str()),
                            packs::built_at.eq(Some(at)),
                            packs::size.eq(Some(size)),
                            packs::sha256.eq(Some(sha256)),
                            packs::content.eq(Some(bytes)),
                        ))
                        .execute(conn)
                        .await?
                }
                Move::Failed(why) => {
                    diesel::update(target(&["queued"]))
                        .set((
                            packs::status.eq(PackStatus::Failed.as_str()),
                            packs::failure.eq(Some(why)),
                        ))
                        .execute(conn)
                        .await?
                }
                Move::Expired => {
                    diesel::update(target(&["queued", "ready"]))
                        .set((
                            packs::status.eq(PackStatus::Expired.as_str()),
                            packs::content.eq(None::<Vec<u8>>),
                        ))
                        .execute(conn)
                        .await?
                }
            };
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
        .await
    }
}

#[async_trait::async_trait]
impl PackStore for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        pack: &Pack,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        new_in_scope(scope, pack.tenant_id)?;
        let values = (
            packs::tenant_id.eq(pack.tenant_id.as_uuid()),
            packs::id.eq(pack.id),
            packs::status.eq(pack.status.as_str()),
            packs::period_from.eq(pack.period.from),
            packs::period_to.eq(pack.period.to),
            packs::language.eq(pack.language.tag()),
            packs::requested_by.eq(pack.requested_by.map(|u| u.as_uuid())),
            packs::created_at.eq(pack.created_at),
            packs::expires_at.eq(pack.expires_at),
        );
        self.execute_audited(
            scope,
            event,
            diesel::insert_into(packs::table).values(values),
        )
        .await
    }

    async fn store_built(
        &self,
        scope: &TenantScope,
        id: PackId,
        built: &BuiltPack,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let size = i64::try_from(built.bytes.len())
            .map_err(|_| StoreError::unexpected("a pack larger than a bigint"))?;
        let change = Move::Built {
            at: built.built_at,
            size,
            sha256: built.sha256.clone(),
            bytes: built.bytes.clone(),
        };
        self.move_pack(scope, id, change, event).await
    }

    async fn store_failed(
        &self,
        scope: &TenantScope,
        id: PackId,
        why: &str,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.move_pack(scope, id, Move::Failed(reason(why)), event)
            .await
    }

    async fn get(&self, scope: &TenantScope, id: PackId) -> Result<Pack, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        self.read_one::<PackRow, Pack, _>(
            scope,
            packs::table
                .filter(packs::tenant_id.eq(tenant))
                .filter(packs::id.eq(id))
                .select(PackRow::as_select()),
        )
        .await
    }

    async fn content(&self, scope: &TenantScope, id: PackId) -> Result<Vec<u8>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let bytes: Option<Vec<u8>> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(packs::table
                .filter(packs::tenant_id.eq(tenant))
                .filter(packs::id.eq(id))
                .select(packs::content)
                .get_result::<Option<Vec<u8>>>(conn)
                .await
                .optional()?
                .flatten())
        })
        .await?;
        bytes.ok_or(StoreError::NotFound)
    }

    async fn expired(
        &self,
        scope: &TenantScope,
        now: OffsetDateTime,
    ) -> Result<Vec<PackId>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(packs::table
                .filter(packs::tenant_id.eq(tenant))
                .filter(packs::status.eq_any(["queued", "ready"]))
                .filter(packs::expires_at.le(now))
                .select(packs::id)
                .load(conn)
                .await?)
        })
        .await
    }

    async fn expire(
        &self,
        scope: &TenantScope,
        id: PackId,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        self.move_pack(scope, id, Move::Expired, event).await
    }
}
