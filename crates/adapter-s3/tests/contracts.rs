//! The documents' content store on PostgreSQL with its sealed chunks in an S3-compatible
//! bucket (moto, started per test): the content store contracts of `port-contracts`, and
//! the bucket's raw objects read back with no plaintext of an uploaded file in them.

mod support;

use std::sync::Arc;

use aura_adapter_crypto::{AesGcmContentCipher, DocumentKey, HmacChainHasher, Sha256ContentHasher};
use aura_adapter_postgres::{PgStores, TestDatabase};
use aura_adapter_s3::S3ChunkBlobs;
use aura_audit::RequestContext;
use aura_documents::{
    ContentPorts, DocumentFields, DocumentKind, DocumentLimits, DocumentService, MediaType, Upload,
    ports::{ChunkSource, SourceError},
};
use aura_port_contracts::{Stores, documents::DocumentStores, fixtures::register_tenant};
use aura_records::{NoRules, RecordUseCases};
use aura_shared_kernel::{Clock, SystemClock};
use futures_util::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt, aws::AmazonS3Builder};
use support::Moto;
use time::OffsetDateTime;

/// The clock the stores read, holding the database and the S3 server for as long as a
/// store does.
struct Holding {
    clock: Arc<dyn Clock>,
    _db: Arc<TestDatabase>,
    _moto: Moto,
}

impl Clock for Holding {
    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// PostgreSQL stores on a fresh database, keeping chunk bytes in a fresh bucket.
async fn open(clock: Arc<dyn Clock>) -> (PgStores, Arc<dyn Clock>) {
    let (stores, clock, _) = open_on(Moto::start().await, clock).await;
    (stores, clock)
}

/// [`open`] on `moto`'s bucket, with the database.
async fn open_on(
    moto: Moto,
    clock: Arc<dyn Clock>,
) -> (PgStores, Arc<dyn Clock>, Arc<TestDatabase>) {
    let blobs = Arc::new(S3ChunkBlobs::new(&moto.settings).expect("S3 settings"));
    let db = Arc::new(TestDatabase::create().await);
    let url = db.app_url().to_owned();
    let clock: Arc<dyn Clock> = Arc::new(Holding {
        clock,
        _db: db.clone(),
        _moto: moto,
    });
    let stores = PgStores::connect(
        &url,
        Default::default(),
        Arc::new(HmacChainHasher::with_test_key()),
        clock.clone(),
        aura_adapter_postgres::testing::test_seal(),
    )
    .await
    .expect("stores");
    (stores.with_chunk_blobs(blobs), clock, db)
}

mod system_clock {
    aura_port_contracts::document_contract_tests!(aura_port_contracts::assemble(
        super::open,
        aura_port_contracts::system_clock(),
        aura_port_contracts::documents::DocumentStores::from_single
    ));
}

mod fixed_clock {
    aura_port_contracts::document_contract_tests!(aura_port_contracts::assemble(
        super::open,
        aura_port_contracts::fixed_clock(),
        aura_port_contracts::documents::DocumentStores::from_single
    ));
}

struct Once(Option<Vec<u8>>);

#[async_trait::async_trait(?Send)]
impl ChunkSource for Once {
    async fn next(&mut self) -> Option<Result<Vec<u8>, SourceError>> {
        self.0.take().map(Ok)
    }
}

#[tokio::test]
async fn the_bucket_holds_sealed_chunks_only() {
    let moto = Moto::start().await;
    let settings = moto.settings.clone();
    let (pg, clock, db) = open_on(moto, Arc::new(SystemClock)).await;
    let stores: DocumentStores = DocumentStores::from_single(pg.clone(), clock.clone());
    let org = register_tenant(&Stores::from_single(pg.clone(), clock.clone())).await;
    let records = RecordUseCases::new(
        pg.documents(),
        Arc::new(NoRules),
        Arc::new(pg.clone()),
        clock.clone(),
    );
    let key = DocumentKey::from_bytes(vec![7; 32]).expect("a key");
    let ports = ContentPorts {
        store: stores.content.clone(),
        cipher: Arc::new(AesGcmContentCipher::new(&key, None)),
        hasher: Arc::new(Sha256ContentHasher),
    };
    let limits = DocumentLimits {
        max_upload_bytes: 25 * 1024 * 1024,
        quota_bytes: 1 << 30,
    };
    let documents = DocumentService::new(records, ports, clock, limits);
    let ctx = RequestContext::default();
    let fields = DocumentFields::titled("Signed DPA", DocumentKind::Dpa);
    let id = (documents.create(&org.scope, fields, &ctx).await)
        .expect("a document")
        .id;
    // Two chunks and a bit, every line naming the marker.
    let content = "CONFIDENTIAL-DPA Jane Roe, jane.roe@example.com\n"
        .repeat(12_000)
        .into_bytes();
    let upload = Upload {
        file_name: "dpa.txt".to_owned(),
        media_type: MediaType::PlainText,
        length: content.len() as u64,
        sha256: None,
    };
    let meta = documents
        .upload(
            &org.scope,
            id,
            upload,
            &mut Once(Some(content.clone())),
            &ctx,
        )
        .await
        .expect("uploaded");
    assert!(meta.chunks >= 2, "{} chunks", meta.chunks);

    // Read back through the store: the bucket answers the chunks.
    let reader = (documents.open(&org.scope, id, None, &ctx).await).expect("opened");
    let mut back = Vec::new();
    for index in 0..meta.chunks {
        back.extend(reader.chunk(index).await.expect("a chunk"));
    }
    assert_eq!(back, content);

    // The bucket, read raw: one object per chunk, none with the marker in it.
    let raw = AmazonS3Builder::new()
        .with_endpoint(&settings.endpoint)
        .with_region(&settings.region)
        .with_bucket_name(&settings.bucket)
        .with_access_key_id(&settings.access_key_id)
        .with_secret_access_key(&settings.secret_access_key)
        .with_allow_http(true)
        .build()
        .expect("a raw client");
    let objects: Vec<_> = raw.list(None).try_collect().await.expect("the objects");
    assert_eq!(objects.len(), meta.chunks as usize, "{objects:?}");
    for object in &objects {
        assert!(
            object.location.as_ref().starts_with(&format!(
                "documents/{}/{}/",
                org.tenant.id.as_uuid(),
                meta.id.as_uuid()
            )),
            "{}",
            object.location
        );
        let bytes = raw
            .get(&object.location)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let found = bytes.windows(16).any(|w| w == b"CONFIDENTIAL-DPA");
        assert!(!found, "plaintext in {}", object.location);
        assert!(!bytes.windows(8).any(|w| w == b"jane.roe"), "plaintext");
    }
    // The table keeps the chunks' places, not their bytes.
    let rows = db
        .superuser_texts("SELECT (sealed IS NULL)::text AS text FROM document_chunks")
        .await;
    assert_eq!(rows.len(), objects.len(), "one row per chunk");
    assert!(
        rows.iter().all(|r| r == "true"),
        "no chunk bytes in PostgreSQL"
    );
}
