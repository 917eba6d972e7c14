//! Documents on PostgreSQL: the register (the kernel's [`PgRecord`]: the columns lists
//! filter and sort on, the links as uuid arrays, the rest as versioned jsonb) and the
//! [`ContentStore`]: sealed chunks in `document_chunks`, versions in `document_versions`,
//! the tenant's wrapped data key in `document_keys` — every table under the tenant's RLS.

use std::sync::Arc;

use aura_audit::PendingEvent;
use aura_documents::{
    Document, DocumentFields, DocumentFilter, DocumentId, DocumentState, Documents, MediaType,
    VersionId, VersionMeta,
    ports::{ContentStore, WrappedKey},
};
use aura_records::{Id, RecordStore};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    pool::in_tenant,
    registers::{
        fetch_limit, keyset,
        records::{PgRecord, RowContext, Select},
        stored_enum,
    },
    rows::{Statement, at_version},
    schema::{
        document_chunks as chunks, document_keys as keys, document_versions as versions, documents,
    },
    stores::PgStores,
};

impl PgStores {
    pub fn documents(&self) -> Arc<dyn RecordStore<Documents>> {
        Arc::new(self.clone())
    }

    pub fn document_content(&self) -> Arc<dyn ContentStore> {
        Arc::new(self.clone())
    }
}

/// What no filter reads, as jsonb (the storage shape; `v` names it).
#[derive(Debug, Serialize, Deserialize)]
struct DocumentDetails {
    v: u16,
    description: Option<String>,
}

const SHAPE: u16 = 1;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents, check_for_backend(diesel::pg::Pg))]
struct DocumentRow {
    tenant_id: Uuid,
    id: Uuid,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: DocumentChanges,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = documents, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct DocumentChanges {
    title: String,
    kind: String,
    owner_id: Option<Uuid>,
    retention_until: Option<Date>,
    legal_hold: bool,
    activity_ids: Vec<Uuid>,
    processor_ids: Vec<Uuid>,
    policy_ids: Vec<Uuid>,
    task_ids: Vec<Uuid>,
    breach_ids: Vec<Uuid>,
    request_ids: Vec<Uuid>,
    dpia_ids: Vec<Uuid>,
    details: serde_json::Value,
    version: i32,
    updated_at: OffsetDateTime,
}

fn uuids<T: ?Sized>(ids: &[Id<T>]) -> Vec<Uuid> {
    ids.iter().map(|i| i.as_uuid()).collect()
}

fn ids<T: ?Sized>(raw: Vec<Uuid>) -> Vec<Id<T>> {
    raw.into_iter().map(Id::from_uuid).collect()
}

fn row_of(document: &Document) -> Result<DocumentRow, StoreError> {
    let f = &document.fields;
    let details = DocumentDetails {
        v: SHAPE,
        description: f.description.clone(),
    };
    Ok(DocumentRow {
        tenant_id: document.tenant_id.as_uuid(),
        id: document.id.as_uuid(),
        created_by: document.derived.created_by.map(|u| u.as_uuid()),
        created_at: document.created_at,
        changes: DocumentChanges {
            title: f.title.clone(),
            kind: f.kind.as_str().to_owned(),
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            retention_until: f.retention_until,
            legal_hold: f.legal_hold,
            activity_ids: uuids(&f.activity_ids),
            processor_ids: uuids(&f.processor_ids),
            policy_ids: uuids(&f.policy_ids),
            task_ids: uuids(&f.task_ids),
            breach_ids: uuids(&f.breach_ids),
            request_ids: uuids(&f.request_ids),
            dpia_ids: uuids(&f.dpia_ids),
            details: serde_json::to_value(details)
                .map_err(|_| StoreError::unexpected("document details not serialisable"))?,
            version: document.version,
            updated_at: document.updated_at,
        },
    })
}

fn document_from(row: DocumentRow) -> Result<Document, StoreError> {
    let c = row.changes;
    let details: DocumentDetails =
        serde_json::from_value(c.details).map_err(|_| corrupt("stored document details"))?;
    Ok(Document {
        id: Id::from_uuid(row.id),
        tenant_id: TenantId::from_uuid(row.tenant_id),
        fields: DocumentFields {
            title: c.title,
            kind: stored_enum(&c.kind, "stored document kind")?,
            description: details.description,
            owner_id: c.owner_id.map(UserId::from_uuid),
            retention_until: c.retention_until,
            legal_hold: c.legal_hold,
            activity_ids: ids(c.activity_ids),
            processor_ids: ids(c.processor_ids),
            policy_ids: ids(c.policy_ids),
            task_ids: ids(c.task_ids),
            breach_ids: ids(c.breach_ids),
            request_ids: ids(c.request_ids),
            dpia_ids: ids(c.dpia_ids),
        },
        derived: DocumentState {
            created_by: row.created_by.map(UserId::from_uuid),
        },
        version: c.version,
        created_at: row.created_at,
        updated_at: c.updated_at,
    })
}

#[async_trait::async_trait]
impl PgRecord for Documents {
    const TABLE: &'static str = "documents";

    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, DocumentFilter>,
    ) -> Result<Vec<Document>, DbError> {
        let mut q = documents::table
            .filter(documents::tenant_id.eq(cx.tenant))
            .select(DocumentRow::as_select())
            .into_boxed();
        let rows: Vec<DocumentRow> = match which {
            Select::One(id) => q.filter(documents::id.eq(id)).load(conn).await?,
            Select::All => q.order(documents::id.asc()).load(conn).await?,
            Select::Page(query) => {
                let filter = &query.filter;
                if let Some(kind) = filter.kind {
                    q = q.filter(documents::kind.eq(kind.as_str()));
                }
                if let Some(day) = filter.retention_before {
                    q = q.filter(documents::retention_until.lt(day));
                }
                if let Some(id) = filter.linked_to {
                    let one = vec![id];
                    q = q.filter(
                        documents::activity_ids
                            .contains(one.clone())
                            .or(documents::processor_ids.contains(one.clone()))
                            .or(documents::policy_ids.contains(one.clone()))
                            .or(documents::task_ids.contains(one.clone()))
                            .or(documents::breach_ids.contains(one.clone()))
                            .or(documents::request_ids.contains(one.clone()))
                            .or(documents::dpia_ids.contains(one)),
                    );
                }
                let q = keyset!(
                    q,
                    documents,
                    "documents.title",
                    query.sort,
                    query.after.as_ref(),
                    due: documents::retention_until
                )?;
                q.limit(fetch_limit(query.limit)).load(conn).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(document_from)
            .collect::<Result<_, _>>()?)
    }

    fn insert(document: &Document, _: RowContext<'_>) -> Result<impl Statement, StoreError> {
        Ok(diesel::insert_into(documents::table).values(row_of(document)?))
    }

    fn update(
        document: &Document,
        expected: i32,
        _: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        let row = row_of(document)?;
        let key = (row.tenant_id, row.id);
        let target = at_version(documents::table, documents::version, key, expected);
        Ok(diesel::update(target).set(row.changes))
    }
}

// ------------------------------------------------------------------ content

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = versions, check_for_backend(diesel::pg::Pg))]
struct VersionRow {
    tenant_id: Uuid,
    id: Uuid,
    document_id: Uuid,
    number: i32,
    file_name: String,
    media_type: String,
    size: i64,
    sha256: String,
    chunks: i32,
    uploaded_by: Option<Uuid>,
    uploaded_at: OffsetDateTime,
    removed_at: Option<OffsetDateTime>,
}

