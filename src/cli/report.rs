//! `guanjia report monthly`.

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The monthly customer-service report (客服工作月报).
    Monthly {
        #[arg(long)]
        month: String,
        #[arg(long, default_value = "json")]
        format: String,
    },
}

pub async fn run(_command: Command) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
