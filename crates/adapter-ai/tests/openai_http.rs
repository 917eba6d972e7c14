//! The OpenAI-compatible client against a mock server: what it sends, how it retries,
//! and how it fails — rate limits, server errors, malformed, wrongly shaped and slow
//! answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{sync::Arc, time::Duration};

use aura_adapter_ai::{ApiKey, AuthHeader, OpenAiCompatible, OpenAiConfig};
use aura_ai_port::{AiError, AiProvider, QuestionRequest};
use aura_shared_kernel::SystemClock;
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_partial_json, header, method, path},
};

fn question() -> QuestionRequest {
    QuestionRequest {
        question: "Who is our DPO?".into(),
        language: "en".into(),
        organisation: None,
        context: Vec::new(),
    }
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-test-2026",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    })
}

fn ok_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(completion(
        r#"{"answer": "None is recorded.", "citations": []}"#,
    ))
}

fn client(server: &MockServer, tweak: impl FnOnce(&mut OpenAiConfig)) -> OpenAiCompatible {
    let mut config = OpenAiConfig::new(format!("{}/v1", server.uri()), "gpt-test");
    config.api_key = Some(ApiKey::new("sk-test-secret"));
    config.timeout = Duration::from_secs(2);
    config.max_retries = 2;
    config.retry_base = Duration::from_millis(10);
    config.max_retry_wait = Duration::from_secs(2);
    tweak(&mut config);
    OpenAiCompatible::new(config, Arc::new(SystemClock)).expect("client")
}

fn endpoint() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/v1/chat/completions"))
}

/// A server that answers every call with `response`, expecting `calls` of them (checked
/// when it is dropped).
async fn serving(response: ResponseTemplate, calls: u64) -> MockServer {
    let server = MockServer::start().await;
    endpoint()
        .respond_with(response)
        .expect(calls)
        .mount(&server)
        .await;
    server
}

/// What the default client's question fails with against `server`.
async fn failure(server: &MockServer) -> AiError {
    client(server, |_| {})
        .answer(&question())
        .await
        .expect_err("the call fails")
}

#[tokio::test]
async fn a_success_sends_the_model_key_and_json_mode() {
    let server = MockServer::start().await;
    endpoint()
        .and(header("authorization", "Bearer sk-test-secret"))
        .and(body_partial_json(json!({
            "model": "gpt-test",
            "max_tokens": 2000,
            "response_format": {"type": "json_object"},
        })))
        .respond_with(ok_answer())
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server, |_| {})
        .answer(&question())
        .await
        .expect("answer");
    assert_eq!(answer.output.text, "None is recorded.");
    assert_eq!(answer.provenance.provider, "openai");
    assert_eq!(
        answer.provenance.model, "gpt-test-2026",
        "the model that answered"
    );
    assert_eq!(answer.provenance.template_version, "question@1");
    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["messages"][0]["role"], "system");
    assert!(
        sent["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("Who is our DPO?")
    );
}

#[tokio::test]
async fn azure_style_keys_go_in_the_api_key_header() {
    let server = MockServer::start().await;
    endpoint()
        .and(header("api-key", "sk-test-secret"))
        .respond_with(ok_answer())
        .expect(1)
        .mount(&server)
        .await;
    client(&server, |c| c.auth_header = AuthHeader::ApiKey)
        .answer(&question())
        .await
        .expect("answer");
    let request = &server.received_requests().await.unwrap()[0];
    assert!(
        request.headers.get("authorization").is_none(),
        "no bearer header"
    );
}

