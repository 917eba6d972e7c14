//! Issue 18, item 16: TLS to PostgreSQL. A throwaway cluster of this test's own runs
//! with `ssl=on`, a certificate for `localhost` issued by a CA the test makes, and a
//! `pg_hba.conf` that rejects every connection without TLS, so whatever connects at all
//! connected over TLS. The service's three ways in (`aura db init`, the migrations and
//! the pool, with and without transaction pooling) connect with `sslmode=verify-full`
//! and `sslmode=require`; `verify-full` with the wrong host name or an unknown CA fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cluster.rs"]
mod cluster;

use std::{sync::Arc, time::Duration};

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_postgres::{
    PgStores, PoolSettings, init_database, run_migrations, testing::test_seal,
};
use aura_shared_kernel::SystemClock;
use cluster::Cluster;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// A CA certificate (PEM) and the issuer that signs with its key.
fn certificate_authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

/// A cluster that speaks TLS only, with a server certificate for `localhost` from `ca`.
fn tls_cluster(ca: &CertifiedIssuer<'static, KeyPair>) -> Cluster {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &**ca).expect("server certificate");
    let cluster = Cluster::init();
    cluster.write_data_file("server.crt", &cert.pem(), false);
    cluster.write_data_file("server.key", &key.serialize_pem(), false);
    cluster.write_data_file(
        "postgresql.conf",
        "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        true,
    );
    cluster.write_data_file(
        "pg_hba.conf",
        "local all all trust\n\
         hostssl all all 127.0.0.1/32 trust\n\
         hostnossl all all 127.0.0.1/32 reject\n",
        false,
    );
    cluster.start();
    cluster
}

fn url(user: &str, host: &str, port: u16, database: &str, query: &str) -> String {
    let url = format!("postgres://{user}:{user}-pw@{host}:{port}/{database}");
    if query.is_empty() {
        url
    } else {
        format!("{url}?{query}")
    }
}

fn settings(transaction_pooling: bool) -> PoolSettings {
    PoolSettings {
        max_size: 2,
        acquire_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(10),
        transaction_pooling,
        ..PoolSettings::default()
    }
}

async fn stores(url: &str, transaction_pooling: bool) -> PgStores {
    PgStores::connect(
        url,
        settings(transaction_pooling),
        Arc::new(HmacChainHasher::with_test_key()),
        Arc::new(SystemClock),
        test_seal(),
    )
    .await
    .expect("a pool (connections open lazily)")
}

#[tokio::test]
async fn the_service_reaches_postgresql_over_verified_tls_only() {
    let ca = certificate_authority("AURA test CA");
    let stranger_ca = certificate_authority("Someone else's CA");
    let cluster = tls_cluster(&ca);
    let ca_file = cluster.dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let stranger_file = cluster.dir.join("stranger-ca.pem");
    std::fs::write(&stranger_file, stranger_ca.pem()).unwrap();
    let port = cluster.port;
    let verify = format!("sslmode=verify-full&sslrootcert={}", ca_file.display());

    // Without TLS the server lets nobody in: what connects below connected over TLS.
    let plain = run_migrations(&url("postgres", "127.0.0.1", port, "postgres", ""))
        .await
        .expect_err("plain TCP is rejected");
    assert!(format!("{plain:?}").contains("no encryption"), "{plain:?}");

    // aura db init, the migrations and the pool, all with verify-full.
    let superuser = url("postgres", "localhost", port, "postgres", &verify);
    let owner = url("aura_owner", "localhost", port, "aura_tls", &verify);
    let app = url("aura_api", "localhost", port, "aura_tls", &verify);
    init_database(&superuser, &owner, &app, None)
        .await
        .expect("db init over verified TLS");
    let applied = run_migrations(&owner)
        .await
        .expect("migrations over verified TLS");
    assert!(!applied.is_empty());
    for pooling in [false, true] {
        stores(&app, pooling)
            .await
            .check_app_role()
            .await
            .unwrap_or_else(|e| panic!("the pool over verified TLS (pooler {pooling}): {e}"));
    }

    // require: encrypted, the certificate not checked (libpq's meaning).
    let require = url("aura_api", "127.0.0.1", port, "aura_tls", "sslmode=require");
    stores(&require, false)
        .await
        .check_app_role()
        .await
        .expect("the pool with sslmode=require");
    run_migrations(&url(
        "aura_owner",
        "127.0.0.1",
        port,
        "aura_tls",
        "sslmode=require",
    ))
    .await
    .expect("migrations with sslmode=require");

    // verify-full refuses a certificate for another name (the server's is for
    // localhost, the URL says 127.0.0.1) and one from a CA it does not trust.
    let wrong_host = url("aura_owner", "127.0.0.1", port, "aura_tls", &verify);
    let unknown_ca = url(
        "aura_owner",
        "localhost",
        port,
        "aura_tls",
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            stranger_file.display()
        ),
    );
    for (bad, why) in [
        (&wrong_host, "certificate not valid for name"),
        (&unknown_ca, "UnknownIssuer"),
    ] {
        let error = run_migrations(bad).await.expect_err(why);
        assert!(format!("{error:?}").contains(why), "{why}: {error:?}");
        let error = init_database(
            &superuser.replace("localhost", "127.0.0.1"),
            bad,
            &app,
            None,
        )
        .await
        .expect_err(why);
        assert!(format!("{error:?}").contains("certificate"), "{error:?}");
        for pooling in [false, true] {
            let refused = stores(&bad.replace("aura_owner", "aura_api"), pooling)
                .await
                .check_app_role()
                .await
                .expect_err(why);
            assert!(
                !refused.to_string().contains("aura_api-pw"),
                "no password in {refused}"
            );
        }
    }

    // libpq's verify-ca (no name check) is refused rather than taken for verify-full.
    let verify_ca = url(
        "aura_owner",
        "localhost",
        port,
        "aura_tls",
        "sslmode=verify-ca",
    );
    let error = run_migrations(&verify_ca).await.expect_err("verify-ca");
    assert!(format!("{error:?}").contains("verify-full"), "{error:?}");
}
