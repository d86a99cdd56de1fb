//! Backup benchmark: wall time and peak memory of a first and a no-change backup of a
//! synthetic tenant, side by side with a minimal client that only downloads the same
//! pages from the same emulator. The ratio is the figure that matters: these machines
//! are shared and noisy, and both sides of a ratio suffer the same noise.
//!
//! ```text
//! cargo bench --bench backup -- --users 100000
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use idgit::catalog::{self, Shape};
use idgit::graph::{ClientOptions, Credential, GraphClient, Pager, Secret};

#[path = "support.rs"]
mod support;

use support::{run_backup, start_emulator};

const CONCURRENCY: usize = 8;

fn main() {
    let users = support::users_arg(20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The emulator runs in its own process: a child forked from a process that holds
    // the emulated tenant would inherit its memory high-water mark, and the peak memory
    // measured for idgit would be the emulator's.
    let (mut emulator, envs) = start_emulator(users);
    let env = |name: &str| {
        envs.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let credential = Credential::ClientSecret {
        authority_host: env("AZURE_AUTHORITY_HOST"),
        tenant_id: env("AZURE_TENANT_ID"),
        client_id: env("AZURE_CLIENT_ID"),
        secret: Secret::new(env("AZURE_CLIENT_SECRET")),
    };
    let (download, requests) = runtime.block_on(download_only(&env("IDGIT_GRAPH_URL"), credential));
    eprintln!(
        "download only: {requests} requests in {:.1}s",
        download.as_secs_f64()
    );

    let dir = tempfile::tempdir().unwrap();
    // A bare repository measures the snapshot and commit alone; a repository with a
    // work tree adds writing every file to disk, which on a first backup is bound by
    // the file system rather than by idgit.
    let bare = dir.path().join("bare.git");
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head("main");
    git2::Repository::init_opts(&bare, &options).unwrap();
    let bare_first = run_backup(&bare, &envs);
    let bare_again = run_backup(&bare, &envs);
    let repo = dir.path().join("backup");
    let first = run_backup(&repo, &envs);
    let again = run_backup(&repo, &envs);
    let objects = count_files(&repo);
    let _ = emulator.kill();
    let _ = emulator.wait();

    println!("Backup of a synthetic tenant: --seed large --users {users} ({objects} objects, {requests} requests)\n");
    println!("| run | wall time | peak memory (RSS) | time / download-only |");
    println!("|---|---|---|---|");
    println!(
        "| download only (minimal client, same pages) | {:.1} s | - | 1.00 |",
        download.as_secs_f64()
    );
    let runs = [
        ("first backup, bare repository", bare_first),
        ("no-change backup, bare repository", bare_again),
        ("first backup, with work tree", first),
        ("no-change backup, with work tree", again),
    ];
    for (name, (wall, rss)) in runs {
        println!(
            "| {name} | {:.1} s | {} MB | {:.2} |",
            wall.as_secs_f64(),
            rss / 1024,
            wall.as_secs_f64() / download.as_secs_f64()
        );
    }
}

/// Downloads every page idgit reads, with the same concurrency, and throws it away.
async fn download_only(base_url: &str, credential: Credential) -> (Duration, u64) {
    let options = ClientOptions {
        graph_url: base_url.into(),
        max_concurrency: CONCURRENCY,
        ..ClientOptions::default()
    };
    let client = GraphClient::new(options, credential).unwrap();
    client.sign_in().await.unwrap();
    let started = Instant::now();
    let kinds = catalog::KINDS.iter().map(|kind| {
        let client = client.clone();
        async move {
            if let Shape::Singleton { .. } = kind.shape {
                client.get_json(&kind.list_url()).await.unwrap();
                return;
            }
            let mut pages = Pager::new(client.url(&kind.list_url()));
            while let Some(url) = pages.next_url().unwrap() {
                let page = client.get_page(&url).await.unwrap();
                let ids: Vec<String> = page
                    .items
                    .iter()
                    .filter_map(|o| o.get("id")?.as_str().map(str::to_string))
                    .collect();
                stream::iter(ids)
                    .map(|id| {
                        let client = client.clone();
                        async move {
                            for rel in kind.relationships {
                                client
                                    .get_all(&kind.relationship_url(&id, rel))
                                    .await
                                    .unwrap();
                            }
                        }
                    })
                    .buffered(CONCURRENCY)
                    .collect::<Vec<()>>()
                    .await;
                pages.advance(page.next_link);
            }
        }
    });
    futures_util::future::join_all(kinds).await;
    (started.elapsed(), client.request_count())
}

fn count_files(repo: &std::path::Path) -> usize {
    let repo = git2::Repository::open(repo).unwrap();
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let mut count = 0;
    tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            count += 1;
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    count
}
