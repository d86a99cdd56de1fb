//! `idgit backup`: read the tenant, write one normalized YAML file per object, commit.
//!
//! Graph is read by async tasks, one per kind, while a single thread that owns the git
//! repository receives finished files over a bounded channel. The channel keeps memory
//! flat: a slow disk slows the readers instead of piling up objects. Nothing becomes
//! visible in the repository until every kind has been read completely (see `store`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::catalog::{Kind, Shape};
use crate::error::{Outcome, UserError};
use crate::graph::{ClientOptions, ErrorKind, GraphClient, GraphError, Pager};
use crate::names::Names;
use crate::normalize::{self, NormalizeError, PropertyFilter, RawRelationships};
use crate::output::{Format, Printer, Progress};
use crate::report::{self, Report, Revision};
use crate::settings::{self, Config, Connection, ConnectionFlags, Identity, Safety};
use crate::store::{
    CommitError, CommitOutcome, CommitRequest, KindChange, SnapshotWriter, Store, StoreError,
};
use crate::{audit, history, layout};

/// Back up the tenant into a git repository: one YAML file per object, one commit per
/// backup that changed something.
///
/// Reads every object kind through Microsoft Graph, normalizes it, and commits the
/// snapshot onto the repository's current branch. A backup with no change makes no
/// commit. If any kind cannot be read completely, nothing is written and the command
/// exits with status 1.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// The backup repository; created, with an idgit.yaml, when missing.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Only these kinds, comma-separated (default: the kinds in idgit.yaml, else all).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub kinds: Option<Vec<String>>,
    /// Subject line of the commit; the per-kind summary is added below it.
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub message: Option<String>,
    /// Commit even when a kind lost more objects than safety.maxShrink allows.
    #[arg(long)]
    pub allow_shrink: bool,
    /// Commit author, "Name <email>" (default: idgit.yaml, GIT_AUTHOR_*, git config).
    #[arg(long, value_name = "AUTHOR")]
    pub author: Option<String>,
    /// Requests to Graph in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Connection flags shared by the commands that talk to Graph.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// National cloud; sets the Graph and login endpoint defaults.
    #[arg(long, value_enum)]
    pub cloud: Option<settings::Cloud>,
    /// Tenant ID or domain (default: idgit.yaml, then AZURE_TENANT_ID).
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
}

/// Everything a backup needs, resolved.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub repo: PathBuf,
    pub kinds: Vec<&'static Kind>,
    pub connection: Connection,
    pub client: ClientOptions,
    pub filters: BTreeMap<&'static str, PropertyFilter>,
    pub subject: Option<String>,
    pub author: Option<String>,
    pub allow_shrink: bool,
    pub config: Config,
}

/// What a backup did.
#[derive(Debug)]
pub struct BackupReport {
    pub repo: PathBuf,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub head: Option<String>,
    pub changes: Vec<KindChange>,
    pub requests: u64,
    pub elapsed: Duration,
}

pub async fn run(args: BackupArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let settings = resolve(&args)?;
    let report = backup(&settings, printer).await?;
    print_report(&report, printer);
    Ok(Outcome::Success)
}

pub fn resolve(args: &BackupArgs) -> Result<BackupSettings, UserError> {
    let repo = settings::repo_dir(Some(&args.repo));
    if repo.is_file() {
        let error = StoreError::RepoIsAFile { path: repo.clone() };
        return Err(store_error(error));
    }
    refuse_nested_repository(&repo)?;
    let config = match settings::load_config(&repo)? {
        Some(config) => config,
        // A bare repository has no work tree: its idgit.yaml is the committed one.
        None => committed_config(&repo)?.unwrap_or_default(),
    };
    let kinds = settings::resolve_kinds(args.kinds.as_deref(), &config)?;
    let flags = ConnectionFlags {
        cloud: args.connection.cloud,
        tenant: args.connection.tenant.clone(),
    };
    let connection = settings::resolve_connection(&flags, &config)?;
    let client = ClientOptions {
        graph_url: connection.graph_url.clone(),
        max_concurrency: usize::from(args.concurrency),
        ..ClientOptions::default()
    };
    Ok(BackupSettings {
        repo,
        kinds,
        connection,
        client,
        filters: settings::property_filters(&config),
        subject: args.message.clone(),
        author: args.author.clone(),
        allow_shrink: args.allow_shrink,
        config,
    })
}

