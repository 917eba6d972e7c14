//! The bodies of data-subject requests: the case as a user edits it, the state its
//! actions move (with the legal clock's dates), and the actions' bodies.

use aura_records::Id;
use aura_requests::{
    ChecklistItem, ItemKind, ItemStatus, NewChecklistItem,
    request::{
        Agent, Answer, Channel, DataSubject, Extension, IdentityVerification, Outcome, Refusal,
        RefusalGround, RequestFields, RequestState, RequestStatus, Requests, Right,
        SubjectCategory, VerificationMethod,
    },
};
use aura_shared_kernel::UserId;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use aura_shared_kernel::date::iso_date;

use super::{
    one_of, one_of_or_null,
    record::{RecordBodies, RecordBody, RecordList},
    tasks::present,
};

/// The person the request is about. Personal data of a third party: sealed at rest,
/// never in logs, and only noted as changed in audit events.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSubjectBody {
    pub name: String,
    #[schema(format = Email)]
    pub email: Option<String>,
    /// Any other way to reach the person (postal address, phone).
    pub contact: Option<String>,
    /// Who the person is to the organisation: selects the activities that concern them.
    #[schema(schema_with = one_of::<SubjectCategory>)]
    pub category: SubjectCategory,
}

/// Someone acting for the person (a lawyer, a parent, an association under Art. 80).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    pub name: String,
    pub contact: Option<String>,
    /// What shows the authority to act (e.g. "signed power of attorney, 2027-01-04").
    pub authority: String,
}

/// Everything a user edits about a request (create, and update: send all). The dates
/// of the case follow from `received_at` by the legal clock and are read-only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"received_at": "2027-01-31T10:15:00+01:00", "channel": "email",
    "subject": {"name": "Erika Mustermann", "email": "erika@example.org", "category": "customer"},
    "rights": ["access", "erasure"], "scope": "All data about my customer account"}))]
pub struct RequestFieldsBody {
    /// When the request reached the organisation: the one-month period runs from the
    /// date here (in the offset given). Default: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub received_at: Option<OffsetDateTime>,
    #[schema(schema_with = one_of::<Channel>)]
    pub channel: Channel,
    pub subject: DataSubjectBody,
    pub agent: Option<AgentBody>,
    /// At least one of: access (Art. 15), rectification (16), erasure (17), restriction
    /// (18), portability (20), objection (21), automated_decision (22),
    /// consent_withdrawal (7(3)).
    #[schema(schema_with = rights_schema)]
    pub rights: Vec<Right>,
    /// What the person asks for, in their words or a summary.
    pub scope: Option<String>,
    pub assignee_id: Option<Uuid>,
}

pub(crate) fn rights_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_of::<Right>())
        .min_items(Some(1))
        .build()
}

impl RequestFieldsBody {
    /// The fields, with `received_at` defaulting to `now`.
    pub fn into_fields(self, now: OffsetDateTime) -> RequestFields {
        RequestFields {
            received_at: self.received_at.unwrap_or(now),
            channel: self.channel,
            subject: DataSubject {
                name: self.subject.name,
                email: self.subject.email,
                contact: self.subject.contact,
                category: self.subject.category,
            },
            agent: self.agent.map(|a| Agent {
                name: a.name,
                contact: a.contact,
                authority: a.authority,
            }),
            rights: self.rights,
            scope: self.scope,
            assignee_id: self.assignee_id.map(UserId::from_uuid),
        }
    }
}

impl From<RequestFields> for RequestFieldsBody {
    fn from(f: RequestFields) -> Self {
        Self {
            received_at: Some(f.received_at),
            channel: f.channel,
            subject: DataSubjectBody {
                name: f.subject.name,
                email: f.subject.email,
                contact: f.subject.contact,
                category: f.subject.category,
            },
            agent: f.agent.map(|a| AgentBody {
                name: a.name,
                contact: a.contact,
                authority: a.authority,
            }),
            rights: f.rights,
            scope: f.scope,
            assignee_id: f.assignee_id.map(|u| u.as_uuid()),
        }
    }
}

/// The identity check: how and by whom the person's identity was confirmed. A proof
/// document is never kept, only the method and the time.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityBody {
    #[schema(schema_with = one_of_or_null::<VerificationMethod>)]
    pub method: Option<VerificationMethod>,
    pub verified_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
}

