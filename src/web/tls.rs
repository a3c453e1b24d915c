// SPDX-License-Identifier: GPL-2.0-or-later
//! HTTPS: the certificate chain and key from `[http] tls_cert` / `tls_key`
//! (PEM), served by rustls with the ring provider. The provider is named
//! here, not taken from a process-wide default, because a module shares its
//! process with whatever else the PBX loads.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::core::config::TlsFiles;

/// A TLS acceptor for the configured files, or why not.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let cert = files.cert.display();
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{cert}: cannot read the certificate chain: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{cert}: no certificate in it (PEM \"BEGIN CERTIFICATE\" expected)"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| format!("{}: cannot read the private key: {e}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| format!("{cert}: TLS setup failed: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