/// Settings for a command that reads the tenant without committing (`drift`, `plan`,
/// `apply`): resolved as for a backup, with no commit options.
pub fn resolve_reader(
    repo: &std::path::Path,
    kinds: Option<Vec<String>>,
    concurrency: u16,
    connection: &ConnectionArgs,
) -> Result<BackupSettings, UserError> {
    resolve(&BackupArgs {
        repo: repo.to_path_buf(),
        kinds,
        message: None,
        allow_shrink: false,
        author: None,
        concurrency,
        format: Format::Text,
        connection: connection.clone(),
    })
}

/// `--repo` inside a backup repository's work tree (say, its `users/` directory) would
/// otherwise start a second, nested backup repository there.
fn refuse_nested_repository(dir: &std::path::Path) -> Result<(), UserError> {
    let Ok(found) = git2::Repository::discover(dir) else {
        return Ok(());
    };
    let Some(workdir) = found.workdir() else {
        return Ok(());
    };
    let same = |a: &std::path::Path, b: &std::path::Path| {
        a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(a, b)| a == b)
    };
    let is_backup_repo = workdir.join(settings::CONFIG_FILE).is_file();
    if is_backup_repo && dir.exists() && !same(workdir, dir) && !dir.join(".git").exists() {
        return Err(UserError::new(format!(
            "{} is inside the backup repository {}",
            dir.display(),
            workdir.display()
        ))
        .with_hint(format!(
            "use --repo {} to back up into that repository",
            workdir.display()
        )));
    }
    Ok(())
}

/// `idgit.yaml` from HEAD, for repositories without a work tree.
fn committed_config(dir: &std::path::Path) -> Result<Option<Config>, UserError> {
    let Ok(Some(store)) = Store::open(dir) else {
        return Ok(None);
    };
    let Ok(Some(head)) = store.head_commit() else {
        return Ok(None);
    };
    let Ok(entry) = head
        .tree()
        .and_then(|t| t.get_path(std::path::Path::new(settings::CONFIG_FILE)))
    else {
        return Ok(None);
    };
    let Ok(blob) = store.repository().find_blob(entry.id()) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(blob.content());
    settings::parse_config(&text).map(Some).map_err(|message| {
        UserError::new(format!(
            "{} (committed in HEAD): {message}",
            settings::CONFIG_FILE
        ))
        .with_hint("commit a fixed idgit.yaml")
    })
}

/// Runs a backup. Used by `idgit backup` and `idgit demo`.
pub async fn backup(
    settings: &BackupSettings,
    printer: &Printer,
) -> Result<BackupReport, UserError> {
    let started = Instant::now();
    let kind_paths: Vec<&str> = settings.kinds.iter().map(|k| k.repo_path()).collect();
    // Local checks first: they are cheap and need no credentials.
    let existing = Store::open(&settings.repo).map_err(store_error)?;
    if let Some(store) = &existing {
        store.ensure_clean(&kind_paths).map_err(store_error)?;
        store.branch_ref().map_err(store_error)?;
    }
    let git_identity = existing.as_ref().and_then(Store::git_identity);
    // The audit log is read from the previous backup on; the first has nothing to link.
    let previous_backup = existing
        .as_ref()
        .and_then(|store| store.head_commit().ok().flatten())
        .map(|commit| super::diff::iso_date(commit.time().seconds()));
    drop(existing);
    let author =
        settings::resolve_author(settings.author.as_deref(), &settings.config, git_identity)?;
    let committer = settings::resolve_committer(&author)?;
    // Checked now, not after an hour of reading: git refuses some names and emails.
    for identity in [&author, &committer] {
        git2::Signature::now(&identity.name, &identity.email).map_err(|e| {
            UserError::new(format!(
                "cannot use {:?} <{}> as a commit identity: {}",
                identity.name,
                identity.email,
                e.message()
            ))
            .with_hint("set a plain name and email with --author \"Name <email>\"")
        })?;
    }

    let client = sign_in(settings).await?;
    // Only now, with a working credential, may a missing repository be created.
    Store::open_or_init(&settings.repo).map_err(store_error)?;
    let writer = read_tenant(settings, &client, printer, WriterMode::Commit).await?;
    let audit = match &previous_backup {
        Some(since) => read_audit(&client, since, printer).await,
        None => audit::Links::new(),
    };

    let request = FinishRequest {
        kinds: settings.kinds.clone(),
        subject: settings.subject.clone(),
        author,
        committer,
        // An idgit.yaml the user wrote before the first backup is committed as it is.
        new_config: std::fs::read_to_string(settings.repo.join(settings::CONFIG_FILE))
            .unwrap_or_else(|_| {
                settings::default_config_text(settings.connection.tenant.as_deref())
            }),
        guard: ShrinkGuard {
            allow: settings.allow_shrink,
            safety: settings.config.safety.clone(),
        },
        audit,
    };
    let outcome = writer.finish(request).await?;
    let (commit, branch, head, changes) = match outcome {
        CommitOutcome::Committed {
            commit,
            branch,
            changes,
            ..
        } => (Some(commit.to_string()), Some(branch), None, changes),
        CommitOutcome::Unchanged { head, changes } => {
            (None, None, head.map(|h| h.to_string()), changes)
        }
    };
    Ok(BackupReport {
        repo: settings.repo.clone(),
        commit,
        branch,
        head,
        changes,
        requests: client.request_count(),
        elapsed: started.elapsed(),
    })
}

