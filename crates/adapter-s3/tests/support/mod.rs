//! A local S3-compatible server for the tests: `moto_server` (Python `moto[server]`,
//! which `.ci/run` installs), one per test on a free port, with a bucket, killed when
//! dropped. A test FAILS when it cannot start: the S3 adapter is never silently untested.
#![allow(dead_code)]

use std::{
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use aura_adapter_s3::S3Settings;

pub const BUCKET: &str = "aura-documents";

pub struct Moto {
    child: Child,
    pub settings: S3Settings,
}

impl Moto {
    /// Starts the server, waits until it answers and creates [`BUCKET`].
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server could not start (pip install 'moto[server]')");
        let mut moto = Self {
            child,
            settings: S3Settings {
                endpoint: format!("http://127.0.0.1:{port}"),
                region: "us-east-1".to_owned(),
                bucket: BUCKET.to_owned(),
                access_key_id: "test".to_owned(),
                secret_access_key: "test-secret".to_owned(),
                allow_http: true,
            },
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "moto_server did not answer");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto.create_bucket().await;
        moto
    }

    /// moto accepts any credentials, but wants an S3 authorization header to see the
    /// request as S3's (object_store cannot create buckets).
    async fn create_bucket(&self) {
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let response = reqwest::Client::new()
            .put(format!("{}/{BUCKET}", self.settings.endpoint))
            .header("Authorization", auth)
            .send()
            .await
            .expect("create the bucket");
        assert!(response.status().is_success(), "{}", response.status());
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
