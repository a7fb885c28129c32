//! HTTPS served directly (`--tls-cert`, `--tls-key`), for deployments without a proxy in front.

use std::io;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::Tls;

/// The rustls settings for the configured certificate chain and key. Errors name the file, so a
/// wrong path or a key that does not match fails the start with a clear message.
pub fn server_config(tls: &Tls) -> io::Result<rustls::ServerConfig> {
    let at = |path: &std::path::Path, e: &dyn std::fmt::Display| {
        io::Error::other(format!("{}: {e}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| at(&tls.cert, &e))?;
    if certs.is_empty() {
        return Err(at(&tls.cert, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| at(&tls.key, &e))?;
    rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| at(&tls.key, &e))
}
