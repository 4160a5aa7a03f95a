//! Who may call what: 401 without a valid token, 403 outside one's role, 404 for a ticket
//! outside one's scope (as if it did not exist), 200 inside it; and `guanjia staff add`
//! making a token that works.

use guanjia::domain::Locale;
use guanjia::ticket::{Category, Department, Kind};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::tickets::{add_resident, add_staff, call, file, Spec};

#[tokio::test]
async fn missing_or_bad_tokens_are_401_json() {
    let app = spawn_app().await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, r, &Spec::default()).await;
    let paths = [
        (Method::GET, "/api/v1/queue/engineering".to_owned()),
        (Method::POST, "/api/v1/queue/engineering/claim".to_owned()),
        (Method::GET, "/api/v1/tickets".to_owned()),
        (Method::GET, format!("/api/v1/tickets/{}", t.id)),
        (Method::POST, format!("/api/v1/tickets/{}/claim", t.id)),
        (Method::POST, format!("/api/v1/tickets/{}/release", t.id)),
    ];
    for (m, p) in &paths {
        for token in [None, Some("not-a-token")] {
            let (s, body) = call(&app, m.clone(), p, token, None).await;
            assert_eq!(s, 401, "{m} {p} with {token:?}");
            assert!(body["error"].is_string());
        }
    }
    let res = app
        .client
        .get(format!("{}/api/v1/tickets", app.address))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A deactivated member's token stops working.
    let (id, token) = add_staff(&app, "离职", "engineering", "worker", &[]).await;
    assert_eq!(
        call(&app, Method::GET, "/api/v1/tickets", Some(&token), None)
            .await
            .0,
        200
    );
    sqlx::query("UPDATE staff SET active = FALSE WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        call(&app, Method::GET, "/api/v1/tickets", Some(&token), None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn the_role_matrix() {
    let app = spawn_app().await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (_, other_worker) = add_staff(&app, "保洁", "environment", "worker", &[]).await;
    let (_, concierge) = add_staff(&app, "王管家", "customer_service", "concierge", &["3"]).await;
    let (_, far_concierge) =
        add_staff(&app, "李管家", "customer_service", "concierge", &["1"]).await;
    let (_, supervisor) = add_staff(&app, "张主管", "engineering", "supervisor", &[]).await;
    let (_, other_supervisor) = add_staff(&app, "环境主管", "environment", "supervisor", &[]).await;
    let (_, manager) = add_staff(&app, "项目经理", "customer_service", "manager", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    // An engineering repair in building 3.
    let t = file(&app, r, &Spec::default()).await;
    let get = format!("/api/v1/tickets/{}", t.id);
    let reply = format!("{get}/reply");

    let expect = [
        // (who, method, path, body, status)
        ("worker", &worker, Method::GET, get.clone(), None, 200),
        (
            "other dept worker",
            &other_worker,
            Method::GET,
            get.clone(),
            None,
            404,
        ),
        (
            "concierge of bldg 3",
            &concierge,
            Method::GET,
            get.clone(),
            None,
            200,
        ),
        (
            "concierge of bldg 1",
            &far_concierge,
            Method::GET,
            get.clone(),
            None,
            404,
        ),
        (
            "supervisor",
            &supervisor,
            Method::GET,
            get.clone(),
            None,
            200,
        ),
        (
            "other supervisor",
            &other_supervisor,
            Method::GET,
            get.clone(),
            None,
            404,
        ),
        ("manager", &manager, Method::GET, get.clone(), None, 200),
        (
            "worker queue",
            &worker,
            Method::GET,
            "/api/v1/queue/engineering".into(),
            None,
            200,
        ),
        (
            "worker other queue",
            &worker,
            Method::GET,
            "/api/v1/queue/security".into(),
            None,
            403,
        ),
        (
            "concierge eng queue",
            &concierge,
            Method::GET,
            "/api/v1/queue/engineering".into(),
            None,
            403,
        ),
        (
            "concierge own queue",
            &concierge,
            Method::GET,
            "/api/v1/queue/customer_service".into(),
            None,
            200,
        ),
        (
            "manager any queue",
            &manager,
            Method::GET,
            "/api/v1/queue/security".into(),
            None,
            200,
        ),
        (
            "worker reply",
            &worker,
            Method::POST,
            reply.clone(),
            Some(json!({"text": "hi"})),
            403,
        ),
        (
            "far concierge reply",
            &far_concierge,
            Method::POST,
            reply.clone(),
            Some(json!({"text": "hi"})),
            404,
        ),
        (
            "concierge reply",
            &concierge,
            Method::POST,
            reply.clone(),
            Some(json!({"text": "hi"})),
            200,
        ),
        (
            "supervisor reply",
            &supervisor,
            Method::POST,
            reply.clone(),
            Some(json!({"text": "hi"})),
            200,
        ),
        (
            "manager reply",
            &manager,
            Method::POST,
            reply.clone(),
            Some(json!({"text": "hi"})),
            200,
        ),
        (
            "other worker claim",
            &other_worker,
            Method::POST,
            format!("{get}/claim"),
            None,
            404,
        ),
        (
            "concierge claim",
            &concierge,
            Method::POST,
            format!("{get}/claim"),
            None,
            403,
        ),
        (
            "other supervisor claim first",
            &other_supervisor,
            Method::POST,
            "/api/v1/queue/engineering/claim".into(),
            None,
            403,
        ),
        (
            "worker cancel",
            &worker,
            Method::POST,
            format!("{get}/status"),
            Some(json!({"status": "cancelled"})),
            403,
        ),
        (
            "worker claim",
            &worker,
            Method::POST,
            format!("{get}/claim"),
            None,
            200,
        ),
        (
            "worker close",
            &worker,
            Method::POST,
            format!("{get}/status"),
            Some(json!({"status": "closed"})),
            409,
        ),
        (
            "worker lists",
            &worker,
            Method::GET,
            "/api/v1/tickets".into(),
            None,
            200,
        ),
        (
            "concierge lists",
            &concierge,
            Method::GET,
            "/api/v1/tickets".into(),
            None,
            200,
        ),
    ];
    for (who, token, method, path, body, want) in expect {
        let (s, v) = call(&app, method.clone(), &path, Some(token), body).await;
        assert_eq!(s, want, "{who}: {method} {path} → {v}");
        if s >= 400 {
            assert!(v["error"].is_string(), "{who}: {v}");
        }
    }

    // A concierge sees the tickets of their buildings in lists, from any department.
    let (_, v) = call(&app, Method::GET, "/api/v1/tickets", Some(&concierge), None).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (_, v) = call(
        &app,
        Method::GET,
        "/api/v1/tickets",
        Some(&far_concierge),
        None,
    )
    .await;
    assert!(v.as_array().unwrap().is_empty());
    let _ = (Kind::Repair, Category::Equipment, Department::Engineering);
}

#[tokio::test]
async fn staff_add_prints_a_working_token_once() {
    let app = spawn_app().await;
    let bin = env!("CARGO_BIN_EXE_guanjia");
    let db_url = app.settings.database.url.expose_secret().to_owned();
    let out = std::process::Command::new(bin)
        .args([
            "staff",
            "add",
            "--name",
            "王师傅",
            "--department",
            "engineering",
            "--role",
            "supervisor",
            "--buildings",
            "1,2",
        ])
        .env("DATABASE_URL", &db_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 64);
    let row: (String, String, Vec<String>, String) = sqlx::query_as(
        "SELECT department, role, buildings, token_hash FROM staff WHERE name = '王师傅'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (row.0.as_str(), row.1.as_str()),
        ("engineering", "supervisor")
    );
    assert_eq!(row.2, ["1", "2"]);
    assert_ne!(row.3, token, "only the hash is stored");
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/api/v1/queue/engineering",
            Some(&token),
            None
        )
        .await
        .0,
        200
    );

    let bad = std::process::Command::new(bin)
        .args(["staff", "add", "--name", "x", "--department", "plumbing"])
        .env("DATABASE_URL", &db_url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("department"));
}
