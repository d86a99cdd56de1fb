//! Where an object lives in the repository. Pure.
//!
//! A collection object is stored at `<kind-dir>/<readable-slug>.<object-id>.yaml`. The
//! slug comes from the UPN or display name so that people can find files by eye; the
//! full object ID is the last part before `.yaml`, so `*<id>.yaml` finds any object and
//! two objects with the same display name never collide.

use crate::catalog::{Kind, Shape};
use crate::normalize::Document;
use crate::schema;

/// Longest slug kept; long display names make paths unwieldy in terminals and on Windows.
const MAX_SLUG_LEN: usize = 48;

/// The repository path of a normalized object.
pub fn object_path(kind: &Kind, doc: &Document) -> String {
    match kind.shape {
        Shape::Singleton { file, .. } => file.to_string(),
        Shape::Collection { dir, .. } => format!("{dir}/{}", file_name(kind, doc)),
    }
}

/// The directory of a backup repository that holds the JSON Schemas of its files.
pub const SCHEMA_DIR: &str = "schemas";

/// The repository path of a kind's JSON Schema: `schemas/users.schema.json`.
pub fn schema_path(kind: &Kind) -> String {
    format!("{SCHEMA_DIR}/{}", schema::file_name(kind))
}

/// The first line of every object file. It tells YAML editors (the YAML language server
/// in VS Code and others) which schema the file follows, by a path relative to the
/// file, so that completion and checks work offline in any clone of the repository.
/// YAML readers see a comment.
pub fn schema_header(kind: &Kind) -> String {
    let depth = match kind.shape {
        Shape::Collection { dir, .. } => dir.matches('/').count() + 1,
        Shape::Singleton { file, .. } => file.matches('/').count(),
    };
    format!(
        "# yaml-language-server: $schema={}{}\n",
        "../".repeat(depth),
        schema_path(kind)
    )
}

/// The text of an object file: the schema header, then the canonical YAML of `content`.
pub fn object_text(kind: &Kind, content: &serde_json::Value) -> String {
    schema_header(kind) + &crate::yaml::to_yaml(content)
}

/// The file name of a collection object inside its kind's directory.
pub fn file_name(kind: &Kind, doc: &Document) -> String {
    let props = doc.properties();
    let readable = kind
        .slug_from
        .iter()
        .find_map(|name| props.get(*name)?.as_str());
    let slug = readable.map(slugify).filter(|s| !s.is_empty());
    format!(
        "{}.{}.yaml",
        slug.as_deref().unwrap_or(kind.singular),
        doc.id
    )
}

/// The object ID in a file name written by [`file_name`], if it is one.
pub fn id_from_file_name(name: &str) -> Option<&str> {
    let (_, id) = name.strip_suffix(".yaml")?.rsplit_once('.')?;
    (!id.is_empty()).then_some(id)
}

/// Lower-case ASCII letters, digits, `.` and `-`; every other run of characters becomes
/// one `-`. `AdeleV@contoso.com` becomes `adelev-contoso.com`.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len().min(MAX_SLUG_LEN));
    let mut pending_dash = false;
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '.' {
            if pending_dash && !slug.is_empty() && c != '.' && !slug.ends_with('.') {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c);
        } else {
            pending_dash = true;
        }
        if slug.len() >= MAX_SLUG_LEN {
            break;
        }
    }
    // Dots at the ends would make hidden files or `..` look-alikes.
    slug.trim_matches(|c| c == '.' || c == '-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use serde_json::json;

    fn doc(id: &str, props: serde_json::Value) -> Document {
        Document {
            id: id.into(),
            content: json!({ "properties": props }),
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("AdeleV@contoso.com"), "adelev-contoso.com");
        assert_eq!(slugify("🚀 Launch Team"), "launch-team");
        assert_eq!(slugify("Ops: on-call"), "ops-on-call");
        assert_eq!(slugify("..hidden.."), "hidden");
        assert_eq!(slugify("日本語"), "");
        assert_eq!(slugify(&"a".repeat(100)).len(), MAX_SLUG_LEN);
    }

    #[test]
    fn paths() {
        let users = catalog::kind("users").unwrap();
        let d = doc(
            "1f2e",
            json!({"userPrincipalName": "Zoë.M@contoso.com", "id": "1f2e"}),
        );
        assert_eq!(object_path(users, &d), "users/zo.m-contoso.com.1f2e.yaml");
        let nameless = doc("9", json!({"displayName": "日本語"}));
        assert_eq!(object_path(users, &nameless), "users/user.9.yaml");
        let policy = catalog::kind("authorization-policy").unwrap();
        assert_eq!(
            object_path(policy, &nameless),
            "policies/authorization-policy.yaml"
        );
    }

    #[test]
    fn headers_point_at_the_schema_relative_to_the_file() {
        let users = catalog::kind("users").unwrap();
        assert_eq!(
            schema_header(users),
            "# yaml-language-server: $schema=../schemas/users.schema.json\n"
        );
        let policy = catalog::kind("authorization-policy").unwrap();
        assert_eq!(
            schema_header(policy),
            "# yaml-language-server: $schema=../schemas/authorization-policy.schema.json\n"
        );
        // Every kind's header resolves, from the file's directory, to its schema.
        for kind in catalog::KINDS {
            let file = match kind.shape {
                Shape::Collection { dir, .. } => format!("{dir}/x.1.yaml"),
                Shape::Singleton { file, .. } => file.to_string(),
            };
            let header = schema_header(kind);
            let target = header.trim_end().rsplit_once('=').map(|(_, t)| t).unwrap();
            let mut dir: Vec<&str> = file.split('/').collect();
            dir.pop();
            for part in target.split('/') {
                match part {
                    ".." => {
                        dir.pop().unwrap();
                    }
                    part => dir.push(part),
                }
            }
            assert_eq!(dir.join("/"), schema_path(kind), "{}", kind.name);
        }
        // Readers skip it: the file reads back as its content.
        let content = json!({"properties": {"id": "1"}});
        let text = object_text(users, &content);
        assert!(text.starts_with("# yaml-language-server: $schema="));
        assert_eq!(crate::yaml::from_yaml(&text).unwrap(), content);
    }

    #[test]
    fn ids_come_back_from_file_names() {
        assert_eq!(
            id_from_file_name("adelev-contoso.com.1f2e.yaml"),
            Some("1f2e")
        );
        assert_eq!(id_from_file_name("user.9.yaml"), Some("9"));
        assert_eq!(id_from_file_name("README.md"), None);
        assert_eq!(id_from_file_name("notes.yaml"), None);
    }
}