/// Who changed what since the previous backup. Never fails the backup: without the
/// permission, or when the log cannot be read, the backup goes on and says so once.
async fn read_audit(client: &GraphClient, since: &str, printer: &Printer) -> audit::Links {
    match audit::read_since(client, since).await {
        Ok(audit::AuditRead::Read(links)) => links,
        Ok(audit::AuditRead::NotPermitted) => {
            printer.note("note: who changed what is not recorded: the app may not read the audit log (grant AuditLog.Read.All to record it)");
            audit::Links::new()
        }
        Ok(audit::AuditRead::NotNeeded) => audit::Links::new(),
        Err(error) => {
            printer.note(&format!(
                "note: who changed what is not recorded this time: {error}"
            ));
            audit::Links::new()
        }
    }
}

/// A client that has proved it can get a token, so that a bad credential fails before
/// any reading.
pub async fn sign_in(settings: &BackupSettings) -> Result<GraphClient, UserError> {
    let client = GraphClient::new(
        settings.client.clone(),
        settings.connection.credential.clone(),
    )?;
    client.sign_in().await?;
    Ok(client)
}

/// Reads every kind into a writer for the repository. Returns the writer only when
/// every kind was read completely.
pub async fn read_tenant(
    settings: &BackupSettings,
    client: &GraphClient,
    printer: &Printer,
    mode: WriterMode,
) -> Result<Writer, UserError> {
    let (files, writer) = spawn_writer(settings.repo.clone(), mode);
    let names: Vec<&'static str> = settings.kinds.iter().map(|k| k.name).collect();
    let progress = printer.progress(&names);
    let concurrency = settings.client.max_concurrency;
    let reads = settings.kinds.iter().map(|kind| {
        let filter = settings.filters.get(kind.name).cloned().unwrap_or_default();
        read_kind(client, kind, filter, files.clone(), &progress, concurrency)
    });
    let read_result = futures_util::future::try_join_all(reads).await;
    progress.clear();
    drop(files);
    match read_result {
        Ok(_) => Ok(writer),
        // Closing the channel without a request makes the writer discard everything it
        // holds. If the writer itself failed, the readers only saw it stop: its error is
        // the one that explains what happened.
        Err(error) => Err(writer.abandon().err().unwrap_or(error)),
    }
}

/// Reads every object of one kind and sends its file to the writer.
async fn read_kind(
    client: &GraphClient,
    kind: &'static Kind,
    filter: PropertyFilter,
    files: mpsc::Sender<WriterMessage>,
    progress: &Progress,
    concurrency: usize,
) -> Result<(), UserError> {
    let started = Instant::now();
    let fail = |error: ReadError| {
        progress.failed(kind.name);
        error.into_user_error(kind)
    };
    let mut count = 0usize;
    match kind.shape {
        Shape::Singleton { .. } => {
            let raw = client
                .get_json(&kind.list_url())
                .await
                .map_err(|e| fail(e.into()))?;
            let doc = normalize::normalize(kind, raw, RawRelationships::new(), &filter)
                .map_err(|e| fail(e.into()))?;
            send(&files, kind, &doc).await.map_err(fail)?;
            count = 1;
        }
        Shape::Collection { .. } => {
            let mut pages = Pager::new(client.url(&kind.list_url()));
            while let Some(url) = pages.next_url().map_err(|e| fail(e.into()))? {
                let page = client.get_page(&url).await.map_err(|e| fail(e.into()))?;
                let docs: Vec<normalize::Document> = stream::iter(page.items)
                    .map(|raw| read_object(client, kind, raw, &filter))
                    .buffered(concurrency)
                    .try_collect()
                    .await
                    .map_err(fail)?;
                for doc in &docs {
                    send(&files, kind, doc).await.map_err(fail)?;
                }
                count += docs.len();
                progress.advanced(kind.name, count);
                pages.advance(page.next_link);
            }
        }
    }
    progress.finished(kind.name, count, started.elapsed());
    Ok(())
}

