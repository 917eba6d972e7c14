//! Documents on PostgreSQL: the register (the kernel's [`PgRecord`]: the columns lists
//! filter and sort on, the links as uuid arrays, the rest as versioned jsonb) and the
//! [`ContentStore`]: sealed chunks in `document_chunks`, uploads in progress in
//! `document_uploads`, versions in `document_versions`, the tenant's wrapped data key in
//! `document_keys` — every table under the tenant's RLS.
//!
//! With a [`ChunkBlobs`](aura_documents::ports::ChunkBlobs) ([`PgStores::with_chunk_blobs`]: an S3-compatible bucket) a
//! chunk's sealed bytes go to the blob store and its row keeps only its place (`sealed`
//! NULL): a commit still counts the rows, a read still joins the version. The blob
//! writes and deletes happen inside the metadata's transaction, before it commits, so a
//! failed one rolls the change back (see [`PgStores::delete_blobs`]).

use std::sync::Arc;

use aura_audit::PendingEvent;
use aura_documents::{
    Document, DocumentFields, DocumentFilter, DocumentId, DocumentState, Documents, MediaType,
    VersionId, VersionMeta,
    ports::{BlobKey, ContentError, ContentRefusal, ContentStore, Staging, WrappedKey},
};
use aura_records::{Id, RecordStore};
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope, UserId};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    json::StoredJson,
    pool::in_tenant,
    registers::{
        fetch_limit, keyset,
        records::{PgRecord, RowContext, Select},
        stored_enum,
    },
    rows::{Statement, at_version},
    schema::{
        document_chunks as chunks, document_keys as keys, document_uploads as uploads,
        document_versions as versions, documents,
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
    details: StoredJson,
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
            details: StoredJson::of(&details)
                .map_err(|_| StoreError::unexpected("document details not serialisable"))?,
            version: document.version,
            updated_at: document.updated_at,
        },
    })
}

