//! An OpenAI-compatible chat-completions client (OpenAI, Azure OpenAI's v1 API, Ollama,
//! vLLM, …). Prompts come from `aura_ai_port::prompts`; answers are JSON objects
//! (`response_format: json_object`) parsed into the port's types. Retries 429 and 5xx
//! with exponential back-off, honouring `Retry-After`; a timeout is `AiError::Timeout`,
//! an unusable answer `AiError::InvalidResponse`. The API key never appears in `Debug`,
//! logs or errors.

use std::{fmt, sync::Arc, time::Duration};

use aura_ai_port::{
    ActivityDraft, ActivitySuggestionRequest, AiError, AiProvider, Answer, BreachMeasuresDraft,
    ContextRecord, DpiaContentDraft, Generated, PolicyDraft, PolicyDraftRequest, Provenance,
    QuestionRequest, TargetRequest,
    prompts::{self, Prompt},
};
use aura_dpias::{NecessityItem, Risk};
use aura_gdpr_registers::{
    ActivityFields, ActivityRole, ActivityStatus, Art9Condition, DataCategory, DpiaRequirement,
    LawfulBasis, Purpose,
};
use aura_shared_kernel::Clock;
use reqwest::{StatusCode, Url, header};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PROVIDER: &str = "openai";

/// A provider API key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How the key is sent: `Authorization: Bearer <key>` (OpenAI, Ollama, vLLM) or
/// `api-key: <key>` (Azure OpenAI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthHeader {
    #[default]
    Bearer,
    ApiKey,
}

#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// The API root that `chat/completions` is appended to, e.g.
    /// `https://api.openai.com/v1` or `http://localhost:11434/v1` (Ollama). A query
    /// (Azure's `api-version`) is kept.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<ApiKey>,
    pub auth_header: AuthHeader,
    /// For one attempt, answer included.
    pub timeout: Duration,
    pub max_tokens: u32,
    /// Further attempts after a 429, a 5xx or a connection failure.
    pub max_retries: u32,
    /// The first wait; each retry doubles it.
    pub retry_base: Duration,
    /// The longest wait between attempts; a `Retry-After` beyond it ends the retries.
    pub max_retry_wait: Duration,
}

impl OpenAiConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            auth_header: AuthHeader::Bearer,
            timeout: Duration::from_secs(60),
            max_tokens: 2_000,
            max_retries: 2,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(20),
        }
    }
}

/// The client. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct OpenAiCompatible {
    client: reqwest::Client,
    endpoint: Url,
    config: Arc<OpenAiConfig>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("endpoint", &self.endpoint.as_str())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The chat-completions URL under `base_url`.
fn endpoint(base_url: &str) -> Result<Url, String> {
    let mut url = Url::parse(base_url.trim()).map_err(|_| "is not a URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".to_owned());
    }
    url.path_segments_mut()
        .map_err(|()| "cannot hold a path".to_owned())?
        .pop_if_empty()
        .extend(["chat", "completions"]);
    Ok(url)
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct ResponseFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: [Message<'a>; 2],
    max_tokens: u32,
    temperature: f32,
    response_format: ResponseFormat,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    model: Option<String>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
}