/// Fetches an object's relationships and normalizes it.
async fn read_object(
    client: &GraphClient,
    kind: &'static Kind,
    raw: Value,
    filter: &PropertyFilter,
) -> Result<normalize::Document, ReadError> {
    let mut relationships = RawRelationships::new();
    if !kind.relationships.is_empty() {
        let id = normalize::graph_id(kind, &raw)?;
        let fetches = kind.relationships.iter().map(|rel| {
            let url = kind.relationship_url(&id, rel);
            async move { client.get_all(&url).await.map(|items| (rel.name, items)) }
        });
        for (name, items) in futures_util::future::try_join_all(fetches).await? {
            relationships.insert(name, items);
        }
    }
    Ok(normalize::normalize(kind, raw, relationships, filter)?)
}

/// The bytes of an object's file: what a backup commits, and what a plan fingerprints
/// the live object by.
pub fn file_content(kind: &Kind, doc: &normalize::Document) -> Vec<u8> {
    layout::object_text(kind, &doc.content).into_bytes()
}

/// Reads one object as a backup would store it; `None` when Graph says it does not
/// exist.
pub async fn read_one(
    client: &GraphClient,
    kind: &'static Kind,
    id: &str,
    filter: &PropertyFilter,
) -> Result<Option<normalize::Document>, UserError> {
    let raw = match client.get_json(&kind.item_url(id)).await {
        Ok(raw) => raw,
        Err(error) if error.kind == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(ReadError::from(error).into_user_error(kind)),
    };
    read_object(client, kind, raw, filter)
        .await
        .map(Some)
        .map_err(|e| e.into_user_error(kind))
}

async fn send(
    files: &mpsc::Sender<WriterMessage>,
    kind: &'static Kind,
    doc: &normalize::Document,
) -> Result<(), ReadError> {
    let path = layout::object_path(kind, doc);
    let content = file_content(kind, doc);
    files
        .send(WriterMessage::File {
            kind,
            path,
            content,
        })
        .await
        .map_err(|_| ReadError::WriterGone)
}

/// Why one kind could not be read.
#[derive(Debug)]
enum ReadError {
    Graph(GraphError),
    Normalize(NormalizeError),
    /// The writer stopped; its own error is reported instead.
    WriterGone,
}

impl From<GraphError> for ReadError {
    fn from(e: GraphError) -> Self {
        ReadError::Graph(e)
    }
}

impl From<NormalizeError> for ReadError {
    fn from(e: NormalizeError) -> Self {
        ReadError::Normalize(e)
    }
}

impl ReadError {
    fn into_user_error(self, kind: &Kind) -> UserError {
        let context = format!("cannot read {}", kind.title);
        match self {
            ReadError::Graph(error) if error.kind == ErrorKind::Forbidden => {
                UserError::new(format!("{context}: {error}")).with_hint(format!(
                    "grant the application permission {} to the app registration and give admin consent; nothing was written",
                    kind.read_permission
                ))
            }
            ReadError::Graph(error) => {
                let hint = error.hint();
                let error = UserError::new(format!("{context}: {error}"));
                match hint {
                    Some(hint) => error.with_hint(format!("{hint}; nothing was written")),
                    None => error.with_hint("nothing was written; run again"),
                }
            }
            ReadError::Normalize(error) => UserError::new(format!("{context}: malformed Graph response: {error}"))
                .with_hint("nothing was written; report this with the object's ID"),
            ReadError::WriterGone => UserError::new(format!("{context}: the repository writer stopped")),
        }
    }
}

