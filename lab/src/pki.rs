//! The lab's CA, serving certificate and tokens.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::state::{LabError, io};

pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    pub(crate) server_cert: String,
    pub(crate) server_key: String,
    pub(crate) sa_key: String,
    pub(crate) sa_pub: String,
}

pub(crate) fn pki() -> Result<Pki, LabError> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let e = |x: rcgen::Error| LabError::Msg(format!("cannot generate lab certificates: {x}"));
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "scenario-lab-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(e)?).map_err(e)?;
    let server_key = KeyPair::generate().map_err(e)?;
    let mut sp = CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        "kubernetes.default.svc".to_owned(),
    ])
    .map_err(e)?;
    sp.distinguished_name
        .push(DnType::CommonName, "scenario-lab-apiserver");
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    sp.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let server_cert = sp.signed_by(&server_key, &ca).map_err(e)?;
    let sa = KeyPair::generate().map_err(e)?;
    Ok(Pki {
        ca_pem: ca.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
        sa_key: sa.serialize_pem(),
        sa_pub: sa.public_key_pem(),
    })
}

pub(crate) fn write_secret(path: &Path, text: &str) -> Result<(), LabError> {
    let mut f = fs::File::create(path).map_err(io(format!("cannot write {}", path.display())))?;
    let _ = f.set_permissions(fs::Permissions::from_mode(0o600));
    f.write_all(text.as_bytes())
        .map_err(io(format!("cannot write {}", path.display())))
}

pub(crate) const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
";
