//! Secretless sign-in: certificates and federated identity credentials registered on the
//! backup app, the checks Entra makes on a client assertion, and two stand-ins for the
//! places assertions and tokens come from on a real runner: a GitHub Actions OIDC issuer
//! (`ACTIONS_ID_TOKEN_REQUEST_URL`) and the Azure instance metadata service (IMDS).
//!
//! Assertions are verified for real (signature, audience, issuer, subject, time range), so
//! a client that builds them wrongly fails here as it would against Entra. The issuer signs
//! with a fixed RSA key that exists only for the emulator (`issuer-key.pem`), so tokens it
//! mints are verifiable and the same key is used on every run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use axum::http::StatusCode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde_json::json;

use super::jwt::{self, Jwt};
use super::rng::{mix, Rng};

/// The `client_assertion_type` of both certificate and federated assertions.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The audience GitHub Actions tokens are requested for when they are meant for Entra.
pub const AZURE_AD_TOKEN_EXCHANGE: &str = "api://AzureADTokenExchange";

/// The subject the GitHub stand-in puts in its tokens until a test changes it.
pub const DEFAULT_GITHUB_SUBJECT: &str = "repo:octo-org/octo-repo:environment:restore";

/// Entra allows this much clock skew on `nbf` and `exp`.
const CLOCK_SKEW_SECS: i64 = 300;

/// A federated identity credential on the app: Entra matches all three exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

struct RegisteredCertificate {
    public_key: Vec<u8>,
    not_after: Option<i64>,
    x5t: String,
    x5t_s256: String,
}

/// Why an assertion was refused: the AADSTS code, the OAuth error and the text.
pub(crate) struct Refusal {
    pub(crate) error: &'static str,
    pub(crate) code: u32,
    pub(crate) message: String,
}

fn refuse(error: &'static str, code: u32, message: impl Into<String>) -> Refusal {
    Refusal {
        error,
        code,
        message: message.into(),
    }
}

pub(crate) struct Federation {
    certificates: Mutex<Vec<RegisteredCertificate>>,
    credentials: Mutex<Vec<FederatedCredential>>,
    issuer_key: RsaKeyPair,
    /// The `iss` of tokens the emulator mints: `{base_url}/_oidc`.
    pub(crate) issuer: String,
    github_subject: Mutex<String>,
    /// What `ACTIONS_ID_TOKEN_REQUEST_TOKEN` must be.
    pub(crate) github_request_token: String,
    github_requests: AtomicU64,
    minted: AtomicU64,
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Federation {
    pub(crate) fn new(base_url: &str) -> Federation {
        let pkcs8 = PrivatePkcs8KeyDer::from_pem_slice(include_bytes!("issuer-key.pem"))
            .expect("issuer-key.pem holds a PKCS#8 key");
        let issuer_key = RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der())
            .expect("issuer-key.pem holds an RSA key");
        Federation {
            certificates: Mutex::default(),
            credentials: Mutex::default(),
            issuer_key,
            issuer: format!("{}/_oidc", base_url.trim_end_matches('/')),
            github_subject: Mutex::new(DEFAULT_GITHUB_SUBJECT.to_string()),
            github_request_token: format!(
                "emu-actions-request.{:016x}",
                mix(0x4748_4143_5449_4F4E)
            ),
            github_requests: AtomicU64::new(0),
            minted: AtomicU64::new(0),
        }
    }

    /// Registers a certificate (PEM or DER; only its public part is used) on the app, as
    /// uploading it under "Certificates & secrets" does.
    pub(crate) fn register_certificate(&self, cert: &[u8]) -> Result<(), String> {
        let der = if cert.starts_with(b"-----") || cert.starts_with(b"\n") {
            CertificateDer::from_pem_slice(cert)
                .map_err(|e| format!("no PEM certificate: {e}"))?
                .to_vec()
        } else {
            cert.to_vec()
        };
        let public_key = jwt::subject_public_key_info(&der)
            .ok_or("not a DER X.509 certificate")?
            .to_vec();
        let (x5t, x5t_s256) = jwt::thumbprints(&der);
        lock(&self.certificates).push(RegisteredCertificate {
            public_key,
            not_after: jwt::not_after(&der),
            x5t,
            x5t_s256,
        });
        Ok(())
    }

