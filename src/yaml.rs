//! The one place that writes and reads YAML.
//!
//! Contract: every file must read back as exactly the JSON that Graph returned, for any
//! YAML reader (1.1 like PyYAML or 1.2 like ruamel.yaml and yaml_serde), and the same
//! value must always give the same bytes.
//!
//! # Why a hand-written emitter
//! General-purpose YAML serializers decide quoting for one YAML version only: a 1.2
//! writer prints `on`, `yes` or `n` unquoted, which a 1.1 reader turns into a bool,
//! and `1e300`, which a 1.1 reader keeps as a string. Their layout and escaping also change between
//! versions, which would churn the Git history. So we write the text ourselves with one
//! conservative rule: a string is plain only when no reader of either version can take
//! it for anything else; everything else is double-quoted or, for multi-line text, a
//! literal block scalar. Reading goes through `yaml_serde` with a strict visitor that
//! rejects what JSON cannot hold.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// A YAML text that could not be read, with its 1-based position.
#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------
// Hand-written rather than a serializer's output: quoting must be decided for YAML 1.1
// and 1.2 readers at once, and the bytes must never change with a dependency update.

/// Implicit (`key: value`) keys are limited to 1024 characters by libyaml and PyYAML;
/// longer keys use the explicit `? key` form. Counted in bytes, which is never less.
const MAX_IMPLICIT_KEY: usize = 1000;

/// Canonical YAML text for a JSON value (a mapping at the top level).
/// Deterministic: the same value gives the same bytes. Ends with "\n".
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_mapping(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0, false),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// Mapping entries with keys at column `indent`. With `first_inline` the first entry
/// follows a `- ` already written on the current line.
fn write_mapping(out: &mut String, map: &Map<String, Value>, indent: usize, first_inline: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        let key = string_scalar(key);
        if key.len() > MAX_IMPLICIT_KEY {
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            pad(out, indent);
        } else {
            out.push_str(&key);
        }
        out.push(':');
        write_node(out, value, indent, false);
    }
}

/// Sequence items with dashes at column `indent` (same column as the parent key).
fn write_sequence(out: &mut String, items: &[Value], indent: usize, first_inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        out.push('-');
        write_node(out, item, indent, true);
    }
}

/// A value after `key:` or `-` (written by the caller at column `indent`), through the
/// end of its last line.
fn write_node(out: &mut String, value: &Value, indent: usize, in_sequence: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if in_sequence {
                // `- k: v` then the other keys under `k`.
                out.push(' ');
                write_mapping(out, map, indent + 2, true);
            } else {
                out.push('\n');
                write_mapping(out, map, indent + 2, false);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            if in_sequence {
                // `- - a` then `  - b`.
                out.push(' ');
                write_sequence(out, items, indent + 2, true);
            } else {
                out.push('\n');
                write_sequence(out, items, indent, false);
            }
        }
        Value::String(s) => match block_chomping(s) {
            Some(chomp) => write_literal(out, s, chomp, indent + 2),
            None => {
                out.push(' ');
                out.push_str(&string_scalar(s));
                out.push('\n');
            }
        },
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
}

/// ` |` + chomping, then each line of `s` at column `indent` (empty lines stay empty).
fn write_literal(out: &mut String, s: &str, chomp: &str, indent: usize) {
    out.push_str(" |");
    out.push_str(chomp);
    out.push('\n');
    let body = s.trim_end_matches('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    // Keep chomping (`+`): the line breaks beyond the first are empty lines.
    for _ in 1..s.len() - body.len() {
        out.push('\n');
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A value on one line: scalars and empty collections.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => string_scalar(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

/// serde_json's shortest round-trip form, except that an exponent gets a mantissa with
/// a dot and a signed exponent: YAML 1.1 (PyYAML) reads `1e300` and `1.0e300` as
/// strings, but `1.0e+300` as a float, as do 1.2 readers.
fn number(n: &serde_json::Number) -> String {
    let text = n.to_string();
    match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let dot = if mantissa.contains('.') { "" } else { ".0" };
            let sign = if exponent.starts_with(['-', '+']) {
                ""
            } else {
                "+"
            };
            format!("{mantissa}{dot}e{sign}{exponent}")
        }
        None => text,
    }
}

/// A string as a plain scalar when that is safe for every reader, else double-quoted.
fn string_scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        double_quoted(s)
    }
}