fn version_from(row: VersionRow) -> Result<VersionMeta, StoreError> {
    Ok(VersionMeta {
        id: Id::from_uuid(row.id),
        document_id: Id::from_uuid(row.document_id),
        number: row.number,
        file_name: row.file_name,
        media_type: stored_enum::<MediaType>(&row.media_type, "stored media type")?,
        size: u64::try_from(row.size).map_err(|_| corrupt("stored version size"))?,
        sha256: row.sha256,
        chunks: u32::try_from(row.chunks).map_err(|_| corrupt("stored chunk count"))?,
        uploaded_by: row.uploaded_by.map(UserId::from_uuid),
        uploaded_at: row.uploaded_at,
        removed_at: row.removed_at,
    })
}

fn index_of(index: u32) -> Result<i32, StoreError> {
    i32::try_from(index).map_err(|_| StoreError::unexpected("chunk index out of range"))
}

#[async_trait::async_trait]
impl ContentStore for PgStores {
    async fn data_key(&self, scope: &TenantScope) -> Result<Option<WrappedKey>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let key: Option<Vec<u8>> = keys::table
                .filter(keys::tenant_id.eq(tenant))
                .select(keys::wrapped)
                .first(conn)
                .await
                .optional()?;
            Ok(key.map(WrappedKey))
        })
        .await
    }

    async fn keep_data_key(
        &self,
        scope: &TenantScope,
        key: WrappedKey,
    ) -> Result<WrappedKey, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::insert_into(keys::table)
                .values((keys::tenant_id.eq(tenant), keys::wrapped.eq(key.0)))
                .on_conflict(keys::tenant_id)
                .do_nothing()
                .execute(conn)
                .await?;
            let kept: Vec<u8> = keys::table
                .filter(keys::tenant_id.eq(tenant))
                .select(keys::wrapped)
                .first(conn)
                .await?;
            Ok(WrappedKey(kept))
        })
        .await
    }

    async fn replace_data_key(
        &self,
        scope: &TenantScope,
        key: WrappedKey,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::update(keys::table.filter(keys::tenant_id.eq(tenant)))
                .set(keys::wrapped.eq(key.0))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }

    async fn put_chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
        sealed: Vec<u8>,
    ) -> Result<(), StoreError> {
        let (tenant, version, index) = (
            scope.tenant_id().as_uuid(),
            version.as_uuid(),
            index_of(index)?,
        );
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::insert_into(chunks::table)
                .values((
                    chunks::tenant_id.eq(tenant),
                    chunks::version_id.eq(version),
                    chunks::chunk_index.eq(index),
                    chunks::sealed.eq(sealed),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }

    async fn discard(&self, scope: &TenantScope, version: VersionId) -> Result<(), StoreError> {
        let (tenant, version) = (scope.tenant_id().as_uuid(), version.as_uuid());
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let committed: bool = diesel::select(diesel::dsl::exists(
                versions::table
                    .filter(versions::tenant_id.eq(tenant))
                    .filter(versions::id.eq(version)),
            ))
            .get_result(conn)
            .await?;
            if !committed {
                diesel::delete(
                    chunks::table
                        .filter(chunks::tenant_id.eq(tenant))
                        .filter(chunks::version_id.eq(version)),
                )
                .execute(conn)
                .await?;
            }
            Ok(())
        })
        .await
    }

    async fn commit(
        &self,
        scope: &TenantScope,
        meta: &VersionMeta,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let row = VersionRow {
            tenant_id: tenant,
            id: meta.id.as_uuid(),
            document_id: meta.document_id.as_uuid(),
            number: meta.number,
            file_name: meta.file_name.clone(),
            media_type: meta.media_type.as_str().to_owned(),
            size: i64::try_from(meta.size).map_err(|_| StoreError::unexpected("size"))?,
            sha256: meta.sha256.clone(),
            chunks: i32::try_from(meta.chunks).map_err(|_| StoreError::unexpected("chunks"))?,
            uploaded_by: meta.uploaded_by.map(|u| u.as_uuid()),
            uploaded_at: meta.uploaded_at,
            removed_at: None,
        };
        self.write_audited(scope, event, async move |conn| {
            let exists: bool = diesel::select(diesel::dsl::exists(
                documents::table
                    .filter(documents::tenant_id.eq(tenant))
                    .filter(documents::id.eq(row.document_id)),
            ))
            .get_result(conn)
            .await?;
            if !exists {
                return Err(StoreError::NotFound.into());
            }
            let written = diesel::insert_into(versions::table)
                .values(&row)
                .on_conflict((versions::tenant_id, versions::document_id, versions::number))
                .do_nothing()
                .execute(conn)
                .await?;
            if written == 0 {
                return Err(StoreError::Conflict(Conflict::VersionNumberTaken).into());
            }
            Ok(())
        })
        .await
    }

    async fn versions(
        &self,
        scope: &TenantScope,
        document: DocumentId,
    ) -> Result<Vec<VersionMeta>, StoreError> {
        let (tenant, document) = (scope.tenant_id().as_uuid(), document.as_uuid());
        let rows: Vec<VersionRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(versions::table
                .filter(versions::tenant_id.eq(tenant))
                .filter(versions::document_id.eq(document))
                .order(versions::number.asc())
                .select(VersionRow::as_select())
                .load(conn)
                .await?)
        })
        .await?;
        rows.into_iter().map(version_from).collect()
    }

    async fn chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
    ) -> Result<Vec<u8>, StoreError> {
        let (tenant, version, index) = (
            scope.tenant_id().as_uuid(),
            version.as_uuid(),
            index_of(index)?,
        );
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // Only a committed version's chunks are read.
            let sealed: Option<Vec<u8>> = chunks::table
                .inner_join(
                    versions::table.on(versions::tenant_id
                        .eq(chunks::tenant_id)
                        .and(versions::id.eq(chunks::version_id))),
                )
                .filter(chunks::tenant_id.eq(tenant))
                .filter(chunks::version_id.eq(version))
                .filter(chunks::chunk_index.eq(index))
                .select(chunks::sealed)
                .first(conn)
                .await
                .optional()?;
            sealed.ok_or(StoreError::NotFound.into())
        })
        .await
    }

    async fn usage(&self, scope: &TenantScope) -> Result<u64, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let used: i64 = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(versions::table
                .filter(versions::tenant_id.eq(tenant))
                .filter(versions::removed_at.is_null())
                .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "COALESCE(SUM(size), 0)::bigint",
                ))
                .first(conn)
                .await?)
        })
        .await?;
        Ok(u64::try_from(used).unwrap_or(0))
    }

    async fn remove_content(
        &self,
        scope: &TenantScope,
        document: DocumentId,
        removed_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let (tenant, document) = (scope.tenant_id().as_uuid(), document.as_uuid());
        self.write_audited(scope, event, async move |conn| {
            let ids: Vec<Uuid> = versions::table
                .filter(versions::tenant_id.eq(tenant))
                .filter(versions::document_id.eq(document))
                .select(versions::id)
                .load(conn)
                .await?;
            diesel::delete(
                chunks::table
                    .filter(chunks::tenant_id.eq(tenant))
                    .filter(chunks::version_id.eq_any(&ids)),
            )
            .execute(conn)
            .await?;
            diesel::update(
                versions::table
                    .filter(versions::tenant_id.eq(tenant))
                    .filter(versions::document_id.eq(document))
                    .filter(versions::removed_at.is_null()),
            )
            .set(versions::removed_at.eq(removed_at))
            .execute(conn)
            .await?;
            Ok(())
        })
        .await
    }
}
