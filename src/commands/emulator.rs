//! `idgit emulator`: run the Graph emulator standalone.

use std::net::SocketAddr;

use crate::emulator::{self, EmulatorConfig, Seed};
use crate::error::{Outcome, UserError};
use crate::output::Printer;

/// Run a local stand-in for Microsoft Graph and its token endpoint.
///
/// Serves the Graph subset idgit uses, with Graph's paging, default property sets,
/// error shapes and throttling, over a seeded, deterministic tenant. Point idgit at it
/// with the environment variables it prints. Stop it with Ctrl-C.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8734")]
    pub listen: SocketAddr,
    /// Tenant to start with: demo (small, realistic), large (synthetic, see --users) or empty.
    #[arg(long, value_name = "NAME", default_value = "demo", value_parser = ["demo", "large", "empty"])]
    pub seed: String,
    /// Number of users for --seed large; groups, apps and policies scale with it.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub users: usize,
    /// Largest page the server returns, even when $top asks for more.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=999))]
    pub max_page_size: u16,
}

/// The last line `idgit emulator` prints once it is ready.
const READY_LINE: &str = "Press Ctrl-C to stop.";

/// Reads what a running `idgit emulator` printed up to its ready line: the connection
/// variables of its `export NAME=value` lines. For scripts, tests and benchmarks that
/// start the emulator as a process.
pub fn read_printed_env(output: impl std::io::BufRead) -> Vec<(String, String)> {
    let mut envs = Vec::new();
    for line in output.lines() {
        let Ok(line) = line else { break };
        if let Some((name, value)) = line
            .trim()
            .strip_prefix("export ")
            .and_then(|l| l.split_once('='))
        {
            envs.push((name.to_string(), value.to_string()));
        }
        if line == READY_LINE {
            break;
        }
    }
    envs
}

pub fn config(seed: &str, users: usize) -> Result<EmulatorConfig, UserError> {
    let seed = match seed {
        "demo" => Seed::Demo,
        "empty" => Seed::Empty,
        "large" => Seed::Large { users },
        other => {
            return Err(UserError::new(format!("unknown seed {other:?}"))
                .with_hint("use demo, large or empty"))
        }
    };
    Ok(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
}

pub async fn run(args: EmulatorArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let mut config = config(&args.seed, args.users)?;
    config.max_page_size = usize::from(args.max_page_size);
    let handle = emulator::start(config, args.listen).await.map_err(|e| {
        UserError::new(format!("cannot listen on {}: {e}", args.listen))
            .with_hint("choose another address with --listen, e.g. --listen 127.0.0.1:0")
    })?;
    printer.line(&format!(
        "Graph emulator listening on {} (seed {}).",
        handle.base_url(),
        args.seed
    ));
    printer.line("Point idgit at it with:");
    for (name, value) in emulator::demo_credentials_env(&handle) {
        printer.line(&format!("  export {name}={value}"));
    }
    printer.line(READY_LINE);
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| UserError::new(format!("cannot wait for Ctrl-C: {e}")))?;
    handle.shutdown().await;
    Ok(Outcome::Success)
}
