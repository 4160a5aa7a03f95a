//! `POST /webhook/{channel}`: verify (signature, freshness, replay — all 401), parse (400),
//! then ingest and reply `{"reply": "...", "acts": [...]}`. Rejected requests store nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret;
use serde_json::json;

use super::message::WebhookMessage;
use super::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::channel::ingest::{self, Answer, Arrival};
use crate::channel::{replay, ChannelRef, MessageBody};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("unknown channel")]
    UnknownChannel,
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("signature does not match")]
    BadSignature,
    #[error("timestamp outside the allowed window")]
    Stale,
    #[error("request already seen (replay)")]
    Replay,
    #[error("{0}")]
    BadBody(String),
    #[error("body too large")]
    TooLarge,
    #[error("replay store unavailable")]
    Redis(#[from] redis::RedisError),
    #[error("storage unavailable")]
    Storage(#[from] sqlx::Error),
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = match &self {
            WebhookError::UnknownChannel => StatusCode::NOT_FOUND,
            WebhookError::MissingHeader(_)
            | WebhookError::BadSignature
            | WebhookError::Stale
            | WebhookError::Replay => StatusCode::UNAUTHORIZED,
            WebhookError::BadBody(_) => StatusCode::BAD_REQUEST,
            WebhookError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::Redis(_) | WebhookError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %self, "webhook message not stored");
        } else {
            tracing::info!(%status, reason = %self, "webhook request refused");
            metrics::counter!("guanjia_inbound_messages_total", "channel" => "webhook", "outcome" => "rejected").increment(1);
        }
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, WebhookError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or(WebhookError::MissingHeader(name))
}

pub async fn receive(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebhookError> {
    let config = state
        .settings
        .webhook
        .channels
        .get(&channel)
        .ok_or(WebhookError::UnknownChannel)?;
    if body.len() > state.settings.server.max_body_bytes {
        return Err(WebhookError::TooLarge);
    }
    let timestamp = header(&headers, TIMESTAMP_HEADER)?;
    let sig = header(&headers, SIGNATURE_HEADER)?;
    if !signature::verify(
        config.secret.expose_secret().as_bytes(),
        timestamp,
        &body,
        sig,
    ) {
        return Err(WebhookError::BadSignature);
    }
    let max_skew = i64::try_from(state.settings.webhook.max_skew.as_secs()).unwrap_or(i64::MAX);
    if !replay::fresh(timestamp, state.clock.now().timestamp(), max_skew) {
        return Err(WebhookError::Stale);
    }
    remember_signature(&state, &channel, sig, max_skew).await?;
    let message = WebhookMessage::parse(&body).map_err(WebhookError::BadBody)?;
    let arrival = Arrival {
        channel: ChannelRef::Webhook { channel },
        external_user: message.user_id.clone(),
        dedup_key: message.message_id.clone(),
        body: MessageBody::Text {
            text: message.text.clone(),
        },
        raw: message.to_json(),
        passive_limit: None,
    };
    let reply = match ingest::ingest(&state.ingest, arrival).await? {
        Answer::Reply(r) => r,
        Answer::Later => ingest::Reply::default(),
    };
    // `acts` (what the reply does: read_back, filed, …) is an addition to the contract's
    // `{"reply"}`; left out when the reply does nothing a client could act on.
    let body = if reply.acts.is_empty() {
        json!({ "reply": reply.text })
    } else {
        json!({ "reply": reply.text, "acts": reply.acts })
    };
    Ok(Json(body).into_response())
}

/// A signature is accepted once. It is remembered for as long as its timestamp could still
/// pass the freshness check (the window either side), then forgotten.
async fn remember_signature(
    state: &AppState,
    channel: &str,
    sig: &str,
    max_skew: i64,
) -> Result<(), WebhookError> {
    let key = state.key(&format!(
        "replay:webhook:{channel}:{}",
        sig.trim().to_ascii_lowercase()
    ));
    let ttl = replay::memory_secs(max_skew);
    let mut redis = state.redis.clone();
    let set: Option<String> = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(ttl)
        .query_async(&mut redis)
        .await?;
    match set {
        Some(_) => Ok(()),
        None => Err(WebhookError::Replay),
    }
}
