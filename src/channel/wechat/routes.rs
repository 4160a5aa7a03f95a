//! The handlers: check who is speaking (signatures, 401), what they said (XML, 400), then
//! hand it to ingest and turn its answer into WeChat's reply. Rejected requests store
//! nothing.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::crypto::{self, AesKey};
use super::xml::{self, Push, XmlError};
use super::{reply, signature};
use crate::channel::ingest::{self, Answer, Arrival};
use crate::channel::replay::{self, Seen};
use crate::channel::ChannelRef;
use crate::configuration::WechatAccount;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct WechatQuery {
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
    msg_signature: Option<String>,
}

/// Why a request was refused; each maps to one status.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    #[error("unknown account")]
    UnknownAccount,
    #[error("missing query parameter {0}")]
    MissingParam(&'static str),
    #[error("signature does not match")]
    BadSignature,
    #[error("cannot decrypt: {0}")]
    Crypto(#[from] crypto::CryptoError),
    #[error("{0}")]
    Xml(#[from] XmlError),
    #[error("body is not UTF-8")]
    NotUtf8,
    #[error("body too large")]
    TooLarge,
    #[error("safe mode requested but the account has no valid EncodingAESKey")]
    NoKey,
    #[error("this account accepts safe-mode pushes only")]
    PlainRefused,
    #[error("timestamp outside the allowed window")]
    Stale,
    #[error("signature already used for another message (replay)")]
    Replay,
    #[error("storage unavailable")]
    Storage(#[from] sqlx::Error),
}

impl IntoResponse for WechatError {
    fn into_response(self) -> Response {
        let status = match &self {
            WechatError::UnknownAccount => StatusCode::NOT_FOUND,
            WechatError::MissingParam(_)
            | WechatError::Xml(_)
            | WechatError::NotUtf8
            | WechatError::NoKey => StatusCode::BAD_REQUEST,
            WechatError::BadSignature
            | WechatError::Crypto(_)
            | WechatError::Stale
            | WechatError::Replay => StatusCode::UNAUTHORIZED,
            WechatError::PlainRefused => StatusCode::FORBIDDEN,
            WechatError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WechatError::Storage(_) => {
                tracing::error!(error = %self, "wechat push not stored");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        if status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::info!(%status, reason = %self, "wechat request refused");
            metrics::counter!("guanjia_inbound_messages_total", "channel" => "wechat", "outcome" => "rejected").increment(1);
        }
        (status, self.to_string()).into_response()
    }
}

fn account<'s>(state: &'s AppState, id: &str) -> Result<&'s WechatAccount, WechatError> {
    state
        .settings
        .wechat
        .accounts
        .get(id)
        .ok_or(WechatError::UnknownAccount)
}

fn required<'q>(value: &'q Option<String>, name: &'static str) -> Result<&'q str, WechatError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or(WechatError::MissingParam(name))
}

/// The account's keys, current first. An unusable configured key is skipped, not fatal:
/// the configuration check at startup is where it should be caught.
fn keys(account: &WechatAccount) -> Vec<AesKey> {
    [
        &account.encoding_aes_key,
        &account.previous_encoding_aes_key,
    ]
    .into_iter()
    .flatten()
    .map(|k| k.expose_secret())
    .filter(|k| !k.is_empty())
    .filter_map(|k| AesKey::parse(k).ok())
    .collect()
}

/// `GET /wechat/{account}`: the platform checks the URL is ours. Official Accounts sign
/// with `signature` and send `echostr` in the clear; WeCom-style callbacks sign with
/// `msg_signature` over an encrypted `echostr`, which we decrypt.
pub async fn verify_url(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(q): Query<WechatQuery>,
) -> Result<Response, WechatError> {
    let account = account(&state, &account_id)?;
    let timestamp = required(&q.timestamp, "timestamp")?;
    let nonce = required(&q.nonce, "nonce")?;
    let echostr = required(&q.echostr, "echostr")?;
    let token = account.token.expose_secret();
    if let (None, Some(msg_signature)) = (&q.signature, &q.msg_signature) {
        if !signature::verify(msg_signature, &[token, timestamp, nonce, echostr]) {
            return Err(WechatError::BadSignature);
        }
        let (plain, _) = crypto::decrypt_with_keys(&keys(account), &account.appid, echostr)?;
        return Ok(plain_text(plain));
    }
    let sig = required(&q.signature, "signature")?;
    if !signature::verify(sig, &[token, timestamp, nonce]) {
        return Err(WechatError::BadSignature);
    }
    Ok(plain_text(echostr.to_owned()))
}

/// `POST /wechat/{account}`: a message or event pushed by the platform.
pub async fn push(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(q): Query<WechatQuery>,
    body: Bytes,
) -> Result<Response, WechatError> {
    let account = account(&state, &account_id)?;
    let timestamp = required(&q.timestamp, "timestamp")?;
    let nonce = required(&q.nonce, "nonce")?;
    if body.len() > state.settings.server.max_body_bytes {
        return Err(WechatError::TooLarge);
    }
    let token = account.token.expose_secret();
    let safe = q.encrypt_type.as_deref() == Some("aes");
    let (push, key) = if safe {
        let msg_signature = required(&q.msg_signature, "msg_signature")?;
        let text = std::str::from_utf8(&body).map_err(|_| WechatError::NotUtf8)?;
        let encrypt = xml::parse_envelope(text)?;
        if !signature::verify(msg_signature, &[token, timestamp, nonce, &encrypt]) {
            return Err(WechatError::BadSignature);
        }
        let keys = keys(account);
        if keys.is_empty() {
            return Err(WechatError::NoKey);
        }
        let (inner, key) = crypto::decrypt_with_keys(&keys, &account.appid, &encrypt)?;
        (xml::parse_push(&inner)?, Some(key.clone()))
    } else {
        if account.safe_mode_only && !keys(account).is_empty() {
            return Err(WechatError::PlainRefused);
        }
        let sig = required(&q.signature, "signature")?;
        if !signature::verify(sig, &[token, timestamp, nonce]) {
            return Err(WechatError::BadSignature);
        }
        let text = std::str::from_utf8(&body).map_err(|_| WechatError::NotUtf8)?;
        (xml::parse_push(text)?, None)
    };
    accept_once(&state, &account_id, timestamp, nonce, &body).await?;
    let arrival = arrival(&account_id, &account.appid, &push);
    let answer = ingest::ingest(&state.ingest, arrival).await?;
    let content = match answer {
        Answer::Reply(r) if !r.text.is_empty() => r.text,
        _ => return Ok(success()),
    };
    let (passive, _) = reply::split(&content, reply::PASSIVE_LIMIT);
    let now = state.clock.now().timestamp();
    let xml = reply::text(&push.from_user, &push.to_user, now, passive);
    let out = match key {
        Some(key) => {
            let reply_nonce = rand::thread_rng()
                .gen_range(100_000_000u32..1_000_000_000)
                .to_string();
            reply::encrypted(&key, &account.appid, token, &xml, now, &reply_nonce)
        }
        None => xml,
    };
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response())
}

