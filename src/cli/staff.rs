//! `guanjia staff add`: creates a staff member and prints their API token once (only its
//! hash is stored).

use uuid::Uuid;

use crate::configuration::Settings;
use crate::staff::auth::{hash_token, new_token};
use crate::ticket::{Department, Role};

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

/// A staff member as the command line describes one, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStaff {
    pub name: String,
    pub department: Department,
    pub role: Role,
    pub buildings: Vec<String>,
}

impl NewStaff {
    pub fn parse(
        name: &str,
        department: &str,
        role: &str,
        buildings: &[String],
    ) -> Result<Self, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("--name is empty".into());
        }
        let department = Department::parse(department.trim()).ok_or_else(|| {
            format!(
                "unknown department `{department}` (one of: {})",
                Department::ALL
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let role = Role::parse(role.trim()).ok_or_else(|| {
            format!(
                "unknown role `{role}` (one of: {})",
                Role::ALL
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let buildings = buildings
            .iter()
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty())
            .collect();
        Ok(Self {
            name: name.to_owned(),
            department,
            role,
            buildings,
        })
    }
}

/// Stores `new` with a fresh token; returns (id, token).
pub async fn add(db: &sqlx::PgPool, new: &NewStaff) -> anyhow::Result<(Uuid, String)> {
    let id = Uuid::now_v7();
    let token = new_token();
    sqlx::query(
        "INSERT INTO staff (id, name, department, role, buildings, token_hash)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&new.name)
    .bind(new.department.as_str())
    .bind(new.role.as_str())
    .bind(&new.buildings)
    .bind(hash_token(&token))
    .execute(db)
    .await?;
    Ok((id, token))
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add {
            name,
            department,
            role,
            buildings,
        } => {
            let new = NewStaff::parse(&name, &department, &role, &buildings)
                .map_err(anyhow::Error::msg)?;
            let settings = Settings::load()?;
            let db = crate::startup::connect_db(&settings).await?;
            crate::startup::migrate(&db).await?;
            let (id, token) = add(&db, &new).await?;
            eprintln!(
                "created {} ({}, {}) id {id}; the token is shown only now:",
                new.name, new.department, new.role
            );
            println!("{token}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_department_role_and_buildings() {
        let ok = NewStaff::parse(
            "王师傅",
            "engineering",
            "worker",
            &["1".into(), " 2 ".into(), "".into()],
        )
        .unwrap();
        assert_eq!(ok.department, Department::Engineering);
        assert_eq!(ok.role, Role::Worker);
        assert_eq!(ok.buildings, vec!["1", "2"]);
        assert!(NewStaff::parse("x", "plumbing", "worker", &[])
            .unwrap_err()
            .contains("department"));
        assert!(NewStaff::parse("x", "security", "boss", &[])
            .unwrap_err()
            .contains("role"));
        assert!(NewStaff::parse(" ", "security", "worker", &[]).is_err());
    }
}
