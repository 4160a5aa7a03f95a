//! Signed JSON POSTs: resident messages to a webhook channel's `callback_url`, and staff
//! alerts to the escalation webhook. A `2xx` is a delivery; anything else is retried.

use serde::Serialize;

use super::failure::Failure;
use super::signing::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// What a webhook channel receives for each message (contract.md).
#[derive(Debug, Serialize)]
pub struct ResidentEvent<'a> {
    pub event_id: String,
    pub user_id: &'a str,
    pub text: &'a str,
    pub ticket: Option<&'a str>,
    pub kind: &'a str,
}

/// What the escalation webhook receives for each staff alert.
#[derive(Debug, Serialize)]
pub struct StaffEvent<'a> {
    pub event_id: String,
    pub staff_id: Option<String>,
    pub staff_name: Option<&'a str>,
    pub text: &'a str,
    pub ticket: Option<&'a str>,
    pub kind: &'a str,
}

pub async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    secret: &[u8],
    timestamp: i64,
    payload: &impl Serialize,
) -> Result<(), Failure> {
    if url.is_empty() {
        return Err(Failure::Config("no callback URL configured".into()));
    }
    let body = serde_json::to_vec(payload).map_err(|e| Failure::Config(e.to_string()))?;
    let res = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, sign(secret, timestamp, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::from_http(&e))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(Failure::Retry(format!(
            "callback answered {}",
            res.status()
        )))
    }
}