    pub(crate) fn add_credential(&self, credential: FederatedCredential) {
        lock(&self.credentials).push(credential);
    }

    pub(crate) fn set_github_subject(&self, subject: &str) {
        *lock(&self.github_subject) = subject.to_string();
    }

    pub(crate) fn github_requests(&self) -> u64 {
        self.github_requests.load(Ordering::Relaxed)
    }

    /// An RS256 token from the emulator's issuer, valid from now for `valid_for_secs`
    /// (negative: already expired).
    pub(crate) fn mint(&self, subject: &str, audience: &str, valid_for_secs: i64) -> String {
        let n = self.minted.fetch_add(1, Ordering::Relaxed);
        let now = now_secs();
        let issued = now.min(now + valid_for_secs - 60);
        let claims = json!({
            "jti": Rng::new(mix(n ^ 0x4A54_4931_4D49_4E54)).guid(),
            "sub": subject,
            "aud": audience,
            "iss": self.issuer,
            "iat": issued,
            "nbf": issued,
            "exp": now + valid_for_secs,
        });
        jwt::sign_rs256(&self.issuer_key, "emu-issuer-1", &claims)
    }

    /// `GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=…`: a token for the current job, to a
    /// holder of the job's request token. Without `audience`, GitHub uses the owner's URL.
    pub(crate) fn github_token(
        &self,
        authorization: Option<&str>,
        audience: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        self.github_requests.fetch_add(1, Ordering::Relaxed);
        let presented = authorization
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        if presented != Some(self.github_request_token.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                json!({"message": "Unable to authenticate the request token."}),
            );
        }
        let subject = lock(&self.github_subject).clone();
        let audience = audience
            .filter(|a| !a.is_empty())
            .unwrap_or("https://github.com/octo-org");
        let value = self.mint(&subject, audience, 600);
        (StatusCode::OK, json!({ "count": 1, "value": value }))
    }

    /// Entra's checks on a `client_assertion`. `token_urls` are the audiences a certificate
    /// assertion may name: this endpoint's URL with the tenant ID or domain.
    pub(crate) fn check_assertion(
        &self,
        assertion: &str,
        client_id: &str,
        token_urls: &[String],
    ) -> Result<(), Refusal> {
        let Some(jwt) = Jwt::parse(assertion) else {
            return Err(refuse(
                "invalid_client",
                50027,
                "JWT token is invalid or malformed.",
            ));
        };
        // A certificate assertion is issued by the app itself; anything else comes from an
        // external identity provider and must match a federated credential.
        match jwt.claim_str("iss") {
            Some(iss) if iss.eq_ignore_ascii_case(client_id) => {
                self.check_certificate_assertion(&jwt, client_id, token_urls)
            }
            _ => self.check_federated_assertion(&jwt),
        }
    }

    fn check_certificate_assertion(
        &self,
        jwt: &Jwt,
        client_id: &str,
        token_urls: &[String],
    ) -> Result<(), Refusal> {
        let certificates = lock(&self.certificates);
        let by_s256 = jwt.header_str("x5t#S256");
        let by_sha1 = jwt.header_str("x5t");
        let used = by_s256.or(by_sha1).unwrap_or("");
        let registered = certificates.iter().find(|c| {
            by_s256.is_some_and(|t| t == c.x5t_s256) || by_sha1.is_some_and(|t| t == c.x5t)
        });
        let Some(certificate) = registered else {
            return Err(refuse(
                "invalid_client",
                700027,
                format!("Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{used}'] The certificate with identifier used to sign the client assertion is not registered on application."),
            ));
        };
        if !jwt.verify(&certificate.public_key) {
            return Err(refuse(
                "invalid_client",
                700027,
                format!("Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{used}']"),
            ));
        }
        if certificate.not_after.is_some_and(|end| end < now_secs()) {
            return Err(refuse(
                "invalid_client",
                700027,
                format!("Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '{used}']"),
            ));
        }
        let audiences = jwt.audiences();
        if !audiences
            .iter()
            .any(|aud| token_urls.iter().any(|url| url.eq_ignore_ascii_case(aud)))
        {
            return Err(refuse(
                "invalid_client",
                50013,
                format!(
                    "Assertion audience claim does not match the required value. Audience in the assertion: '{}'.",
                    audiences.join(", ")
                ),
            ));
        }
        if jwt
            .claim_str("sub")
            .is_none_or(|sub| !sub.eq_ignore_ascii_case(client_id))
        {
            return Err(refuse(
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            ));
        }
        check_time_range(jwt)
    }

    fn check_federated_assertion(&self, jwt: &Jwt) -> Result<(), Refusal> {
        let issuer = jwt.claim_str("iss").unwrap_or_default();
        let credentials = lock(&self.credentials);
        let by_issuer: Vec<&FederatedCredential> =
            credentials.iter().filter(|c| c.issuer == issuer).collect();
        if by_issuer.is_empty() {
            return Err(refuse(
                "invalid_client",
                700211,
                format!("No matching federated identity record found for presented assertion issuer '{issuer}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion."),
            ));
        }
        // Entra fetches the issuer's signing keys; the only issuer the emulator has keys
        // for is itself.
        let public_key = self.issuer_key.public_key().as_ref();
        if issuer != self.issuer || !jwt.verify(public_key) {
            return Err(refuse(
                "invalid_client",
                700027,
                format!("Client assertion contains an invalid signature: it does not verify with the signing keys of issuer '{issuer}'."),
            ));
        }
        check_time_range(jwt)?;
        let audiences = jwt.audiences();
        let by_audience: Vec<&&FederatedCredential> = by_issuer
            .iter()
            .filter(|c| audiences.iter().any(|a| c.audiences.iter().any(|r| r == a)))
            .collect();
        if by_audience.is_empty() {
            return Err(refuse(
                "invalid_client",
                700212,
                format!("No matching federated identity record found for presented assertion audience '{}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.", audiences.join(", ")),
            ));
        }
        let subject = jwt.claim_str("sub").unwrap_or_default();
        if !by_audience.iter().any(|c| c.subject == subject) {
            return Err(refuse(
                "invalid_client",
                700213,
                format!("No matching federated identity record found for presented assertion subject '{subject}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion."),
            ));
        }
        Ok(())
    }
}

