//! OData query options and URL pieces.
//!
//! Parsing is strict where Graph is strict (`$top` range, repeated options, unknown `$`
//! options) and refuses options the emulator does not implement with a 501 instead of ignoring
//! them: silently returning unfiltered data for `$filter` would let a client test pass that
//! fails against the real service.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::error::GraphError;
use super::schema::TypeInfo;

/// Graph's upper bound for `$top` on directory collections.
const MAX_TOP: usize = 999;

/// Prefix inside the base64 skiptoken, so a token from elsewhere is rejected, not misread.
const SKIPTOKEN_TAG: &str = "idgit-emulator-page:";

#[derive(Debug, Default)]
pub(crate) struct Query {
    /// `$select` names as the caller wrote them; see [`resolve_select`].
    pub(crate) select: Option<Vec<String>>,
    pub(crate) top: Option<usize>,
    pub(crate) skip: Option<usize>,
    /// The id of the last item of the previous page, decoded from `$skiptoken`.
    pub(crate) after: Option<String>,
    pub(crate) count: bool,
    /// `$filter` as sent; only the routes that support filtering accept it.
    pub(crate) filter: Option<String>,
    /// The system query options present, lower-case, in request order.
    pub(crate) present: Vec<String>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Result<Query, GraphError> {
        let mut query = Query::default();
        for (name, value) in pairs(raw.unwrap_or("")) {
            // Options without `$` are custom query options, which Graph ignores.
            if !name.starts_with('$') {
                continue;
            }
            let lower = name.to_ascii_lowercase();
            if query.present.contains(&lower) {
                return Err(GraphError::odata_bad_request(format!(
                    "Query option '{name}' was specified more than once, but it must be specified at most once."
                )));
            }
            query.apply(&lower, &name, &value)?;
            query.present.push(lower);
        }
        Ok(query)
    }

    fn apply(&mut self, lower: &str, name: &str, value: &str) -> Result<(), GraphError> {
        match lower {
            "$select" => {
                let names: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                self.select = (!names.is_empty()).then_some(names);
            }
            "$top" => self.top = Some(parse_top(value)?),
            "$skip" => {
                self.skip = Some(value.parse().map_err(|_| {
                    GraphError::odata_bad_request(format!("Invalid value '{value}' for $skip."))
                })?)
            }
            "$skiptoken" => self.after = Some(decode_skiptoken(value)?),
            "$count" => {
                self.count = match value {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(GraphError::odata_bad_request(format!(
                            "Invalid value '{value}' for $count."
                        )))
                    }
                }
            }
            "$filter" => self.filter = Some(value.to_string()),
            "$orderby" | "$search" | "$expand" | "$format" | "$apply" | "$deltatoken" => {
                return Err(GraphError::not_implemented(format!(
                    "The idgit Graph emulator does not implement the query option '{name}'."
                )))
            }
            _ => {
                return Err(GraphError::odata_bad_request(format!(
                    "The query parameter '{name}' is not supported."
                )))
            }
        }
        Ok(())
    }

    /// The options other than those listed, for routes that accept only a few.
    pub(crate) fn first_option_except(&self, allowed: &[&str]) -> Option<&str> {
        self.present
            .iter()
            .map(String::as_str)
            .find(|o| !allowed.contains(o))
    }
}

fn parse_top(value: &str) -> Result<usize, GraphError> {
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_TOP).contains(&n) => Ok(n),
        _ => Err(GraphError::bad_request(format!(
            "Invalid page size specified: '{value}'. Must be between 1 and {MAX_TOP} inclusive."
        ))),
    }
}

pub(crate) fn encode_skiptoken(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{SKIPTOKEN_TAG}{last_id}"))
}

fn decode_skiptoken(token: &str) -> Result<String, GraphError> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(SKIPTOKEN_TAG).map(String::from))
        .ok_or_else(GraphError::expired_page_token)
}

/// Maps `$select` names to the declared names (matching is case-insensitive) and drops
/// repeats. `types` lists every type an item of the collection can have; `type_label` names
/// the declared type in the error message, e.g. `microsoft.graph.user`.
pub(crate) fn resolve_select(
    names: &[String],
    types: &[&TypeInfo],
    type_label: &str,
) -> Result<Vec<String>, GraphError> {
    let mut resolved: Vec<String> = Vec::new();
    for name in names {
        let canonical = types
            .iter()
            .find_map(|t| t.property_ci(name))
            .map(|p| p.name.clone())
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "Could not find a property named '{name}' on type '{type_label}'."
                ))
            })?;
        if !resolved.contains(&canonical) {
            resolved.push(canonical);
        }
    }
    Ok(resolved)
}

/// `name=value` pairs of a query string or form body, percent-decoded, `+` as space.
pub(crate) fn pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|p| !p.is_empty()).map(|piece| {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        (decode(name, true), decode(value, true))
    })
}

/// Percent-decoding that never fails: malformed escapes stay as written, invalid UTF-8 is
/// replaced. Request input must never be able to make the emulator panic.
pub(crate) fn decode(text: &str, plus_as_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes_and_keeps_malformed_ones() {
        assert_eq!(decode("O%27Brien%40x+y", true), "O'Brien@x y");
        assert_eq!(decode("100%", false), "100%");
        assert_eq!(decode("%zz%4", false), "%zz%4");
        assert_eq!(decode("%E6%97%A5", false), "日");
    }

    #[test]
    fn skiptoken_round_trips_and_rejects_foreign_tokens() {
        let token = encode_skiptoken("abc");
        assert!(!token.contains("abc"));
        assert_eq!(decode_skiptoken(&token).ok(), Some("abc".to_string()));
        assert!(decode_skiptoken("abc").is_err());
        assert!(decode_skiptoken(&URL_SAFE_NO_PAD.encode("other:abc")).is_err());
    }

    #[test]
    fn parses_options_case_insensitively_and_rejects_repeats() {
        let q = Query::parse(Some("$Select=id,displayName&$top=5&api=1")).expect("parses");
        assert_eq!(q.select, Some(vec!["id".into(), "displayName".into()]));
        assert_eq!(q.top, Some(5));
        assert!(Query::parse(Some("$top=1&$TOP=2")).is_err());
        assert!(Query::parse(Some("$top=1000")).is_err());
        assert!(Query::parse(Some("$top=0")).is_err());
        assert!(Query::parse(Some("$bogus=1")).is_err());
    }
}
