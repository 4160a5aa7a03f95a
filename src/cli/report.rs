//! `guanjia report monthly --month YYYY-MM [--format json|csv|html]`: prints the monthly
//! customer-service report to stdout.

use std::io::Write;

use anyhow::Context;

use crate::configuration::Settings;
use crate::report::{self, Format, Month};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The monthly customer-service report (客服工作月报).
    Monthly {
        /// The month, in the property's local calendar: YYYY-MM.
        #[arg(long)]
        month: String,
        /// json, csv or html.
        #[arg(long, default_value = "json")]
        format: String,
    },
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Monthly { month, format } => {
            let month = Month::parse(&month)?;
            let format = Format::parse(&format)
                .with_context(|| format!("--format must be json, csv or html, got `{format}`"))?;
            let settings = Settings::load().context("loading configuration")?;
            let db = crate::startup::connect_db(&settings).await?;
            let report = report::monthly(&db, &settings, month).await?;
            let mut text = report::render(&report, format)?;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .context("writing to stdout")?;
            stdout.flush().context("writing to stdout")?;
            Ok(())
        }
    }
}
