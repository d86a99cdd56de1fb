//! idgit keeps a Microsoft Entra ID tenant's configuration as code in Git.
//!
//! # How a backup flows
//!
//! ```text
//!  Graph (or the emulator)                                  git repository
//!  ───────────────────────                                  ──────────────
//!  graph::GraphClient ──pages──▶ normalize ──▶ layout + yaml ──▶ store::SnapshotWriter ──▶ one commit
//!        (I/O edge)               (pure)         (pure)              (I/O edge)
//! ```
//!
//! * [`catalog`] is the one table that describes every object kind: its Graph path, the
//!   `$select` list, volatile and read-only properties, set-like arrays, references and
//!   relationships. A new kind is a new row there, not a new module.
//! * [`normalize`] is pure: Graph JSON in, canonical content out. It is idempotent.
//! * [`store`] writes a snapshot as one commit, building trees in memory, and never
//!   records a kind it could not read as deleted.
//! * [`schema`] generates each kind's JSON Schema from the Graph type data and the
//!   catalog; every object file's first line names it, for editors. [`validate`] checks
//!   a file against it, with line numbers (`idgit validate`, and the planner before it
//!   sends anything).
//! * [`emulator`] is a faithful in-process stand-in for Microsoft Graph used by the
//!   tests, the demo and the benchmarks.
//!
//! # How a report flows
//!
//! ```text
//!  git trees (two revisions, or HEAD and a drift snapshot held in memory)
//!     │ history: git's tree diff, only changed files are read
//!     ▼
//!  diff::compare (pure) ──▶ ChangeSet ──▶ report::build (pure; names, findings, actors)
//!                                             │
//!                                             ▼
//!                               report::render (templates: text, markdown; json)
//! ```
//!
//! * [`names`] resolves IDs from the trees on either side and the well-known IDs.
//! * [`audit`] links the directory audit log to changed objects as git notes.
//! * [`selector`] turns OBJECT arguments into files.
//!
//! # How a restore flows
//!
//! ```text
//!  live tenant ──read as a backup would──▶ in-memory tree ─┐
//!                                                          ├─ git tree diff: only the objects
//!  revision to restore (--at REV) ──────▶ its tree ───────┘  whose files differ are read
//!     │ validate (schemas), recycle-bin lookups for objects missing live
//!     ▼
//!  plan::plan (pure) ──▶ Plan: ordered actions, each with its exact Graph request
//!     │ commands::apply: one request at a time, journaled; placeholders for new IDs filled
//!     ▼
//!  re-plan the selection: success only when it is empty
//! ```
//!
//! * [`plan`] decides: PATCH what differs (never a read-only property), restore from a
//!   recycle bin keeping the ID, or re-create and rewrite references to the new ID; it
//!   orders actions by dependency and raises blockers (lockout, mass delete).
//! * [`journal`] remembers finished actions and re-created objects' new IDs, so an
//!   interrupted apply resumes and a later plan does not create anything twice.
//!
//! Invariants that every change must keep:
//! * a failed or partial read never becomes a commit, and never looks like a deletion;
//! * a write never carries a read-only property or a secret;
//! * the same tenant state gives byte-identical files;
//! * no token or secret reaches a log line, an error, a file or a commit.

pub mod audit;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod diff;
pub mod emulator;
pub mod env;
pub mod error;
pub mod graph;
pub mod history;
pub mod journal;
pub mod layout;
pub mod names;
pub mod normalize;
pub mod output;
pub mod plan;
pub mod report;
pub mod schema;
pub mod selector;
pub mod settings;
pub mod store;
pub mod validate;
pub mod yaml;
