//! One snapshot per kind: a raw Graph response, taken from Microsoft's documentation
//! samples, through the normalizer to the YAML file idgit writes.

use std::collections::BTreeMap;

use idgit::catalog;
use idgit::normalize::{self, PropertyFilter, RawRelationships};

fn fixture_names() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

fn kind_of(fixture: &str) -> &'static catalog::Kind {
    let stem = fixture.trim_end_matches(".json");
    catalog::KINDS
        .iter()
        .filter(|k| stem == k.name || stem.starts_with(&format!("{}-", k.name)))
        .max_by_key(|k| k.name.len())
        .unwrap_or_else(|| panic!("no kind for fixture {fixture}"))
}

#[test]
fn every_kind_has_a_fixture() {
    let names = fixture_names();
    for kind in catalog::KINDS {
        assert!(
            names.iter().any(|n| std::ptr::eq(kind_of(n), kind)),
            "no fixture for {}",
            kind.name
        );
    }
}

#[test]
fn graph_json_to_yaml() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    for name in fixture_names() {
        let kind = kind_of(&name);
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut relationships = RawRelationships::new();
        let rels: BTreeMap<String, Vec<serde_json::Value>> =
            serde_json::from_value(fixture.get("relationships").cloned().unwrap_or_default())
                .unwrap_or_default();
        for rel in kind.relationships {
            if let Some(items) = rels.get(rel.name) {
                relationships.insert(rel.name, items.clone());
            }
        }
        let doc = normalize::normalize(
            kind,
            fixture["object"].clone(),
            relationships,
            &PropertyFilter::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let path = idgit::layout::object_path(kind, &doc);
        let yaml = idgit::layout::object_text(kind, &doc.content);
        // The file reads back to exactly what was normalized, and normalizing again changes nothing.
        assert_eq!(
            idgit::yaml::from_yaml(&yaml).unwrap(),
            doc.content,
            "{name}"
        );
        assert_eq!(
            normalize::canonicalize(kind, doc.content.clone()),
            doc.content,
            "{name}"
        );
        insta::assert_snapshot!(name.trim_end_matches(".json"), format!("# {path}\n{yaml}"));
    }
}
