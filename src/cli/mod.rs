//! The command line: global flags, the command enum, and the one dispatch `match`.

use clap::{Parser, Subcommand};

use crate::commands::{
    apply, backup, demo, diff, drift, emulator, init, log, plan, show, validate,
};
use crate::error::{Outcome, UserError};
use crate::output::Printer;

/// Keep a Microsoft Entra ID tenant's configuration as code in Git.
///
/// Exit status: 0 success, 1 error, 2 changes found (where that is the question asked).
/// Connection settings come from flags, idgit.yaml and the environment (AZURE_TENANT_ID,
/// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST, IDGIT_GRAPH_URL,
/// IDGIT_ACCESS_TOKEN), in that order.
#[derive(Debug, Parser)]
#[command(
    name = "idgit",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr; no progress.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Backup(backup::BackupArgs),
    Diff(diff::DiffArgs),
    Drift(drift::DriftArgs),
    Log(log::LogArgs),
    Show(show::ShowArgs),
    Plan(plan::PlanArgs),
    Apply(apply::ApplyArgs),
    Validate(validate::ValidateArgs),
    Init(init::InitArgs),
    Emulator(emulator::EmulatorArgs),
    Demo(demo::DemoArgs),
}

impl Command {
    fn format(&self) -> crate::output::Format {
        match self {
            Command::Backup(args) => args.format,
            Command::Log(args) => args.format,
            Command::Show(args) => args.format,
            Command::Validate(args) => args.format,
            Command::Apply(args) => args.format,
            Command::Emulator(_)
            | Command::Init(_)
            | Command::Demo(_)
            | Command::Diff(_)
            | Command::Drift(_)
            | Command::Plan(_) => crate::output::Format::Text,
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome, (Printer, UserError)> {
    let printer = Printer::new(cli.command.format(), cli.quiet);
    let result = match cli.command {
        Command::Backup(args) => backup::run(args, &printer).await,
        Command::Diff(args) => diff::run(args, &printer),
        Command::Drift(args) => drift::run(args, &printer).await,
        Command::Log(args) => log::run(args, &printer),
        Command::Show(args) => show::run(args, &printer),
        Command::Plan(args) => plan::run(args, &printer).await,
        Command::Apply(args) => apply::run(args, &printer).await,
        Command::Validate(args) => validate::run(args, &printer),
        Command::Init(args) => init::run(args, &printer),
        Command::Emulator(args) => emulator::run(args, &printer).await,
        Command::Demo(args) => demo::run(args, &printer).await,
    };
    result.map_err(|error| (printer, error))
}