/// The JSON object inside a model's text, without a Markdown code fence around it.
fn json_object<T: serde::de::DeserializeOwned>(content: &str) -> Result<T, AiError> {
    let text = content.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    serde_json::from_str(text).map_err(|e| {
        AiError::InvalidResponse(format!(
            "the answer is not the JSON object asked for ({})",
            e.classify_name()
        ))
    })
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Data => "wrong shape",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

/// Ids of `cited` that name a record of `context`, each once (anything else is dropped).
fn cited_ids(cited: &[serde_json::Value], context: &[ContextRecord]) -> Vec<Uuid> {
    let mut out = Vec::new();
    for id in cited
        .iter()
        .filter_map(serde_json::Value::as_str)
        .filter_map(|s| Uuid::parse_str(s.trim()).ok())
    {
        if context.iter().any(|r| r.id == id) && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

#[derive(Deserialize)]
struct PolicyOut {
    title: Option<String>,
    content: String,
    #[serde(default)]
    citations: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct PurposeOut {
    description: String,
    lawful_basis: LawfulBasis,
    legitimate_interest: Option<String>,
}

#[derive(Deserialize)]
struct DataOut {
    name: String,
    retention: Option<String>,
    special_category: Option<Art9Condition>,
}

#[derive(Deserialize)]
struct ActivityOut {
    name: String,
    description: Option<String>,
    #[serde(default)]
    purposes: Vec<PurposeOut>,
    #[serde(default)]
    data_subject_categories: Vec<String>,
    #[serde(default)]
    data_categories: Vec<DataOut>,
    #[serde(default)]
    recipient_categories: Vec<String>,
    security_measures: Option<String>,
    dpia_required: Option<DpiaRequirement>,
    dpia_reason: Option<String>,
    rationale: Option<String>,
    #[serde(default)]
    citations: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct BreachMeasuresOut {
    consequences: String,
    measures: String,
    rationale: Option<String>,
    #[serde(default)]
    citations: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct DpiaDraftOut {
    description: String,
    #[serde(default)]
    necessity: Vec<NecessityItem>,
    #[serde(default)]
    risks: Vec<Risk>,
    rationale: Option<String>,
    #[serde(default)]
    citations: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct AnswerOut {
    answer: String,
    #[serde(default)]
    citations: Vec<serde_json::Value>,
}

impl OpenAiCompatible {
    /// Checks the configuration and builds the client (no request is made).
    pub fn new(config: OpenAiConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let endpoint = endpoint(&config.base_url).map_err(|e| format!("AI_BASE_URL {e}"))?;
        if config.model.trim().is_empty() {
            return Err("AI_MODEL must name a model".to_owned());
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|_| "the HTTP client could not be built".to_owned())?;
        Ok(Self {
            client,
            endpoint,
            config: Arc::new(config),
            clock,
        })
    }

    fn wait_before(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        retry_after.unwrap_or_else(|| {
            self.config
                .retry_base
                .saturating_mul(2u32.saturating_pow(retry))
                .min(self.config.max_retry_wait)
        })
    }

    /// One chat completion: the model's text and the model that answered.
    async fn complete(&self, prompt: &Prompt) -> Result<(String, String), AiError> {
        let body = ChatRequest {
            model: &self.config.model,
            messages: [
                Message {
                    role: "system",
                    content: &prompt.system,
                },
                Message {
                    role: "user",
                    content: &prompt.user,
                },
            ],
            max_tokens: self.config.max_tokens,
            temperature: 0.2,
            response_format: ResponseFormat {
                kind: "json_object",
            },
        };
        let mut retry = 0;
        loop {
            let mut request = self.client.post(self.endpoint.clone()).json(&body);
            if let Some(key) = &self.config.api_key {
                request = match self.config.auth_header {
                    AuthHeader::Bearer => request.bearer_auth(key.expose()),
                    AuthHeader::ApiKey => request.header("api-key", key.expose()),
                };
            }
            let (failure, retry_after) = match request.send().await {
                Err(e) if e.is_timeout() => return Err(AiError::Timeout),
                Err(e) => (
                    AiError::Unavailable(if e.is_connect() {
                        "connection failed".to_owned()
                    } else {
                        "request failed".to_owned()
                    }),
                    None,
                ),
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        let bytes = response.bytes().await.map_err(|e| {
                            if e.is_timeout() {
                                AiError::Timeout
                            } else {
                                AiError::Unavailable("the answer broke off".to_owned())
                            }
                        })?;
                        return self.parse_envelope(&bytes);
                    }
                    let retry_after = response
                        .headers()
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        (
                            AiError::RateLimited {
                                retry_after_secs: retry_after,
                            },
                            retry_after.map(Duration::from_secs),
                        )
                    } else if status.is_server_error() {
                        (
                            AiError::Unavailable(format!("HTTP {}", status.as_u16())),
                            retry_after.map(Duration::from_secs),
                        )
                    } else {
                        // 400, 401, 404 …: the configuration or the request is wrong;
                        // asking again changes nothing.
                        return Err(AiError::Unavailable(format!(
                            "HTTP {} (check AI_BASE_URL, AI_MODEL and AI_API_KEY)",
                            status.as_u16()
                        )));
                    }
                }
            };
            if retry >= self.config.max_retries {
                return Err(failure);
            }
            let wait = self.wait_before(retry, retry_after);
            if wait > self.config.max_retry_wait {
                return Err(failure);
            }
            tracing::warn!(
                attempt = retry + 1,
                error = failure.code(),
                wait_ms = wait.as_millis() as u64,
                "AI provider failed; retrying"
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    fn parse_envelope(&self, bytes: &[u8]) -> Result<(String, String), AiError> {
        let response: ChatResponse = serde_json::from_slice(bytes).map_err(|e| {
            AiError::InvalidResponse(format!(
                "not a chat-completions response ({})",
                e.classify_name()
            ))
        })?;
        let content = response
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| AiError::InvalidResponse("the answer has no content".to_owned()))?;
        let model = response
            .model
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| self.config.model.clone());
        Ok((content, model))
    }

    fn provenance(&self, prompt: &Prompt, model: String, context: &[ContextRecord]) -> Provenance {
        Provenance {
            provider: PROVIDER.to_owned(),
            model: model.chars().take(200).collect(),
            template_version: prompt.template_version.to_owned(),
            record_ids: context.iter().map(|r| r.id).collect(),
            generated_at: self.clock.now(),
        }
    }
}

#[async_trait::async_trait]
impl AiProvider for OpenAiCompatible {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn draft_policy(
        &self,
        request: &PolicyDraftRequest,
    ) -> Result<Generated<PolicyDraft>, AiError> {
        let prompt = prompts::policy_draft(request);
        let (content, model) = self.complete(&prompt).await?;
        let out: PolicyOut = json_object(&content)?;
        if out.content.trim().is_empty() {
            return Err(AiError::InvalidResponse(
                "the policy text is empty".to_owned(),
            ));
        }
        Ok(Generated {
            output: PolicyDraft {
                title: out
                    .title
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| request.title.clone()),
                content: out.content,
                citations: cited_ids(&out.citations, &request.context),
            },
            provenance: self.provenance(&prompt, model, &request.context),
        })
    }

    async fn suggest_activity(
        &self,
        request: &ActivitySuggestionRequest,
    ) -> Result<Generated<ActivityDraft>, AiError> {
        let prompt = prompts::activity_suggestion(request);
        let (content, model) = self.complete(&prompt).await?;
        let out: ActivityOut = json_object(&content)?;
        let fields = ActivityFields {
            name: out.name,
            description: out.description,
            role: ActivityRole::Controller,
            controller_name: None,
            controller_contact: None,
            purposes: out
                .purposes
                .into_iter()
                .map(|p| Purpose {
                    description: p.description,
                    lawful_basis: p.lawful_basis,
                    legitimate_interest: p.legitimate_interest,
                })
                .collect(),
            data_subject_categories: out.data_subject_categories,
            data_categories: out
                .data_categories
                .into_iter()
                .map(|d| DataCategory {
                    name: d.name,
                    special_category: d.special_category,
                    criminal_offence_data: false,
                    retention: d.retention,
                })
                .collect(),
            recipient_categories: out.recipient_categories,
            transfers: Vec::new(),
            security_measures: out.security_measures,
            data_source: None,
            automated_decision_making: false,
            automated_decision_details: None,
            dpia_required: out.dpia_required.unwrap_or(DpiaRequirement::ToAssess),
            dpia_reason: out.dpia_reason,
            owner_id: None,
            department: None,
            processor_ids: Vec::new(),
            status: ActivityStatus::Draft,
            review_date: None,
        };
        let fields = fields.validated().map_err(|e| {
            AiError::InvalidResponse(format!("the suggested activity is invalid: {e}"))
        })?;
        Ok(Generated {
            output: ActivityDraft {
                fields,
                rationale: out.rationale.unwrap_or_default(),
                citations: cited_ids(&out.citations, &request.context),
            },
            provenance: self.provenance(&prompt, model, &request.context),
        })
    }

    async fn answer(&self, request: &QuestionRequest) -> Result<Generated<Answer>, AiError> {
        let prompt = prompts::question(request);
        let (content, model) = self.complete(&prompt).await?;
        let out: AnswerOut = json_object(&content)?;
        if out.answer.trim().is_empty() {
            return Err(AiError::InvalidResponse("the answer is empty".to_owned()));
        }
        Ok(Generated {
            output: Answer {
                text: out.answer,
                citations: cited_ids(&out.citations, &request.context),
            },
            provenance: self.provenance(&prompt, model, &request.context),
        })
    }

    async fn suggest_breach_measures(
        &self,
        request: &TargetRequest,
    ) -> Result<Generated<BreachMeasuresDraft>, AiError> {
        let prompt = prompts::breach_measures(request);
        let (content, model) = self.complete(&prompt).await?;
        let out: BreachMeasuresOut = json_object(&content)?;
        if out.consequences.trim().is_empty() || out.measures.trim().is_empty() {
            return Err(AiError::InvalidResponse(
                "the consequences or the measures are empty".to_owned(),
            ));
        }
        Ok(Generated {
            output: BreachMeasuresDraft {
                consequences: out.consequences,
                measures: out.measures,
                rationale: out.rationale.unwrap_or_default(),
                citations: cited_ids(&out.citations, &request.context),
            },
            provenance: self.provenance(&prompt, model, &request.context),
        })
    }

    async fn draft_dpia(
        &self,
        request: &TargetRequest,
    ) -> Result<Generated<DpiaContentDraft>, AiError> {
        let prompt = prompts::dpia_draft(request);
        let (content, model) = self.complete(&prompt).await?;
        let out: DpiaDraftOut = json_object(&content)?;
        if out.description.trim().is_empty() {
            return Err(AiError::InvalidResponse(
                "the description is empty".to_owned(),
            ));
        }
        Ok(Generated {
            output: DpiaContentDraft {
                description: out.description,
                necessity: out.necessity,
                risks: out.risks,
                rationale: out.rationale.unwrap_or_default(),
                citations: cited_ids(&out.citations, &request.context),
            },
            provenance: self.provenance(&prompt, model, &request.context),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_the_query_and_one_slash() {
        assert_eq!(
            endpoint("https://api.openai.com/v1").map(String::from).ok(),
            Some("https://api.openai.com/v1/chat/completions".to_owned())
        );
        assert_eq!(
            endpoint("http://localhost:11434/v1/")
                .map(String::from)
                .ok(),
            Some("http://localhost:11434/v1/chat/completions".to_owned())
        );
        assert_eq!(
            endpoint("https://x.openai.azure.com/openai/v1?api-version=preview")
                .map(String::from)
                .ok(),
            Some(
                "https://x.openai.azure.com/openai/v1/chat/completions?api-version=preview"
                    .to_owned()
            )
        );
        assert!(endpoint("ftp://x").is_err());
        assert!(endpoint("not a url").is_err());
    }

    #[test]
    fn fenced_json_is_read() {
        let out: AnswerOut = json_object("```json\n{\"answer\": \"yes\"}\n```").expect("json");
        assert_eq!(out.answer, "yes");
        assert!(json_object::<AnswerOut>("{\"answer\": ").is_err());
    }

    #[test]
    fn the_key_never_prints() {
        let mut config = OpenAiConfig::new("https://api.openai.com/v1", "gpt-4o-mini");
        config.api_key = Some(ApiKey::new("sk-very-secret"));
        assert!(!format!("{config:?}").contains("sk-very-secret"));
    }
}
