//! `idgit init`: a ready-to-push tenant repository, rendered from `tenant-template/`.
//!
//! The template files are compiled into the binary (`include_str!`), so `init` needs
//! nothing at run time. `idgit.yaml` is rendered by [`settings::default_config_text`],
//! the same text `idgit backup` writes into a new repository. Every other file is a
//! minijinja template with delimiters that cannot clash with GitHub's `${{ ... }}`
//! expressions or with shell: `{= value =}`, `{% block %}`, `{## comment ##}`.

use std::path::{Path, PathBuf};

use crate::error::{Outcome, UserError};
use crate::output::Printer;
use crate::settings;

/// Create a tenant repository: idgit.yaml, GitHub workflows, CODEOWNERS and a README.
///
/// Writes a new Git repository into DIR with one commit on the branch main:
/// idgit.yaml for the tenant; .github/workflows/backup.yml (nightly backup, pushed with
/// its audit notes), drift.yml (a pull request whenever the live tenant drifts from the
/// latest backup) and restore.yml (plan, a reviewer's approval in the environment
/// "restore", apply); CODEOWNERS; .gitattributes; and a README that lists the two app
/// registrations to create, their permissions and their federated credentials.
/// Nothing is sent anywhere: push the repository yourself.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The directory to create (it may exist if it is empty).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The tenant: its ID or a verified domain, e.g. contoso.onmicrosoft.com.
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,
    /// The GitHub repository it will be pushed to, as OWNER/REPO: fills in the federated
    /// credential subjects, the README and CODEOWNERS.
    #[arg(long, value_name = "OWNER/REPO")]
    pub repo_slug: Option<String>,
    /// Who reviews every change (CODEOWNERS) [default: @OWNER/identity-team].
    #[arg(long, value_name = "@ORG/TEAM")]
    pub owners: Option<String>,
    /// Write into a non-empty directory, replacing files of the same names.
    #[arg(long)]
    pub force: bool,
}

/// The GitHub repository that publishes idgit's releases and its action.
pub const IDGIT_REPOSITORY: &str = "idgit/idgit";

/// The branch the workflows run on and the federated credential trusts.
pub const BRANCH: &str = "main";

/// The template files besides `idgit.yaml`: path in the new repository, template text.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("README.md", include_str!("../../tenant-template/README.md")),
    (
        "CODEOWNERS",
        include_str!("../../tenant-template/CODEOWNERS"),
    ),
    (
        ".gitattributes",
        include_str!("../../tenant-template/.gitattributes"),
    ),
    (
        ".github/workflows/backup.yml",
        include_str!("../../tenant-template/.github/workflows/backup.yml"),
    ),
    (
        ".github/workflows/drift.yml",
        include_str!("../../tenant-template/.github/workflows/drift.yml"),
    ),
    (
        ".github/workflows/restore.yml",
        include_str!("../../tenant-template/.github/workflows/restore.yml"),
    ),
];

/// What the templates are rendered with.
#[derive(Debug, Clone)]
pub struct TemplateValues {
    pub tenant: String,
    /// `OWNER/REPO`, or the placeholder `OWNER/REPO` when unknown.
    pub slug: String,
    pub owners: String,
}

impl TemplateValues {
    pub fn new(tenant: &str, repo_slug: Option<&str>, owners: Option<&str>) -> Self {
        let slug = repo_slug.unwrap_or("OWNER/REPO").to_string();
        let owner = slug.split('/').next().unwrap_or("OWNER");
        let owners = owners
            .map(str::to_string)
            .unwrap_or_else(|| format!("@{owner}/identity-team"));
        TemplateValues {
            tenant: tenant.to_string(),
            slug,
            owners,
        }
    }
}

/// Renders every file of the tenant repository: (path, content), `idgit.yaml` first.
pub fn render(values: &TemplateValues) -> Vec<(String, String)> {
    let mut templates = minijinja::Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .block_delimiters("{%", "%}")
        .variable_delimiters("{=", "=}")
        .comment_delimiters("{##", "##}")
        .keep_trailing_newline(true)
        .trim_blocks(true)
        .build()
        .expect("valid template delimiters");
    templates.set_syntax(syntax);
    templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let context = minijinja::context! {
        tenant => &values.tenant,
        slug => &values.slug,
        owners => &values.owners,
        branch => BRANCH,
        idgit_repository => IDGIT_REPOSITORY,
        action => action_reference(),
    };
    let mut files = vec![(
        settings::CONFIG_FILE.to_string(),
        settings::default_config_text(Some(&values.tenant)),
    )];
    for (path, text) in TEMPLATES {
        let rendered = templates
            .render_str(text, context.clone())
            .unwrap_or_else(|e| panic!("tenant-template/{path} renders: {e}"));
        files.push((path.to_string(), rendered));
    }
    files
}

/// `uses:` of the idgit action, pinned to this version's release.
pub fn action_reference() -> String {
    format!("{IDGIT_REPOSITORY}@v{}", env!("CARGO_PKG_VERSION"))
}

