//! Verified Supabase users through the real HTTP path: tokens minted here with keys
//! generated here, the project's JWKS served by a real HTTP server on loopback.
use crate::app::{app, json, TestApp, TestAppBuilder};
use crate::provider::{base_url, provider_replying};
use crate::supabase::{user_claims, Project, SigningKey, LEGACY_SECRET, USER_A};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use std::time::{Duration, Instant};

fn auth_app(mode: &str, project: &Project) -> TestAppBuilder {
    app()
        .env("AUTH_MODE", mode)
        .env("SUPABASE_URL", &project.url())
}

async fn ready(builder: TestAppBuilder) -> TestApp {
    let app = builder.spawn().await;
    app.wait_until_ready().await;
    app
}

async fn chat_with(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/chat"))
        .json(&json!({ "message": "hello" }));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.expect("request sent")
}

async fn chat_as(app: &TestApp, token: &str) -> reqwest::Response {
    chat_with(app, Some(&format!("Bearer {token}"))).await
}

/// The 401 contract: fixed body with the request id, the bearer challenge, nothing more.
async fn assert_unauthorized(response: reqwest::Response, case: &str) {
    assert_eq!(response.status(), 401, "{case}");
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(r#"Bearer error="invalid_token""#),
        "{case}"
    );
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("request id header");
    assert_eq!(
        json(response).await,
        json!({ "error": "unauthorized", "request_id": request_id }),
        "{case}"
    );
}

async fn refused_turns(app: &TestApp) -> String {
    let text = app.get("/metrics").await.unwrap().text().await.unwrap();
    text.lines()
        .find(|l| {
            l.starts_with(
                r#"governed_chat_turns_total{outcome="refused",category="auth.invalid_token"}"#,
            )
        })
        .unwrap_or("none")
        .to_owned()
}

/// Poll `condition` until it holds, failing after a generous deadline.
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn valid_es256_and_rs256_tokens_from_the_project_are_accepted() {
    let ec = SigningKey::es256("ec-key-1");
    let rsa = SigningKey::rs256("rsa-key-1");
    let project = Project::publishing(&[&ec, &rsa]).await;
    let app = ready(auth_app("required", &project)).await;
    for key in [&ec, &rsa] {
        let response = chat_as(&app, &project.token(key, USER_A)).await;
        assert_eq!(response.status(), 200, "{:?}", key.algorithm);
        assert_eq!(json(response).await["outcome"], "accepted");
    }
}

