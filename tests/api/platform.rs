//! The outside messaging platform, played by a small local axum server: WeChat's API
//! (tokens, customer-service and template messages), a webhook callback receiver (resident
//! channel and staff escalation webhook) and WeCom's API. It records every call and can be
//! told to fail — for the next N calls or for a while — with HTTP 500, a hang, or an errcode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Http500,
    /// Never answers (the client's timeout decides).
    Hang,
    /// HTTP 200 with this `errcode`.
    Errcode(i64),
}

#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HashMap<String, String>,
    pub raw_body: Vec<u8>,
    pub body: Value,
    /// Whether the platform accepted it (2xx and errcode 0).
    pub ok: bool,
}

#[derive(Default)]
struct Faults {
    next: Vec<Fault>,
    until: Option<(Instant, Fault)>,
}

#[derive(Default)]
struct Inner {
    calls: Mutex<Vec<Call>>,
    faults: Mutex<Faults>,
    tokens_issued: Mutex<u64>,
}

#[derive(Clone)]
pub struct Platform {
    pub base: String,
    inner: Arc<Inner>,
}

impl Platform {
    pub async fn start() -> Platform {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/cgi-bin/token", get(token))
            .route("/cgi-bin/stable_token", post(token))
            .route("/cgi-bin/gettoken", get(token))
            .route("/cgi-bin/message/custom/send", post(send))
            .route("/cgi-bin/message/template/send", post(send))
            .route("/cgi-bin/message/send", post(send))
            .route("/callback", any(send))
            .route("/staff", any(send))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Platform { base, inner }
    }

    /// The next `n` message calls (not token calls) fail with `fault`.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut f = self.inner.faults.lock().unwrap();
        f.next.extend(std::iter::repeat_n(fault, n));
    }

    /// Every message call fails with `fault` for `d` of real time.
    pub fn fail_for(&self, d: Duration, fault: Fault) {
        self.inner.faults.lock().unwrap().until = Some((Instant::now() + d, fault));
    }

    pub fn heal(&self) {
        let mut f = self.inner.faults.lock().unwrap();
        f.next.clear();
        f.until = None;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.calls.lock().unwrap().clone()
    }

    pub fn calls_to(&self, path: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.path == path)
            .collect()
    }

    pub fn tokens_issued(&self) -> u64 {
        *self.inner.tokens_issued.lock().unwrap()
    }

    /// Accepted messages keyed by their idempotency id (`client_msg_id` or `event_id`),
    /// with how often each was accepted.
    pub fn accepted_by_id(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for c in self.calls().into_iter().filter(|c| c.ok) {
            let id = c.body["client_msg_id"]
                .as_str()
                .or_else(|| c.body["event_id"].as_str());
            if let Some(id) = id {
                *out.entry(id.to_owned()).or_insert(0) += 1;
            }
        }
        out
    }
}

impl Inner {
    fn take_fault(&self) -> Option<Fault> {
        let mut f = self.faults.lock().unwrap();
        if !f.next.is_empty() {
            return Some(f.next.remove(0));
        }
        match f.until {
            Some((end, fault)) if Instant::now() < end => Some(fault),
            _ => None,
        }
    }