fn document_from(row: DocumentRow) -> Result<Document, StoreError> {
    let c = row.changes;
    let details: DocumentDetails = c
        .details
        .read()
        .map_err(|_| corrupt("stored document details"))?;
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

    async fn stage(
        &self,
        scope: &TenantScope,
        staging: &Staging,
        quota: u64,
    ) -> Result<(), ContentError> {
        let tenant = scope.tenant_id().as_uuid();
        let (version, document) = (staging.version.as_uuid(), staging.document.as_uuid());
        let (size, staged_at) = (bytes(staging.size)?, staging.staged_at);
        let quota = i64::try_from(quota).unwrap_or(i64::MAX);
        in_tenant(&self.inner.pool, scope, async move |conn| {
            lock_uploads(conn, tenant).await?;
            let exists: bool = diesel::select(diesel::dsl::exists(
                documents::table
                    .filter(documents::tenant_id.eq(tenant))
                    .filter(documents::id.eq(document)),
            ))
            .get_result(conn)
            .await?;
            if !exists {
                return Err(StoreError::NotFound.into());
            }
            if used(conn, tenant).await?.saturating_add(size) > quota {
                return Err(ContentRefusal::QuotaExceeded.abort().into());
            }
            diesel::insert_into(uploads::table)
                .values((
                    uploads::tenant_id.eq(tenant),
                    uploads::version_id.eq(version),
                    uploads::document_id.eq(document),
                    uploads::size.eq(size),
                    uploads::staged_at.eq(staged_at),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
        .map_err(ContentError::from)
    }

    async fn put_chunk(
        &self,
        scope: &TenantScope,
        version: VersionId,
        index: u32,
        sealed: Vec<u8>,
    ) -> Result<(), ContentError> {
        let key = BlobKey {
            tenant: scope.tenant_id(),
            version,
            index,
        };
        let (tenant, version, index) = (
            scope.tenant_id().as_uuid(),
            version.as_uuid(),
            index_of(index)?,
        );
        let blobs = self.inner.blobs.clone();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // Held until the chunk is written: a sweep removing the staging waits, then
            // sees the chunk.
            let staged: Option<Uuid> = uploads::table
                .filter(uploads::tenant_id.eq(tenant))
                .filter(uploads::version_id.eq(version))
                .select(uploads::version_id)
                .for_key_share()
                .first(conn)
                .await
                .optional()?;
            if staged.is_none() {
                return Err(ContentRefusal::NotStaged.abort().into());
            }
            // The row first: a chunk written twice is refused before its object is touched.
            let (inline, blob) = match blobs {
                Some(blobs) => (None, Some((blobs, sealed))),
                None => (Some(sealed), None),
            };
            diesel::insert_into(chunks::table)
                .values((
                    chunks::tenant_id.eq(tenant),
                    chunks::version_id.eq(version),
                    chunks::chunk_index.eq(index),
                    chunks::sealed.eq(inline),
                ))
                .execute(conn)
                .await?;
            // A put that fails rolls the row back; one whose transaction then fails
            // leaves an object no row names, deleted with the version's others by the
            // discard or the sweep (they delete by the version's prefix).
            if let Some((blobs, sealed)) = blob {
                blobs.put(key, sealed).await?;
            }
            Ok(())
        })
        .await
        .map_err(ContentError::from)
    }

    async fn discard(&self, scope: &TenantScope, version: VersionId) -> Result<(), StoreError> {
        let (tenant, version_id) = (scope.tenant_id().as_uuid(), version.as_uuid());
        let this = self.clone();
        let tenant_id = scope.tenant_id();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::delete(
                uploads::table
                    .filter(uploads::tenant_id.eq(tenant))
                    .filter(uploads::version_id.eq(version_id)),
            )
            .execute(conn)
            .await?;
            if delete_uncommitted_chunks(conn, tenant, version_id).await? {
                this.delete_blobs(tenant_id, &[version]).await?;
            }
            Ok(())
        })
        .await
    }

    async fn commit(
        &self,
        scope: &TenantScope,
        meta: &VersionMeta,
        quota: u64,
        event: PendingEvent,
    ) -> Result<(), ContentError> {
        let tenant = scope.tenant_id().as_uuid();
        let row = VersionRow {
            tenant_id: tenant,
            id: meta.id.as_uuid(),
            document_id: meta.document_id.as_uuid(),
            number: meta.number,
            file_name: meta.file_name.clone(),
            media_type: meta.media_type.as_str().to_owned(),
            size: bytes(meta.size)?,
            sha256: meta.sha256.clone(),
            chunks: i32::try_from(meta.chunks).map_err(|_| StoreError::unexpected("chunks"))?,
            uploaded_by: meta.uploaded_by.map(|u| u.as_uuid()),
            uploaded_at: meta.uploaded_at,
            removed_at: None,
        };
        let quota = i64::try_from(quota).unwrap_or(i64::MAX);
        self.write_audited(scope, event, async move |conn| {
            lock_uploads(conn, tenant).await?;
            // Kept from a content removal (which locks it FOR UPDATE) until this commits.
            let document: Option<Uuid> = documents::table
                .filter(documents::tenant_id.eq(tenant))
                .filter(documents::id.eq(row.document_id))
                .select(documents::id)
                .for_key_share()
                .first(conn)
                .await
                .optional()?;
            if document.is_none() {
                return Err(StoreError::NotFound.into());
            }
            let staged: Option<i64> = diesel::delete(
                uploads::table
                    .filter(uploads::tenant_id.eq(tenant))
                    .filter(uploads::version_id.eq(row.id)),
            )
            .returning(uploads::size)
            .get_result(conn)
            .await
            .optional()?;
            let stored: i64 = chunks::table
                .filter(chunks::tenant_id.eq(tenant))
                .filter(chunks::version_id.eq(row.id))
                .count()
                .get_result(conn)
                .await?;
            if staged.is_none() || stored != i64::from(row.chunks) {
                return Err(ContentRefusal::NotStaged.abort().into());
            }
            // Its own staging is gone: what the others kept and staged, plus this.
            if used(conn, tenant).await?.saturating_add(row.size) > quota {
                return Err(ContentRefusal::QuotaExceeded.abort().into());
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
        .map_err(ContentError::from)
    }

    async fn staged_before(
        &self,
        scope: &TenantScope,
        before: OffsetDateTime,
    ) -> Result<Vec<Staging>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<(Uuid, Uuid, i64, OffsetDateTime)> =
            in_tenant(&self.inner.pool, scope, async move |conn| {
                Ok(uploads::table
                    .filter(uploads::tenant_id.eq(tenant))
                    .filter(uploads::staged_at.lt(before))
                    .order((uploads::staged_at.asc(), uploads::version_id.asc()))
                    .select((
                        uploads::version_id,
                        uploads::document_id,
                        uploads::size,
                        uploads::staged_at,
                    ))
                    .load(conn)
                    .await?)
            })
            .await?;
        rows.into_iter()
            .map(|(version, document, size, staged_at)| {
                Ok(Staging {
                    version: Id::from_uuid(version),
                    document: Id::from_uuid(document),
                    size: u64::try_from(size).map_err(|_| corrupt("staged size"))?,
                    staged_at,
                })
            })
            .collect()
    }

    async fn sweep_staged(
        &self,
        scope: &TenantScope,
        version: VersionId,
        before: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        let (tenant, tenant_id, version_id) = (
            scope.tenant_id().as_uuid(),
            scope.tenant_id(),
            version.as_uuid(),
        );
        let this = self.clone();
        let swept = self
            .write_audited(scope, event, async move |conn| {
                // Waits for a chunk being written to it (`put_chunk`'s lock).
                let removed = diesel::delete(
                    uploads::table
                        .filter(uploads::tenant_id.eq(tenant))
                        .filter(uploads::version_id.eq(version_id))
                        .filter(uploads::staged_at.lt(before)),
                )
                .execute(conn)
                .await?;
                if removed == 0 {
                    // Committed or discarded meanwhile: no event either.
                    return Err(ContentRefusal::NotStaged.abort().into());
                }
                if delete_uncommitted_chunks(conn, tenant, version_id).await? {
                    this.delete_blobs(tenant_id, &[version]).await?;
                }
                Ok(())
            })
            .await;
        match swept.map_err(ContentError::from) {
            Ok(()) => Ok(true),
            Err(ContentError::Refused(_)) => Ok(false),
            Err(ContentError::Store(error)) => Err(error),
        }
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
        let key = BlobKey {
            tenant: scope.tenant_id(),
            version,
            index,
        };
        let (tenant, version, index) = (
            scope.tenant_id().as_uuid(),
            version.as_uuid(),
            index_of(index)?,
        );
        let sealed = in_tenant(&self.inner.pool, scope, async move |conn| {
            // Only a committed version's chunks are read.
            let sealed: Option<Option<Vec<u8>>> = chunks::table
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
        .await?;
        match (sealed, &self.inner.blobs) {
            (Some(sealed), _) => Ok(sealed),
            // Its bytes are in the bucket (a content removal since: `NotFound`).
            (None, Some(blobs)) => blobs.get(key).await,
            (None, None) => Err(corrupt("a chunk in a bucket, and no bucket configured")),
        }
    }

    async fn usage(&self, scope: &TenantScope) -> Result<u64, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let used = in_tenant(&self.inner.pool, scope, async move |conn| {
            used(conn, tenant).await
        })
        .await?;
        Ok(u64::try_from(used).unwrap_or(0))
    }

    async fn remove_content(
        &self,
        scope: &TenantScope,
        document: DocumentId,
        removing: &[VersionId],
        removed_at: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<(), ContentError> {
        let (tenant, document) = (scope.tenant_id().as_uuid(), document.as_uuid());
        let removing: Vec<Uuid> = removing.iter().map(|v| v.as_uuid()).collect();
        let (this, tenant_id) = (self.clone(), scope.tenant_id());
        self.write_audited(scope, event, async move |conn| {
            // The hold as of now, and no change to it (nor a commit) until this is done.
            let hold: Option<bool> = documents::table
                .filter(documents::tenant_id.eq(tenant))
                .filter(documents::id.eq(document))
                .select(documents::legal_hold)
                .for_update()
                .first(conn)
                .await
                .optional()?;
            match hold {
                None => return Err(StoreError::NotFound.into()),
                Some(true) => return Err(ContentRefusal::LegalHold.abort().into()),
                Some(false) => {}
            }
            let ids: Vec<Uuid> = versions::table
                .filter(versions::tenant_id.eq(tenant))
                .filter(versions::document_id.eq(document))
                .filter(versions::id.eq_any(&removing))
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
                    .filter(versions::id.eq_any(&ids))
                    .filter(versions::removed_at.is_null()),
            )
            .set(versions::removed_at.eq(removed_at))
            .execute(conn)
            .await?;
            let ids: Vec<VersionId> = ids.into_iter().map(Id::from_uuid).collect();
            this.delete_blobs(tenant_id, &ids).await?;
            Ok(())
        })
        .await
        .map_err(ContentError::from)
    }
}

/// A size as stored.
fn bytes(size: u64) -> Result<i64, StoreError> {
    i64::try_from(size).map_err(|_| StoreError::unexpected("size out of range"))
}

/// The tenant's uploads take turns for the rest of the transaction (a transaction-scoped
/// advisory lock): a stage or commit decides the quota on what the others committed or
/// staged, so two uploads never both take the last bytes.
async fn lock_uploads(conn: &mut AsyncPgConnection, tenant: Uuid) -> Result<(), DbError> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtextextended('aura:document-uploads:' || $1, 0))",
    )
    .bind::<Text, _>(tenant.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Used {
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

/// What the quota counts: the bytes of the versions whose content is kept and of the
/// uploads staged.
async fn used(conn: &mut AsyncPgConnection, tenant: Uuid) -> Result<i64, DbError> {
    let used: Used = diesel::sql_query(
        "SELECT ((SELECT COALESCE(SUM(size), 0) FROM document_versions \
                  WHERE tenant_id = $1 AND removed_at IS NULL) \
              + (SELECT COALESCE(SUM(size), 0) FROM document_uploads WHERE tenant_id = $1)\
              )::bigint AS bytes",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .get_result(conn)
    .await?;
    Ok(used.bytes)
}

impl PgStores {
    /// Deletes the versions' chunk objects from the blob store, if there is one. Called
    /// inside the transaction that removes their rows, before it commits: a failed delete
    /// rolls the removal back (its staging or its kept version stays, so the sweep or a
    /// repeated removal retries it); a transaction that fails after the delete leaves
    /// rows whose objects are gone — an uncommitted upload's are never read, a kept
    /// version's read `NotFound` until the removal is repeated. Objects are sealed bytes
    /// only, whatever is left.
    async fn delete_blobs(
        &self,
        tenant: TenantId,
        versions: &[VersionId],
    ) -> Result<(), StoreError> {
        if let Some(blobs) = &self.inner.blobs {
            for version in versions {
                blobs.delete_version(tenant, *version).await?;
            }
        }
        Ok(())
    }
}

/// Deletes the chunks of `version` unless a version row names them; answers whether it
/// did (the version is not committed).
async fn delete_uncommitted_chunks(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    version: Uuid,
) -> Result<bool, DbError> {
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
    Ok(!committed)
}
