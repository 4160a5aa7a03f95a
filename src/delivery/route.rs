//! Sends one claimed message through the right door: a resident's WeChat account or webhook
//! channel, or the staff alert channel (`escalation.channel`).

use chrono::{DateTime, Duration, Utc};
use redis::AsyncCommands;
use secrecy::ExposeSecret;

use super::callback::{post_signed, ResidentEvent, StaffEvent};
use super::failure::Failure;
use super::outbox::{self, Claimed, Recipient};
use super::wechat_api::{template_data, SendError, WechatApi};
use super::wecom_api::WecomApi;
use super::Deps;
use crate::channel::ChannelRef;
use crate::configuration::AlertChannel;

/// WeChat allows customer-service messages this long after the resident last wrote…
const CS_WINDOW_HOURS: i64 = 48;
/// …and this many of them per message the resident sent.
const CS_PER_INBOUND: i32 = 5;

pub async fn deliver(state: &Deps, http: &reqwest::Client, row: &Claimed) -> Result<(), Failure> {
    let ticket = row.ticket_number.as_deref();
    match row.recipient_kind.as_str() {
        "resident" => to_resident(state, http, row, ticket).await,
        "staff" => to_staff(state, http, row, ticket).await,
        other => Err(Failure::Config(format!("unknown recipient kind {other}"))),
    }
}

async fn to_resident(
    state: &Deps,
    http: &reqwest::Client,
    row: &Claimed,
    ticket: Option<&str>,
) -> Result<(), Failure> {
    if row.resident_id.is_none() {
        return Err(Failure::Config("resident message without resident".into()));
    }
    let resident = row
        .recipient()
        .ok_or_else(|| Failure::Permanent("resident no longer exists".into()))?;
    match ChannelRef::parse_key(&resident.channel) {
        Some(ChannelRef::Webhook { channel }) => {
            let config = state
                .settings
                .webhook
                .channels
                .get(&channel)
                .ok_or_else(|| Failure::Config(format!("no webhook channel `{channel}`")))?;
            let event = ResidentEvent {
                event_id: row.id.to_string(),
                user_id: &resident.external_id,
                text: &row.text,
                ticket,
                kind: &row.kind,
            };
            post_signed(
                http,
                &config.callback_url,
                config.secret.expose_secret().as_bytes(),
                state.clock.now().timestamp(),
                &event,
            )
            .await
        }
        Some(ChannelRef::Wechat { account }) => {
            to_wechat(state, http, row, &resident, &account, ticket).await
        }
        None => Err(Failure::Config(format!(
            "unknown channel `{}`",
            resident.channel
        ))),
    }
}

/// Whether a customer-service message is still allowed, or a template must be used.
pub fn customer_service_allowed(
    last_inbound_at: Option<DateTime<Utc>>,
    sent_since_inbound: i32,
    now: DateTime<Utc>,
) -> bool {
    last_inbound_at.is_some_and(|t| now - t < Duration::hours(CS_WINDOW_HOURS))
        && sent_since_inbound < CS_PER_INBOUND
}

async fn to_wechat(
    state: &Deps,
    http: &reqwest::Client,
    row: &Claimed,
    resident: &Recipient,
    account_name: &str,
    ticket: Option<&str>,
) -> Result<(), Failure> {
    let account = state
        .settings
        .wechat
        .accounts
        .get(account_name)
        .ok_or_else(|| Failure::Config(format!("no WeChat account `{account_name}`")))?;
    if !resident.subscribed {
        return Err(Failure::Permanent(
            "resident has unfollowed the account".into(),
        ));
    }
    let pause_key = state.key(&format!("wx:paused:{}", account.appid));
    let mut redis = state.redis.clone();
    // The pause holds its end time by our clock; the key's own TTL only cleans up.
    let paused_until: Option<i64> = redis.get(&pause_key).await.ok().flatten();
    let now_ts = state.clock.now().timestamp();
    if let Some(until) = paused_until.filter(|u| *u > now_ts) {
        return Err(Failure::Paused {
            for_: std::time::Duration::from_secs((until - now_ts).unsigned_abs()),
            reason: "WeChat daily quota reached".into(),
        });
    }
    let api = WechatApi::new(
        http,
        &state.redis,
        account,
        state.key(&format!("wx:token:{}", account.appid)),
    );
    let msg_id = row.id.to_string();
    let now = state.clock.now();
    let result =
        if customer_service_allowed(resident.last_inbound_at, resident.sent_since_inbound, now) {
            match api
                .send_custom(&resident.external_id, &row.text, &msg_id)
                .await
            {
                Ok(()) => {
                    outbox::count_sent(&state.db, resident.id)
                        .await
                        .map_err(db_failure)?;
                    return Ok(());
                }
                Err(SendError::UseTemplate) => {
                    send_template(&api, account, row, resident, ticket, &msg_id).await
                }
                Err(SendError::Failed(f)) => Err(f),
            }
        } else {
            send_template(&api, account, row, resident, ticket, &msg_id).await
        };
    match &result {
        Err(Failure::Permanent(_)) => {
            outbox::mark_unsubscribed(&state.db, resident.id)
                .await
                .map_err(db_failure)?;
        }
        Err(Failure::Paused { for_, reason }) => {
            let until = state.clock.now().timestamp() + for_.as_secs() as i64;
            let _: Result<(), _> = redis.set_ex(&pause_key, until, for_.as_secs().max(1)).await;
            tracing::error!(account = account_name, "{reason}: WeChat sending paused");
            metrics::counter!("guanjia_delivery_alerts_total", "reason" => "wechat_quota")
                .increment(1);
        }
        _ => {}
    }
    result
}

