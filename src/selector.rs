//! OBJECT and SELECTOR arguments: an object ID, a repository path, `KIND`, or
//! `KIND/<id-or-name>`, resolved against a tree.

use git2::{Oid, Repository, Tree};

use crate::catalog::{self, Kind};
use crate::error::UserError;
use crate::{history, layout};

/// What the user named.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// Every object of a kind.
    Kind(&'static Kind),
    /// One object by ID or name, in one kind or in any.
    Object {
        kind: Option<&'static Kind>,
        key: String,
    },
    /// One object by its repository path.
    Path(String),
}

/// One object found in a tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub kind: &'static Kind,
    pub id: String,
    pub path: String,
    pub blob: Oid,
}

pub fn parse(text: &str) -> Selector {
    let text = text.trim().trim_end_matches('/');
    if text.ends_with(".yaml") {
        return Selector::Path(text.to_string());
    }
    if let Some(kind) = catalog::kind(text) {
        return Selector::Kind(kind);
    }
    if let Some((kind, key)) = text.split_once('/') {
        if let Some(kind) = catalog::kind(kind) {
            return Selector::Object {
                kind: Some(kind),
                key: key.to_string(),
            };
        }
    }
    Selector::Object {
        kind: None,
        key: text.to_string(),
    }
}

/// The objects a selector names in a tree: exactly one for `Path` and `Object`
/// selectors (or an error saying why not), every object for `Kind`.
pub fn resolve(
    repo: &Repository,
    tree: &Tree<'_>,
    selector: &Selector,
) -> Result<Vec<Found>, UserError> {
    match selector {
        Selector::Kind(kind) => Ok(objects_of(repo, tree, kind)),
        Selector::Path(path) => {
            let kind = history::kind_of_path(path).ok_or_else(|| {
                UserError::new(format!("{path} is not an object file of a backup"))
                    .with_hint("name a file such as users/<name>.<id>.yaml, or an object ID")
            })?;
            let id = history::id_of_path(kind, path).unwrap_or_default();
            let entry = tree.get_path(std::path::Path::new(path)).map_err(|_| {
                UserError::new(format!("{path} does not exist in this revision"))
                    .with_hint("check the path, or the revision given with --at")
            })?;
            Ok(vec![Found {
                kind,
                id,
                path: path.clone(),
                blob: entry.id(),
            }])
        }
        Selector::Object { kind, key } => {
            let kinds: Vec<&'static Kind> = match kind {
                Some(kind) => vec![kind],
                None => catalog::KINDS.iter().collect(),
            };
            let candidates: Vec<Found> = kinds
                .iter()
                .flat_map(|k| objects_of(repo, tree, k))
                .collect();
            let by_id: Vec<&Found> = candidates
                .iter()
                .filter(|f| f.id.eq_ignore_ascii_case(key))
                .collect();
            // A name matches the readable part of the file name, which is its slug.
            let slug = layout::slugify(key);
            let matches: Vec<&Found> = if !by_id.is_empty() {
                by_id
            } else {
                candidates
                    .iter()
                    .filter(|f| !slug.is_empty() && file_slug(&f.path) == slug)
                    .collect()
            };
            match matches.as_slice() {
                [one] => Ok(vec![(*one).clone()]),
                [] => Err(UserError::new(format!("no object matches {key:?}")).with_hint(
                    "use an object ID, a file path, or KIND/<name>; `idgit show KIND` lists a kind's objects",
                )),
                many => {
                    let listed: Vec<&str> = many.iter().take(5).map(|f| f.path.as_str()).collect();
                    Err(UserError::new(format!(
                        "{key:?} matches {} objects: {}{}",
                        many.len(),
                        listed.join(", "),
                        if many.len() > 5 { ", …" } else { "" }
                    ))
                    .with_hint("name one by its object ID or file path"))
                }
            }
        }
    }
}

fn objects_of(repo: &Repository, tree: &Tree<'_>, kind: &'static Kind) -> Vec<Found> {
    history::list_objects(repo, tree, kind)
        .into_iter()
        .map(|(path, blob)| Found {
            kind,
            id: history::id_of_path(kind, &path).unwrap_or_default(),
            path,
            blob,
        })
        .collect()
}

/// `adelev-contoso.com` from `users/adelev-contoso.com.<id>.yaml`.
fn file_slug(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.strip_suffix(".yaml").unwrap_or(name);
    stem.rsplit_once('.').map_or(stem, |(slug, _)| slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        assert_eq!(
            parse("users"),
            Selector::Kind(catalog::kind("users").unwrap())
        );
        assert_eq!(
            parse("users/"),
            Selector::Kind(catalog::kind("users").unwrap())
        );
        assert_eq!(
            parse("groups/Break Glass Accounts"),
            Selector::Object {
                kind: catalog::kind("groups"),
                key: "Break Glass Accounts".into()
            }
        );
        assert_eq!(
            parse("groups/x.1.yaml"),
            Selector::Path("groups/x.1.yaml".into())
        );
        assert_eq!(
            parse("1f2e"),
            Selector::Object {
                kind: None,
                key: "1f2e".into()
            }
        );
        assert_eq!(
            file_slug("users/adelev-contoso.com.1f2e.yaml"),
            "adelev-contoso.com"
        );
    }
}
