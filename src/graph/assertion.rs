//! Client assertions: the signed JWT an app presents instead of a secret when it signs in
//! with a certificate, and the claims idgit reads (without verifying) from a federated
//! token to explain a refusal.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PSS_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rustls_pki_types::pem::{PemObject, SectionKind};

use super::auth::Secret;

/// How long an assertion is valid. Entra asks for at most ten minutes; five leaves room
/// for clock skew while a token request is retried.
const ASSERTION_LIFETIME_SECS: u64 = 300;

/// A certificate and its RSA private key, loaded once from `AZURE_CLIENT_CERTIFICATE_PATH`.
pub struct ClientCertificate {
    path: PathBuf,
    key: RsaKeyPair,
    /// base64url SHA-1 of the DER certificate: the `x5t` header.
    x5t: String,
    /// base64url SHA-256 of the DER certificate: the `x5t#S256` header.
    x5t_s256: String,
    /// Upper-case hex SHA-1, the thumbprint the Entra admin center shows.
    thumbprint: String,
    not_after: Option<u64>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of every log line; the thumbprint is public.
        f.debug_struct("ClientCertificate")
            .field("path", &self.path)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// Why a certificate file cannot be used; the caller adds the variable's name and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateError(pub String);

impl ClientCertificate {
    /// Reads a PEM file holding the certificate and an unencrypted RSA private key
    /// (`PRIVATE KEY`, PKCS#8, or `RSA PRIVATE KEY`, PKCS#1), in any order.
    pub fn load(path: &Path) -> Result<ClientCertificate, CertificateError> {
        let bytes =
            std::fs::read(path).map_err(|e| CertificateError(format!("cannot read it: {e}")))?;
        Self::from_pem(path, &bytes)
    }