/// The federated credential subjects to register: (app, subject).
pub fn subjects(slug: &str) -> [(&'static str, String); 2] {
    [
        (
            "idgit backup (read-only: backup, drift, plan)",
            format!("repo:{slug}:ref:refs/heads/{BRANCH}"),
        ),
        (
            "idgit restore (write: apply, environment restore)",
            format!("repo:{slug}:environment:restore"),
        ),
    ]
}

pub fn run(args: InitArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let tenant = check_tenant(&args.tenant)?;
    if let Some(slug) = &args.repo_slug {
        check_slug(slug)?;
    }
    if let Some(owners) = &args.owners {
        check_owners(owners)?;
    }
    check_target(&args.dir, args.force)?;
    let values = TemplateValues::new(tenant, args.repo_slug.as_deref(), args.owners.as_deref());
    let files = render(&values);
    let commit = write_repository(&args.dir, &files, tenant)?;

    let dir = args.dir.display();
    printer.line(&format!(
        "Created the tenant repository {dir} for {tenant} (commit {}, branch {BRANCH}):",
        &commit[..12.min(commit.len())]
    ));
    for (path, _) in &files {
        printer.line(&format!("  {path}"));
    }
    printer.line("");
    printer.line("Register these federated credentials (issuer https://token.actions.githubusercontent.com, audience api://AzureADTokenExchange):");
    for (app, subject) in subjects(&values.slug) {
        printer.line(&format!("  {app}: {subject}"));
    }
    if args.repo_slug.is_none() {
        printer.line("  (OWNER/REPO is a placeholder: run init again with --repo-slug OWNER/REPO --force to fill it in)");
    }
    printer.line("");
    printer.line("Next steps (the README in the repository has the details):");
    printer.line("  1. Create two app registrations: a read-only one for backup and drift, and a restore one with write permissions.");
    printer.line("  2. Add the federated credentials above to them; no client secret is needed.");
    printer.line(&format!(
        "  3. git -C {dir} remote add origin https://github.com/{}.git && git -C {dir} push -u origin {BRANCH}",
        values.slug
    ));
    printer.line("  4. Set the repository variable AZURE_CLIENT_ID (read-only app); create the environment \"restore\" with required reviewers and the variable IDGIT_RESTORE_CLIENT_ID (restore app).");
    printer.line("  5. Run the backup workflow once (Actions > backup > Run workflow).");
    Ok(Outcome::Success)
}

fn check_tenant(tenant: &str) -> Result<&str, UserError> {
    let tenant = tenant.trim();
    if tenant.is_empty() {
        return Err(UserError::new("--tenant is empty").with_hint(
            "give the tenant ID or a verified domain, e.g. --tenant contoso.onmicrosoft.com",
        ));
    }
    let valid = tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !tenant.starts_with(['.', '-']);
    if !valid {
        return Err(UserError::new(format!(
            "--tenant {tenant:?} is neither a tenant ID nor a domain name"
        ))
        .with_hint(
            "give the tenant ID or a verified domain, e.g. --tenant contoso.onmicrosoft.com",
        ));
    }
    Ok(tenant)
}

fn check_slug(slug: &str) -> Result<(), UserError> {
    let name_ok = |part: &str, extra: &[char]| {
        !part.is_empty()
            && !part.starts_with(['.', '-'])
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
    };
    match slug.split_once('/') {
        Some((owner, repo)) if name_ok(owner, &[]) && name_ok(repo, &['.', '_']) => Ok(()),
        _ => Err(UserError::new(format!(
            "--repo-slug {slug:?} is not of the form OWNER/REPO"
        ))
        .with_hint(
            "give the GitHub repository you will push to, e.g. --repo-slug contoso/entra-config",
        )),
    }
}

fn check_owners(owners: &str) -> Result<(), UserError> {
    let valid = owners.split_whitespace().count() > 0
        && owners.split_whitespace().all(|owner| {
            let name = owner.strip_prefix('@');
            let handle = name.is_some_and(|name| {
                !name.is_empty()
                    && name.chars().all(|c| {
                        c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/' || c == '.'
                    })
            });
            handle || (owner.contains('@') && !owner.starts_with('@'))
        });
    if valid && !owners.contains(['\n', '\r']) {
        Ok(())
    } else {
        Err(UserError::new(format!(
            "--owners {owners:?} is not a GitHub team, user or email address"
        ))
        .with_hint("for example --owners @contoso/identity-team"))
    }
}

fn check_target(dir: &Path, force: bool) -> Result<(), UserError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                return Err(UserError::new(format!("{} is not empty", dir.display()))
                    .with_hint("choose a new directory, or add --force to write the files into it (files of the same names are replaced)"));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Err(UserError::new(format!("{} is a file", dir.display()))
                .with_hint("choose a directory that does not exist yet"))
        }
        Err(e) => Err(
            UserError::new(format!("cannot read {}: {e}", dir.display()))
                .with_hint("choose a directory you may write to"),
        ),
    }
}

