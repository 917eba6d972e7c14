//! The documents' sealed chunks on an S3-compatible bucket ([`S3ChunkBlobs`], the
//! [`ChunkBlobs`] port through the `object_store` crate). Chunks arrive sealed (the
//! tenant's data key, in adapter-crypto); metadata, staging, quota and audit stay in
//! PostgreSQL, so the bucket holds nothing but ciphertext named by tenant, version and
//! index.

use aura_documents::{
    VersionId,
    ports::{BlobKey, ChunkBlobs, version_prefix},
};
use aura_shared_kernel::{StoreError, TenantId};
use futures_util::StreamExt;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload,
    aws::{AmazonS3, AmazonS3Builder},
    path::Path,
};

/// Where the bucket is and the keys to it.
#[derive(Clone)]
pub struct S3Settings {
    /// e.g. `https://s3.eu-central-1.amazonaws.com`, or a MinIO/Ceph address.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Plain HTTP to the endpoint (local test servers only).
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// The bucket as a [`ChunkBlobs`].
#[derive(Debug)]
pub struct S3ChunkBlobs {
    store: AmazonS3,
}

impl S3ChunkBlobs {
    /// A client for the bucket (no request is made yet). Path-style addressing, which
    /// every S3-compatible server answers.
    pub fn new(settings: &S3Settings) -> Result<Self, StoreError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&settings.endpoint)
            .with_region(&settings.region)
            .with_bucket_name(&settings.bucket)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_allow_http(settings.allow_http)
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|e| failed("the S3 settings", e))?;
        Ok(Self { store })
    }
}

/// An object-store failure as a store error. Its message names the operation and the
/// object (tenant and version ids, never content).
fn failed(what: &str, error: object_store::Error) -> StoreError {
    StoreError::unexpected(format!("S3 {what}: {error}"))
}

#[async_trait::async_trait]
impl ChunkBlobs for S3ChunkBlobs {
    async fn put(&self, key: BlobKey, sealed: Vec<u8>) -> Result<(), StoreError> {
        self.store
            .put(&Path::from(key.path()), PutPayload::from(sealed))
            .await
            .map_err(|e| failed("put", e))?;
        Ok(())
    }

    async fn get(&self, key: BlobKey) -> Result<Vec<u8>, StoreError> {
        let got = match self.store.get(&Path::from(key.path())).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Err(StoreError::NotFound),
            Err(e) => return Err(failed("get", e)),
        };
        let bytes = got.bytes().await.map_err(|e| failed("get", e))?;
        Ok(bytes.to_vec())
    }

    async fn delete_version(&self, tenant: TenantId, version: VersionId) -> Result<(), StoreError> {
        let prefix = Path::from(version_prefix(tenant, version));
        let objects = self
            .store
            .list(Some(&prefix))
            .map(|meta| meta.map(|m| m.location));
        let mut deleted = self.store.delete_stream(objects.boxed());
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(failed("delete", e)),
            }
        }
        Ok(())
    }
}