#[tokio::test]
async fn every_bad_token_is_refused_alike_recorded_and_never_reaches_the_provider() {
    let ec = SigningKey::es256("ec-key-1");
    let rsa = SigningKey::rs256("rsa-key-1");
    let project = Project::publishing(&[&ec, &rsa]).await;
    let provider = provider_replying("a reply").await;
    let app = ready(
        auth_app("required", &project)
            .provider(&base_url(&provider))
            .env("SUPABASE_JWT_SECRET", LEGACY_SECRET),
    )
    .await;
    let url = project.url();
    let now = jsonwebtoken::get_current_timestamp();
    let with = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut claims = user_claims(&url, USER_A);
        change(&mut claims);
        claims
    };

    let expired = ec.sign(&with(&|c| c["exp"] = json!(now - 120)));
    let wrong_audience = ec.sign(&with(&|c| c["aud"] = json!("anon")));
    let wrong_issuer = ec.sign(&with(&|c| {
        c["iss"] = json!("https://other.supabase.co/auth/v1")
    }));
    let no_sub = ec.sign(&with(&|c| {
        c.as_object_mut().unwrap().remove("sub");
    }));
    let unpublished = SigningKey::es256("ec-key-1").sign(&user_claims(&url, USER_A));
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD
            .encode(json!({ "alg": "none", "typ": "JWT", "kid": "ec-key-1" }).to_string()),
        URL_SAFE_NO_PAD.encode(user_claims(&url, USER_A).to_string()),
    );
    // Algorithm confusion: an HMAC "signed" with the published public key as its secret.
    let mut confused = Header::new(Algorithm::HS256);
    confused.kid = Some("rsa-key-1".to_owned());
    let public_key_bytes = rsa.public_jwk().to_string();
    let hs256_with_public_key = encode(
        &confused,
        &user_claims(&url, USER_A),
        &EncodingKey::from_secret(public_key_bytes.as_bytes()),
    )
    .unwrap();
    // The project's service-role key: HS256 with the legacy secret, role service_role.
    let service_role_key = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "iss": "supabase", "ref": "abcdefghijklmnop", "role": "service_role", "iat": now, "exp": now + 3600 }),
        &EncodingKey::from_secret(LEGACY_SECRET.as_bytes()),
    )
    .unwrap();

    let cases: Vec<(&str, Option<String>)> = vec![
        ("expired", Some(format!("Bearer {expired}"))),
        ("wrong aud", Some(format!("Bearer {wrong_audience}"))),
        ("wrong iss", Some(format!("Bearer {wrong_issuer}"))),
        ("no sub", Some(format!("Bearer {no_sub}"))),
        ("unpublished key", Some(format!("Bearer {unpublished}"))),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        (
            "hs256 with the public key",
            Some(format!("Bearer {hs256_with_public_key}")),
        ),
        (
            "service-role key",
            Some(format!("Bearer {service_role_key}")),
        ),
        ("garbage", Some("Bearer not-a-token".to_owned())),
        ("garbage parts", Some("Bearer a.b.c".to_owned())),
        (
            "not bearer",
            Some(format!("Basic {}", project.token(&ec, USER_A))),
        ),
        ("missing", None),
    ];
    for (case, authorization) in &cases {
        assert_unauthorized(chat_with(&app, authorization.as_deref()).await, case).await;
    }
    assert_eq!(
        refused_turns(&app).await,
        format!(
            r#"governed_chat_turns_total{{outcome="refused",category="auth.invalid_token"}} {}"#,
            cases.len()
        )
    );
    // A valid token from the same app still works; before it, nothing reached the provider.
    assert!(provider.received_requests().await.unwrap().is_empty());
    assert_eq!(
        chat_as(&app, &project.token(&ec, USER_A)).await.status(),
        200
    );
}

#[tokio::test]
async fn the_legacy_hs256_secret_verifies_user_tokens_only_when_configured() {
    let project = Project::publishing(&[]).await;
    let token = encode(
        &Header::new(Algorithm::HS256),
        &user_claims(&project.url(), USER_A),
        &EncodingKey::from_secret(LEGACY_SECRET.as_bytes()),
    )
    .unwrap();
    let without_secret = ready(auth_app("required", &project)).await;
    assert_unauthorized(chat_as(&without_secret, &token).await, "no secret").await;
    let with_secret =
        ready(auth_app("required", &project).env("SUPABASE_JWT_SECRET", LEGACY_SECRET)).await;
    assert_eq!(chat_as(&with_secret, &token).await.status(), 200);
}

#[tokio::test]
async fn optional_auth_serves_anonymous_turns_but_never_a_bad_token() {
    let ec = SigningKey::es256("ec-key-1");
    let project = Project::publishing(&[&ec]).await;
    let app = ready(auth_app("optional", &project)).await;
    assert_eq!(chat_with(&app, None).await.status(), 200);
    assert_eq!(
        chat_as(&app, &project.token(&ec, USER_A)).await.status(),
        200
    );
    assert_unauthorized(chat_as(&app, "a.b.c").await, "bad token").await;
}

#[tokio::test]
async fn with_auth_off_the_authorization_header_is_not_read() {
    let app = ready(app()).await;
    assert_eq!(chat_as(&app, "a.b.c").await.status(), 200);
    assert_eq!(
        json(app.get("/ready").await.unwrap()).await["checks"]["auth"],
        "off"
    );
}