/// Refuses a snapshot in which a kind shrank suspiciously.
#[derive(Debug, Clone)]
struct ShrinkGuard {
    allow: bool,
    safety: Safety,
}

impl ShrinkGuard {
    fn check(&self, changes: &[KindChange]) -> Result<(), String> {
        if self.allow {
            return Ok(());
        }
        for change in changes {
            if change.previous < self.safety.shrink_guard_minimum.max(1) {
                continue;
            }
            let lost = change.previous.saturating_sub(change.objects);
            let fraction = lost as f64 / change.previous as f64;
            if fraction > self.safety.max_shrink {
                return Err(format!(
                    "refusing to commit: {} shrank from {} to {} objects ({:.0}% fewer, the limit is {:.0}%); nothing was written; hint: if the tenant really lost them, run again with --allow-shrink",
                    change.kind,
                    change.previous,
                    change.objects,
                    fraction * 100.0,
                    self.safety.max_shrink * 100.0
                ));
            }
        }
        Ok(())
    }
}

enum WriterMessage {
    File {
        kind: &'static Kind,
        path: String,
        content: Vec<u8>,
    },
    Finish(
        Box<FinishRequest>,
        oneshot::Sender<Result<CommitOutcome, UserError>>,
    ),
    Preview(PreviewRequest, oneshot::Sender<Result<Report, UserError>>),
    Compare(
        CompareRequest,
        oneshot::Sender<Result<Vec<Compared>, UserError>>,
    ),
}

/// Compare the snapshot with the tree of a revision, for `idgit plan`.
pub struct CompareRequest {
    pub kinds: Vec<&'static Kind>,
    /// The desired state: the tree of the revision to restore.
    pub desired_tree: git2::Oid,
}

/// One object whose file differs between the desired tree and the live snapshot.
#[derive(Debug, Clone)]
pub struct Compared {
    pub kind: &'static Kind,
    pub id: String,
    pub desired: Option<StoredFile>,
    pub live: Option<StoredFile>,
}

/// A file's path, blob ID and bytes.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub path: String,
    pub blob: git2::Oid,
    pub bytes: Vec<u8>,
}

/// What the writer will be asked to do with the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterMode {
    /// Commit it: new objects are packed as they come, so memory stays flat.
    Commit,
    /// Compare it with HEAD and throw it away: nothing is ever written to disk, and only
    /// new or changed objects are held, in memory.
    Preview,
}

/// Compare the snapshot with the latest backup, for `idgit drift`.
pub struct PreviewRequest {
    pub kinds: Vec<&'static Kind>,
}

struct FinishRequest {
    /// Who changed which object, to note on the commit.
    audit: audit::Links,
    kinds: Vec<&'static Kind>,
    subject: Option<String>,
    author: Identity,
    committer: Identity,
    new_config: String,
    guard: ShrinkGuard,
}

/// The thread that owns the repository while a backup runs.
pub struct Writer {
    files: mpsc::Sender<WriterMessage>,
    thread: std::thread::JoinHandle<Result<(), UserError>>,
}

fn spawn_writer(repo: PathBuf, mode: WriterMode) -> (mpsc::Sender<WriterMessage>, Writer) {
    let (tx, rx) = mpsc::channel(512);
    let thread = std::thread::spawn(move || write_snapshot(repo, mode, rx));
    (tx.clone(), Writer { files: tx, thread })
}

impl Writer {
    /// Discards the snapshot; returns the writer's own error, if it failed.
    fn abandon(self) -> Result<(), UserError> {
        drop(self.files);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(UserError::new("the repository writer failed")))
    }

    /// The objects whose files differ between a revision's tree and the snapshot,
    /// which is then discarded.
    pub async fn compare(self, request: CompareRequest) -> Result<Vec<Compared>, UserError> {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .files
            .send(WriterMessage::Compare(request, reply))
            .await;
        self.close(sent.is_ok().then_some(answer)).await
    }

    /// Compares the snapshot with the latest backup and discards it.
    pub async fn preview(self, request: PreviewRequest) -> Result<Report, UserError> {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .files
            .send(WriterMessage::Preview(request, reply))
            .await;
        self.close(sent.is_ok().then_some(answer)).await
    }

    async fn finish(self, request: FinishRequest) -> Result<CommitOutcome, UserError> {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .files
            .send(WriterMessage::Finish(Box::new(request), reply))
            .await;
        self.close(sent.is_ok().then_some(answer)).await
    }

    /// Waits for the writer's answer and thread; a writer that died explains why.
    async fn close<T>(
        self,
        answer: Option<oneshot::Receiver<Result<T, UserError>>>,
    ) -> Result<T, UserError> {
        drop(self.files);
        let outcome = match answer {
            Some(answer) => answer.await.ok(),
            None => None,
        };
        let thread_result = tokio::task::spawn_blocking(move || self.thread.join())
            .await
            .map_err(|_| UserError::new("the repository writer failed"))?;
        match (outcome, thread_result) {
            (Some(outcome), _) => outcome,
            (None, Ok(Err(error))) => Err(error),
            (None, _) => Err(UserError::new("the repository writer stopped unexpectedly")),
        }
    }
}

