//! The documents' content store ([`ContentStore`]): an upload is staged (its size
//! reserved against the quota), its sealed chunks written, then committed as a version
//! with its audit event; a discarded or swept upload leaves nothing; content removal is
//! refused under legal hold inside its own transaction; nothing crosses tenants. The
//! store treats chunks as opaque bytes: the contracts write any.

use std::sync::Arc;

use aura_audit::{Actor, PendingEvent};
use aura_documents::{
    Document, DocumentFields, DocumentId, DocumentKind, DocumentState, Documents, MediaType,
    VersionId, VersionMeta,
    content::chunk_count,
    document::actions,
    ports::{ContentError, ContentRefusal, ContentStore, Staging},
};
use aura_records::{Id, RecordKind, RecordStore};
use aura_shared_kernel::{Clock, Conflict, StoreError, TenantScope};
use time::{Duration, OffsetDateTime};

use crate::{
    IdentityStore, Stores,
    fixtures::{TenantFixture, audit_len, event, register_tenant},
};

/// The document ports under test, with the identity [`Stores`] of the same adapter.
#[derive(Clone)]
pub struct DocumentStores {
    pub records: Arc<dyn RecordStore<Documents>>,
    pub content: Arc<dyn ContentStore>,
    pub identity: Stores,
}

impl DocumentStores {
    /// Every port from one value that implements them all.
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: IdentityStore + RecordStore<Documents> + ContentStore,
    {
        let store = Arc::new(store);
        Self {
            records: store.clone(),
            content: store.clone(),
            identity: Stores::from_single_arc(store, clock),
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.identity.clock.now()
    }
}

/// Expands to one `#[tokio::test]` per contract of the documents' content store. The
/// argument is an async expression that yields a [`DocumentStores`]. Defines
/// `__document_contract_stores` and the module `documents` in the calling module.
#[macro_export]
macro_rules! document_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(__document_contract_stores: $crate::documents::DocumentStores = $stores);

        $crate::__contract_module!(__document_contract_stores: documents => documents {
            content_round_trips_from_empty_to_several_chunks,
            versions_are_oldest_first_and_numbers_unique,
            discard_leaves_nothing_and_the_upload_cannot_commit,
            a_commit_needs_every_chunk,
            usage_counts_kept_and_staged_bytes,
            the_quota_is_checked_at_stage_and_at_commit,
            the_sweep_removes_only_expired_uncommitted_uploads,
            remove_content_removes_the_named_versions_with_its_event,
            legal_hold_refuses_removal_inside_the_store,
            other_tenants_content_is_out_of_reach,
        });
    };
}

const GIB: u64 = 1 << 30;

/// A tenant with a document.
async fn document(stores: &DocumentStores, hold: bool) -> (TenantFixture, DocumentId) {
    let tf = register_tenant(&stores.identity).await;
    let id = add_document(stores, &tf, hold).await;
    (tf, id)
}

async fn add_document(stores: &DocumentStores, tf: &TenantFixture, hold: bool) -> DocumentId {
    let now = stores.now();
    let document = Document::first_version(
        Id::generate(),
        tf.tenant.id,
        DocumentFields {
            legal_hold: hold,
            ..DocumentFields::titled("Signed DPA", DocumentKind::Dpa)
        },
        DocumentState::default(),
        now,
    );
    let created = event(
        Actor::User(tf.owner.id),
        Documents::ACTIONS.created,
        Documents::ENTITY,
        document.id,
    );
    stores
        .records
        .insert(&tf.scope, &document, created)
        .await
        .expect("a document")
        .id
}

fn staging(document: DocumentId, size: u64, staged_at: OffsetDateTime) -> Staging {
    Staging {
        version: VersionId::generate(),
        document,
        size,
        staged_at,
    }
}

/// The "sealed" chunks of a file of `size` bytes (opaque to the store): distinct per
/// index, the last one shorter.
fn chunks_of(size: u64) -> Vec<Vec<u8>> {
    (0..chunk_count(size))
        .map(|i| format!("sealed-{i}-{size}").into_bytes())
        .collect()
}