    fn from_pem(path: &Path, bytes: &[u8]) -> Result<ClientCertificate, CertificateError> {
        if !bytes.windows(10).any(|w| w == b"-----BEGIN") {
            // DER-encoded PKCS#12 starts with a SEQUENCE; say what it probably is.
            let what = if bytes.first() == Some(&0x30) {
                "it looks like a PFX/PKCS#12 file, which idgit does not read"
            } else {
                "it is not a PEM file"
            };
            return Err(CertificateError(what.into()));
        }
        let mut certificate = None;
        let mut key = None;
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
            let (kind, der) =
                section.map_err(|e| CertificateError(format!("the PEM is malformed: {e}")))?;
            match kind {
                SectionKind::Certificate if certificate.is_none() => certificate = Some(der),
                SectionKind::PrivateKey if key.is_none() => {
                    key = Some(RsaKeyPair::from_pkcs8(&der).map_err(|_| {
                        CertificateError("its PKCS#8 private key is not an RSA key".into())
                    })?);
                }
                SectionKind::RsaPrivateKey if key.is_none() => {
                    key = Some(RsaKeyPair::from_der(&der).map_err(|_| {
                        CertificateError("its PKCS#1 RSA private key cannot be read".into())
                    })?);
                }
                SectionKind::EcPrivateKey => {
                    return Err(CertificateError(
                        "its private key is an EC key; Entra app certificates need RSA".into(),
                    ))
                }
                _ => {}
            }
        }
        if bytes
            .windows(30)
            .any(|w| w == b"-----BEGIN ENCRYPTED PRIVATE K")
        {
            return Err(CertificateError(
                "its private key is encrypted, which idgit does not read".into(),
            ));
        }
        let certificate =
            certificate.ok_or_else(|| CertificateError("it holds no CERTIFICATE".into()))?;
        let key = key.ok_or_else(|| CertificateError("it holds no private key".into()))?;
        let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &certificate);
        Ok(ClientCertificate {
            path: path.to_path_buf(),
            key,
            x5t: URL_SAFE_NO_PAD.encode(sha1),
            x5t_s256: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &certificate)),
            thumbprint: sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
            not_after: der::not_after(&certificate),
        })
    }

    /// Upper-case hex SHA-1, as the Entra admin center lists certificates.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The certificate's expiry, seconds since the epoch, if it could be read.
    pub fn not_after(&self) -> Option<u64> {
        self.not_after
    }

    /// A fresh assertion for `token_url`: PS256, which Entra recommends, with both
    /// thumbprint headers so that it matches however the certificate was registered.
    pub fn assertion(&self, client_id: &str, token_url: &str) -> Secret {
        let now = now_secs();
        let header = serde_json::json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let claims = serde_json::json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("signing with a loaded RSA key cannot fail");
        Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A string claim of a JWT, read without checking the signature: only to tell the user
/// which subject or audience they presented.
pub(crate) fn unverified_claim(token: &str, name: &str) -> Option<String> {
    let payload = token.trim().split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get(name)? {
        serde_json::Value::String(value) => Some(value.clone()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Some(other.to_string()),
    }
}

/// `2026-11-28` for an epoch second.
pub(crate) fn date(secs: u64) -> String {
    let (y, m, d) = der::civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The few steps of DER needed to find a certificate's `notAfter`.
mod der {
    /// One TLV element and what follows it.
    fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *input.first()?;
        let first = *input.get(1)?;
        let (header, length) = if first < 0x80 {
            (2, usize::from(first))
        } else {
            let count = usize::from(first & 0x7F);
            if count == 0 || count > 4 {
                return None;
            }
            let bytes = input.get(2..2 + count)?;
            (
                2 + count,
                bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b)),
            )
        };
        let end = header.checked_add(length)?;
        Some((tag, input.get(header..end)?, input.get(end..)?))
    }

    /// Certificate → tbsCertificate → validity (after the optional version, the serial
    /// and the signature algorithm and issuer) → notAfter.
    pub(super) fn not_after(cert: &[u8]) -> Option<u64> {
        let (_, certificate, _) = element(cert)?;
        let (_, tbs, _) = element(certificate)?;
        let mut rest = tbs;
        let (tag, _, after) = element(rest)?;
        if tag == 0xA0 {
            rest = after;
        }
        for _ in 0..3 {
            rest = element(rest)?.2;
        }
        let (_, validity, _) = element(rest)?;
        let (_, _, after_not_before) = element(validity)?;
        let (tag, time, _) = element(after_not_before)?;
        parse_time(tag, std::str::from_utf8(time).ok()?)
    }

    /// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime (`YYYYMMDDHHMMSSZ`, 0x18).
    fn parse_time(tag: u8, text: &str) -> Option<u64> {
        let digits = text.strip_suffix('Z')?;
        let (year, rest) = match tag {
            0x17 => {
                let yy: i64 = digits.get(..2)?.parse().ok()?;
                (
                    if yy >= 50 { 1900 + yy } else { 2000 + yy },
                    digits.get(2..)?,
                )
            }
            0x18 => (digits.get(..4)?.parse().ok()?, digits.get(4..)?),
            _ => return None,
        };
        let field = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
        let (month, day, hour, minute, second) =
            (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
        let days = days_from_civil(year, month, day);
        u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub(super) fn civil_from_days(z: i64) -> (i64, i64, i64) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/credentials")
            .join(name)
    }

    #[test]
    fn loads_pkcs8_and_pkcs1_keys_and_reads_the_expiry() {
        let cert = ClientCertificate::load(&fixture("app-cert.pem")).unwrap();
        assert_eq!(date(cert.not_after().unwrap()), "2125-01-01");
        assert_eq!(cert.thumbprint().len(), 40);
        assert!(!format!("{cert:?}").contains("PRIVATE"));
        ClientCertificate::load(&fixture("app-cert-pkcs1.pem")).unwrap();
        let expired = ClientCertificate::load(&fixture("expired-cert.pem")).unwrap();
        assert_eq!(date(expired.not_after().unwrap()), "2021-01-01");
    }

    #[test]
    fn assertions_carry_the_claims_entra_checks() {
        let cert = ClientCertificate::load(&fixture("app-cert.pem")).unwrap();
        let url = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
        let jwt = cert.assertion("app-id", url);
        let token = jwt.expose();
        assert_eq!(unverified_claim(token, "aud").as_deref(), Some(url));
        assert_eq!(unverified_claim(token, "iss").as_deref(), Some("app-id"));
        assert_eq!(unverified_claim(token, "sub").as_deref(), Some("app-id"));
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t"].as_str().unwrap().len(), 27);
        assert_eq!(header["x5t#S256"].as_str().unwrap().len(), 43);
        let exp: u64 = unverified_claim(token, "exp").unwrap().parse().unwrap();
        let nbf: u64 = unverified_claim(token, "nbf").unwrap().parse().unwrap();
        assert!(exp - nbf <= 600);
        assert_ne!(
            unverified_claim(token, "jti"),
            unverified_claim(cert.assertion("app-id", url).expose(), "jti")
        );
    }

    #[test]
    fn x5t_is_the_base64url_sha1_thumbprint() {
        // The example of Microsoft's certificate credentials page.
        let hex = "84E05C1D98BCE3A5421D225B140B36E86A3D5534";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(URL_SAFE_NO_PAD.encode(bytes), "hOBcHZi846VCHSJbFAs26Go9VTQ");
    }

    #[test]
    fn unusable_files_say_why() {
        let err = |bytes: &[u8]| {
            ClientCertificate::from_pem(Path::new("x"), bytes)
                .unwrap_err()
                .0
        };
        assert!(err(b"\x30\x82\x01\x00").contains("PFX"));
        assert_eq!(err(b"hello"), "it is not a PEM file");
        let pem = std::fs::read_to_string(fixture("app-cert.pem")).unwrap();
        let cert_only = &pem[..pem.find("-----BEGIN PRIVATE KEY").unwrap()];
        assert_eq!(err(cert_only.as_bytes()), "it holds no private key");
        let key_only = &pem[pem.find("-----BEGIN PRIVATE KEY").unwrap()..];
        assert_eq!(err(key_only.as_bytes()), "it holds no CERTIFICATE");
    }
}
