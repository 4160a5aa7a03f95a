//! The WeChat Official Account API, as far as guanjia sends through it (wechat.md §5):
//! the shared access token, customer-service messages and template messages. The base URL
//! comes from the account's `api_base`, so tests point it at a local stand-in.

use redis::aio::ConnectionManager;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};

use super::failure::Failure;
use super::token_cache;
use crate::configuration::WechatAccount;

/// What an `errcode` asks of us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrClass {
    Ok,
    /// 40001 / 42001 / 40014: the token is no good; refresh once and retry once.
    TokenInvalid,
    /// 45015 / 45047 / 43101: the customer-service window is closed; use a template.
    UseTemplate,
    /// 40003 / 43004: the resident cannot be reached.
    Permanent,
    /// 40037 / 47003: a template is misconfigured.
    Config,
    /// 45009: the daily quota is used up.
    Quota,
    /// -1 and anything unknown: try again later.
    Retry,
}

pub fn classify(errcode: i64) -> ErrClass {
    match errcode {
        0 => ErrClass::Ok,
        40001 | 42001 | 40014 => ErrClass::TokenInvalid,
        45015 | 45047 | 43101 => ErrClass::UseTemplate,
        40003 | 43004 => ErrClass::Permanent,
        40037 | 47003 => ErrClass::Config,
        45009 => ErrClass::Quota,
        _ => ErrClass::Retry,
    }
}

/// Why a send did not go through, for the caller to choose what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The customer-service window is closed: send a template message instead.
    UseTemplate,
    Failed(Failure),
}

impl From<Failure> for SendError {
    fn from(f: Failure) -> Self {
        SendError::Failed(f)
    }
}

#[derive(Debug, Deserialize)]
struct ApiReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

pub struct WechatApi<'a> {
    http: &'a reqwest::Client,
    redis: &'a ConnectionManager,
    account: &'a WechatAccount,
    token_key: String,
}

impl<'a> WechatApi<'a> {
    /// `token_key` is the Redis key shared by every instance (`<prefix>:wx:token:<appid>`).
    pub fn new(
        http: &'a reqwest::Client,
        redis: &'a ConnectionManager,
        account: &'a WechatAccount,
        token_key: String,
    ) -> Self {
        Self {
            http,
            redis,
            account,
            token_key,
        }
    }

    /// A customer-service text message (客服消息).
    pub async fn send_custom(
        &self,
        openid: &str,
        text: &str,
        client_msg_id: &str,
    ) -> Result<(), SendError> {
        let body = json!({
            "touser": openid,
            "msgtype": "text",
            "text": {"content": text},
            "client_msg_id": client_msg_id,
        });
        self.call("/cgi-bin/message/custom/send", &body).await
    }

    /// A template message (模板消息); `data` holds `keyword1`… values.
    pub async fn send_template(
        &self,
        openid: &str,
        template_id: &str,
        data: Value,
        client_msg_id: &str,
    ) -> Result<(), SendError> {
        let body = json!({
            "touser": openid,
            "template_id": template_id,
            "data": data,
            "client_msg_id": client_msg_id,
        });
        match self.call("/cgi-bin/message/template/send", &body).await {
            // A template that also meets a closed window has nowhere else to go.
            Err(SendError::UseTemplate) => Err(SendError::Failed(Failure::Retry(
                "template send refused: window closed".into(),
            ))),
            other => other,
        }
    }