/// A signed push is fresh and used once. Plain mode signs no body, so a (timestamp, nonce)
/// seen with another body is a replay; seen with the same body it is the platform retrying,
/// which the dedup record answers.
async fn accept_once(
    state: &AppState,
    account_id: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Result<(), WechatError> {
    let max_skew = i64::try_from(state.settings.wechat.max_skew.as_secs()).unwrap_or(i64::MAX);
    if !replay::fresh(timestamp, state.clock.now().timestamp(), max_skew) {
        return Err(WechatError::Stale);
    }
    let key = state.key(&format!(
        "replay:wechat:{account_id}:{}:{}",
        timestamp.trim(),
        nonce.trim()
    ));
    let mut redis = state.redis.clone();
    match replay::remember(&mut redis, &key, body, replay::memory_secs(max_skew)).await {
        Ok(Seen::First | Seen::Retry) => Ok(()),
        Ok(Seen::Replayed) => Err(WechatError::Replay),
        // WeChat retries a push three times in about 15 s and then drops it: with Redis
        // away, a resident's message is worth more than the memory, and the window alone
        // still bounds a replay to minutes.
        Err(e) => {
            tracing::warn!(error = %e, "wechat replay memory unavailable; the window alone applies");
            metrics::counter!("guanjia_replay_unchecked_total", "channel" => "wechat").increment(1);
            Ok(())
        }
    }
}

fn arrival(account_id: &str, appid: &str, push: &Push) -> Arrival {
    Arrival {
        channel: ChannelRef::Wechat {
            account: account_id.to_owned(),
        },
        external_user: push.from_user.clone(),
        dedup_key: push.dedup_key(appid),
        body: push.body.clone(),
        raw: push.fields.to_json(),
        passive_limit: Some(reply::PASSIVE_LIMIT),
    }
}

/// "Received, no reply now": plain, even in safe mode.
fn success() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "success",
    )
        .into_response()
}

fn plain_text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}