fn write_snapshot(
    repo: PathBuf,
    mode: WriterMode,
    mut rx: mpsc::Receiver<WriterMessage>,
) -> Result<(), UserError> {
    let store = Store::open_or_init(&repo).map_err(store_error)?;
    let odb = store
        .repository()
        .odb()
        .map_err(|e| store_error(e.into()))?;
    let mut writer = SnapshotWriter::new(&store, &odb).map_err(store_error)?;
    if mode == WriterMode::Preview {
        writer.keep_in_memory();
    }
    while let Some(message) = rx.blocking_recv() {
        match message {
            WriterMessage::File {
                kind,
                path,
                content,
            } => {
                writer.add(kind, &path, &content).map_err(store_error)?;
            }
            WriterMessage::Finish(request, reply) => {
                let guard = |changes: &[KindChange]| request.guard.check(changes);
                let result = writer
                    .commit(CommitRequest {
                        kinds: &request.kinds,
                        subject: request.subject.as_deref(),
                        author: &request.author,
                        committer: &request.committer,
                        new_config: Some(request.new_config.clone()),
                        guard: &guard,
                    })
                    .map_err(|e| match e {
                        CommitError::Refused(message) => UserError::new(message),
                        CommitError::Store(e) => store_error(e),
                    });
                if let Ok(CommitOutcome::Committed {
                    commit,
                    changed_ids,
                    ..
                }) = &result
                {
                    note_actors(&store, *commit, &request, changed_ids);
                }
                let _ = reply.send(result);
                return Ok(());
            }
            WriterMessage::Preview(request, reply) => {
                let _ = reply.send(preview(&store, writer, &request));
                return Ok(());
            }
            WriterMessage::Compare(request, reply) => {
                let _ = reply.send(compare(&store, writer, &request));
                return Ok(());
            }
        }
    }
    // The readers gave up: dropping the writer discards the uncommitted packs.
    Ok(())
}

/// Notes who changed the objects of a new commit. A failure costs the note, not the
/// backup, which is already committed.
fn note_actors(
    store: &Store,
    commit: git2::Oid,
    request: &FinishRequest,
    changed: &std::collections::BTreeSet<String>,
) {
    let Some(text) = audit::note_for(&request.audit, changed) else {
        return;
    };
    let identity = &request.committer;
    // A fresh handle: the writer's own sends every object to its in-memory database,
    // which is gone once the commit is packed.
    let written = git2::Repository::open(store.dir()).and_then(|repo| {
        let signature = git2::Signature::now(&identity.name, &identity.email)?;
        repo.note(
            &signature,
            &signature,
            Some(audit::NOTES_REF),
            commit,
            &text,
            true,
        )
    });
    if let Err(error) = written {
        tracing::warn!(
            error = error.message(),
            "could not note who changed the objects"
        );
    }
}

/// The report of what differs between the latest backup and the snapshot just read.
fn preview(
    store: &Store,
    writer: SnapshotWriter<'_>,
    request: &PreviewRequest,
) -> Result<Report, UserError> {
    let repo = store.repository();
    let head = store
        .head_commit()
        .map_err(store_error)?
        .ok_or_else(|| UserError::new("there is no backup to compare with"))?;
    let head_tree = head.tree().map_err(|e| store_error(e.into()))?;
    let tree_id = writer.preview_tree(&request.kinds).map_err(store_error)?;
    let live_tree = repo.find_tree(tree_id).map_err(|e| store_error(e.into()))?;
    let changes =
        history::changes_between(repo, Some(&head_tree), Some(&live_tree), &request.kinds)?;
    let names = Names::for_changes(repo, &[&live_tree, &head_tree], &changes);
    let to = Revision {
        name: "live tenant".into(),
        commit: None,
        date: None,
        subject: None,
    };
    // Who changed what is linked when a backup commits, not for a look at the tenant.
    let actors = audit::Links::new();
    Ok(report::build(
        &changes,
        &names,
        &actors,
        Some(super::diff::revision("HEAD", &head)),
        to,
    ))
}

