//! Just enough JWT and X.509 for the token endpoint to check what clients present: compact
//! JWS parsing, RS256/PS256 signatures, certificate thumbprints and the public key inside a
//! DER certificate. The emulator signs its own OIDC tokens with RS256, as GitHub does.

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// A compact JWS split into its parts; nothing is trusted until [`Jwt::verify`] says so.
pub(crate) struct Jwt {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    pub(crate) fn parse(token: &str) -> Option<Jwt> {
        let mut parts = token.trim().split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok();
        Some(Jwt {
            header: serde_json::from_slice(&decode(header)?).ok()?,
            claims: serde_json::from_slice(&decode(claims)?).ok()?,
            signing_input: format!("{header}.{claims}"),
            signature: decode(signature)?,
        })
    }

    pub(crate) fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name)?.as_str()
    }

    pub(crate) fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name)?.as_str()
    }

    pub(crate) fn claim_i64(&self, name: &str) -> Option<i64> {
        self.claims.get(name)?.as_i64()
    }

    /// `aud` may be a string or an array of strings.
    pub(crate) fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Checks the signature with an RSA public key (PKCS#1 or SubjectPublicKeyInfo DER).
    /// Only RS256 and PS256 are accepted: `none` and HMAC must never pass.
    pub(crate) fn verify(&self, public_key: &[u8]) -> bool {
        let algorithm: &'static signature::RsaParameters = match self.header_str("alg") {
            Some("RS256") => &signature::RSA_PKCS1_2048_8192_SHA256,
            Some("PS256") => &signature::RSA_PSS_2048_8192_SHA256,
            _ => return false,
        };
        UnparsedPublicKey::new(algorithm, public_key)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .is_ok()
    }
}

/// Signs `claims` with RS256 under `kid`.
pub(crate) fn sign_rs256(key: &RsaKeyPair, kid: &str, claims: &Value) -> String {
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .expect("signing with a valid RSA key cannot fail");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// base64url SHA-1 and SHA-256 of a DER certificate: the `x5t` and `x5t#S256` headers.
pub(crate) fn thumbprints(der: &[u8]) -> (String, String) {
    (
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)),
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, der)),
    )
}

/// The SubjectPublicKeyInfo of a DER certificate: Certificate → tbsCertificate → the
/// seventh field, counting the optional `[0]` version.
pub(crate) fn subject_public_key_info(cert: &[u8]) -> Option<&[u8]> {
    let (certificate, _) = der_element(cert)?;
    let (tbs, _) = der_element(der_contents(certificate)?)?;
    let mut rest = der_contents(tbs)?;
    let mut fields = Vec::new();
    while !rest.is_empty() {
        let (element, after) = der_element(rest)?;
        fields.push(element);
        rest = after;
    }
    let skip_version = usize::from(fields.first()?.first() == Some(&0xA0));
    // serial, signature algorithm, issuer, validity, subject, then the key.
    fields.get(skip_version + 5).copied()
}

/// A DER certificate's `notAfter`, seconds since the epoch: Entra refuses assertions
/// signed with a registered certificate that has expired.
pub(crate) fn not_after(cert: &[u8]) -> Option<i64> {
    let (certificate, _) = der_element(cert)?;
    let (tbs, _) = der_element(der_contents(certificate)?)?;
    let mut rest = der_contents(tbs)?;
    if rest.first() == Some(&0xA0) {
        rest = der_element(rest)?.1;
    }
    // serial, signature algorithm, issuer, then validity.
    for _ in 0..3 {
        rest = der_element(rest)?.1;
    }
    let (validity, _) = der_element(rest)?;
    let (_, after_not_before) = der_element(der_contents(validity)?)?;
    let (not_after, _) = der_element(after_not_before)?;
    let text = std::str::from_utf8(der_contents(not_after)?).ok()?;
    let digits = text.strip_suffix('Z')?;
    // UTCTime has a two-digit year (50-99 are 19xx), GeneralizedTime four.
    let (year, rest) = match not_after.first()? {
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
    let (month, day) = (field(0)?, field(2)?);
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 + field(4)? * 3600 + field(6)? * 60 + field(8)?)
}

/// One TLV element (tag, length and contents) and what follows it.
fn der_element(input: &[u8]) -> Option<(&[u8], &[u8])> {
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
    Some((input.get(..end)?, input.get(end..)?))
}

fn der_contents(element: &[u8]) -> Option<&[u8]> {
    let first = *element.get(1)?;
    let header = if first < 0x80 {
        2
    } else {
        2 + usize::from(first & 0x7F)
    };
    element.get(header..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_garbage_and_unsigned_tokens() {
        assert!(Jwt::parse("not a token").is_none());
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#)
        );
        let jwt = Jwt::parse(&unsigned).unwrap();
        assert_eq!(jwt.claim_str("sub"), Some("x"));
        assert!(!jwt.verify(b"any key"));
    }
}
