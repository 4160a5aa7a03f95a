use std::sync::Arc;

use guanjia::clock::ManualClock;
use guanjia::configuration::{AlertChannel, WebhookAlerts};
use guanjia::startup::{Application, Options};

use crate::helpers::{spawn_app, test_settings};

/// A misconfigured deployment refuses to start, and says which key is wrong.
#[tokio::test]
async fn a_bad_setting_stops_the_app_and_names_its_key() {
    let mut settings = test_settings();
    settings.escalation.channel = AlertChannel::Webhook(WebhookAlerts {
        url: String::new(),
        secret: None,
    });
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let err = Application::build(settings, clock, Options::default())
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("escalation.webhook_url"),
        "{err:#}"
    );
}

#[tokio::test]
async fn healthz_and_readyz_answer_ok() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let res = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
}