async fn send_template(
    api: &WechatApi<'_>,
    account: &crate::configuration::WechatAccount,
    row: &Claimed,
    resident: &Recipient,
    ticket: Option<&str>,
    msg_id: &str,
) -> Result<(), Failure> {
    let template = account
        .templates
        .get(&row.kind)
        .or_else(|| account.templates.get("status"))
        .ok_or_else(|| Failure::Config(format!("no template for `{}` messages", row.kind)))?;
    match api
        .send_template(
            &resident.external_id,
            template,
            template_data(ticket, &row.text),
            msg_id,
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(SendError::UseTemplate) => Err(Failure::Retry("template refused".into())),
        Err(SendError::Failed(f)) => Err(f),
    }
}

async fn to_staff(
    state: &Deps,
    http: &reqwest::Client,
    row: &Claimed,
    ticket: Option<&str>,
) -> Result<(), Failure> {
    let staff = match row.staff_id {
        Some(id) => outbox::staff(&state.db, id).await.map_err(db_failure)?,
        None => None,
    };
    match &state.settings.escalation.channel {
        AlertChannel::Log => {
            tracing::warn!(
                alert = %row.id,
                staff = staff.as_ref().map(|s| s.name.as_str()).unwrap_or("-"),
                ticket = ticket.unwrap_or("-"),
                text = %crate::domain::privacy::mask_phones(&row.text),
                "staff alert"
            );
            Ok(())
        }
        AlertChannel::Webhook(webhook) => {
            let secret = webhook
                .secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned())
                .unwrap_or_default();
            let event = StaffEvent {
                event_id: row.id.to_string(),
                staff_id: staff.as_ref().map(|s| s.id.to_string()),
                staff_name: staff.as_ref().map(|s| s.name.as_str()),
                text: &row.text,
                ticket,
                kind: &row.kind,
            };
            post_signed(
                http,
                &webhook.url,
                secret.as_bytes(),
                state.clock.now().timestamp(),
                &event,
            )
            .await
        }
        AlertChannel::Wecom(wecom) => {
            let api = WecomApi {
                http,
                redis: &state.redis,
                settings: wecom,
                token_key: state.key(&format!("wecom:token:{}", wecom.corpid)),
            };
            let touser = staff
                .as_ref()
                .and_then(|s| s.wecom_user.clone())
                .unwrap_or_else(|| "@all".into());
            api.send_text(&touser, &row.text).await
        }
    }
}

fn db_failure(e: sqlx::Error) -> Failure {
    Failure::Retry(format!("database: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_service_needs_a_recent_message_and_allowance() {
        let now = Utc::now();
        assert!(customer_service_allowed(
            Some(now - Duration::hours(1)),
            0,
            now
        ));
        assert!(customer_service_allowed(
            Some(now - Duration::hours(47)),
            4,
            now
        ));
        assert!(!customer_service_allowed(
            Some(now - Duration::hours(48)),
            0,
            now
        ));
        assert!(!customer_service_allowed(
            Some(now - Duration::hours(1)),
            5,
            now
        ));
        assert!(!customer_service_allowed(None, 0, now));
    }
}
