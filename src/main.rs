//! The `guanjia` command line. Each command lives in `cli/`; this file only parses.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use guanjia::cli;

#[derive(Parser)]
#[command(
    name = "guanjia",
    version,
    about = "管家 — the property-management concierge"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then run the HTTP server and all background workers.
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Classify UTF-8 lines from stdin; one JSON object per line on stdout.
    Classify,
    /// Train the semantic heads from the labelled corpus (needs the encoder).
    Train(cli::train::TrainArgs),
    /// Score both tiers on labelled batches (needs the encoder).
    Evaluate(cli::train::EvaluateArgs),
    /// Chat as a resident with a running server, signing messages like the platform does.
    Chat(cli::chat::Args),
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: cli::staff::Command,
    },
    /// Reports.
    Report {
        #[command(subcommand)]
        command: cli::report::Command,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => cli::serve::run().await,
        Command::Migrate => cli::serve::migrate_only().await,
        Command::Classify => cli::classify::run().await,
        Command::Train(args) => cli::train::train(args).await,
        Command::Evaluate(args) => cli::train::evaluate(args).await,
        Command::Chat(args) => cli::chat::run(args).await,
        Command::Staff { command } => cli::staff::run(command).await,
        Command::Report { command } => cli::report::run(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guanjia: {e:#}");
            ExitCode::FAILURE
        }
    }
}
