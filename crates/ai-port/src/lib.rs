//! The AI assistant: it helps a privacy owner who is not a lawyer draft policies, fill in
//! processing activities and understand the organisation's own compliance state.
//!
//! Pure domain crate: the provider port ([`AiProvider`]) with its request and response
//! types, versioned prompt templates shared by every LLM adapter, the stored
//! [`Suggestion`]s and their ports, and the use cases ([`AiAssistant`]).
//!
//! Two rules hold everywhere:
//! - **The assistant never changes a record on its own.** What it produces is stored as a
//!   pending suggestion; only a user's accept turns it into a change, made through the
//!   registers' use cases with an audit event naming the suggestion.
//! - **Retrieval stays inside the tenant.** The context a provider sees is read through the
//!   registers' ports with the caller's [`aura_shared_kernel::TenantScope`]; citations a provider
//!   returns are kept only when they name a record of that context.

pub mod actions;
mod breach;
mod context;
mod dpia;
mod error;
mod model;
pub mod ports;
pub mod prompts;
mod service;
mod suggestion;
mod target;

pub use breach::{BreachMeasuresDraft, record_of_breach};
pub use context::{
    MAX_EXCERPT_CHARS, keywords, record_of_activity, record_of_organisation, record_of_policy,
    record_of_processor,
};
pub use dpia::{DpiaContentDraft, record_of_dpia};
pub use error::{AiError, AssistantError};
pub use model::{
    ActivityDraft, ActivitySuggestionRequest, Answer, Citation, ContextKind, ContextRecord,
    Generated, PolicyDraft, PolicyDraftRequest, Provenance, QuestionRequest,
};
pub use ports::{AiProvider, AiUsage, SuggestionQuery, SuggestionRepository, UsageLimits};
pub use service::{
    AiAssistant, AiConfig, AiPorts, PolicyDraftInput, SETTING_ENABLED, SETTING_RATE_LIMIT, entity,
};
pub use suggestion::{
    Accepted, Applied, Suggestion, SuggestionContent, SuggestionKind, SuggestionStatus,
};
pub use target::TargetRequest;
