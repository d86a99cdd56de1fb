use std::process::ExitCode;

use clap::Parser;
use idgit::cli::{self, Cli};
use idgit::error::EXIT_ERROR;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap exits 2 on usage errors, but 2 means "changes found" here.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    init_tracing(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            idgit::output::Printer::new(Default::default(), false)
                .error(&format!("cannot start: {error}"));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err((printer, error)) => {
            printer.error(&error.to_string());
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Logs go to stderr. Without -v only warnings from idgit itself are shown; Graph
/// retries are info.
fn init_tracing(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "off",
        (false, 0) => "idgit=warn",
        (false, 1) => "idgit=info",
        (false, _) => "idgit=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(idgit::env::RUST_LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
