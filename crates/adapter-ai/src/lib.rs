//! AI providers for the assistant's [`aura_ai_port::AiProvider`] port:
//! - [`OfflineAssistant`]: no network, deterministic — template-based policy drafts
//!   filled from the organisation profile and register, rule-based activity suggestions,
//!   answers assembled from the register's records. Demo mode and tests use it.
//! - [`OpenAiCompatible`]: the chat-completions API of OpenAI, Azure OpenAI (v1 API),
//!   Ollama, vLLM and others, with the shared prompt templates, JSON answers, retries
//!   with back-off on 429/5xx, and a timeout.

mod offline;
mod openai;

pub use offline::OfflineAssistant;
pub use openai::{ApiKey, AuthHeader, OpenAiCompatible, OpenAiConfig};
