//! WeCom (企业微信) application messages, for staff alerts when `escalation.channel = "wecom"`
//! (wechat.md §6). The token is shared through Redis like the Official Account's.

use redis::aio::ConnectionManager;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use super::failure::Failure;
use super::token_cache;
use super::wechat_api::{classify, ErrClass};
use crate::configuration::WecomAlerts;

#[derive(Debug, Deserialize)]
struct ApiReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

pub struct WecomApi<'a> {
    pub http: &'a reqwest::Client,
    pub redis: &'a ConnectionManager,
    pub settings: &'a WecomAlerts,
    pub token_key: String,
}

impl WecomApi<'_> {
    /// Sends `text` to `touser` (`UserID1|UserID2`, or `@all`).
    pub async fn send_text(&self, touser: &str, text: &str) -> Result<(), Failure> {
        let body = json!({
            "touser": touser,
            "msgtype": "text",
            "agentid": self.settings.agentid,
            "text": {"content": text},
        });
        let token = self.token().await?;
        match self.post(&token, &body).await? {
            ErrClass::TokenInvalid => {
                token_cache::invalidate(self.redis, &self.token_key, &token).await?;
                let fresh = self.token().await?;
                match self.post(&fresh, &body).await? {
                    ErrClass::Ok => Ok(()),
                    class => Err(Failure::Retry(format!("WeCom send: {class:?}"))),
                }
            }
            ErrClass::Ok => Ok(()),
            ErrClass::Config | ErrClass::Permanent => {
                Err(Failure::Config("WeCom refused the message".into()))
            }
            class => Err(Failure::Retry(format!("WeCom send: {class:?}"))),
        }
    }

    async fn post(&self, token: &str, body: &serde_json::Value) -> Result<ErrClass, Failure> {
        let url = format!(
            "{}/cgi-bin/message/send",
            self.settings.api_base.trim_end_matches('/')
        );
        let res = self
            .http
            .post(url)
            .query(&[("access_token", token)])
            .json(body)
            .send()
            .await
            .map_err(|e| Failure::from_http(&e))?;
        if !res.status().is_success() {
            return Err(Failure::Retry(format!(
                "WeCom answered HTTP {}",
                res.status()
            )));
        }
        let reply: ApiReply = res
            .json()
            .await
            .map_err(|e| Failure::Retry(format!("WeCom: unreadable answer: {e}")))?;
        if reply.errcode != 0 {
            tracing::warn!(errcode = reply.errcode, errmsg = %reply.errmsg, "WeCom API error");
        }
        Ok(classify(reply.errcode))
    }

    async fn token(&self) -> Result<String, Failure> {
        token_cache::get(self.redis, &self.token_key, || async {
            let secret = self
                .settings
                .secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned())
                .unwrap_or_default();
            let url = format!(
                "{}/cgi-bin/gettoken",
                self.settings.api_base.trim_end_matches('/')
            );
            let res = self
                .http
                .get(url)
                .query(&[
                    ("corpid", self.settings.corpid.as_str()),
                    ("corpsecret", secret.as_str()),
                ])
                .send()
                .await
                .map_err(|e| Failure::from_http(&e))?;
            if !res.status().is_success() {
                return Err(Failure::Retry(format!(
                    "WeCom gettoken answered HTTP {}",
                    res.status()
                )));
            }
            let reply: ApiReply = res
                .json()
                .await
                .map_err(|e| Failure::Retry(format!("WeCom gettoken: {e}")))?;
            match (reply.errcode, reply.access_token) {
                (0, Some(t)) => Ok((t, reply.expires_in.unwrap_or(7200))),
                (40013 | 40001 | 40091, _) => Err(Failure::Config(format!(
                    "WeCom gettoken: {} {}",
                    reply.errcode, reply.errmsg
                ))),
                (code, _) => Err(Failure::Retry(format!(
                    "WeCom gettoken: {code} {}",
                    reply.errmsg
                ))),
            }
        })
        .await
    }
}