/// An extension of the period (Art. 12(3)).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionBody {
    /// 1 or 2 further months.
    pub months: u8,
    pub reasons: String,
    /// The day the person was told (by the first due date).
    #[serde(with = "iso_date")]
    pub told_on: Date,
}

/// A refusal, wholly or in part, as Art. 12(4) requires it to be told.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusalBody {
    #[schema(schema_with = one_of::<RefusalGround>)]
    pub ground: RefusalGround,
    pub reasons: String,
    /// The person was told of the right to complain to a supervisory authority and to
    /// seek a judicial remedy (Art. 12(4)): must be true.
    pub complaint_right_told: bool,
}

impl From<RefusalBody> for Refusal {
    fn from(b: RefusalBody) -> Self {
        Self {
            ground: b.ground,
            reasons: b.reasons,
            complaint_right_told: b.complaint_right_told,
        }
    }
}

/// The answer given.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerBody {
    #[schema(schema_with = one_of::<Outcome>)]
    pub outcome: Outcome,
    #[serde(with = "iso_date")]
    pub answered_on: Date,
    pub refusal: Option<RefusalBody>,
}

/// One thing to do to answer the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistItemBody {
    pub id: Uuid,
    #[schema(schema_with = one_of::<ItemKind>)]
    pub kind: ItemKind,
    pub activity_id: Option<Uuid>,
    pub processor_id: Option<Uuid>,
    /// For an Art. 19 notice: the recipient (category) to notify.
    pub recipient: Option<String>,
    pub title: String,
    #[schema(schema_with = one_of::<ItemStatus>)]
    pub status: ItemStatus,
    pub note: Option<String>,
    pub assignee_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
    pub done_by: Option<Uuid>,
}

impl From<ChecklistItem> for ChecklistItemBody {
    fn from(i: ChecklistItem) -> Self {
        Self {
            id: i.id.as_uuid(),
            kind: i.kind,
            activity_id: i.activity_id.map(|a| a.as_uuid()),
            processor_id: i.processor_id.map(|p| p.as_uuid()),
            recipient: i.recipient,
            title: i.title,
            status: i.status,
            note: i.note,
            assignee_id: i.assignee_id.map(|u| u.as_uuid()),
            done_at: i.done_at,
            done_by: i.done_by.map(|u| u.as_uuid()),
        }
    }
}

/// Where the case stands and the legal clock's dates, with why they are what they are
/// (read-only; moved by the request's actions).
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestStateBody {
    /// Per organisation and year of receipt: `DSR-2027-0001`.
    pub reference: String,
    #[schema(schema_with = one_of::<RequestStatus>)]
    pub status: RequestStatus,
    pub identity: IdentityBody,
    /// The day the one-month period runs from: receipt, or the identity confirmation
    /// where the organisation counts from it (`null` while the clock waits for it).
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub clock_starts_on: Option<Date>,
    /// The end of the first month (Art. 12(3), counted as Reg. 1182/71 Art. 3): the last
    /// day an extension may be told.
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub first_due_on: Option<Date>,
    pub extension: Option<ExtensionBody>,
    /// The day the answer is due: the first due date, or the extended one.
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub answer: Option<AnswerBody>,
    /// Answered by the due date (`null` until answered).
    pub answered_in_time: Option<bool>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub created_by: Option<Uuid>,
    pub checklist: Vec<ChecklistItemBody>,
}

impl From<RequestState> for RequestStateBody {
    fn from(s: RequestState) -> Self {
        let answered_in_time = s.answered_in_time();
        let IdentityVerification {
            method,
            verified_by,
            verified_at,
        } = s.identity;
        Self {
            reference: s.reference,
            status: s.status,
            identity: IdentityBody {
                method,
                verified_by: verified_by.map(|u| u.as_uuid()),
                verified_at,
            },
            clock_starts_on: s.clock_starts_on,
            first_due_on: s.first_due_on,
            extension: s.extension.map(|e: Extension| ExtensionBody {
                months: e.months,
                reasons: e.reasons,
                told_on: e.told_on,
            }),
            due_on: s.due_on,
            answer: s.answer.map(|a: Answer| AnswerBody {
                outcome: a.outcome,
                answered_on: a.answered_on,
                refusal: a.refusal.map(|r| RefusalBody {
                    ground: r.ground,
                    reasons: r.reasons,
                    complaint_right_told: r.complaint_right_told,
                }),
            }),
            answered_in_time,
            closed_at: s.closed_at,
            created_by: s.created_by.map(|u| u.as_uuid()),
            checklist: s.checklist.into_iter().map(Into::into).collect(),
        }
    }
}