#[tokio::test]
async fn the_service_is_not_ready_until_the_first_jwks_fetch_succeeds() {
    let ec = SigningKey::es256("ec-key-1");
    let project = Project::down().await;
    let app = auth_app("required", &project).spawn().await;
    eventually("the first fetch failed", || async {
        project.jwks_fetches().await >= 1
    })
    .await;
    let response = app.get("/ready").await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(json(response).await["checks"]["auth"], "pending");
    // A token cannot be judged yet: the turn is not served, and not called invalid.
    assert_eq!(
        chat_as(&app, &project.token(&ec, USER_A)).await.status(),
        503
    );

    project.publish(&[&ec]);
    app.wait_until_ready().await;
    assert_eq!(
        json(app.get("/ready").await.unwrap()).await["checks"]["auth"],
        "ok"
    );
    assert_eq!(
        chat_as(&app, &project.token(&ec, USER_A)).await.status(),
        200
    );
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_keys() {
    let ec = SigningKey::es256("ec-key-1");
    let project = Project::publishing(&[&ec]).await;
    let app = ready(auth_app("required", &project)).await;
    project.go_down();
    // An unknown key id makes the service refetch, which fails now.
    let stranger = SigningKey::es256("ec-key-2");
    assert_unauthorized(
        chat_as(&app, &project.token(&stranger, USER_A)).await,
        "unknown",
    )
    .await;
    eventually("the refetch happened", || async {
        project.jwks_fetches().await >= 2
    })
    .await;
    assert_eq!(
        chat_as(&app, &project.token(&ec, USER_A)).await.status(),
        200
    );
    assert_eq!(app.get("/ready").await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_newly_published_key_is_accepted_after_one_refetch() {
    let old = SigningKey::es256("key-2025");
    let new = SigningKey::rs256("key-2026");
    let project = Project::publishing(&[&old]).await;
    let app = ready(auth_app("required", &project)).await;
    assert_eq!(project.jwks_fetches().await, 1);

    project.publish(&[&old, &new]);
    let token = project.token(&new, USER_A);
    assert_unauthorized(chat_as(&app, &token).await, "before the refetch").await;
    eventually("the refetch happened", || async {
        project.jwks_fetches().await == 2
    })
    .await;
    eventually("the new key is trusted", || async {
        chat_as(&app, &token).await.status() == 200
    })
    .await;
    assert_eq!(
        chat_as(&app, &project.token(&old, USER_A)).await.status(),
        200
    );
    assert_eq!(project.jwks_fetches().await, 2);
}

#[tokio::test]
async fn a_flood_of_unknown_key_ids_costs_at_most_a_fetch_or_two() {
    let ec = SigningKey::es256("ec-key-1");
    let project = Project::publishing(&[&ec]).await;
    let app = ready(auth_app("required", &project)).await;
    let strangers: Vec<SigningKey> = (0..40)
        .map(|n| SigningKey::es256(&format!("made-up-{n}")))
        .collect();
    for stranger in &strangers[..20] {
        assert_eq!(
            chat_as(&app, &project.token(stranger, USER_A))
                .await
                .status(),
            401
        );
    }
    eventually("the one refetch happened", || async {
        project.jwks_fetches().await >= 2
    })
    .await;
    for stranger in &strangers[20..] {
        assert_eq!(
            chat_as(&app, &project.token(stranger, USER_A))
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        chat_as(&app, &project.token(&ec, USER_A)).await.status(),
        200
    );
    let fetches = project.jwks_fetches().await;
    assert!(
        fetches <= 3,
        "{fetches} JWKS fetches for 40 unknown key ids"
    );
}

#[tokio::test]
async fn browsers_may_send_the_authorization_header_cross_origin() {
    let project = Project::publishing(&[]).await;
    let app = auth_app("required", &project).spawn().await;
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/chat"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let allowed = response
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
}