fn meta(stores: &DocumentStores, s: &Staging, number: i32) -> VersionMeta {
    VersionMeta {
        id: s.version,
        document_id: s.document,
        number,
        file_name: "dpa.pdf".to_owned(),
        media_type: MediaType::Pdf,
        size: s.size,
        sha256: "ab".repeat(32),
        chunks: chunk_count(s.size),
        uploaded_by: None,
        uploaded_at: stores.now(),
        removed_at: None,
    }
}

fn uploaded(scope: &TenantScope, s: &Staging) -> PendingEvent {
    event(
        Actor::of(scope),
        actions::VERSION_UPLOADED,
        "document",
        s.document,
    )
}

/// Stages, writes every chunk and commits an upload of `size` bytes as `number`.
async fn upload(
    stores: &DocumentStores,
    scope: &TenantScope,
    document: DocumentId,
    size: u64,
    number: i32,
) -> VersionMeta {
    let s = staging(document, size, stores.now());
    let c = &stores.content;
    c.stage(scope, &s, GIB).await.expect("staged");
    for (i, chunk) in chunks_of(size).into_iter().enumerate() {
        c.put_chunk(scope, s.version, i as u32, chunk)
            .await
            .expect("a chunk");
    }
    let m = meta(stores, &s, number);
    c.commit(scope, &m, GIB, uploaded(scope, &s))
        .await
        .expect("committed");
    m
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, ContentError>,
    refusal: ContentRefusal,
    what: &str,
) {
    match result {
        Err(ContentError::Refused(found)) if found == refusal => {}
        other => panic!("{what}: expected {refusal:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_store_not_found<T: std::fmt::Debug>(result: Result<T, ContentError>, what: &str) {
    match result {
        Err(ContentError::Store(StoreError::NotFound)) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

pub async fn content_round_trips_from_empty_to_several_chunks(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    let empty = upload(&stores, &tf.scope, doc, 0, 1).await;
    let large = upload(&stores, &tf.scope, doc, 3 * 256 * 1024 + 17, 2).await;
    assert_eq!(large.chunks, 4);
    let versions = stores.content.versions(&tf.scope, doc).await.unwrap();
    assert_eq!(versions, vec![empty.clone(), large.clone()], "as committed");
    for m in [&empty, &large] {
        for (i, expected) in chunks_of(m.size).into_iter().enumerate() {
            let read = stores.content.chunk(&tf.scope, m.id, i as u32).await;
            assert_eq!(read.unwrap(), expected, "chunk {i} of {} bytes", m.size);
        }
    }
    // No chunk past the last.
    let past = stores.content.chunk(&tf.scope, large.id, 4).await;
    assert!(matches!(past, Err(StoreError::NotFound)), "{past:?}");
    // The upload's event was written with the version.
    let events = stores
        .identity
        .events(&tf.scope, actions::VERSION_UPLOADED.as_str())
        .await;
    assert_eq!(events.len(), 2);
}

pub async fn versions_are_oldest_first_and_numbers_unique(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    for number in 1..=3 {
        upload(&stores, &tf.scope, doc, 10 * number as u64, number).await;
    }
    let numbers: Vec<i32> = (stores.content.versions(&tf.scope, doc).await.unwrap())
        .iter()
        .map(|v| v.number)
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    // A number taken by a concurrent upload: refused, the upload stays staged.
    let s = staging(doc, 5, stores.now());
    stores.content.stage(&tf.scope, &s, GIB).await.unwrap();
    (stores.content)
        .put_chunk(&tf.scope, s.version, 0, b"x".to_vec())
        .await
        .unwrap();
    let before = audit_len(&stores.identity, &tf.scope).await;
    let taken = (stores.content)
        .commit(
            &tf.scope,
            &meta(&stores, &s, 2),
            GIB,
            uploaded(&tf.scope, &s),
        )
        .await;
    match taken {
        Err(ContentError::Store(StoreError::Conflict(Conflict::VersionNumberTaken))) => {}
        other => panic!("a taken number: {other:?}"),
    }
    assert_eq!(audit_len(&stores.identity, &tf.scope).await, before);
    (stores.content)
        .commit(
            &tf.scope,
            &meta(&stores, &s, 4),
            GIB,
            uploaded(&tf.scope, &s),
        )
        .await
        .expect("the next number commits");
}

pub async fn discard_leaves_nothing_and_the_upload_cannot_commit(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    let s = staging(doc, 600 * 1024, stores.now());
    let c = &stores.content;
    c.stage(&tf.scope, &s, GIB).await.unwrap();
    for i in 0..2 {
        c.put_chunk(&tf.scope, s.version, i, b"part".to_vec())
            .await
            .unwrap();
    }
    assert_eq!(c.usage(&tf.scope).await.unwrap(), s.size, "staged counts");
    c.discard(&tf.scope, s.version).await.unwrap();
    assert_eq!(c.usage(&tf.scope).await.unwrap(), 0, "discarded: nothing");
    assert!(
        c.staged_before(&tf.scope, stores.now() + Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_refused(
        c.put_chunk(&tf.scope, s.version, 2, b"late".to_vec()).await,
        ContentRefusal::NotStaged,
        "a chunk after the discard",
    );
    assert_refused(
        c.commit(
            &tf.scope,
            &meta(&stores, &s, 1),
            GIB,
            uploaded(&tf.scope, &s),
        )
        .await,
        ContentRefusal::NotStaged,
        "a commit after the discard",
    );
    assert!(c.versions(&tf.scope, doc).await.unwrap().is_empty());
    // Discarding a committed version changes nothing.
    let kept = upload(&stores, &tf.scope, doc, 3, 1).await;
    c.discard(&tf.scope, kept.id).await.unwrap();
    assert_eq!(
        c.chunk(&tf.scope, kept.id, 0).await.unwrap(),
        chunks_of(3)[0]
    );
}

pub async fn a_commit_needs_every_chunk(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    let s = staging(doc, 300 * 1024, stores.now());
    let c = &stores.content;
    c.stage(&tf.scope, &s, GIB).await.unwrap();
    c.put_chunk(&tf.scope, s.version, 0, b"first".to_vec())
        .await
        .unwrap();
    assert_refused(
        c.commit(
            &tf.scope,
            &meta(&stores, &s, 1),
            GIB,
            uploaded(&tf.scope, &s),
        )
        .await,
        ContentRefusal::NotStaged,
        "one chunk of two",
    );
    c.put_chunk(&tf.scope, s.version, 1, b"second".to_vec())
        .await
        .unwrap();
    c.commit(
        &tf.scope,
        &meta(&stores, &s, 1),
        GIB,
        uploaded(&tf.scope, &s),
    )
    .await
    .expect("both chunks");
}

pub async fn usage_counts_kept_and_staged_bytes(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    let c = &stores.content;
    assert_eq!(c.usage(&tf.scope).await.unwrap(), 0);
    upload(&stores, &tf.scope, doc, 1000, 1).await;
    upload(&stores, &tf.scope, doc, 234, 2).await;
    let s = staging(doc, 50, stores.now());
    c.stage(&tf.scope, &s, GIB).await.unwrap();
    assert_eq!(c.usage(&tf.scope).await.unwrap(), 1284, "kept and staged");
    let ids: Vec<VersionId> = (c.versions(&tf.scope, doc).await.unwrap())
        .iter()
        .map(|v| v.id)
        .collect();
    let removed = event(
        Actor::of(&tf.scope),
        actions::CONTENT_REMOVED,
        "document",
        doc,
    );
    c.remove_content(&tf.scope, doc, &ids, stores.now(), removed)
        .await
        .unwrap();
    assert_eq!(
        c.usage(&tf.scope).await.unwrap(),
        50,
        "removed content is free"
    );
}

pub async fn the_quota_is_checked_at_stage_and_at_commit(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    let c = &stores.content;
    upload(&stores, &tf.scope, doc, 60, 1).await;
    // 60 kept: 40 more fit a quota of 100, 41 do not.
    let over = staging(doc, 41, stores.now());
    assert_refused(
        c.stage(&tf.scope, &over, 100).await,
        ContentRefusal::QuotaExceeded,
        "over the quota",
    );
    let first = staging(doc, 30, stores.now());
    c.stage(&tf.scope, &first, 100).await.expect("30 fit");
    // The first's reservation holds: another 30 do not fit.
    let second = staging(doc, 30, stores.now());
    assert_refused(
        c.stage(&tf.scope, &second, 100).await,
        ContentRefusal::QuotaExceeded,
        "the staged bytes count",
    );
    // A quota lowered since the stage: the commit checks again.
    c.put_chunk(&tf.scope, first.version, 0, b"x".to_vec())
        .await
        .unwrap();
    let before = audit_len(&stores.identity, &tf.scope).await;
    assert_refused(
        c.commit(
            &tf.scope,
            &meta(&stores, &first, 2),
            80,
            uploaded(&tf.scope, &first),
        )
        .await,
        ContentRefusal::QuotaExceeded,
        "over the quota at commit",
    );
    assert_eq!(
        audit_len(&stores.identity, &tf.scope).await,
        before,
        "no event"
    );
    c.commit(
        &tf.scope,
        &meta(&stores, &first, 2),
        100,
        uploaded(&tf.scope, &first),
    )
    .await
    .expect("its own reservation is not counted twice");
    assert_eq!(c.usage(&tf.scope).await.unwrap(), 90);
}

pub async fn the_sweep_removes_only_expired_uncommitted_uploads(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    let c = &stores.content;
    let now = stores.now();
    let committed = upload(&stores, &tf.scope, doc, 7, 1).await;
    let old = staging(doc, 400 * 1024, now - Duration::hours(2));
    let fresh = staging(doc, 9, now);
    for s in [&old, &fresh] {
        c.stage(&tf.scope, s, GIB).await.unwrap();
        c.put_chunk(&tf.scope, s.version, 0, b"part".to_vec())
            .await
            .unwrap();
    }
    let bound = now - Duration::hours(1);
    let expired = c.staged_before(&tf.scope, bound).await.unwrap();
    assert_eq!(expired, vec![old.clone()], "only the old upload");
    let sweep = |s: &Staging| {
        event(
            Actor::of(&tf.scope),
            actions::STAGING_SWEPT,
            "document",
            s.document,
        )
    };
    let before = audit_len(&stores.identity, &tf.scope).await;
    assert!(
        c.sweep_staged(&tf.scope, old.version, bound, sweep(&old))
            .await
            .unwrap()
    );
    assert_eq!(
        audit_len(&stores.identity, &tf.scope).await,
        before + 1,
        "audited"
    );
    // Gone: its chunk, its reservation; a fresh one and a committed one are not swept.
    assert!(
        !c.sweep_staged(&tf.scope, old.version, bound, sweep(&old))
            .await
            .unwrap()
    );
    assert!(
        !c.sweep_staged(&tf.scope, fresh.version, bound, sweep(&fresh))
            .await
            .unwrap()
    );
    assert!(
        !c.sweep_staged(&tf.scope, committed.id, bound, sweep(&fresh))
            .await
            .unwrap()
    );
    assert_eq!(
        audit_len(&stores.identity, &tf.scope).await,
        before + 1,
        "no more events"
    );
    assert_eq!(c.usage(&tf.scope).await.unwrap(), 7 + 9);
    assert_refused(
        c.put_chunk(&tf.scope, old.version, 1, b"late".to_vec())
            .await,
        ContentRefusal::NotStaged,
        "a chunk of a swept upload",
    );
    assert_refused(
        c.commit(
            &tf.scope,
            &meta(&stores, &old, 2),
            GIB,
            uploaded(&tf.scope, &old),
        )
        .await,
        ContentRefusal::NotStaged,
        "a swept upload",
    );
    assert_eq!(
        c.chunk(&tf.scope, committed.id, 0).await.unwrap(),
        chunks_of(7)[0]
    );
    c.commit(
        &tf.scope,
        &meta(&stores, &fresh, 2),
        GIB,
        uploaded(&tf.scope, &fresh),
    )
    .await
    .expect("the fresh upload commits");
}

pub async fn remove_content_removes_the_named_versions_with_its_event(stores: DocumentStores) {
    let (tf, doc) = document(&stores, false).await;
    let c = &stores.content;
    let first = upload(&stores, &tf.scope, doc, 5, 1).await;
    let second = upload(&stores, &tf.scope, doc, 300 * 1024, 2).await;
    let at = stores.now();
    let removed = event(
        Actor::of(&tf.scope),
        actions::CONTENT_REMOVED,
        "document",
        doc,
    );
    c.remove_content(&tf.scope, doc, &[first.id], at, removed)
        .await
        .unwrap();
    let versions = c.versions(&tf.scope, doc).await.unwrap();
    assert_eq!(versions[0].removed_at, Some(at));
    assert_eq!(versions[1].removed_at, None, "a version not named stays");
    assert!(matches!(
        c.chunk(&tf.scope, first.id, 0).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        c.chunk(&tf.scope, second.id, 1).await.unwrap(),
        chunks_of(second.size)[1]
    );
    stores
        .identity
        .the_event(&tf.scope, actions::CONTENT_REMOVED.as_str(), doc)
        .await;
    // Another document's version named here is not touched.
    let other = add_document(&stores, &tf, false).await;
    let theirs = upload(&stores, &tf.scope, other, 3, 1).await;
    let removed = event(
        Actor::of(&tf.scope),
        actions::CONTENT_REMOVED,
        "document",
        doc,
    );
    c.remove_content(&tf.scope, doc, &[theirs.id], at, removed)
        .await
        .unwrap();
    assert_eq!(
        c.chunk(&tf.scope, theirs.id, 0).await.unwrap(),
        chunks_of(3)[0]
    );
}

pub async fn legal_hold_refuses_removal_inside_the_store(stores: DocumentStores) {
    let (tf, doc) = document(&stores, true).await;
    let c = &stores.content;
    let kept = upload(&stores, &tf.scope, doc, 11, 1).await;
    let before = audit_len(&stores.identity, &tf.scope).await;
    let removed = event(
        Actor::of(&tf.scope),
        actions::CONTENT_REMOVED,
        "document",
        doc,
    );
    assert_refused(
        c.remove_content(&tf.scope, doc, &[kept.id], stores.now(), removed)
            .await,
        ContentRefusal::LegalHold,
        "under legal hold",
    );
    assert_eq!(
        audit_len(&stores.identity, &tf.scope).await,
        before,
        "no event"
    );
    let versions = c.versions(&tf.scope, doc).await.unwrap();
    assert_eq!(versions[0].removed_at, None);
    assert_eq!(
        c.chunk(&tf.scope, kept.id, 0).await.unwrap(),
        chunks_of(11)[0]
    );
}

pub async fn other_tenants_content_is_out_of_reach(stores: DocumentStores) {
    let (a, doc) = document(&stores, false).await;
    let b = register_tenant(&stores.identity).await;
    let c = &stores.content;
    let kept = upload(&stores, &a.scope, doc, 21, 1).await;
    let s = staging(doc, 4, stores.now());
    c.stage(&a.scope, &s, GIB).await.unwrap();
    // B sees nothing of A's.
    assert!(c.versions(&b.scope, doc).await.unwrap().is_empty());
    assert!(matches!(
        c.chunk(&b.scope, kept.id, 0).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(c.usage(&b.scope).await.unwrap(), 0);
    let far = stores.now() + Duration::days(1);
    assert!(c.staged_before(&b.scope, far).await.unwrap().is_empty());
    // Nor writes to it.
    assert_store_not_found(
        c.stage(&b.scope, &staging(doc, 1, stores.now()), GIB).await,
        "staging against another tenant's document",
    );
    assert_refused(
        c.put_chunk(&b.scope, s.version, 0, b"x".to_vec()).await,
        ContentRefusal::NotStaged,
        "a chunk into another tenant's upload",
    );
    c.discard(&b.scope, s.version).await.unwrap();
    let swept = event(Actor::of(&b.scope), actions::STAGING_SWEPT, "document", doc);
    assert!(
        !c.sweep_staged(&b.scope, s.version, far, swept)
            .await
            .unwrap()
    );
    let removed = event(
        Actor::of(&b.scope),
        actions::CONTENT_REMOVED,
        "document",
        doc,
    );
    assert_store_not_found(
        c.remove_content(&b.scope, doc, &[kept.id], stores.now(), removed)
            .await,
        "removing another tenant's content",
    );
    // A's upload and version are as they were.
    c.put_chunk(&a.scope, s.version, 0, b"mine".to_vec())
        .await
        .expect("still staged");
    assert_eq!(c.usage(&a.scope).await.unwrap(), 25);
    assert_eq!(
        c.chunk(&a.scope, kept.id, 0).await.unwrap(),
        chunks_of(21)[0]
    );
}