    fn record(
        &self,
        uri: &Uri,
        query: HashMap<String, String>,
        headers: &HeaderMap,
        body: &[u8],
        ok: bool,
    ) {
        let headers = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        self.calls.lock().unwrap().push(Call {
            path: uri.path().to_owned(),
            query,
            headers,
            raw_body: body.to_vec(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            ok,
        });
    }
}

async fn token(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = {
        let mut issued = inner.tokens_issued.lock().unwrap();
        *issued += 1;
        *issued
    };
    inner.record(&uri, query, &headers, &body, true);
    Json(json!({"access_token": format!("token-{n}"), "expires_in": 7200})).into_response()
}

async fn send(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match inner.take_fault() {
        Some(Fault::Hang) => {
            inner.record(&uri, query, &headers, &body, false);
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Some(Fault::Http500) => {
            inner.record(&uri, query, &headers, &body, false);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Some(Fault::Errcode(code)) => {
            inner.record(&uri, query, &headers, &body, false);
            Json(json!({"errcode": code, "errmsg": "simulated"})).into_response()
        }
        None => {
            inner.record(&uri, query, &headers, &body, true);
            Json(json!({"errcode": 0, "errmsg": "ok", "msgid": 1})).into_response()
        }
    }
}

// ---- The world around the platform, for delivery, survey and schedule tests ----

use chrono::{DateTime, Utc};
use guanjia::configuration::{AlertChannel, Settings, WebhookAlerts, WecomAlerts};
use guanjia::domain::Locale;
use guanjia::ticket::model::{Category, Department, Kind, Urgency};
use guanjia::ticket::{NewTicket, Ticket};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::TestApp;

/// Staff alerts posted to the stand-in's `/staff`, signed with `staff-secret`.
pub fn webhook_alerts(base: &str) -> AlertChannel {
    AlertChannel::Webhook(WebhookAlerts {
        url: format!("{base}/staff"),
        secret: Some("staff-secret".to_owned().into()),
    })
}

/// Staff alerts sent through the stand-in's WeCom API.
pub fn wecom_alerts(base: &str) -> AlertChannel {
    AlertChannel::Wecom(WecomAlerts {
        api_base: base.to_owned(),
        corpid: "corp-test".into(),
        secret: Some("corp-secret".to_owned().into()),
        agentid: 1000002,
    })
}

/// Points every outbound channel at `base` and makes retries quick. The background
/// scheduler ticks rarely, so tests drive timers with `run_due` themselves.
pub fn configure(s: &mut Settings, base: &str) {
    for account in s.wechat.accounts.values_mut() {
        account.api_base = base.to_owned();
    }
    for channel in s.webhook.channels.values_mut() {
        channel.callback_url = format!("{base}/callback");
    }
    s.delivery.http_timeout = Duration::from_millis(800);
    s.delivery.poll_every = Duration::from_millis(50);
    s.delivery.backoff_base = Duration::from_secs(1);
    s.delivery.backoff_max = Duration::from_secs(30);
    s.schedule.tick = Duration::from_secs(3600);
}

pub async fn resident(
    db: &PgPool,
    channel: &str,
    external_id: &str,
    last_inbound_at: Option<DateTime<Utc>>,
    sent_since_inbound: i32,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO residents (id, channel, external_id, locale, last_inbound_at, sent_since_inbound)
         VALUES ($1, $2, $3, 'zh-Hans', $4, $5)",
    )
    .bind(id)
    .bind(channel)
    .bind(external_id)
    .bind(last_inbound_at)
    .bind(sent_since_inbound)
    .execute(db)
    .await
    .unwrap();
    id
}

pub async fn ticket(app: &TestApp, resident_id: Uuid, kind: Kind, building: &str) -> Ticket {
    let mut conn = app.db.acquire().await.unwrap();
    guanjia::ticket::create(
        &mut conn,
        &app.state.ticket_context(),
        NewTicket {
            resident_id,
            kind,
            category: Category::Equipment,
            urgency: Urgency::Normal,
            department: Department::Engineering,
            summary: "厨房水管漏水".into(),
            description: "3栋1101 厨房水管漏水".into(),
            building: Some(building.into()),
            unit: None,
            room: Some("1101".into()),
            location: Some(format!("{building}栋1101")),
            contact_phone: None,
            preferred_time: None,
            locale: Locale::ZhHans,
            source_message_id: None,
            attachments: vec![],
        },
    )
    .await
    .unwrap()
}

pub async fn staff(
    db: &PgPool,
    name: &str,
    department: &str,
    role: &str,
    buildings: &[&str],
) -> Uuid {
    let id = Uuid::now_v7();
    let buildings: Vec<String> = buildings.iter().map(|b| b.to_string()).collect();
    sqlx::query(
        "INSERT INTO staff (id, name, department, role, buildings, token_hash)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(name)
    .bind(department)
    .bind(role)
    .bind(&buildings)
    .bind(format!("hash-{id}"))
    .execute(db)
    .await
    .unwrap();
    id
}

/// Polls `check` every 50 ms until it holds or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

pub async fn outbox_status(db: &PgPool, id: Uuid) -> String {
    let (s,): (String,) = sqlx::query_as("SELECT status FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
    s
}

/// Whether every outbox row is delivered within `timeout`.
pub async fn outbox_drained(db: &PgPool, timeout: Duration) -> bool {
    wait_until(timeout, || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM outbox WHERE status <> 'delivered'")
                .fetch_one(db)
                .await
                .unwrap();
        n == 0
    })
    .await
}
