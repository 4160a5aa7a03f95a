//! `guanjia chat`: talk to a running server as a resident, through the signed webhook of a
//! configured channel (default `demo`). Lines typed (or piped) on stdin are sent as
//! messages and the replies printed; a small listener on the channel's `callback_url`
//! prints what the server pushes later (status updates, surveys, staff replies), after
//! checking their signature.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::channel::replay;
use crate::channel::webhook::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::clock::{Clock, SystemClock};
use crate::configuration::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Who you are on the channel (the platform's user id); a fresh one by default.
    #[arg(long)]
    pub user: Option<String>,
    /// The webhook channel to talk through (`[webhook.channels.<name>]` in the config).
    #[arg(long, default_value = "demo")]
    pub channel: String,
    /// After stdin ends, keep listening for pushed messages this long (e.g. "5s").
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub linger: Duration,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let settings = Settings::load().context("loading the configuration")?;
    let channel = settings
        .webhook
        .channels
        .get(&args.channel)
        .with_context(|| {
            format!(
                "no [webhook.channels.{}] in the configuration",
                args.channel
            )
        })?;
    let secret = channel.secret.clone();
    let user = args
        .user
        .clone()
        .unwrap_or_else(|| format!("chat-{}", uuid::Uuid::new_v4().simple()));
    let max_skew = settings.webhook.max_skew.as_secs() as i64;

    match listen_address(&channel.callback_url) {
        Ok((addr, path)) => match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                let router = Router::new()
                    .route(&path, post(pushed))
                    .with_state(Listener {
                        secret: secret.clone(),
                        max_skew,
                    });
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router).await;
                });
                eprintln!("(listening for pushed messages on {addr}{path})");
            }
            Err(e) => eprintln!("(not listening for pushed messages: {addr}: {e})"),
        },
        Err(e) => eprintln!("(not listening for pushed messages: {e})"),
    }

    let endpoint = format!(
        "{}/webhook/{}",
        args.url.trim_end_matches('/'),
        args.channel
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    eprintln!("you are {user}; type a message and press Enter (Ctrl-D to quit)");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match send(&client, &endpoint, &secret, &user, text).await {
            Ok(reply) if reply.is_empty() => println!("管家: (received; the answer will follow)"),
            Ok(reply) => println!("管家: {reply}"),
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
    tokio::time::sleep(args.linger).await;
    Ok(())
}

/// Sends one message, signed like the platform does; returns the reply text.
async fn send(
    client: &reqwest::Client,
    endpoint: &str,
    secret: &SecretString,
    user: &str,
    text: &str,
) -> anyhow::Result<String> {
    let now = SystemClock.now();
    let body = json!({
        "message_id": format!("chat-{}", uuid::Uuid::now_v7()),
        "user_id": user,
        "text": text,
        "sent_at": now.to_rfc3339(),
    })
    .to_string();
    let ts = now.timestamp().to_string();
    let sig = signature::sign(secret.expose_secret().as_bytes(), &ts, body.as_bytes());
    let res = client
        .post(endpoint)
        .header(TIMESTAMP_HEADER, &ts)
        .header(SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .with_context(|| format!("POST {endpoint}"))?;
    let status = res.status();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!(
            "{status}: {}",
            answer["error"].as_str().unwrap_or("no details")
        );
    }
    Ok(answer["reply"].as_str().unwrap_or_default().to_owned())
}

/// `http://127.0.0.1:9090/callback` → (127.0.0.1:9090, "/callback").
fn listen_address(callback_url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let url = reqwest::Url::parse(callback_url)
        .with_context(|| format!("callback_url {callback_url:?}"))?;
    let addrs = url
        .socket_addrs(|| Some(80))
        .with_context(|| format!("callback_url {callback_url:?}"))?;
    let addr = addrs
        .into_iter()
        .next()
        .context("callback_url has no address")?;
    let path = if url.path().is_empty() {
        "/".to_owned()
    } else {
        url.path().to_owned()
    };
    Ok((addr, path))
}

#[derive(Clone)]
struct Listener {
    secret: SecretString,
    max_skew: i64,
}

/// A message the server pushed: printed if its signature and timestamp check out.
async fn pushed(State(listener): State<Listener>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let (ts, sig) = (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER));
    if !signature::verify(listener.secret.expose_secret().as_bytes(), ts, &body, sig)
        || !replay::fresh(ts, SystemClock.now().timestamp(), listener.max_skew)
    {
        eprintln!("(ignored a pushed message with a bad signature)");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(push) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    println!("{}", describe_push(&push));
    StatusCode::OK
}

fn describe_push(push: &Value) -> String {
    let kind = push["kind"].as_str().unwrap_or("message");
    let text = push["text"].as_str().unwrap_or_default();
    match push["ticket"].as_str().filter(|t| !t.is_empty()) {
        Some(ticket) => format!("管家 [{kind} {ticket}]: {text}"),
        None => format!("管家 [{kind}]: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_url_gives_address_and_path() {
        let (addr, path) = listen_address("http://127.0.0.1:9090/callback").unwrap();
        assert_eq!(addr.to_string(), "127.0.0.1:9090");
        assert_eq!(path, "/callback");
        let (_, path) = listen_address("http://127.0.0.1:9091").unwrap();
        assert_eq!(path, "/");
        assert!(listen_address("not a url").is_err());
    }

    #[test]
    fn pushes_are_described_with_their_ticket() {
        let p = json!({"event_id":"e","user_id":"u","text":"已派单","ticket":"R2611220001","kind":"status"});
        assert_eq!(describe_push(&p), "管家 [status R2611220001]: 已派单");
        let p = json!({"text":"hi","kind":"reply","ticket":null});
        assert_eq!(describe_push(&p), "管家 [reply]: hi");
    }
}
