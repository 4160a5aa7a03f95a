//! Staff correct what the classifier read: the ticket moves to its new department's queue,
//! the change is in its history, and the corrected reading is kept as a labelled line.

use guanjia::domain::Locale;
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::tickets::{add_resident, add_staff, call, file, Spec};

#[tokio::test]
async fn a_concierge_moves_a_misread_ticket_to_the_right_queue() {
    let app = spawn_app().await;
    let (_, concierge) = add_staff(&app, "王管家", "customer_service", "concierge", &["3"]).await;
    let (_, worker) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let (_, guard) = add_staff(&app, "张保安", "security", "worker", &[]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, resident, &Spec::default()).await;
    let queue = |token: &str, d: &str| {
        let token = token.to_owned();
        let path = format!("/api/v1/queue/{d}");
        let app = &app;
        async move {
            let (status, v) = call(app, Method::GET, &path, Some(&token), None).await;
            assert_eq!(status, 200, "{v}");
            v.as_array()
                .unwrap()
                .iter()
                .map(|t| t["number"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(queue(&worker, "engineering").await.contains(&t.number));
    let path = format!("/api/v1/tickets/{}/reclassify", t.number);

    // A worker may not; an unknown label changes nothing.
    let body = json!({"kind": "complaint", "department": "security", "category": "dispute",
                      "note": "楼上邻居噪音，不是维修"});
    let (status, _) = call(&app, Method::POST, &path, Some(&worker), Some(body.clone())).await;
    assert_eq!(status, 403);
    let (status, v) = call(
        &app,
        Method::POST,
        &path,
        Some(&concierge),
        Some(json!({"kind": "fix"})),
    )
    .await;
    assert_eq!(status, 400, "{v}");

    let (status, v) = call(&app, Method::POST, &path, Some(&concierge), Some(body)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["kind"], "complaint");
    assert_eq!(v["department"], "security");
    assert_eq!(v["category"], "dispute");
    assert_eq!(v["urgency"], "normal", "what was not named stays");
    assert!(queue(&guard, "security").await.contains(&t.number));
    assert!(!queue(&worker, "engineering").await.contains(&t.number));

    let (_, detail) = call(
        &app,
        Method::GET,
        &format!("/api/v1/tickets/{}", t.number),
        Some(&concierge),
        None,
    )
    .await;
    let history = detail["events"].to_string();
    assert!(history.contains("reclassified"), "{history}");
    assert!(
        history.contains("department engineering → security"),
        "{history}"
    );

    let (text, kind, department): (String, String, String) =
        sqlx::query_as("SELECT text, kind, department FROM nlu_corrections WHERE ticket_id = $1")
            .bind(t.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), department.as_str()),
        ("complaint", "security")
    );
    assert_eq!(text, t.description, "the resident's words, relabelled");
    // What it was read as, for the monthly report's from → to.
    let was: (String, String, String, String) = sqlx::query_as(
        "SELECT from_kind, from_urgency, from_department, from_category FROM nlu_corrections
         WHERE ticket_id = $1",
    )
    .bind(t.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        was,
        (
            "repair".into(),
            "normal".into(),
            "engineering".into(),
            "equipment".into()
        )
    );
}

#[tokio::test]
async fn a_held_ticket_keeps_its_department_until_it_is_released() {
    let app = spawn_app().await;
    let (_, supervisor) = add_staff(&app, "赵主管", "engineering", "supervisor", &[]).await;
    let (_, worker) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, resident, &Spec::default()).await;
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/claim", t.number),
        Some(&worker),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let path = format!("/api/v1/tickets/{}/reclassify", t.number);
    let (status, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&supervisor),
        Some(json!({"department": "security"})),
    )
    .await;
    assert_eq!(status, 409, "release it first");
    let (status, v) = call(
        &app,
        Method::POST,
        &path,
        Some(&supervisor),
        Some(json!({"urgency": "urgent", "note": "no water at all"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["urgency"], "urgent");
    assert_eq!(v["department"], "engineering");
}
