//! Metrics and traces of the real binary on PostgreSQL: `/metrics` in the Prometheus text
//! format (latency by route pattern, in flight, pool, sign-in failures, 429s, the job
//! queue), who may read it (token, separate listener, neither), and OTLP trace export
//! that continues the caller's `traceparent`, received by a fake collector.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::BTreeMap, time::Duration};

use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value, trace::v1::Span,
};
use prost::Message;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::TestApp;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::mpsc,
};

const TOKEN: &str = "metrics-token-0123456789abcdef";

/// One sample line of the text format.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses every line; panics on one that is neither a comment nor `name{labels} value`.
fn parse(text: &str) -> Vec<Sample> {
    assert!(text.ends_with("# EOF\n"), "no EOF marker:\n{text}");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("series and value");
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {line}"));
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').expect("closing brace");
                    (name, parse_labels(body, line))
                }
            };
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name in {line}"
            );
            Sample {
                name: name.to_owned(),
                labels,
                value,
            }
        })
        .collect()
}

fn parse_labels(body: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => value.push(chars.next().expect("escape").1),
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value: {line}"),
            }
        };
        labels.insert(key.to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels
}

/// The value of the one sample named `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?}: {matching:?}");
    matching.first().map(|s| s.value)
}

async fn scrape(app: &TestApp, base: &str, token: Option<&str>) -> (StatusCode, String, String) {
    let mut request = app.http.get(format!("{base}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn create_task(app: &TestApp, access: &str, assignee: &str) -> String {
    let (status, task) = app
        .call(
            Method::POST,
            "/api/v1/tasks",
            Some(access),
            Some(json!({
                "title": "Review the DPA",
                "category": "dpa_review",
                "due_date": "2099-01-31",
                "assigned_to": assignee,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    task["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_with_a_token_show_requests_pool_logins_and_queue() {
    let app = TestApp::spawn_with(&[
        ("METRICS_TOKEN", TOKEN),
        ("DB_POOL_MAX_SIZE", "7"),
        // Keep queued reminders where the task put them.
        ("WORKER_ENABLED", "false"),
    ])
    .await;

    // Without, with a wrong and with a longer token: 401 problem+json.
    let longer = format!("{TOKEN}x");
    for token in [
        None,
        Some("wrong-token-0123456789abcdef"),
        Some(longer.as_str()),
    ] {
        let (status, content_type, body) = scrape(&app, &app.base, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {body}");
        assert_eq!(content_type, "application/problem+json");
        assert!(!body.contains("http_request"), "{body}");
    }

    let owner = app.register("Metrics GmbH").await;
    let task = create_task(&app, &owner.access, &owner.user_id).await;
    let (status, _) = app
        .get(&format!("/api/v1/tasks/{task}"), &owner.access)
        .await;
    assert_eq!(status, StatusCode::OK);
    let stray = format!("/nothing/here/{}", uuid::Uuid::new_v4());
    let (status, _) = app.call(Method::GET, &stray, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Wrong passwords until the sign-in throttle answers 429.
    let (mut refused, mut throttled) = (0, 0);
    for _ in 0..8 {
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": owner.email, "password": "not the password at all"})),
            )
            .await;
        match status {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("sign-in answered {other}"),
        }
    }
    assert!(
        refused >= 1 && throttled >= 1,
        "{refused} refused, {throttled} throttled"
    );

    let (status, content_type, text) = scrape(&app, &app.base, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let samples = parse(&text);

    // Latency by route pattern, method and status; the task id never appears.
    let task_route = [
        ("method", "GET"),
        ("route", "/api/v1/tasks/{id}"),
        ("status", "200"),
    ];
    assert_eq!(
        value(&samples, "http_request_duration_seconds_count", &task_route),
        Some(1.0),
        "{text}"
    );
    let mut inf = task_route.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        value(&samples, "http_request_duration_seconds_bucket", &inf),
        Some(1.0)
    );
    assert!(value(&samples, "http_request_duration_seconds_sum", &task_route).unwrap() > 0.0);
    assert_eq!(
        value(
            &samples,
            "http_request_duration_seconds_count",
            &[("route", "<unmatched>"), ("status", "404")]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "http_request_duration_seconds_count",
            &[
                ("route", "/api/v1/tasks"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        Some(1.0)
    );
    // Every request so far has finished (scrapes are not counted).
    assert_eq!(value(&samples, "http_requests_in_flight", &[]), Some(0.0));

    // Sign-in failures and 429s, exactly as the client saw them.
    for (name, label, expected) in [
        (
            "aura_login_failures_total",
            ("reason", "bad_credentials"),
            refused,
        ),
        (
            "aura_login_failures_total",
            ("reason", "throttled"),
            throttled,
        ),
        (
            "aura_throttled_requests_total",
            ("route", "/api/v1/auth/login"),
            throttled,
        ),
    ] {
        assert_eq!(
            value(&samples, name, &[label]),
            Some(f64::from(expected)),
            "{name} {label:?}"
        );
    }

    // The pool, as configured.
    let max = value(&samples, "aura_db_pool_max_connections", &[]).unwrap();
    let size = value(&samples, "aura_db_pool_connections", &[]).unwrap();
    let in_use = value(&samples, "aura_db_pool_in_use", &[]).unwrap();
    let waiting = value(&samples, "aura_db_pool_waiting", &[]).unwrap();
    assert_eq!(max, 7.0);
    assert!(
        size >= 1.0 && in_use <= size && size <= max && waiting >= 0.0,
        "size {size}, in use {in_use}, max {max}, waiting {waiting}"
    );

    // The task's three reminders (7, 1, 0 days before) wait in the queue.
    let depth = |samples: &[Sample], status| {
        value(samples, "aura_job_queue_depth", &[("status", status)]).unwrap()
    };
    assert_eq!(depth(&samples, "scheduled"), 3.0, "{text}");
    assert_eq!(depth(&samples, "due"), 0.0);
    assert_eq!(depth(&samples, "dead"), 0.0);
    assert_eq!(
        value(&samples, "aura_job_queue_oldest_due_age_seconds", &[]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &samples,
            "aura_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );

    // No ids, addresses or raw paths in any label.
    for secret in [
        task.as_str(),
        owner.user_id.as_str(),
        owner.tenant_id.as_str(),
        owner.email.as_str(),
        stray.as_str(),
        "@",
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
    for sample in &samples {
        if let Some(route) = sample.labels.get("route") {
            assert!(
                route == "<unmatched>"
                    || route
                        .split('/')
                        .all(|segment| uuid::Uuid::parse_str(segment).is_err()),
                "raw path as route: {route}"
            );
        }
    }

    // The queue figures are cached for a few seconds, then read again.
    create_task(&app, &owner.access, &owner.user_id).await;
    let (_, _, text) = scrape(&app, &app.base, Some(TOKEN)).await;
    assert_eq!(depth(&parse(&text), "scheduled"), 3.0, "cached");
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let (_, _, text) = scrape(&app, &app.base, Some(TOKEN)).await;
    assert_eq!(depth(&parse(&text), "scheduled"), 6.0, "read again");

    eprintln!(
        "metrics: {} samples; {refused} bad sign-ins and {throttled} throttled counted; pool {in_use}/{size}/{max}",
        samples.len()
    );
}

/// A free local port (bound and released; the server binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_listener_serves_metrics_and_the_public_port_does_not() {
    let port = free_port();
    let app = TestApp::spawn_with(&[("METRICS_BIND_ADDR", &format!("127.0.0.1:{port}"))]).await;
    let private = format!("http://127.0.0.1:{port}");

    let (status, _, text) = scrape(&app, &private, None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let samples = parse(&text);
    assert!(value(&samples, "aura_db_pool_max_connections", &[]).is_some());
    assert!(value(&samples, "aura_job_queue_depth", &[("status", "due")]).is_some());

    // Only /metrics there; and not on the public port, token or not.
    let other = app
        .http
        .get(format!("{private}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    for token in [None, Some(TOKEN)] {
        let (status, _, body) = scrape(&app, &app.base, token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(!body.contains("http_request"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_token_or_listener_there_are_no_metrics() {
    let app = TestApp::spawn().await;
    let (status, content_type, body) = scrape(&app, &app.base, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(content_type, "application/problem+json");
}

/// A fake OTLP/HTTP collector: answers 200 to every POST and hands over path and body.
async fn collector() -> (String, mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                loop {
                    // Head, then Content-Length bytes of body; keep-alive for the next one.
                    let head_end = loop {
                        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
                    let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buffer.len() < head_end + length {
                        let mut chunk = [0u8; 8192];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buffer[head_end..head_end + length].to_vec();
                    buffer.drain(..head_end + length);
                    let _ = sender.send((path, body));
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, receiver)
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.clone())
        .map(|value| match value {
            any_value::Value::StringValue(s) => s,
            any_value::Value::IntValue(i) => i.to_string(),
            other => format!("{other:?}"),
        })
}

/// Waits for the span whose `request_id` attribute is `request_id`.
async fn exported_span(
    received: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    request_id: &str,
    within: Duration,
) -> Span {
    tokio::time::timeout(within, async {
        loop {
            let (path, body) = received.recv().await.expect("collector running");
            assert_eq!(path, "/v1/traces");
            let export = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
            let found = export
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
                .find(|span| attribute(span, "request_id").as_deref() == Some(request_id));
            if let Some(span) = found {
                return span.clone();
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no span for {request_id} exported within {within:?}"))
}

/// A GET with extra headers (and a bearer token); returns the status.
async fn get_with(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> StatusCode {
    let mut request = app.http.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_and_continue_the_callers_trace() {
    let (endpoint, mut received) = collector().await;
    let app = TestApp::spawn_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_SERVICE_NAME", "aura-test"),
        // The SDK's own setting: export every 100 ms instead of every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    let owner = app.register("Traced GmbH").await;

    // A caller's trace is continued: same trace id, the caller's span as parent.
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let status = get_with(
        &app,
        "/api/v1/users/me",
        Some(&owner.access),
        &[
            ("traceparent", &traceparent),
            ("tracestate", "vendor=abc"),
            ("x-request-id", "traced-request-1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let span = exported_span(&mut received, "traced-request-1", Duration::from_secs(20)).await;
    assert_eq!(hex(&span.trace_id), TRACE_ID);
    assert_eq!(hex(&span.parent_span_id), PARENT_ID);
    assert_ne!(hex(&span.span_id), PARENT_ID);
    assert_eq!(span.trace_state, "vendor=abc");
    assert_eq!(span.name, "GET /api/v1/users/me");
    assert_eq!(
        attribute(&span, "route").as_deref(),
        Some("/api/v1/users/me")
    );
    assert_eq!(attribute(&span, "method").as_deref(), Some("GET"));
    assert_eq!(attribute(&span, "status").as_deref(), Some("200"));
    assert_eq!(attribute(&span, "tenant_id"), Some(owner.tenant_id.clone()));
    assert_eq!(attribute(&span, "user_id"), Some(owner.user_id.clone()));
    // Ids only: the e-mail address is in no attribute.
    assert!(
        span.attributes
            .iter()
            .all(|kv| !format!("{:?}", kv.value).contains(&owner.email)),
        "{:?}",
        span.attributes
    );

    // Without a traceparent: a fresh trace, no parent.
    let status = get_with(
        &app,
        "/health",
        None,
        &[("x-request-id", "fresh-request-1")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let span = exported_span(&mut received, "fresh-request-1", Duration::from_secs(20)).await;
    assert_eq!(span.trace_id.len(), 16);
    assert_ne!(hex(&span.trace_id), TRACE_ID);
    assert_ne!(span.trace_id, vec![0; 16]);
    assert!(span.parent_span_id.is_empty(), "{span:?}");

    // A malformed traceparent is ignored, not continued.
    let headers = [
        ("traceparent", "00-not-a-trace-01"),
        ("x-request-id", "odd-request-1"),
    ];
    assert_eq!(
        get_with(&app, "/health", None, &headers).await,
        StatusCode::OK
    );
    let span = exported_span(&mut received, "odd-request-1", Duration::from_secs(20)).await;
    assert!(span.parent_span_id.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_spans_are_sent_when_the_service_stops() {
    let (endpoint, mut received) = collector().await;
    let app = TestApp::spawn_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        // No timed export within the test: only the flush at shutdown can send it.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    ])
    .await;
    let status = get_with(&app, "/health", None, &[("x-request-id", "last-request-1")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        tokio::time::timeout(Duration::from_millis(1_500), received.recv())
            .await
            .is_err(),
        "exported before the stop"
    );
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &app.pid().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let span = exported_span(&mut received, "last-request-1", Duration::from_secs(15)).await;
    assert_eq!(attribute(&span, "route").as_deref(), Some("/health"));
}