/// The files that differ between the desired tree and the snapshot just read.
fn compare(
    store: &Store,
    writer: SnapshotWriter<'_>,
    request: &CompareRequest,
) -> Result<Vec<Compared>, UserError> {
    let repo = store.repository();
    let git = |e: git2::Error| store_error(e.into());
    let live_id = writer.preview_tree(&request.kinds).map_err(store_error)?;
    let live = repo.find_tree(live_id).map_err(git)?;
    let desired = repo.find_tree(request.desired_tree).map_err(git)?;
    let paths: Vec<String> = request
        .kinds
        .iter()
        .map(|k| k.repo_path().to_string())
        .collect();
    let files = history::changed_files(repo, Some(&desired), Some(&live), &paths)?;
    let read = |side: history::Side| -> Result<Option<StoredFile>, UserError> {
        side.map(|(path, blob)| {
            let bytes = repo.find_blob(blob).map_err(git)?.content().to_vec();
            Ok(StoredFile { path, blob, bytes })
        })
        .transpose()
    };
    files
        .into_iter()
        .map(|((_, id), (kind, desired, live))| {
            Ok(Compared {
                kind,
                id,
                desired: read(desired)?,
                live: read(live)?,
            })
        })
        .collect()
}

fn store_error(error: StoreError) -> UserError {
    let hint = error.hint();
    let error = UserError::new(error.to_string());
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

fn print_report(report: &BackupReport, printer: &Printer) {
    let (added, changed, removed) = report.changes.iter().fold((0, 0, 0), |(a, c, r), k| {
        (a + k.added, c + k.changed, r + k.removed)
    });
    if printer.format() == Format::Json {
        printer.json(&json!({
            "repo": report.repo,
            "changed": report.commit.is_some(),
            "commit": report.commit,
            "branch": report.branch,
            "head": report.head,
            "totals": {"added": added, "changed": changed, "removed": removed},
            "kinds": report.changes,
            "requests": report.requests,
            "seconds": (report.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        }));
        return;
    }
    printer.line(&format!(
        "{:<32} {:>8}  {:>7} {:>7} {:>7}",
        "kind", "objects", "added", "changed", "removed"
    ));
    for change in &report.changes {
        printer.line(&format!(
            "{:<32} {:>8}  {:>7} {:>7} {:>7}",
            change.kind, change.objects, change.added, change.changed, change.removed
        ));
    }
    let took = format!(
        "{} requests in {:.1}s",
        report.requests,
        report.elapsed.as_secs_f64()
    );
    match (&report.commit, &report.branch) {
        (Some(commit), Some(branch)) => printer.line(&format!(
            "Committed {} on {}: +{added} ~{changed} -{removed} ({took}).",
            &commit[..commit.len().min(12)],
            branch.trim_start_matches("refs/heads/")
        )),
        _ => printer.line(&format!(
            "No changes since the last backup; nothing committed ({took})."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(previous: usize, objects: usize) -> KindChange {
        KindChange {
            kind: "users",
            objects,
            previous,
            removed: previous.saturating_sub(objects),
            ..Default::default()
        }
    }

    #[test]
    fn shrink_guard_refuses_mass_deletion_only() {
        let guard = ShrinkGuard {
            allow: false,
            safety: Safety::default(),
        };
        assert!(guard.check(&[change(100, 80)]).is_ok());
        let err = guard.check(&[change(100, 79)]).unwrap_err();
        assert!(
            err.contains("users shrank from 100 to 79 objects (21% fewer, the limit is 20%)"),
            "{err}"
        );
        assert!(err.contains("--allow-shrink"));
        // Small kinds are not guarded: deleting one of three policies is ordinary.
        assert!(guard.check(&[change(3, 1)]).is_ok());
        let allowed = ShrinkGuard {
            allow: true,
            safety: Safety::default(),
        };
        assert!(allowed.check(&[change(100, 0)]).is_ok());
    }
}