/// Writes the files, makes `dir` a Git repository on [`BRANCH`] (or reuses the one it
/// is) and commits them. Returns the commit's hash.
fn write_repository(
    dir: &Path,
    files: &[(String, String)],
    tenant: &str,
) -> Result<String, UserError> {
    let io_error = |path: &Path, e: std::io::Error| {
        UserError::new(format!("cannot write {}: {e}", path.display()))
            .with_hint("choose a directory you may write to")
    };
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    for (path, text) in files {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        std::fs::write(&full, text).map_err(|e| io_error(&full, e))?;
    }
    commit_files(dir, files, tenant).map_err(|e| {
        UserError::new(format!(
            "cannot commit in {}: {}",
            dir.display(),
            e.message()
        ))
        .with_hint("the files are written; commit them with git yourself")
    })
}

fn commit_files(
    dir: &Path,
    files: &[(String, String)],
    tenant: &str,
) -> Result<String, git2::Error> {
    let repo = match git2::Repository::open(dir) {
        Ok(repo) if repo.workdir().is_some_and(|w| same_dir(w, dir)) => repo,
        _ => {
            let mut options = git2::RepositoryInitOptions::new();
            options.initial_head(BRANCH);
            git2::Repository::init_opts(dir, &options)?
        }
    };
    if repo.head().is_err() {
        // An existing repository without commits: start it on the branch the
        // federated credentials name.
        repo.set_head(&format!("refs/heads/{BRANCH}"))?;
    }
    let mut index = repo.index()?;
    for (path, _) in files {
        index.add_path(Path::new(path))?;
    }
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let config = repo.config().ok();
    let git_identity = config.as_ref().and_then(|c| {
        Some((
            c.get_string("user.name").ok()?,
            c.get_string("user.email").ok()?,
        ))
    });
    let author = settings::resolve_author(None, &settings::Config::default(), git_identity)
        .map_err(|e| git2::Error::from_str(&e.to_string()))?;
    let committer =
        settings::resolve_committer(&author).map_err(|e| git2::Error::from_str(&e.to_string()))?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let message = format!(
        "idgit init: configuration repository of {tenant}\n\nWorkflows, CODEOWNERS and idgit.yaml; the first backup adds the tenant's objects.\n"
    );
    let oid = repo.commit(
        Some("HEAD"),
        &signature(&author)?,
        &signature(&committer)?,
        &message,
        &tree,
        &parents,
    )?;
    Ok(oid.to_string())
}

fn signature(identity: &settings::Identity) -> Result<git2::Signature<'static>, git2::Error> {
    match identity.time {
        Some((secs, offset)) => git2::Signature::new(
            &identity.name,
            &identity.email,
            &git2::Time::new(secs, offset),
        ),
        None => git2::Signature::now(&identity.name, &identity.email),
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tenant-template");
        let mut stack = vec![root.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let relative = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    found.push(relative);
                }
            }
        }
        found.sort();
        let mut embedded: Vec<String> = TEMPLATES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.push(settings::CONFIG_FILE.to_string());
        embedded.sort();
        assert_eq!(found, embedded, "tenant-template/ and TEMPLATES differ");
    }

    #[test]
    fn templates_render_without_leftover_delimiters() {
        let values = TemplateValues::new("contoso.onmicrosoft.com", Some("contoso/entra"), None);
        for (path, text) in render(&values) {
            assert!(!text.contains("{="), "{path} has an unrendered value");
            assert!(!text.contains("OWNER/REPO"), "{path} has a placeholder");
            assert!(text.ends_with('\n'), "{path} does not end with a newline");
        }
        let files = render(&values);
        let codeowners = &files.iter().find(|(p, _)| p == "CODEOWNERS").unwrap().1;
        assert!(codeowners.contains("* @contoso/identity-team"));
    }

    #[test]
    fn idgit_yaml_is_the_backup_default() {
        let values = TemplateValues::new("contoso.onmicrosoft.com", None, None);
        let files = render(&values);
        assert_eq!(files[0].0, "idgit.yaml");
        assert_eq!(
            files[0].1,
            settings::default_config_text(Some("contoso.onmicrosoft.com"))
        );
        let config = settings::parse_config(&files[0].1).unwrap();
        assert_eq!(config.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(check_tenant("  ").is_err());
        assert!(check_tenant("contoso.com\nx: y").is_err());
        assert!(check_tenant("3f2b1c1e-0000-4000-8000-000000000000").is_ok());
        assert!(check_slug("contoso").is_err());
        assert!(check_slug("contoso/entra config").is_err());
        assert!(check_slug("contoso/entra.config_1").is_ok());
        assert!(check_owners("@contoso/identity").is_ok());
        assert!(check_owners("identity").is_err());
        assert!(check_owners("@contoso/identity\n* @evil").is_err());
    }
}
