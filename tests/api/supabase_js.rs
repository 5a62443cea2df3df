//! The tokens these tests mint look like Supabase's: supabase-js's own `auth.getClaims`
//! (installed in tests/supabase by `npm ci`) verifies them against the same loopback JWKS.
use crate::supabase::{Project, SigningKey, USER_A};
use serde_json::Value;
use std::path::PathBuf;

async fn get_claims(project: &Project, token: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/supabase");
    assert!(
        dir.join("node_modules/@supabase/auth-js").is_dir(),
        "@supabase/auth-js is not installed: run `npm ci` in tests/supabase (scripts/test.sh does)"
    );
    let output = tokio::process::Command::new("node")
        .arg("get-claims.mjs")
        .current_dir(&dir)
        .env("SUPABASE_URL", project.url())
        .env("ACCESS_TOKEN", token)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "get-claims printed no JSON: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[tokio::test]
async fn supabase_js_get_claims_accepts_the_es256_and_rs256_tokens_the_tests_mint() {
    let ec = SigningKey::es256("ec-key-1");
    let rsa = SigningKey::rs256("rsa-key-1");
    let project = Project::publishing(&[&ec, &rsa]).await;
    for (key, alg) in [(&ec, "ES256"), (&rsa, "RS256")] {
        let verdict = get_claims(&project, &project.token(key, USER_A)).await;
        assert_eq!(verdict["ok"], true, "{alg}: {verdict}");
        assert_eq!(verdict["sub"], USER_A);
        assert_eq!(verdict["alg"], alg);
    }
    assert!(project.jwks_fetches().await >= 1, "getClaims used the JWKS");
}

#[tokio::test]
async fn supabase_js_get_claims_refuses_a_token_signed_by_an_unpublished_key() {
    let published = SigningKey::es256("ec-key-1");
    let project = Project::publishing(&[&published]).await;
    let impostor = SigningKey::es256("ec-key-1");
    let verdict = get_claims(&project, &project.token(&impostor, USER_A)).await;
    assert_eq!(verdict["ok"], false, "{verdict}");
    assert!(
        verdict["error"]
            .as_str()
            .unwrap_or_default()
            .contains("signature"),
        "refused for its signature, not for something else: {verdict}"
    );
}
