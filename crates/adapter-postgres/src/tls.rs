//! TLS to PostgreSQL with rustls, chosen by libpq's parameters in the database URL:
//!
//! - `sslmode=disable` (or no `sslmode`): plain TCP, as before;
//! - `sslmode=prefer`: TLS when the server offers it, without checking its certificate;
//! - `sslmode=require`: TLS or no connection, without checking the certificate (libpq's
//!   meaning: it stops a passive eavesdropper, not a man in the middle);
//! - `sslmode=verify-full`: TLS, the certificate chain checked against `sslrootcert` (a PEM
//!   file of the CA certificates to trust; without it the system's trust store) and the
//!   URL's host name checked against the certificate. What production should use.
//!
//! `verify-ca` (a chain check without the name check) is refused: use `verify-full`.
//! Every connection the service opens goes through [`connect`]: the pool's, the
//! migrations' and `aura db init`'s.

use std::{fmt, sync::Arc};

use diesel::{ConnectionError, ConnectionResult};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, aws_lc_rs},
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use tokio_postgres_rustls::MakeRustlsConnect;
use url::Url;

/// How a URL asks to connect: the URL tokio-postgres is given (libpq's TLS parameters it
/// does not know taken out) and the TLS connector, if any.
#[derive(Clone)]
pub(crate) struct Target {
    url: String,
    tls: Option<MakeRustlsConnect>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a URL's TLS parameters cannot be used. The text names no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("database URL: {0}")]
pub(crate) struct TlsConfigError(pub(crate) String);

impl Target {
    /// Reads `sslmode` and `sslrootcert` from `url`; any other URL (or a connection
    /// string that is not a URL) is passed on as it is, over plain TCP.
    pub(crate) fn parse(raw: &str) -> Result<Self, TlsConfigError> {
        let Ok(mut url) = Url::parse(raw) else {
            return Ok(Self {
                url: raw.to_owned(),
                tls: None,
            });
        };
        let mut mode = None;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "sslmode" => mode = Some(value.into_owned()),
                "sslrootcert" => root_cert = Some(value.into_owned()),
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        let (passed_mode, config) = match mode.as_deref() {
            None | Some("disable") => {
                return Ok(Self {
                    url: raw.to_owned(),
                    tls: None,
                });
            }
            Some("prefer") => ("prefer", unverified()?),
            Some("require") => ("require", unverified()?),
            Some("verify-full") => ("require", verified(root_cert.as_deref())?),
            Some("verify-ca") => {
                return Err(TlsConfigError(
                    "sslmode=verify-ca is not supported: use verify-full (the host name is checked too)"
                        .to_owned(),
                ));
            }
            Some(_) => {
                return Err(TlsConfigError(
                    "sslmode must be disable, prefer, require or verify-full".to_owned(),
                ));
            }
        };
        url.set_query(None);
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in &kept {
                query.append_pair(key, value);
            }
            query.append_pair("sslmode", passed_mode);
        }
        Ok(Self {
            url: url.to_string(),
            tls: Some(MakeRustlsConnect::new(config)),
        })
    }

    /// Whether connections are made over TLS.
    pub(crate) fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The URL tokio-postgres is given.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The TLS connector (None: plain TCP).
    pub(crate) fn tls(&self) -> Option<&MakeRustlsConnect> {
        self.tls.as_ref()
    }

    /// Opens a connection.
    pub(crate) async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        match &self.tls {
            None => AsyncPgConnection::establish(&self.url).await,
            Some(tls) => {
                let (client, connection) = tokio_postgres::connect(&self.url, tls.clone())
                    .await
                    .map_err(bad_connection)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        }
    }
}

/// Opens one connection to `url` (TLS as its `sslmode` says).
pub(crate) async fn connect(url: &str) -> ConnectionResult<AsyncPgConnection> {
    Target::parse(url)
        .map_err(|e| ConnectionError::InvalidConnectionUrl(e.to_string()))?
        .connect()
        .await
}

/// The error with its causes (a TLS failure's reason, e.g. a certificate for another
/// name, is a cause of tokio-postgres's "error performing TLS handshake"). Names no
/// password: neither tokio-postgres nor rustls put the URL in their errors.
pub(crate) fn bad_connection(error: tokio_postgres::Error) -> ConnectionError {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    ConnectionError::BadConnection(text)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsConfigError> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError(format!("TLS set-up: {e}")))
}

/// Certificate and name checked: the CAs of `root_cert` (a PEM file), or the system's.
fn verified(root_cert: Option<&str>) -> Result<ClientConfig, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) if path != "system" => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(Iterator::collect)
                .map_err(|_| {
                    TlsConfigError(format!(
                        "sslrootcert: cannot read PEM certificates from {path}"
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(TlsConfigError(format!(
                    "sslrootcert: no usable CA certificate in {path}"
                )));
            }
        }
        _ => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(TlsConfigError(
                    "sslmode=verify-full: no system CA certificates found; set sslrootcert"
                        .to_owned(),
                ));
            }
        }
    }
    Ok(builder()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Encrypted, certificate not checked (`prefer`, `require`): the handshake's signatures
/// are still verified, so the server must hold the key of the certificate it shows.
fn unverified() -> Result<ClientConfig, TlsConfigError> {
    Ok(builder()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
        .with_no_client_auth())
}

#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_pass_unchanged_and_tls_parameters_are_taken_out() {
        let plain = Target::parse("postgres://u:p@db:5432/aura").expect("plain");
        assert!(!plain.uses_tls());
        assert_eq!(plain.url, "postgres://u:p@db:5432/aura");
        let disabled = Target::parse("postgres://u@db/aura?sslmode=disable").expect("disable");
        assert!(!disabled.uses_tls());
        let required =
            Target::parse("postgres://u@db/aura?application_name=x&sslmode=require").expect("ok");
        assert!(required.uses_tls());
        assert_eq!(
            required.url,
            "postgres://u@db/aura?application_name=x&sslmode=require"
        );
        for refused in [
            "postgres://u@db/aura?sslmode=verify-ca",
            "postgres://u@db/aura?sslmode=allow-anything",
            "postgres://u@db/aura?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ] {
            let error = Target::parse(refused).expect_err(refused);
            assert!(!error.to_string().contains("u@db"), "{error}");
        }
    }
}
