//! `taishi admin`: scriptable administration of users and API tokens, straight on the store.
//! Passwords are read from standard input (never from the command line, where `ps` would show them);
//! a new token is printed once and only its hash is kept.

use crate::config::{ConfigArgs, Settings};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::io::{BufRead, Write};
use std::sync::Arc;
use taishi_model::{
    Actor, NewApiToken, NewUser, Org, OrgId, Page, Role, TokenFilter, TokenId, UserFilter,
};
use taishi_server::auth::{password, secret};
use taishi_store::Store;

/// Arguments of `taishi admin`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: AdminCommand,
}

/// What to administer.
#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user; the password is read from the first line of standard input.
    CreateUser {
        /// Login name.
        #[arg(long)]
        name: String,
        /// Role: admin, analyst, officer or viewer.
        #[arg(long)]
        role: Role,
        /// Code (or numeric id) of the org whose subtree the user may see.
        #[arg(long)]
        org: String,
        /// Display name [default: the login name].
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set a user's password from the first line of standard input; ends their sessions.
    SetPassword {
        /// Login name.
        #[arg(long)]
        name: String,
    },
    /// List users.
    ListUsers,
    /// Create an API token and print it once.
    CreateToken {
        /// What the token is for (sensor-01, ci-import).
        #[arg(long)]
        name: String,
        /// Role: admin, analyst, officer or viewer.
        #[arg(long)]
        role: Role,
        /// Code (or numeric id) of the org whose subtree the token may act on.
        #[arg(long)]
        org: String,
    },
    /// List API tokens (never their secrets).
    ListTokens {
        /// Include revoked tokens.
        #[arg(long)]
        all: bool,
    },
    /// Revoke an API token by id.
    RevokeToken {
        /// Token id (see list-tokens).
        #[arg(long)]
        id: i64,
    },
}

/// Runs an admin command.
pub fn run(args: AdminArgs) -> anyhow::Result<()> {
    let settings = Settings::for_store(&args.config)?;
    tokio::runtime::Runtime::new()?.block_on(async {
        settings.prepare_data_dir()?;
        let store = taishi_store::open(&settings.store)
            .await
            .with_context(|| format!("opening store {}", settings.store_redacted()))?;
        let r = dispatch(args.command, Arc::clone(&store)).await;
        store.close().await;
        r
    })
}

async fn dispatch(cmd: AdminCommand, store: Arc<dyn Store>) -> anyhow::Result<()> {
    let actor = Actor::system("cli");
    let mut out = std::io::stdout().lock();
    match cmd {
        AdminCommand::CreateUser {
            name,
            role,
            org,
            display_name,
        } => {
            let org = find_org(store.as_ref(), &org).await?;
            let pw = read_password()?;
            let password_hash = password::hash_password(&pw)?;
            let user = NewUser {
                display_name: display_name.unwrap_or_else(|| name.clone()),
                name,
                role,
                org_id: org.id,
                password_hash,
            };
            user.validate()
                .map_err(|e| anyhow::anyhow!("{}", list(&e)))?;
            let u = store.create_user(&actor, user).await?;
            writeln!(
                out,
                "created user {} (id {}, role {}, org {} {})",
                u.name, u.id, u.role, org.code, org.name
            )?;
        }
        AdminCommand::SetPassword { name } => {
            let Some((u, _)) = store.user_credentials(&name).await? else {
                bail!("no user named {name:?}")
            };
            let pw = read_password()?;
            store
                .set_password(&actor, u.id, &password::hash_password(&pw)?)
                .await?;
            writeln!(out, "password of {} changed; their sessions ended", u.name)?;
        }
        AdminCommand::ListUsers => {
            let mut after = None;
            writeln!(
                out,
                "{:>6}  {:<24} {:<8} {:>6}  status",
                "id", "name", "role", "org"
            )?;
            loop {
                let p = store
                    .list_users(
                        &UserFilter::default(),
                        Page {
                            limit: Page::MAX_LIMIT,
                            after,
                        },
                    )
                    .await?;
                for u in &p.items {
                    let status = if u.disabled { "disabled" } else { "active" };
                    writeln!(
                        out,
                        "{:>6}  {:<24} {:<8} {:>6}  {status}",
                        u.id, u.name, u.role, u.org_id
                    )?;
                }
                match p.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
        AdminCommand::CreateToken { name, role, org } => {
            let org = find_org(store.as_ref(), &org).await?;
            let t = secret::new_api_token();
            let new = NewApiToken {
                name,
                prefix: t.prefix,
                token_hash: t.hash,
                role,
                org_id: org.id,
                created_by: None,
            };
            let info = store.create_token(&actor, new).await?;
            writeln!(out, "{}", t.secret)?;
            writeln!(
                std::io::stderr(),
                "token {:?} (id {}, role {}, org {}) created; it is shown only this once",
                info.name,
                info.id,
                info.role,
                org.code
            )?;
        }
        AdminCommand::ListTokens { all } => {
            let filter = TokenFilter {
                within: None,
                include_revoked: all,
            };
            let mut after = None;
            writeln!(
                out,
                "{:>6}  {:<24} {:<14} {:<8} {:>6}  status",
                "id", "name", "prefix", "role", "org"
            )?;
            loop {
                let p = store
                    .list_tokens(
                        &filter,
                        Page {
                            limit: Page::MAX_LIMIT,
                            after,
                        },
                    )
                    .await?;
                for t in &p.items {
                    let status = match t.revoked_at {
                        Some(at) => format!("revoked {at}"),
                        None => "active".into(),
                    };
                    writeln!(
                        out,
                        "{:>6}  {:<24} {:<14} {:<8} {:>6}  {status}",
                        t.id, t.name, t.prefix, t.role, t.org_id
                    )?;
                }
                match p.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
        AdminCommand::RevokeToken { id } => {
            let t = store.revoke_token(&actor, TokenId(id)).await?;
            writeln!(out, "token {} ({}) revoked", t.id, t.name)?;
        }
    }
    Ok(())
}

fn list(errors: &[taishi_model::FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// An org by code, or by numeric id when no org has that code.
async fn find_org(store: &dyn Store, key: &str) -> anyhow::Result<Org> {
    match store.get_org_by_code(key).await {
        Ok(o) => Ok(o),
        Err(taishi_store::StoreError::NotFound { .. }) => match key.parse::<i64>() {
            Ok(id) => store
                .get_org(OrgId(id))
                .await
                .with_context(|| format!("no org with code or id {key:?}")),
            Err(_) => bail!("no org with code {key:?}"),
        },
        Err(e) => Err(e.into()),
    }
}

/// The first line of standard input, checked against the password rules.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_owned();
    password::check_new_password(&pw)
        .map_err(|m| anyhow::anyhow!("password (from standard input) {m}"))?;
    Ok(pw)
}