/// `nbf` and `exp` must hold the current time, with Entra's five minutes of skew.
fn check_time_range(jwt: &Jwt) -> Result<(), Refusal> {
    let now = now_secs();
    let nbf = jwt.claim_i64("nbf").unwrap_or(i64::MIN);
    match jwt.claim_i64("exp") {
        Some(exp) if nbf - CLOCK_SKEW_SECS <= now && now <= exp + CLOCK_SKEW_SECS => Ok(()),
        exp => Err(refuse(
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {now}, assertion valid from {}, expiry time of assertion {}.",
                jwt.claim_i64("nbf").map_or("(none)".into(), |n| n.to_string()),
                exp.map_or("(none)".into(), |n| n.to_string()),
            ),
        )),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::RSA_PSS_SHA256;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use rustls_pki_types::PrivateKeyDer;

    /// A PS256 certificate assertion, built here independently of idgit's client.
    fn certificate_assertion(pem: &[u8], client_id: &str, aud: &str) -> String {
        let der = CertificateDer::from_pem_slice(pem).unwrap();
        let key = match PrivateKeyDer::from_pem_slice(pem).unwrap() {
            PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).unwrap(),
            _ => panic!("the fixtures hold PKCS#8 keys"),
        };
        let (_, x5t_s256) = jwt::thumbprints(&der);
        let now = now_secs();
        let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": x5t_s256});
        let claims = json!({"aud": aud, "iss": client_id, "sub": client_id, "jti": "1",
            "nbf": now, "iat": now, "exp": now + 300});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(
            &RSA_PSS_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    #[test]
    fn certificate_assertions_are_checked_like_entra() {
        let federation = Federation::new("http://127.0.0.1:1");
        let valid = include_bytes!("../../tests/fixtures/credentials/app-cert.pem");
        let expired = include_bytes!("../../tests/fixtures/credentials/expired-cert.pem");
        federation.register_certificate(valid).unwrap();
        federation.register_certificate(expired).unwrap();
        let url = "http://127.0.0.1:1/t/oauth2/v2.0/token".to_string();
        let urls = [url.clone()];
        let check = |pem: &[u8], client: &str, aud: &str| {
            federation
                .check_assertion(&certificate_assertion(pem, client, aud), "app", &urls)
                .map_err(|r| (r.code, r.message))
        };
        assert!(check(valid, "app", &url).is_ok());
        let (code, message) = check(expired, "app", &url).unwrap_err();
        assert_eq!(code, 700027);
        assert!(message.contains("The key used is expired."), "{message}");
        assert_eq!(
            check(valid, "app", "https://elsewhere/token")
                .unwrap_err()
                .0,
            50013
        );
        // Issued by another app: not a certificate assertion of this one, so it is treated
        // as a federated assertion from an unknown issuer.
        assert_eq!(check(valid, "other-app", &url).unwrap_err().0, 700211);
        let unregistered = include_bytes!("../../tests/fixtures/credentials/unregistered-cert.pem");
        assert_eq!(check(unregistered, "app", &url).unwrap_err().0, 700027);
    }

    #[test]
    fn minted_tokens_verify_and_match_only_their_credential() {
        let federation = Federation::new("http://127.0.0.1:1");
        let credential = FederatedCredential {
            issuer: federation.issuer.clone(),
            subject: "repo:o/r:ref:refs/heads/main".into(),
            audiences: vec![AZURE_AD_TOKEN_EXCHANGE.into()],
        };
        federation.add_credential(credential);
        let good = federation.mint("repo:o/r:ref:refs/heads/main", AZURE_AD_TOKEN_EXCHANGE, 600);
        assert!(federation.check_assertion(&good, "app", &[]).is_ok());
        let other = federation.mint("repo:o/r:pull_request", AZURE_AD_TOKEN_EXCHANGE, 600);
        let refusal = federation.check_assertion(&other, "app", &[]).unwrap_err();
        assert_eq!(refusal.code, 700213);
        assert!(refusal.message.contains("'repo:o/r:pull_request'"));
        let audience = federation.mint("repo:o/r:ref:refs/heads/main", "api://other", 600);
        assert_eq!(
            federation
                .check_assertion(&audience, "app", &[])
                .unwrap_err()
                .code,
            700212
        );
        let expired = federation.mint(
            "repo:o/r:ref:refs/heads/main",
            AZURE_AD_TOKEN_EXCHANGE,
            -900,
        );
        assert_eq!(
            federation
                .check_assertion(&expired, "app", &[])
                .unwrap_err()
                .code,
            700024
        );
        // A token whose payload was edited no longer verifies.
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        parts[1] = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            format!(
                r#"{{"iss":"{}","sub":"repo:o/r:ref:refs/heads/main","aud":"{AZURE_AD_TOKEN_EXCHANGE}","exp":9999999999}}"#,
                federation.issuer
            ),
        );
        let forged = parts.join(".");
        assert_eq!(
            federation
                .check_assertion(&forged, "app", &[])
                .unwrap_err()
                .code,
            700027
        );
    }
}