/// Plain only if: ASCII; starts with a letter, `_` or `/` (or is a whole GUID); then
/// only letters, digits, space and `_-./@+(),'`; no trailing space; and not a word that
/// YAML 1.1 or 1.2 resolves to a bool or null. This excludes every indicator, `:`, `#`,
/// numbers, dates, `.inf`/`.nan`, `<<` and `=`.
fn is_plain_safe(s: &str) -> bool {
    if is_guid(s) {
        return true;
    }
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b" _-./@+(),'".contains(&b);
    (first.is_ascii_alphabetic() || first == b'_' || first == b'/')
        && bytes.iter().all(|&b| allowed(b))
        && !s.ends_with(' ')
        && ![
            "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~",
        ]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(s))
}

/// 8-4-4-4-12 hexadecimal digits: no reader resolves this to a number or date.
fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Characters that must be escaped wherever they appear. YAML's printable set (the one
/// PyYAML enforces on the whole stream) is tab, LF, CR, 0x20-0x7E, 0x85, 0xA0-0xD7FF,
/// 0xE000-0xFFFD and 0x10000 up; we also escape NEL (a line break in 1.1), U+2028/9
/// (line breaks in 1.1), the BOM, and every Unicode non-character.
fn must_escape(c: char) -> bool {
    let cp = c as u32;
    let printable = matches!(c, '\t' | '\n' | '\r' | ' '..='~')
        || (0xA0..=0xD7FF).contains(&cp)
        || (0xE000..=0xFFFD).contains(&cp)
        || cp >= 0x1_0000;
    let noncharacter = (0xFDD0..=0xFDEF).contains(&cp) || (cp & 0xFFFE) == 0xFFFE;
    !printable || noncharacter || matches!(cp, 0x2028 | 0x2029 | 0xFEFF)
}