    async fn call(&self, path: &str, body: &Value) -> Result<(), SendError> {
        let token = self.token().await?;
        match self.post(path, &token, body).await? {
            ErrClass::TokenInvalid => {
                token_cache::invalidate(self.redis, &self.token_key, &token).await?;
                let fresh = self.token().await?;
                match self.post(path, &fresh, body).await? {
                    ErrClass::TokenInvalid => {
                        Err(Failure::Retry("access token refused twice".into()).into())
                    }
                    class => outcome(class, "after token refresh"),
                }
            }
            class => outcome(class, path),
        }
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Result<ErrClass, Failure> {
        let url = format!("{}{path}", self.account.api_base.trim_end_matches('/'));
        let res = self
            .http
            .post(url)
            .query(&[("access_token", token)])
            .json(body)
            .send()
            .await
            .map_err(|e| Failure::from_http(&e))?;
        let status = res.status();
        if !status.is_success() {
            return Err(Failure::Retry(format!("{path} answered HTTP {status}")));
        }
        let reply: ApiReply = res
            .json()
            .await
            .map_err(|e| Failure::Retry(format!("{path}: unreadable answer: {e}")))?;
        let class = classify(reply.errcode);
        if class != ErrClass::Ok {
            tracing::warn!(path, errcode = reply.errcode, errmsg = %reply.errmsg, "WeChat API error");
        }
        Ok(class)
    }

    async fn token(&self) -> Result<String, Failure> {
        token_cache::get(self.redis, &self.token_key, || self.fetch_token()).await
    }

    /// `stable_token` does not invalidate tokens other programs hold, so it is preferred;
    /// `/cgi-bin/token` is the fallback where it is not offered.
    async fn fetch_token(&self) -> Result<(String, u64), Failure> {
        let base = self.account.api_base.trim_end_matches('/');
        let stable = self
            .http
            .post(format!("{base}/cgi-bin/stable_token"))
            .json(&json!({
                "grant_type": "client_credential",
                "appid": self.account.appid,
                "secret": self.account.secret.expose_secret(),
            }))
            .send()
            .await
            .map_err(|e| Failure::from_http(&e))?;
        let res = if stable.status() == reqwest::StatusCode::NOT_FOUND {
            self.http
                .get(format!("{base}/cgi-bin/token"))
                .query(&[
                    ("grant_type", "client_credential"),
                    ("appid", self.account.appid.as_str()),
                    ("secret", self.account.secret.expose_secret()),
                ])
                .send()
                .await
                .map_err(|e| Failure::from_http(&e))?
        } else {
            stable
        };
        if !res.status().is_success() {
            return Err(Failure::Retry(format!(
                "token endpoint answered HTTP {}",
                res.status()
            )));
        }
        let reply: ApiReply = res
            .json()
            .await
            .map_err(|e| Failure::Retry(format!("token: unreadable answer: {e}")))?;
        match (reply.errcode, reply.access_token) {
            (0, Some(token)) => Ok((token, reply.expires_in.unwrap_or(7200))),
            // 40013 invalid appid, 40125 invalid secret, 40164 IP not whitelisted.
            (40013 | 40125 | 40164, _) => Err(Failure::Config(format!(
                "access token refused: {} {}",
                reply.errcode, reply.errmsg
            ))),
            (code, _) => Err(Failure::Retry(format!(
                "access token: {code} {}",
                reply.errmsg
            ))),
        }
    }
}

fn outcome(class: ErrClass, what: &str) -> Result<(), SendError> {
    match class {
        ErrClass::Ok => Ok(()),
        ErrClass::UseTemplate => Err(SendError::UseTemplate),
        ErrClass::Permanent => {
            Err(Failure::Permanent(format!("{what}: resident unreachable")).into())
        }
        ErrClass::Config => Err(Failure::Config(format!("{what}: template misconfigured")).into()),
        ErrClass::Quota => Err(Failure::Paused {
            for_: std::time::Duration::from_secs(3600),
            reason: format!("{what}: daily quota reached (45009)"),
        }
        .into()),
        ErrClass::TokenInvalid | ErrClass::Retry => {
            Err(Failure::Retry(format!("{what}: platform error")).into())
        }
    }
}

/// Cuts `text` to at most `n` characters (template values are cut to 20 by the platform;
/// cutting ourselves decides what survives).
pub fn cut(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// The template fields for a message: the ticket number, then the text in two 20-character
/// pieces. `first`/`remark` carry the whole text for clients that still show them.
pub fn template_data(ticket: Option<&str>, text: &str) -> Value {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest: String = flat.chars().skip(20).collect();
    json!({
        "first": {"value": text},
        "keyword1": {"value": cut(ticket.unwrap_or("-"), 20)},
        "keyword2": {"value": cut(&flat, 20)},
        "keyword3": {"value": if rest.is_empty() { "-".to_owned() } else { cut(&rest, 20) }},
        "remark": {"value": text},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_documented_errcode() {
        assert_eq!(classify(0), ErrClass::Ok);
        for c in [40001, 42001, 40014] {
            assert_eq!(classify(c), ErrClass::TokenInvalid, "{c}");
        }
        for c in [45015, 45047, 43101] {
            assert_eq!(classify(c), ErrClass::UseTemplate, "{c}");
        }
        for c in [40003, 43004] {
            assert_eq!(classify(c), ErrClass::Permanent, "{c}");
        }
        for c in [40037, 47003] {
            assert_eq!(classify(c), ErrClass::Config, "{c}");
        }
        assert_eq!(classify(45009), ErrClass::Quota);
        assert_eq!(classify(-1), ErrClass::Retry);
        assert_eq!(classify(99999), ErrClass::Retry);
    }

    #[test]
    fn outcomes_follow_the_class() {
        assert_eq!(outcome(ErrClass::Ok, "x"), Ok(()));
        assert_eq!(
            outcome(ErrClass::UseTemplate, "x"),
            Err(SendError::UseTemplate)
        );
        assert!(matches!(
            outcome(ErrClass::Permanent, "x"),
            Err(SendError::Failed(Failure::Permanent(_)))
        ));
        assert!(matches!(
            outcome(ErrClass::Config, "x"),
            Err(SendError::Failed(Failure::Config(_)))
        ));
        assert!(matches!(
            outcome(ErrClass::Quota, "x"),
            Err(SendError::Failed(Failure::Paused { .. }))
        ));
        assert!(matches!(
            outcome(ErrClass::Retry, "x"),
            Err(SendError::Failed(Failure::Retry(_)))
        ));
    }

    #[test]
    fn template_values_are_cut_to_twenty_characters() {
        let text = "您的工单R2611220001已处理完毕,请您回复数字为本次服务评分:5 非常满意,4 满意,3 一般,2 不满意,1 非常不满意。";
        let data = template_data(Some("R2611220001"), text);
        for k in ["keyword1", "keyword2", "keyword3"] {
            let v = data[k]["value"].as_str().unwrap();
            assert!(v.chars().count() <= 20, "{k}: {v}");
            assert!(!v.is_empty());
        }
        assert_eq!(data["keyword1"]["value"], "R2611220001");
        assert_eq!(data["keyword2"]["value"], "您的工单R2611220001已处理完毕");
        assert_eq!(
            data["keyword3"]["value"],
            ",请您回复数字为本次服务评分:5 非常满"
        );
        assert_eq!(data["first"]["value"], text);
    }

    #[test]
    fn short_texts_and_missing_tickets_still_fill_every_keyword() {
        let data = template_data(None, "你好");
        assert_eq!(data["keyword1"]["value"], "-");
        assert_eq!(data["keyword2"]["value"], "你好");
        assert_eq!(data["keyword3"]["value"], "-");
    }
}