impl RecordBodies for Requests {
    const BODY_NAME: &'static str = "DataSubjectRequestBody";
    const BODY_DESCRIPTION: &'static str = "A data-subject request: what a user edits, where the case stands, and the legal clock's dates (read-only).";
    const LIST_NAME: &'static str = "DataSubjectRequestList";
    const LIST_DESCRIPTION: &'static str = "A page of data-subject requests.";
    type FieldsBody = RequestFieldsBody;
    type DerivedBody = RequestStateBody;

    fn bodies(fields: RequestFields, state: RequestState) -> (RequestFieldsBody, RequestStateBody) {
        (fields.into(), state.into())
    }
}

/// A stored data-subject request.
pub type DataSubjectRequestBody = RecordBody<Requests>;

/// A page of data-subject requests.
pub type DataSubjectRequestList = RecordList<Requests>;

// ------------------------------------------------------------------ actions

/// The outcome of the identity check.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCheckResult {
    /// Confirmed: the case goes on (and where the organisation counts from the
    /// confirmation, the clock starts).
    Confirmed,
    /// The person could not be identified (Art. 12(2), 11(2)): the case ends as
    /// `rejected_unverifiable`.
    Failed,
}

/// `POST .../verify-identity`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"result": "confirmed", "method": "known_account"}))]
pub struct VerifyIdentityBody {
    pub result: IdentityCheckResult,
    /// How the identity was confirmed (required when confirmed).
    #[serde(default)]
    #[schema(schema_with = one_of_or_null::<VerificationMethod>)]
    pub method: Option<VerificationMethod>,
}

/// What the organisation asks the person for.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InformationKind {
    /// Proof of identity (Art. 12(6)): the case waits in `verifying_identity`.
    Identity,
    /// A clarification of the request: the case waits for the person.
    Clarification,
}

/// `POST .../request-information`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"asked": "identity"}))]
pub struct RequestInformationBody {
    pub asked: InformationKind,
}

/// `POST .../extend` (Art. 12(3)): once, by one or two months, with reasons, told to the
/// person by the first due date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"months": 2, "reasons": "Records in six systems must be searched", "told_on": "2027-02-20"}))]
pub struct ExtendBody {
    #[schema(minimum = 1, maximum = 2)]
    pub months: u8,
    pub reasons: String,
    /// The day the person was told. Default: today.
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub told_on: Option<Date>,
}

/// `POST .../answer`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "fulfilled", "answered_on": "2027-02-25"}))]
pub struct AnswerRequestBody {
    #[schema(schema_with = one_of::<Outcome>)]
    pub outcome: Outcome,
    /// Default: today.
    #[serde(default, with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub answered_on: Option<Date>,
    /// Required for `refused`; for `partly_fulfilled` the part refused.
    #[serde(default)]
    pub refusal: Option<RefusalBody>,
}

/// `POST .../checklist/items`: an item added by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "search", "title": "Search the paper archive"}))]
pub struct NewChecklistItemBody {
    #[schema(schema_with = one_of::<ItemKind>)]
    pub kind: ItemKind,
    pub title: String,
    #[serde(default)]
    pub activity_id: Option<Uuid>,
    #[serde(default)]
    pub processor_id: Option<Uuid>,
    /// For `notify_recipient` (Art. 19): the recipient to notify.
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
}

impl From<NewChecklistItemBody> for NewChecklistItem {
    fn from(b: NewChecklistItemBody) -> Self {
        Self {
            kind: b.kind,
            title: b.title,
            activity_id: b.activity_id.map(Id::from_uuid),
            processor_id: b.processor_id.map(Id::from_uuid),
            recipient: b.recipient,
            note: b.note,
            assignee_id: b.assignee_id.map(UserId::from_uuid),
        }
    }
}

/// `PATCH .../checklist/items/{item_id}`: what to change (absent: unchanged; `null`
/// clears the note or the assignee). `not_applicable` needs a note saying why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "not_applicable", "note": "No newsletter account for this address"}))]
pub struct ChecklistItemPatchBody {
    #[serde(default)]
    #[schema(schema_with = one_of_or_null::<ItemStatus>)]
    pub status: Option<ItemStatus>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
}
