//! HTTPS: `--tls-cert cert.pem --tls-key key.pem` serves with rustls (ring provider). Laptops
//! carry records customers entrusted to the company across the internet; in production the
//! server runs with TLS, here or behind a reverse proxy that terminates it.

use std::path::{Path, PathBuf};

use axum_server::tls_rustls::RustlsConfig;

use crate::error::{Error, Result};

/// The certificate chain and private key files, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// Both or neither of `--tls-cert` and `--tls-key`.
    pub fn from_args(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<TlsFiles>> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::Invalid("--tls-cert needs --tls-key (the certificate's private key, PEM)".into())),
            (None, Some(_)) => Err(Error::Invalid("--tls-key needs --tls-cert (the certificate chain, PEM)".into())),
        }
    }
}

/// Makes ring the process's rustls crypto provider (once; later calls are no-ops).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn readable(path: &Path, what: &str) -> Result<()> {
    std::fs::metadata(path).map(|_| ()).map_err(|e| Error::io(path, std::io::Error::new(e.kind(), format!("cannot read the TLS {what}: {e}"))))
}

/// Loads the certificate and key, with messages naming the file at fault.
pub async fn load(files: &TlsFiles) -> Result<RustlsConfig> {
    install_crypto_provider();
    readable(&files.cert, "certificate")?;
    readable(&files.key, "private key")?;
    RustlsConfig::from_pem_file(&files.cert, &files.key).await.map_err(|e| {
        Error::Tls(format!("cannot use {} with {}: {e} (expected a PEM certificate chain and its PEM private key)", files.cert.display(), files.key.display()))
    })
}