/// A double-quoted scalar on one line: printable text stays readable UTF-8.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0B' => out.push_str("\\v"),
            '\x0C' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1B' => out.push_str("\\e"),
            c if must_escape(c) => {
                let cp = c as u32;
                let escaped = match cp {
                    0..=0xFF => format!("\\x{cp:02X}"),
                    0x100..=0xFFFF => format!("\\u{cp:04X}"),
                    _ => format!("\\U{cp:08X}"),
                };
                out.push_str(&escaped);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The chomping indicator when `s` can be written exactly as a literal block scalar:
/// it has a line break, starts with no space, tab or break (so that the indentation is
/// detected from the first line), and has no CR nor any character that needs escaping.
fn block_chomping(s: &str) -> Option<&'static str> {
    if !s.contains('\n')
        || s.starts_with([' ', '\t', '\n'])
        || s.chars()
            .any(|c| c == '\r' || (c != '\t' && c != '\n' && must_escape(c)))
    {
        return None;
    }
    match s.len() - s.trim_end_matches('\n').len() {
        0 => Some("-"),
        1 => Some(""),
        _ => Some("+"),
    }
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// Parse YAML text back to JSON. Rejects what JSON cannot hold: non-string keys,
/// duplicate keys, NaN and infinities, integers beyond 64 bits, custom tags.
pub fn from_yaml(text: &str) -> Result<Value, YamlError> {
    match yaml_serde::from_str::<Json>(text) {
        Ok(Json(value)) => Ok(value),
        Err(err) => {
            let message = err.to_string();
            Err(match err.location() {
                Some(at) => {
                    // yaml_serde appends the position to its message; it is ours to show.
                    let suffix = format!(" at line {} column {}", at.line(), at.column());
                    YamlError {
                        line: at.line(),
                        column: at.column(),
                        message: message.strip_suffix(&suffix).unwrap_or(&message).to_owned(),
                    }
                }
                None => YamlError {
                    line: 1,
                    column: 1,
                    message,
                },
            })
        }
    }
}

/// A JSON value read from YAML through a visitor that refuses anything JSON lacks.
struct Json(Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(Json)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value JSON can represent")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Json::deserialize(d).map(|j| j.0)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v).map(Value::from).map_err(|_| {
            E::custom(format!(
                "integer {v} is out of the 64-bit range JSON values have here"
            ))
        })
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v).map(Value::from).map_err(|_| {
            E::custom(format!(
                "integer {v} is out of the 64-bit range JSON values have here"
            ))
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("{v} has no JSON representation")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Json(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            let Json(value) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key: JSON allows strings only, so `1:`, `true:` or `null:` are refused
/// (a 1.1 reader would give a number, bool or null where we would give a string).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key (quote keys that look like numbers, bools or null)")
            }
            fn visit_str<E>(self, v: &str) -> Result<String, E> {
                Ok(v.to_owned())
            }
            fn visit_string<E>(self, v: String) -> Result<String, E> {
                Ok(v)
            }
        }
        d.deserialize_any(KeyVisitor).map(Key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Strings that trip up YAML emitters and readers of one version or the other.
    const NASTY: &[&str] = &[
        "🚀 Launch Team",
        "O'Brien",
        "\"Quoted\"",
        "Ops: on-call",
        "007",
        "01234",
        "0x1F",
        "1e3",
        "12:30",
        "1:20",
        "2024-01-01",
        "yes",
        "No",
        "ON",
        "off",
        "null",
        "~",
        "true",
        "y",
        "n",
        "",
        " lead",
        "trail ",
        "#hashtag",
        "a #b",
        "a: b",
        "- dash",
        "? q",
        "[x]",
        "{y}",
        "*star",
        "&anchor",
        "!tag",
        "%percent",
        "@at",
        "`tick",
        "|pipe",
        ">gt",
        "Zoë",
        "日本語",
        "tab\there",
        "line1\nline2",
        "line1\nline2\n",
        "line1\n\n\n",
        "\n lead newline",
        "  indented\nlines",
        "x\n  indented\n\ty",
        "trailing spaces  \nnext",
        "\u{85}nel",
        "\u{2028}",
        "\u{feff}bom",
        "\r\n",
        "\x07bell",
        "a\u{0}b",
        "-",
        "---",
        "...",
        ".5",
        "+1",
        "-1",
        "1_000",
        "0b101",
        "0o17",
        ".inf",
        "=",
        "<<",
        // Beyond the brief's list: more layout edge cases.
        "a\n  \nb",
        "a\n  ",
        "a\n\t\n",
        "x\n\n",
        "a\n\nb\n\n",
        "a\r\nb",
        "x\n#not comment\n---\n...",
        "Ops\n- dash line\n? q",
        "NaN",
        "inf",
        ".NaN",
        "Null",
        "FALSE",
        "Yes",
        "Off",
        "12345678-1234-1234-1234-123456789abc",
        "00000000-0000-0000-0000-000000000000",
        "1e300",
        "0.5",
        "1.0",
        "/path/to",
        "_under",
        "a,b",
        "x (y)",
        "C++",
        "mail@example.com",
        "\u{fffe}",
        "\u{ffff}",
        "\u{fdd0}",
        "\u{1fffe}",
        "\u{10ffff}",
        "\u{7f}",
        "\u{9f}",
        "\u{a0}nbsp",
        "\u{e000}",
        "a\u{2029}b",
        "\u{1b}[0m",
        "\x0b\x0c\x08",
        "mixed 🚀\nlines ✓\n",
    ];

    /// The table as values and as keys, nested in mappings and sequences.
    fn nasty_document() -> Value {
        let strings: Vec<Value> = NASTY.iter().map(|s| json!(s)).collect();
        let keyed: Map<String, Value> = NASTY.iter().map(|s| (s.to_string(), json!(s))).collect();
        let nested: Vec<Value> = NASTY
            .iter()
            .map(|s| json!({ *s: [s, { *s: [[s]], "k": s }, [s, [], {}]] }))
            .collect();
        let long_key = "k".repeat(1500);
        let long_text = "Zoë ".repeat(400);
        json!({
            "values": strings,
            "keys": keyed,
            "nested": nested,
            "deep": { "a": { "b": [ { "c": keyed.clone() } ] } },
            "long": { long_key.clone(): long_text, "list": [ { long_key: [1, {"x": "y"}] } ] },
            "numbers": [0, -1, 42, i64::MIN, u64::MAX, 0.1, -0.5, 1.0, 1e300, 1.5e-7, 1e-7, 2.5e16, -1e21],
            "literals": [null, true, false, [], {}],
        })
    }

    #[test]
    fn nasty_strings_round_trip() {
        for s in NASTY {
            for v in [
                json!({ "v": s }),
                json!({ *s: s }),
                json!({ "l": [s, [s], { *s: s }] }),
            ] {
                let text = to_yaml(&v);
                let back = from_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(back, v, "{s:?} written as:\n{text}");
            }
        }
        let doc = nasty_document();
        assert_eq!(from_yaml(&to_yaml(&doc)).unwrap(), doc);
    }

    #[test]
    fn quoting_is_conservative() {
        let plain = [
            "displayName",
            "Launch Team",
            "O'Brien",
            "x (y)",
            "/a/b",
            "_x",
            "a-b.c@d+e,f",
            "12345678-1234-1234-1234-123456789ABC",
        ];
        for s in plain {
            assert_eq!(string_scalar(s), s);
        }
        for s in NASTY.iter().filter(|s| !plain.contains(s)) {
            let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '/')
                || is_guid(s);
            if !ok {
                assert!(string_scalar(s).starts_with('"'), "{s:?} must be quoted");
            }
        }
        assert_eq!(string_scalar("Zoë"), "\"Zoë\"");
        assert_eq!(
            string_scalar("a\u{85}\u{2028}\u{feff}\u{1fffe}\x7f\0"),
            r#""a\x85\u2028\uFEFF\U0001FFFE\x7F\0""#
        );
    }

    #[test]
    fn exponents_read_as_floats_in_yaml_1_1() {
        let v = json!([1e300, 1.5e-7, 1e-7, -1e21, 0.1, 100.0]);
        assert_eq!(
            to_yaml(&v),
            "- 1.0e+300\n- 1.5e-7\n- 1.0e-7\n- -1.0e+21\n- 0.1\n- 100.0\n"
        );
    }

    #[test]
    fn golden_layout() {
        let v = json!({
            "@odata.type": "#microsoft.graph.group",
            "displayName": "Launch Team",
            "id": "0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10",
            "description": "Line one\nLine two\n",
            "notes": "a\nb",
            "mailEnabled": false,
            "members": [],
            "owners": {},
            "tags": ["a", "yes", 7],
            "settings": { "theme": null, "limits": { "max": 10 } },
            "rules": [ { "name": "r1", "when": ["x", "y"], "text": "p\nq\n\n" }, [1, [2]] ],
        });
        let expected = r##""@odata.type": "#microsoft.graph.group"
description: |
  Line one
  Line two
displayName: Launch Team
id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10
mailEnabled: false
members: []
notes: |-
  a
  b
owners: {}
rules:
- name: r1
  text: |+
    p
    q

  when:
  - x
  - "y"
- - 1
  - - 2
settings:
  limits:
    max: 10
  theme: null
tags:
- a
- "yes"
- 7
"##;
        assert_eq!(to_yaml(&v), expected);
        assert_eq!(from_yaml(expected).unwrap(), v);
    }

    #[test]
    fn rejects_what_json_cannot_hold() {
        for (text, needle) in [
            ("a: .nan\n", "JSON"),
            ("a: .inf\n", "JSON"),
            ("a: 1\n1: b\n", "string key"),
            ("true: b\n", "string key"),
            ("~: b\n", "string key"),
            ("? [a]\n: b\n", "string key"),
            ("a: 1\na: 2\n", "duplicate key"),
            ("a: !custom x\n", ""),
            ("a: 99999999999999999999\n", "64-bit"),
            ("a: [1\n", ""),
            ("a: 1\n--- \nb: 2\n", "more than one document"),
            ("a: *nowhere\n", "anchor"),
        ] {
            let err = from_yaml(text).expect_err(text);
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert!(err.line >= 1 && err.column >= 1, "{text:?}: {err}");
        }
        let err = from_yaml("a: 1\nb:\n  c: 2\n d: 3\n").unwrap_err();
        assert_eq!(err.line, 4, "{err}");
        assert!(err.to_string().starts_with("line 4, column "), "{err}");
    }

    fn arb_string() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[-?:,\\[\\]{}#&*!|>'\"%@` \t\n\r~.0-9a-zA-Z_+=<\u{85}\u{2028}\u{feff}é🚀]{0,12}",
            prop::sample::select(vec![
                "yes", "No", "ON", "off", "y", "N", "null", "~", "True", "<<", "="
            ])
            .prop_map(str::to_owned),
        ]
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            arb_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(arb_string(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_round_trips(v in arb_json()) {
            let text = to_yaml(&v);
            prop_assert_eq!(&to_yaml(&v), &text);
            prop_assert!(text.ends_with('\n'));
            let back = from_yaml(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(back, v, "{}", text);
        }

        #[test]
        fn from_yaml_never_panics(text in "[-?:,\\[\\]{}#&*!|>'\"%@` \t\n~.0-9ab_+=<\\\\]{0,40}") {
            let _ = from_yaml(&text);
        }
    }

    /// Reads the nasty document with a Python YAML library and compares types and values.
    fn python_cross_check(module: &str, load: &str) {
        let probe = std::process::Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output();
        if !probe.map(|o| o.status.success()).unwrap_or(false) {
            if std::env::var("IDGIT_SKIP_PYYAML").as_deref() == Ok("1") {
                return;
            }
            panic!(
                "python3 with {module} is needed for this YAML cross-check: \
                    run `pip install pyyaml ruamel.yaml` (or set IDGIT_SKIP_PYYAML=1 to skip)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let yaml_path = dir.path().join("doc.yaml");
        let json_path = dir.path().join("doc.json");
        let doc = nasty_document();
        std::fs::write(&yaml_path, to_yaml(&doc)).unwrap();
        std::fs::write(&json_path, serde_json::to_string(&doc).unwrap()).unwrap();
        let script = format!(
            r#"
import json, sys
def diff(a, b, path):
    if type(a) is not type(b):
        return f"{{path}}: {{a!r}} ({{type(a).__name__}}) != {{b!r}} ({{type(b).__name__}})"
    if isinstance(a, dict):
        if set(a) != set(b):
            return f"{{path}}: keys differ: {{sorted(map(repr, set(a) ^ set(b)))}}"
        return next((d for k in a for d in [diff(a[k], b[k], f"{{path}}/{{k!r}}")] if d), None)
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{{path}}: lengths {{len(a)}} != {{len(b)}}"
        return next((d for i, (x, y) in enumerate(zip(a, b)) for d in [diff(x, y, f"{{path}}/{{i}}")] if d), None)
    return None if a == b else f"{{path}}: {{a!r}} != {{b!r}}"
import {module}
got = {load}(open(sys.argv[1], "rb").read())
expected = json.loads(open(sys.argv[2], "rb").read())
problem = diff(got, expected, "")
if problem:
    print(problem)
    sys.exit(1)
"#
        );
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&yaml_path)
            .arg(&json_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{module} read different values:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn pyyaml_yaml_1_1_reads_the_same_values() {
        python_cross_check("yaml", "yaml.safe_load");
    }

    #[test]
    fn ruamel_yaml_1_2_reads_the_same_values() {
        python_cross_check(
            "ruamel.yaml",
            "ruamel.yaml.YAML(typ='safe', pure=True).load",
        );
    }
}
