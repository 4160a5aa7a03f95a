//! `guanjia staff add`.

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a staff member and print their API token once.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        department: String,
        #[arg(long, default_value = "worker")]
        role: String,
        #[arg(long, value_delimiter = ',')]
        buildings: Vec<String>,
    },
}

pub async fn run(_command: Command) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