#[tokio::test]
async fn a_429_then_success_is_retried_after_the_retry_after() {
    let server = MockServer::start().await;
    endpoint()
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    endpoint()
        .respond_with(ok_answer())
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let answer = client(&server, |_| {})
        .answer(&question())
        .await
        .expect("answer");
    assert_eq!(answer.output.text, "None is recorded.");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_the_attempts_run_out() {
    // The first attempt and max_retries = 2.
    let server = serving(ResponseTemplate::new(503), 3).await;
    let error = failure(&server).await;
    assert!(
        matches!(error, AiError::Unavailable(ref m) if m.contains("503")),
        "{error:?}"
    );
}

#[tokio::test]
async fn rate_limits_that_persist_are_reported_as_such() {
    let server = serving(ResponseTemplate::new(429), 3).await;
    let error = failure(&server).await;
    assert_eq!(
        error,
        AiError::RateLimited {
            retry_after_secs: None
        }
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_longest_wait_is_not_waited_for() {
    let long = ResponseTemplate::new(429).insert_header("retry-after", "3600");
    let server = serving(long, 1).await;
    let started = std::time::Instant::now();
    let error = failure(&server).await;
    assert_eq!(
        error,
        AiError::RateLimited {
            retry_after_secs: Some(3600)
        }
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let refused =
        ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "bad key"}}));
    let server = serving(refused, 1).await;
    let error = failure(&server).await;
    assert!(
        matches!(error, AiError::Unavailable(ref m) if m.contains("401")),
        "{error:?}"
    );
    assert!(!format!("{error}").contains("sk-test-secret"));
}

#[tokio::test]
async fn a_malformed_body_is_an_invalid_response() {
    let malformed = ResponseTemplate::new(200).set_body_string("{\"choices\": [ oops");
    let server = serving(malformed, 1).await;
    let error = failure(&server).await;
    assert!(matches!(error, AiError::InvalidResponse(_)), "{error:?}");
}

#[tokio::test]
async fn content_that_is_not_json_is_an_invalid_response() {
    let prose = ResponseTemplate::new(200).set_body_json(completion("Sure! Your DPO is …"));
    let server = serving(prose, 1).await;
    let error = failure(&server).await;
    assert!(matches!(error, AiError::InvalidResponse(_)), "{error:?}");
}

#[tokio::test]
async fn a_wrong_shape_is_an_invalid_response() {
    let server = MockServer::start().await;
    // The envelope without choices, then a completion whose JSON lacks `answer`.
    endpoint()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x", "choices": []})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    endpoint()
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(r#"{"reply": "hi"}"#)))
        .mount(&server)
        .await;
    let provider = client(&server, |_| {});
    for _ in 0..2 {
        let error = provider.answer(&question()).await.unwrap_err();
        assert!(matches!(error, AiError::InvalidResponse(_)), "{error:?}");
    }
    // An activity with an unknown lawful basis is refused the same way.
    let unknown_basis = ResponseTemplate::new(200).set_body_json(completion(
        r#"{"name": "Payroll", "purposes": [{"description": "Pay", "lawful_basis": "because"}]}"#,
    ));
    let server = serving(unknown_basis, 1).await;
    let error = client(&server, |_| {})
        .suggest_activity(&aura_ai_port::ActivitySuggestionRequest {
            description: "payroll".into(),
            language: "en".into(),
            organisation: None,
            context: Vec::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(error, AiError::InvalidResponse(_)), "{error:?}");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_is_not_retried() {
    let server = serving(ok_answer().set_delay(Duration::from_secs(3)), 1).await;
    let started = std::time::Instant::now();
    let error = client(&server, |c| c.timeout = Duration::from_millis(300))
        .answer(&question())
        .await
        .unwrap_err();
    assert_eq!(error, AiError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable() {
    // A port nothing listens on (the server is dropped before the call).
    let uri = {
        let server = MockServer::start().await;
        server.uri()
    };
    let mut config = OpenAiConfig::new(format!("{uri}/v1"), "gpt-test");
    config.max_retries = 1;
    config.retry_base = Duration::from_millis(10);
    let provider = OpenAiCompatible::new(config, Arc::new(SystemClock)).expect("client");
    let error = provider.answer(&question()).await.unwrap_err();
    assert!(matches!(error, AiError::Unavailable(_)), "{error:?}");
}

#[test]
fn bad_configuration_is_refused() {
    for (url, model) in [
        ("not a url", "m"),
        ("ftp://x/v1", "m"),
        ("https://x/v1", " "),
    ] {
        assert!(
            OpenAiCompatible::new(OpenAiConfig::new(url, model), Arc::new(SystemClock)).is_err(),
            "{url} {model}"
        );
    }
}
