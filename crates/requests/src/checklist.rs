//! The fulfilment checklist of a data-subject request: what has to be done, where, and by
//! whom, generated from the register of processing activities (Art. 30) and its processors.
//!
//! # Which activities concern the person
//!
//! An activity concerns the person when one of its data-subject categories names the
//! request's [`SubjectCategory`] (English or German, any case, plural or compound: "Customers",
//! "Bestandskunden", "Mitarbeiter*innen"; see [`names_category`]), or when it lists no
//! category at all: nothing rules it out. For `other`, every activity concerns them.
//!
//! Draft activities count: a draft entry usually describes processing that already runs
//! while its record is being written. Retired activities are skipped, unless no draft or
//! active activity concerns the person: then the retired ones that match are listed, since
//! their data may outlive the processing (retention periods), and an empty checklist would
//! wrongly suggest that nothing is held.
//!
//! # What each right asks for (per concerned activity)
//!
//! Always a `search` for the person's data. Then, by the rights asked: access (Art. 15) or
//! portability (Art. 20) → `export`; rectification (Art. 16) → `rectify`; erasure (Art. 17)
//! → `erase`; restriction (Art. 18) → `restrict`; objection (Art. 21) → `stop_processing`;
//! automated decisions (Art. 22) → `review_automated_decision`, only where the activity
//! records automated decision-making; consent withdrawal (Art. 7(3)) →
//! `withdraw_consent`, only where the activity may rely on consent (Art. 6(1)(a) or
//! 9(2)(a)), or records no purpose to tell.
//!
//! Across activities, deduplicated: one Art. 19 `notify_recipient` item per recipient
//! category, and one Art. 28(3)(e) `instruct_processor` item per linked processor (see
//! [`generate`] for when).

use std::collections::{BTreeMap, BTreeSet};

use aura_gdpr_registers::{
    Activities, ActivityId, ActivityStatus, Art9Condition, LawfulBasis, ProcessingActivity,
    Processor, ProcessorId, Processors, string_enum,
    text::{TextRule, optional_text, text},
};
use aura_records::{Id, Reference};
use aura_shared_kernel::{UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::request::{Right, SubjectCategory};

string_enum!(
    /// What an item asks someone to do.
    ItemKind {
        /// Find the person's data in an activity (every right starts here).
        Search => "search",
        /// Art. 15 copy, or Art. 20 portable format.
        Export => "export",
        /// Art. 17
        Erase => "erase",
        /// Art. 16
        Rectify => "rectify",
        /// Art. 18
        Restrict => "restrict",
        /// Art. 21: the objection stops the processing unless compelling grounds override it.
        StopProcessing => "stop_processing",
        /// Art. 22(3): human intervention, the person's point of view, contesting the decision.
        ReviewAutomatedDecision => "review_automated_decision",
        /// Art. 7(3)
        WithdrawConsent => "withdraw_consent",
        /// Art. 19: tell each recipient of a rectification, erasure or restriction.
        NotifyRecipient => "notify_recipient",
        /// Art. 28(3)(e): the processor assists with the person's rights.
        InstructProcessor => "instruct_processor",
        /// A manual item that fits none of the above (e.g. "send the answer by post").
        Other => "other",
    }
);

string_enum!(
    /// Where an item stands. `done` and `not_applicable` both settle it.
    ItemStatus {
        Open => "open",
        Done => "done",
        NotApplicable => "not_applicable",
    }
);

/// A new item is open.
// string_enum! owns the enum's derive list, so this cannot be a derive.
#[allow(clippy::derivable_impls)]
impl Default for ItemStatus {
    fn default() -> Self {
        Self::Open
    }
}

/// The longest note on an item.
pub const NOTE_MAX: usize = 2_000;
/// The longest title of an item.
pub const TITLE_MAX: usize = 300;
/// The longest recipient name of an item (as long as an activity's recipient category).
pub const RECIPIENT_MAX: usize = 200;
/// How much of a name a generated title quotes, so every title stays within [`TITLE_MAX`].
const NAME_IN_TITLE: usize = 100;

pub type ChecklistItemId = Id<ChecklistItem>;

/// One thing to do to fulfil a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub id: ChecklistItemId,
    pub kind: ItemKind,
    /// The activity the item is about (per-activity items; `None` for the deduplicated
    /// notices and instructions, and for manual items that name none).
    #[serde(default)]
    pub activity_id: Option<ActivityId>,
    /// The processor to instruct (`instruct_processor`).
    #[serde(default)]
    pub processor_id: Option<ProcessorId>,
    /// The recipient (category) to notify (`notify_recipient`), as the activity names it.
    #[serde(default)]
    pub recipient: Option<String>,
    pub title: String,
    #[serde(default)]
    pub status: ItemStatus,
    /// Why it is not applicable (required then), or what was done.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// When and by whom the item was settled (done or not applicable); cleared on reopening.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub done_by: Option<UserId>,
}

/// What makes two items the same task: a checklist holds each key once when generated
/// (recipients compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey {
    pub kind: ItemKind,
    pub activity_id: Option<ActivityId>,
    pub processor_id: Option<ProcessorId>,
    pub recipient: Option<String>,
}

impl ChecklistItem {
    /// A new open item, unassigned.
    pub fn open(
        kind: ItemKind,
        activity_id: Option<ActivityId>,
        processor_id: Option<ProcessorId>,
        recipient: Option<String>,
        title: String,
    ) -> Self {
        Self {
            id: Id::generate(),
            kind,
            activity_id,
            processor_id,
            recipient,
            title,
            status: ItemStatus::Open,
            note: None,
            assignee_id: None,
            done_at: None,
            done_by: None,
        }
    }

    pub fn key(&self) -> ItemKey {
        ItemKey {
            kind: self.kind,
            activity_id: self.activity_id,
            processor_id: self.processor_id,
            recipient: self.recipient.as_deref().map(folded),
        }
    }

    /// Done or not applicable.
    pub fn is_settled(&self) -> bool {
        self.status != ItemStatus::Open
    }
}

/// What the checklist needs of an activity; callers build it from the register's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityView {
    pub id: ActivityId,
    pub name: String,
    pub data_subject_categories: Vec<String>,
    pub processor_ids: Vec<ProcessorId>,
    pub recipient_categories: Vec<String>,
    pub automated_decision_making: bool,
    /// Consent may be a basis of the processing: a purpose relies on it (Art. 6(1)(a)), a
    /// data category on explicit consent (Art. 9(2)(a)), or no purpose is recorded.
    pub may_rely_on_consent: bool,
    pub status: ActivityStatus,
}

impl From<&ProcessingActivity> for ActivityView {
    fn from(activity: &ProcessingActivity) -> Self {
        let fields = &activity.fields;
        let may_rely_on_consent = fields.purposes.is_empty()
            || fields
                .purposes
                .iter()
                .any(|p| p.lawful_basis == LawfulBasis::Consent)
            || fields
                .data_categories
                .iter()
                .any(|c| c.special_category == Some(Art9Condition::ExplicitConsent));
        Self {
            id: activity.id,
            name: fields.name.clone(),
            data_subject_categories: fields.data_subject_categories.clone(),
            processor_ids: fields.processor_ids.clone(),
            recipient_categories: fields.recipient_categories.clone(),
            automated_decision_making: fields.automated_decision_making,
            may_rely_on_consent,
            status: fields.status,
        }
    }
}

/// What the checklist needs of a processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorView {
    pub id: ProcessorId,
    pub name: String,
}

impl From<&Processor> for ProcessorView {
    fn from(processor: &Processor) -> Self {
        Self {
            id: processor.id,
            name: processor.fields.name.clone(),
        }
    }
}

/// The words that name a category of data subjects, lower case, separated by spaces.
/// `words` match a whole word (English ones also with a plural `s`); `heads` also match as
/// the end of a German compound ("Bestandskunden", "Außendienstmitarbeiter").
struct Vocabulary {
    words: &'static str,
    heads: &'static str,
}

/// Compounds that end like a head but name something else ("Urkunden" are documents).
const NOT_HEADS: &[&str] = &["urkunde", "urkunden"];

fn vocabulary(category: SubjectCategory) -> Option<Vocabulary> {
    use SubjectCategory::*;
    let vocabulary = match category {
        Customer => Vocabulary {
            words: "customer client buyer purchaser consumer kund käufer käuferin käuferinnen \
                    kaeufer mandant mandanten mandantin klient klienten klientin verbraucher \
                    verbraucherin verbraucherinnen",
            heads: "kunde kunden kundin kundinnen",
        },
        Employee => Vocabulary {
            words: "employee staff worker personnel trainee apprentice angestellte angestellten \
                    belegschaft auszubildende auszubildenden praktikant praktikanten praktikantin",
            heads: "mitarbeiter mitarbeiterin mitarbeiterinnen mitarbeitende mitarbeitenden \
                    beschäftigte beschäftigten beschaeftigte beschaeftigten arbeitnehmer \
                    arbeitnehmerin arbeitnehmerinnen",
        },
        Applicant => Vocabulary {
            words: "applicant candidate kandidat kandidaten kandidatin kandidatinnen",
            heads: "bewerber bewerberin bewerberinnen bewerbende bewerbenden",
        },
        Prospect => Vocabulary {
            words: "prospect lead potential potenzielle potentielle",
            heads: "interessent interessenten interessentin interessentinnen",
        },
        Supplier => Vocabulary {
            words: "supplier vendor zulieferer",
            heads: "lieferant lieferanten lieferantin lieferantinnen dienstleister",
        },
        Other => return None,
    };
    Some(vocabulary)
}

/// Whether an activity's data-subject category `label` names `category`: one of its words is
/// the category's English or German name or a synonym (case-insensitive; an English plural
/// `s`; a German compound ending in the name). `other` is named by nothing: it concerns
/// every activity anyway.
pub fn names_category(label: &str, category: SubjectCategory) -> bool {
    let Some(vocabulary) = vocabulary(category) else {
        return false;
    };
    let label = label.to_lowercase();
    label
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .any(|word| {
            let singular = word.strip_suffix('s').unwrap_or(word);
            let mut words = vocabulary.words.split_whitespace();
            let mut heads = vocabulary.heads.split_whitespace();
            words.any(|w| w == word || w == singular)
                || (!NOT_HEADS.iter().any(|n| word.ends_with(n))
                    && heads.any(|h| word.ends_with(h)))
        })
}

fn concerns(activity: &ActivityView, subject: SubjectCategory) -> bool {
    subject == SubjectCategory::Other
        || activity.data_subject_categories.is_empty()
        || (activity.data_subject_categories.iter()).any(|c| names_category(c, subject))
}

/// The activities that concern a person of the `subject` category (the rules in the
/// module's doc), each once, ordered by name (then id): the same register gives the same
/// checklist whatever order the store lists it in.
pub fn concerned_activities(
    subject: SubjectCategory,
    activities: &[ActivityView],
) -> Vec<&ActivityView> {
    let mut seen = BTreeSet::new();
    let unique: Vec<&ActivityView> = (activities.iter())
        .filter(|a| seen.insert(a.id))
        .filter(|a| concerns(a, subject))
        .collect();
    let live: Vec<&ActivityView> = (unique.iter().copied())
        .filter(|a| a.status != ActivityStatus::Retired)
        .collect();
    let mut chosen = if live.is_empty() { unique } else { live };
    chosen.sort_by_key(|a| (folded(&a.name), a.id));
    chosen
}

/// The rights whose fulfilment changes an activity's processing or data, and so needs its
/// processors to act: an Art. 28(3)(e) instruction. Access and portability only read the
/// data: the activity's `search` and `export` items cover what its processors hold, and a
/// user adds an instruction by hand where the controller cannot reach that data itself.
fn processor_must_act(right: Right, activity: &ActivityView) -> bool {
    match right {
        Right::Rectification | Right::Erasure | Right::Restriction | Right::Objection => true,
        Right::AutomatedDecision => activity.automated_decision_making,
        Right::ConsentWithdrawal => activity.may_rely_on_consent,
        Right::Access | Right::Portability => false,
    }
}

/// The rights of which Art. 19 requires each recipient to be told.
const TOLD_TO_RECIPIENTS: [Right; 3] = [Right::Rectification, Right::Erasure, Right::Restriction];

/// The checklist of a request by a person of the `subject` category asking for `rights`,
/// against the tenant's register (`activities`, `processors`: all of the tenant's, in any
/// order). Pure apart from the items' fresh ids; the same input gives the same items in the
/// same order:
///
/// 1. per concerned activity ([`concerned_activities`], by name): `search`, then its items
///    for the rights asked, in the order of [`ItemKind`];
/// 2. if rectification, erasure or restriction is asked: one `notify_recipient` per recipient
///    category of the concerned activities, deduplicated case-insensitively, by name (Art. 19:
///    "each recipient to whom the personal data have been disclosed");
/// 3. one `instruct_processor` per processor linked from a concerned activity for which a
///    right asked needs the processor to act (Art. 28(3)(e): the processor assists the
///    controller "for the fulfilment of the controller's obligation to respond to requests
///    for exercising the data subject's rights"): rectification, erasure, restriction,
///    objection, and automated decisions or consent withdrawal where the activity's own
///    item is generated; not plain access or portability, which only read the data.
///    Deduplicated, by processor name. A linked id absent from `processors` is skipped: the
///    checklist names only processors of the register.
pub fn generate(
    subject: SubjectCategory,
    rights: &[Right],
    activities: &[ActivityView],
    processors: &[ProcessorView],
) -> Vec<ChecklistItem> {
    let concerned = concerned_activities(subject, activities);
    let mut items: Vec<ChecklistItem> = (concerned.iter())
        .flat_map(|activity| activity_items(activity, rights))
        .collect();
    items.extend(recipient_notices(&concerned, rights));
    items.extend(processor_instructions(&concerned, rights, processors));
    items
}

/// Art. 19: one notice per recipient category of the concerned activities (trimmed,
/// case-insensitively deduplicated, the first spelling kept), by name, when the rights asked
/// include rectification, erasure or restriction.
fn recipient_notices(concerned: &[&ActivityView], rights: &[Right]) -> Vec<ChecklistItem> {
    let told: Vec<Right> = (TOLD_TO_RECIPIENTS.into_iter())
        .filter(|r| rights.contains(r))
        .collect();
    if told.is_empty() {
        return Vec::new();
    }
    let mut recipients: BTreeMap<String, &str> = BTreeMap::new();
    for activity in concerned {
        for recipient in activity.recipient_categories.iter().map(|r| r.trim()) {
            if !recipient.is_empty() {
                recipients.entry(folded(recipient)).or_insert(recipient);
            }
        }
    }
    let what = listed(told.iter().map(|r| right_noun(*r)));
    (recipients.into_values())
        .map(|recipient| {
            let title = format!("Tell {} of the {what} (Art. 19).", shown(recipient));
            let recipient = Some(recipient.to_owned());
            ChecklistItem::open(ItemKind::NotifyRecipient, None, None, recipient, title)
        })
        .collect()
}

/// Art. 28(3)(e): one instruction per processor of the register linked from a concerned
/// activity for which a right asked needs it to act ([`processor_must_act`]), naming every
/// such right, by processor name.
fn processor_instructions(
    concerned: &[&ActivityView],
    rights: &[Right],
    processors: &[ProcessorView],
) -> Vec<ChecklistItem> {
    let mut names: BTreeMap<ProcessorId, &str> = BTreeMap::new();
    for processor in processors {
        names.entry(processor.id).or_insert(&processor.name);
    }
    // Per processor, the rights it must act on, as positions in `Right::ALL` (their order).
    let mut acting_on: BTreeMap<ProcessorId, BTreeSet<usize>> = BTreeMap::new();
    for activity in concerned {
        let acting: Vec<usize> = (Right::ALL.iter().enumerate())
            .filter(|(_, r)| rights.contains(r) && processor_must_act(**r, activity))
            .map(|(i, _)| i)
            .collect();
        for id in (activity.processor_ids.iter()).filter(|id| names.contains_key(id)) {
            acting_on.entry(*id).or_default().extend(&acting);
        }
    }
    let mut instructed: Vec<(ProcessorId, &str, BTreeSet<usize>)> = (acting_on.into_iter())
        .filter(|(_, acting)| !acting.is_empty())
        .map(|(id, acting)| (id, names.get(&id).copied().unwrap_or_default(), acting))
        .collect();
    instructed.sort_by_key(|(id, name, _)| (folded(name), *id));
    (instructed.into_iter())
        .map(|(id, name, acting)| {
            let what = listed(
                acting
                    .into_iter()
                    .filter_map(|i| Right::ALL.get(i))
                    .map(|r| right_noun(*r)),
            );
            let title = format!(
                "Instruct {} to act on the {what} (Art. 28(3)(e)).",
                shown(name)
            );
            ChecklistItem::open(ItemKind::InstructProcessor, None, Some(id), None, title)
        })
        .collect()
}

/// The items of one concerned activity: its search, then one per right asked that applies.
fn activity_items(activity: &ActivityView, rights: &[Right]) -> Vec<ChecklistItem> {
    let asks = |right: Right| rights.contains(&right);
    let name = shown(&activity.name);
    let export = match (asks(Right::Access), asks(Right::Portability)) {
        (true, true) => Some(format!(
            "Export the person's data from {name}: a copy (Art. 15), machine-readable (Art. 20)."
        )),
        (true, false) => Some(format!(
            "Give the person a copy of their data in {name} (Art. 15)."
        )),
        (false, true) => Some(format!(
            "Export the person's data from {name} in a machine-readable format (Art. 20)."
        )),
        (false, false) => None,
    };
    let wanted = [
        (
            ItemKind::Search,
            Some(format!("Search {name} for the person's data.")),
        ),
        (ItemKind::Export, export),
        (
            ItemKind::Erase,
            asks(Right::Erasure).then(|| format!("Erase the person's data in {name} (Art. 17).")),
        ),
        (
            ItemKind::Rectify,
            asks(Right::Rectification)
                .then(|| format!("Rectify the person's data in {name} (Art. 16).")),
        ),
        (
            ItemKind::Restrict,
            asks(Right::Restriction).then(|| {
                format!("Restrict the processing of the person's data in {name} (Art. 18).")
            }),
        ),
        (
            ItemKind::StopProcessing,
            asks(Right::Objection).then(|| {
                format!("Stop processing the person's data in {name} on their objection (Art. 21).")
            }),
        ),
        (
            ItemKind::ReviewAutomatedDecision,
            (asks(Right::AutomatedDecision) && activity.automated_decision_making).then(|| {
                format!("Have a person review the automated decision in {name} (Art. 22).")
            }),
        ),
        (
            ItemKind::WithdrawConsent,
            (asks(Right::ConsentWithdrawal) && activity.may_rely_on_consent).then(|| {
                format!(
                    "Stop the processing in {name} that relied on the person's consent (Art. 7(3))."
                )
            }),
        ),
    ];
    wanted
        .into_iter()
        .filter_map(|(kind, title)| {
            title.map(|title| ChecklistItem::open(kind, Some(activity.id), None, None, title))
        })
        .collect()
}

fn right_noun(right: Right) -> &'static str {
    match right {
        Right::Access => "access",
        Right::Rectification => "rectification",
        Right::Erasure => "erasure",
        Right::Restriction => "restriction",
        Right::Portability => "portability",
        Right::Objection => "objection",
        Right::AutomatedDecision => "automated-decision review",
        Right::ConsentWithdrawal => "consent withdrawal",
    }
}

/// "a", "a and b", "a, b and c".
fn listed<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// A name as a title quotes it: trimmed, and cut at [`NAME_IN_TITLE`] characters.
fn shown(name: &str) -> String {
    let name = name.trim();
    if name.chars().count() <= NAME_IN_TITLE {
        name.to_owned()
    } else {
        let cut: String = name.chars().take(NAME_IN_TITLE - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Case-insensitive comparison key.
fn folded(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A change to an item (JSON merge patch): absent fields stay (`None`), `Some(None)` clears
/// an optional one. Read from the wire by the HTTP edge's body type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemChange {
    pub status: Option<ItemStatus>,
    pub note: Option<Option<String>>,
    pub assignee_id: Option<Option<UserId>>,
}

impl ItemChange {
    /// The users the change names, for the store to check in the tenant (404 naming the
    /// field otherwise).
    pub fn references(&self) -> Vec<Reference> {
        match self.assignee_id {
            Some(Some(user)) => vec![Reference::member("assignee_id", user)],
            _ => Vec::new(),
        }
    }
}

/// Why an item change or a new item was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecklistError {
    /// No item of this request has this id: 404, the field is `item_id`.
    #[error("item_id: the request has no checklist item {0}")]
    UnknownItem(ChecklistItemId),
    /// 422, each problem named by its field (`note`, `title`, `recipient`, `processor_id`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
}

impl ChecklistError {
    /// The field an answer names for the unknown item.
    pub const ITEM_FIELD: &'static str = "item_id";
}

/// Applies `change` to the item `id`, by the user `by` at `at`. All or nothing: a refused
/// change leaves the item as it was.
///
/// - `not_applicable` needs a note saying why (the change's, or the one the item has);
///   a note is at most [`NOTE_MAX`] characters, and cannot be cleared while the item is
///   not applicable.
/// - Settling an item (`done` or `not_applicable`) stamps `done_at` / `done_by`; setting the
///   status it already has keeps the first stamp; reopening (`open`) clears both.
/// - The assignee is only recorded here: that it is a member of the tenant is the store's
///   check ([`ItemChange::references`]).
pub fn update_item(
    items: &mut [ChecklistItem],
    id: ChecklistItemId,
    change: ItemChange,
    by: UserId,
    at: OffsetDateTime,
) -> Result<(), ChecklistError> {
    let item = (items.iter_mut())
        .find(|item| item.id == id)
        .ok_or(ChecklistError::UnknownItem(id))?;
    let mut e = ValidationErrors::default();
    let note = match change.note {
        None => Some(item.note.clone()),
        Some(raw) => e.collect(optional_text(
            "note",
            raw.as_deref(),
            TextRule::block(NOTE_MAX),
        )),
    };
    let status = change.status.unwrap_or(item.status);
    if status == ItemStatus::NotApplicable && note == Some(None) {
        e.push("note", "must say why the item is not applicable");
    }
    e.into_result()?;
    if status != item.status {
        (item.done_at, item.done_by) = match status {
            ItemStatus::Open => (None, None),
            ItemStatus::Done | ItemStatus::NotApplicable => (Some(at), Some(by)),
        };
        item.status = status;
    }
    item.note = note.flatten();
    if let Some(assignee) = change.assignee_id {
        item.assignee_id = assignee;
    }
    Ok(())
}

/// An item a user adds by hand: open, with the kind, title and links they give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChecklistItem {
    pub kind: ItemKind,
    pub title: String,
    #[serde(default)]
    pub activity_id: Option<ActivityId>,
    #[serde(default)]
    pub processor_id: Option<ProcessorId>,
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<UserId>,
}

impl NewChecklistItem {
    /// The activity, processor and user the item names, for the store to check in the
    /// tenant: a foreign or unknown one is 404 naming its field.
    pub fn references(&self) -> Vec<Reference> {
        let activity = (self.activity_id).map(|id| Reference::to::<Activities>("activity_id", id));
        let processor =
            (self.processor_id).map(|id| Reference::to::<Processors>("processor_id", id));
        let assignee = (self.assignee_id).map(|user| Reference::member("assignee_id", user));
        activity
            .into_iter()
            .chain(processor)
            .chain(assignee)
            .collect()
    }

    /// Trimmed and checked: a title of 1–[`TITLE_MAX`] characters on one line, a note of at
    /// most [`NOTE_MAX`], a recipient for (and only for) an Art. 19 notice, a processor for an
    /// Art. 28(3)(e) instruction. All problems at once.
    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.collect(text("title", &self.title, TextRule::line(TITLE_MAX)));
        let note = e.collect(optional_text(
            "note",
            self.note.as_deref(),
            TextRule::block(NOTE_MAX),
        ));
        let recipient = e.collect(optional_text(
            "recipient",
            self.recipient.as_deref(),
            TextRule::line(RECIPIENT_MAX),
        ));
        match (self.kind, &recipient) {
            (ItemKind::NotifyRecipient, Some(None)) => {
                e.push("recipient", "is required for an Art. 19 notice");
            }
            (kind, Some(Some(_))) if kind != ItemKind::NotifyRecipient => {
                e.push("recipient", "is only given for a notify_recipient item");
            }
            _ => {}
        }
        if self.kind == ItemKind::InstructProcessor && self.processor_id.is_none() {
            e.push(
                "processor_id",
                "is required for an Art. 28(3)(e) instruction",
            );
        }
        e.into_result()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            note: note.flatten(),
            recipient: recipient.flatten(),
            ..self
        })
    }
}

/// Validates `new` and appends it to the checklist as an open item; answers the item.
pub fn add_item(
    items: &mut Vec<ChecklistItem>,
    new: NewChecklistItem,
) -> Result<&ChecklistItem, ChecklistError> {
    let new = new.validated()?;
    let mut item = ChecklistItem::open(
        new.kind,
        new.activity_id,
        new.processor_id,
        new.recipient,
        new.title,
    );
    item.note = new.note;
    item.assignee_id = new.assignee_id;
    let index = items.len();
    items.push(item);
    Ok(&items[index])
}

/// How far a checklist is: counts per status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ChecklistProgress {
    pub open: usize,
    pub done: usize,
    pub not_applicable: usize,
}

impl ChecklistProgress {
    pub fn of(items: &[ChecklistItem]) -> Self {
        let mut progress = Self::default();
        for item in items {
            match item.status {
                ItemStatus::Open => progress.open += 1,
                ItemStatus::Done => progress.done += 1,
                ItemStatus::NotApplicable => progress.not_applicable += 1,
            }
        }
        progress
    }

    /// Every item is settled (an empty checklist is complete).
    pub fn is_complete(&self) -> bool {
        self.open == 0
    }
}

#[cfg(test)]
mod tests {
    use aura_gdpr_registers::{ActivityDerived, ActivityFields};
    use aura_records::Record;
    use aura_shared_kernel::TenantId;
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;

    /// A fixed id, so that expected items can name it.
    fn id<K>(n: u32) -> Id<K> {
        format!("00000000-0000-7000-8000-{n:012x}")
            .parse()
            .expect("a valid uuid")
    }

    fn activity(n: u32, name: &str, categories: &[&str]) -> ActivityView {
        ActivityView {
            id: id(n),
            name: name.into(),
            data_subject_categories: categories.iter().map(|c| (*c).into()).collect(),
            processor_ids: Vec::new(),
            recipient_categories: Vec::new(),
            automated_decision_making: false,
            may_rely_on_consent: false,
            status: ActivityStatus::Active,
        }
    }

    fn processor(n: u32, name: &str) -> ProcessorView {
        ProcessorView {
            id: id(n),
            name: name.into(),
        }
    }

    /// Three activities (one about staff only) and two processors.
    fn register() -> (Vec<ActivityView>, Vec<ProcessorView>) {
        let shop = ActivityView {
            processor_ids: vec![id(11)],
            recipient_categories: vec!["Parcel services".into(), "Tax advisor".into()],
            ..activity(1, "Webshop orders", &["Customers"])
        };
        let payroll = ActivityView {
            processor_ids: vec![id(12)],
            recipient_categories: vec!["Social security".into()],
            ..activity(2, "Payroll", &["Mitarbeiter"])
        };
        let newsletter = ActivityView {
            processor_ids: vec![id(12), id(11)],
            recipient_categories: vec!["tax advisor".into(), "Advertising partners".into()],
            may_rely_on_consent: true,
            ..activity(3, "Newsletter", &["Kunden", "Interessenten"])
        };
        let processors = vec![
            processor(11, "CloudShop Ltd"),
            processor(12, "MailBird GmbH"),
        ];
        (vec![shop, payroll, newsletter], processors)
    }

    /// An item on one line: `kind a<activity> p<processor> r=<recipient>: title`, with the
    /// ids as the small numbers the tests gave them.
    fn line(item: &ChecklistItem) -> String {
        let n = |uuid: String| u32::from_str_radix(&uuid[24..], 16).unwrap_or(u32::MAX);
        let mut on = Vec::new();
        on.extend(item.activity_id.map(|a| format!("a{}", n(a.to_string()))));
        on.extend(item.processor_id.map(|p| format!("p{}", n(p.to_string()))));
        on.extend(item.recipient.as_ref().map(|r| format!("r={r}")));
        format!("{} {}: {}", item.kind, on.join(" "), item.title)
    }

    fn lines(items: &[ChecklistItem]) -> Vec<String> {
        items.iter().map(line).collect()
    }

    #[test]
    fn a_customer_erasure_gives_exactly_the_expected_items() {
        let (activities, processors) = register();
        let items = generate(
            SubjectCategory::Customer,
            &[Right::Erasure],
            &activities,
            &processors,
        );
        assert_eq!(
            lines(&items),
            [
                "search a3: Search Newsletter for the person's data.",
                "erase a3: Erase the person's data in Newsletter (Art. 17).",
                "search a1: Search Webshop orders for the person's data.",
                "erase a1: Erase the person's data in Webshop orders (Art. 17).",
                "notify_recipient r=Advertising partners: Tell Advertising partners of the erasure (Art. 19).",
                "notify_recipient r=Parcel services: Tell Parcel services of the erasure (Art. 19).",
                // Newsletter comes first and names it in lower case; Payroll's is not told.
                "notify_recipient r=tax advisor: Tell tax advisor of the erasure (Art. 19).",
                "instruct_processor p11: Instruct CloudShop Ltd to act on the erasure (Art. 28(3)(e)).",
                "instruct_processor p12: Instruct MailBird GmbH to act on the erasure (Art. 28(3)(e)).",
            ]
        );
        let open = |i: &ChecklistItem| i.status == ItemStatus::Open && i.done_at.is_none();
        assert!(items.iter().all(open));
        let ids: BTreeSet<ChecklistItemId> = items.iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), items.len(), "every item has its own id");
    }

    #[test]
    fn plain_access_asks_for_no_notice_and_no_processor_instruction() {
        let (activities, processors) = register();
        let items = generate(
            SubjectCategory::Customer,
            &[Right::Access, Right::Portability],
            &activities,
            &processors,
        );
        assert_eq!(
            lines(&items),
            [
                "search a3: Search Newsletter for the person's data.",
                "export a3: Export the person's data from Newsletter: a copy (Art. 15), machine-readable (Art. 20).",
                "search a1: Search Webshop orders for the person's data.",
                "export a1: Export the person's data from Webshop orders: a copy (Art. 15), machine-readable (Art. 20).",
            ]
        );
        let access = generate(
            SubjectCategory::Customer,
            &[Right::Access],
            &activities,
            &processors,
        );
        assert_eq!(
            line(&access[1]),
            "export a3: Give the person a copy of their data in Newsletter (Art. 15)."
        );
    }

    #[test]
    fn automated_decisions_and_consent_concern_only_the_activities_that_have_them() {
        let scoring = ActivityView {
            automated_decision_making: true,
            processor_ids: vec![id(11)],
            ..activity(1, "Credit scoring", &["customers"])
        };
        let consent = ActivityView {
            may_rely_on_consent: true,
            processor_ids: vec![id(12)],
            ..activity(2, "Loyalty programme", &["customers"])
        };
        let plain = ActivityView {
            processor_ids: vec![id(13)],
            ..activity(3, "Invoicing", &["customers"])
        };
        let processors = [
            processor(11, "ScoreCo"),
            processor(12, "Points AG"),
            processor(13, "Billing BV"),
        ];
        let items = generate(
            SubjectCategory::Customer,
            &[Right::AutomatedDecision, Right::ConsentWithdrawal],
            &[scoring, consent, plain],
            &processors,
        );
        assert_eq!(
            lines(&items),
            [
                "search a1: Search Credit scoring for the person's data.",
                "review_automated_decision a1: Have a person review the automated decision in Credit scoring (Art. 22).",
                "search a3: Search Invoicing for the person's data.",
                "search a2: Search Loyalty programme for the person's data.",
                "withdraw_consent a2: Stop the processing in Loyalty programme that relied on the person's consent (Art. 7(3)).",
                "instruct_processor p12: Instruct Points AG to act on the consent withdrawal (Art. 28(3)(e)).",
                "instruct_processor p11: Instruct ScoreCo to act on the automated-decision review (Art. 28(3)(e)).",
            ]
        );
    }

    #[test]
    fn a_processor_of_several_activities_is_instructed_once_for_all_their_rights() {
        let a = ActivityView {
            processor_ids: vec![id(11), id(99)],
            recipient_categories: vec!["Auditors".into()],
            ..activity(1, "CRM", &[])
        };
        let b = ActivityView {
            processor_ids: vec![id(11)],
            recipient_categories: vec!["AUDITORS".into(), " ".into()],
            ..activity(2, "Support tickets", &["clients"])
        };
        let items = generate(
            SubjectCategory::Customer,
            &[Right::Objection, Right::Rectification, Right::Restriction],
            &[a, b],
            // 99 is linked but not in the register: no item names it.
            &[processor(11, "HelpDesk Inc")],
        );
        let notices: Vec<&str> = (items.iter())
            .filter(|i| i.kind == ItemKind::NotifyRecipient)
            .map(|i| i.title.as_str())
            .collect();
        assert_eq!(
            notices,
            ["Tell Auditors of the rectification and restriction (Art. 19)."]
        );
        let instructions: Vec<&str> = (items.iter())
            .filter(|i| i.kind == ItemKind::InstructProcessor)
            .map(|i| i.title.as_str())
            .collect();
        assert_eq!(
            instructions,
            [
                "Instruct HelpDesk Inc to act on the rectification, restriction and objection (Art. 28(3)(e))."
            ]
        );
        let per_activity: Vec<ItemKind> = (items.iter())
            .filter(|i| i.activity_id == Some(id(1)))
            .map(|i| i.kind)
            .collect();
        assert_eq!(
            per_activity,
            [
                ItemKind::Search,
                ItemKind::Rectify,
                ItemKind::Restrict,
                ItemKind::StopProcessing
            ]
        );
    }

    #[test]
    fn german_and_english_names_of_a_category_match() {
        use SubjectCategory::*;
        let matching = [
            ("Kunden", Customer),
            ("Bestandskunden (B2C)", Customer),
            ("Kundinnen und Kunden", Customer),
            ("Clients", Customer),
            ("existing CUSTOMERS", Customer),
            ("Mitarbeiter*innen", Employee),
            ("Beschäftigte", Employee),
            ("Außendienstmitarbeiter", Employee),
            ("Staff", Employee),
            ("former employees", Employee),
            ("BEWERBER", Applicant),
            ("Initiativbewerberinnen", Applicant),
            ("job candidates", Applicant),
            ("Kaufinteressenten", Prospect),
            ("Sales leads", Prospect),
            ("Lieferanten", Supplier),
            ("IT-Dienstleister", Supplier),
            ("Vendors' contact persons", Supplier),
        ];
        for (label, category) in matching {
            assert!(
                names_category(label, category),
                "{label} should name {category}"
            );
        }
        let not_matching = [
            ("Urkunden", Customer),
            ("Mitarbeiter", Customer),
            ("Kunden", Employee),
            ("Leadership team", Prospect),
            ("Website visitors", Customer),
            ("anything", Other),
        ];
        for (label, category) in not_matching {
            assert!(
                !names_category(label, category),
                "{label} should not name {category}"
            );
        }
    }

    #[test]
    fn german_categories_select_the_activities() {
        let (activities, _) = register();
        let staff: Vec<ActivityId> = concerned_activities(SubjectCategory::Employee, &activities)
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(staff, [id(2)]);
        let prospects: Vec<ActivityId> =
            concerned_activities(SubjectCategory::Prospect, &activities)
                .iter()
                .map(|a| a.id)
                .collect();
        assert_eq!(prospects, [id(3)]);
        assert!(concerned_activities(SubjectCategory::Supplier, &activities).is_empty());
    }

    #[test]
    fn other_concerns_every_activity_and_no_category_cannot_be_ruled_out() {
        let (mut activities, processors) = register();
        activities.push(activity(4, "Visitor log", &[]));
        let all: Vec<ActivityId> = concerned_activities(SubjectCategory::Other, &activities)
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(all, [id(3), id(2), id(4), id(1)], "by name");
        let suppliers: Vec<ActivityId> =
            concerned_activities(SubjectCategory::Supplier, &activities)
                .iter()
                .map(|a| a.id)
                .collect();
        assert_eq!(suppliers, [id(4)]);
        let searches = generate(
            SubjectCategory::Other,
            &[Right::Access],
            &activities,
            &processors,
        )
        .iter()
        .filter(|i| i.kind == ItemKind::Search)
        .count();
        assert_eq!(searches, 4);
    }

    #[test]
    fn retired_activities_count_only_when_nothing_live_concerns_the_person() {
        let retired = ActivityView {
            status: ActivityStatus::Retired,
            ..activity(1, "Old webshop", &["Customers"])
        };
        let draft = ActivityView {
            status: ActivityStatus::Draft,
            ..activity(2, "New webshop", &["Customers"])
        };
        let other = activity(3, "Payroll", &["Employees"]);
        let with_live = [retired.clone(), draft, other.clone()];
        let ids = |list: Vec<&ActivityView>| list.iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(
            ids(concerned_activities(SubjectCategory::Customer, &with_live)),
            [id(2)]
        );
        let only_retired = [retired, other];
        assert_eq!(
            ids(concerned_activities(
                SubjectCategory::Customer,
                &only_retired
            )),
            [id(1)]
        );
        assert!(concerned_activities(SubjectCategory::Applicant, &only_retired).is_empty());
    }

    #[test]
    fn an_activity_listed_twice_counts_once() {
        let a = activity(1, "CRM", &["customers"]);
        let items = generate(
            SubjectCategory::Customer,
            &[Right::Access],
            &[a.clone(), a],
            &[],
        );
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn long_names_are_cut_in_titles() {
        let long = "N".repeat(200);
        let a = ActivityView {
            processor_ids: vec![id(11)],
            recipient_categories: vec![long.clone()],
            ..activity(1, &long, &[])
        };
        let items = generate(
            SubjectCategory::Customer,
            Right::ALL,
            &[a],
            &[processor(11, &long)],
        );
        for item in &items {
            let chars = item.title.chars().count();
            assert!(chars <= TITLE_MAX, "{chars}: {}", item.title);
            assert!(item.title.contains(&format!("{}…", "N".repeat(99))));
        }
        // The recipient itself is kept whole: it is what the notice is sent to.
        let notice = items.iter().find(|i| i.kind == ItemKind::NotifyRecipient);
        assert_eq!(notice.and_then(|i| i.recipient.clone()), Some(long));
    }

    #[test]
    fn the_view_is_built_from_the_register_record() {
        let fields: ActivityFields = serde_json::from_value(serde_json::json!({
            "name": "Newsletter",
            "purposes": [{"description": "marketing", "lawful_basis": "legitimate_interests",
                          "legitimate_interest": "LIA-3"}],
            "data_subject_categories": ["Kunden"],
            "recipient_categories": ["Mail provider"],
            "automated_decision_making": true,
            "processor_ids": [id::<Processors>(11)],
            "status": "active",
        }))
        .expect("activity fields");
        let mut record: ProcessingActivity = Record::first_version(
            id(1),
            TenantId::generate(),
            fields,
            ActivityDerived::default(),
            datetime!(2027-01-01 0:00 UTC),
        );
        let view = ActivityView::from(&record);
        assert_eq!(
            view,
            ActivityView {
                processor_ids: vec![id(11)],
                recipient_categories: vec!["Mail provider".into()],
                automated_decision_making: true,
                may_rely_on_consent: false,
                ..activity(1, "Newsletter", &["Kunden"])
            }
        );
        record.fields.purposes[0].lawful_basis = LawfulBasis::Consent;
        assert!(ActivityView::from(&record).may_rely_on_consent);
        record.fields.purposes.clear();
        assert!(
            ActivityView::from(&record).may_rely_on_consent,
            "no purpose: cannot be ruled out"
        );
    }

    fn checklist() -> Vec<ChecklistItem> {
        let (activities, processors) = register();
        generate(
            SubjectCategory::Customer,
            &[Right::Erasure],
            &activities,
            &processors,
        )
    }

    const AT: OffsetDateTime = datetime!(2027-02-03 10:00 UTC);

    #[test]
    fn not_applicable_needs_a_note_and_a_refused_change_changes_nothing() {
        let mut items = checklist();
        let before = items.clone();
        let target = items[1].id;
        let by = UserId::generate();
        let change = ItemChange {
            status: Some(ItemStatus::NotApplicable),
            note: Some(Some("   ".into())),
            assignee_id: Some(Some(by)),
        };
        let refused = update_item(&mut items, target, change, by, AT).expect_err("no note");
        let ChecklistError::Invalid(errors) = refused else {
            panic!("a validation error: {refused:?}");
        };
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, "note");
        assert_eq!(items, before);

        let too_long = ItemChange {
            note: Some(Some("x".repeat(NOTE_MAX + 1))),
            ..ItemChange::default()
        };
        let refused = update_item(&mut items, target, too_long, by, AT).expect_err("long");
        assert!(matches!(&refused, ChecklistError::Invalid(e) if e.0[0].field == "note"));
        assert_eq!(items, before);

        let explained = ItemChange {
            status: Some(ItemStatus::NotApplicable),
            note: Some(Some(" Retention: § 147 AO, ten years. ".into())),
            assignee_id: None,
        };
        update_item(&mut items, target, explained, by, AT).expect("with a note");
        assert_eq!(items[1].status, ItemStatus::NotApplicable);
        assert_eq!(
            items[1].note.as_deref(),
            Some("Retention: § 147 AO, ten years.")
        );
        assert_eq!((items[1].done_at, items[1].done_by), (Some(AT), Some(by)));
        assert_eq!(&items[2..], &before[2..], "other items untouched");

        let clear_note = ItemChange {
            note: Some(None),
            ..ItemChange::default()
        };
        let refused =
            update_item(&mut items, target, clear_note, by, AT).expect_err("n/a keeps its note");
        assert!(matches!(&refused, ChecklistError::Invalid(e) if e.0[0].field == "note"));
    }

    #[test]
    fn done_stamps_the_item_once_and_reopening_clears_the_stamp() {
        let mut items = checklist();
        let target = items[0].id;
        let (first, second) = (UserId::generate(), UserId::generate());
        let done = ItemChange {
            status: Some(ItemStatus::Done),
            ..ItemChange::default()
        };
        update_item(&mut items, target, done.clone(), first, AT).expect("done without a note");
        assert_eq!(
            (items[0].done_at, items[0].done_by),
            (Some(AT), Some(first))
        );
        let later = datetime!(2027-02-04 9:00 UTC);
        update_item(&mut items, target, done, second, later).expect("done again");
        assert_eq!(
            (items[0].done_at, items[0].done_by),
            (Some(AT), Some(first))
        );

        let reopen = ItemChange {
            status: Some(ItemStatus::Open),
            note: Some(Some("Found a second account.".into())),
            ..ItemChange::default()
        };
        update_item(&mut items, target, reopen, second, later).expect("reopened");
        assert_eq!(items[0].status, ItemStatus::Open);
        assert_eq!((items[0].done_at, items[0].done_by), (None, None));
        assert_eq!(items[0].note.as_deref(), Some("Found a second account."));
    }

    #[test]
    fn an_item_is_assigned_and_unassigned() {
        let mut items = checklist();
        let target = items[3].id;
        let user = UserId::generate();
        let assign = ItemChange {
            assignee_id: Some(Some(user)),
            ..ItemChange::default()
        };
        assert_eq!(
            assign.references(),
            [Reference::member("assignee_id", user)]
        );
        update_item(&mut items, target, assign, user, AT).expect("assigned");
        assert_eq!(items[3].assignee_id, Some(user));
        assert_eq!(items[3].status, ItemStatus::Open);
        let unassign = ItemChange {
            assignee_id: Some(None),
            ..ItemChange::default()
        };
        assert!(unassign.references().is_empty());
        update_item(&mut items, target, unassign, user, AT).expect("unassigned");
        assert_eq!(items[3].assignee_id, None);
    }

    #[test]
    fn an_unknown_item_is_named_as_such() {
        let mut items = checklist();
        let before = items.clone();
        let ghost = Id::generate();
        let change = ItemChange {
            status: Some(ItemStatus::Done),
            ..ItemChange::default()
        };
        assert_eq!(
            update_item(&mut items, ghost, change, UserId::generate(), AT),
            Err(ChecklistError::UnknownItem(ghost))
        );
        assert_eq!(items, before);
        assert_eq!(ChecklistError::ITEM_FIELD, "item_id");
    }

    fn manual(kind: ItemKind, title: &str) -> NewChecklistItem {
        NewChecklistItem {
            kind,
            title: title.into(),
            activity_id: None,
            processor_id: None,
            recipient: None,
            note: None,
            assignee_id: None,
        }
    }

    #[test]
    fn a_manual_item_is_validated_and_appended_open() {
        let mut items = checklist();
        let count = items.len();
        let added = add_item(
            &mut items,
            NewChecklistItem {
                activity_id: Some(id(1)),
                note: Some("  ".into()),
                ..manual(ItemKind::Search, "  Search the paper archive.  ")
            },
        )
        .expect("valid")
        .clone();
        assert_eq!(added.title, "Search the paper archive.");
        assert_eq!((added.status, added.note.clone()), (ItemStatus::Open, None));
        assert_eq!(items.len(), count + 1);
        assert_eq!(items.last(), Some(&added));
        assert!(add_item(&mut items, manual(ItemKind::Other, &"t".repeat(TITLE_MAX))).is_ok());

        let fields = |new: NewChecklistItem| -> Vec<String> {
            let mut items = Vec::new();
            match add_item(&mut items, new) {
                Err(ChecklistError::Invalid(e)) => e.0.into_iter().map(|e| e.field).collect(),
                other => panic!("refused as invalid: {other:?}"),
            }
        };
        assert_eq!(fields(manual(ItemKind::Other, " ")), ["title"]);
        assert_eq!(
            fields(manual(ItemKind::Other, &"t".repeat(TITLE_MAX + 1))),
            ["title"]
        );
        assert_eq!(fields(manual(ItemKind::Other, "two\nlines")), ["title"]);
        assert_eq!(
            fields(manual(ItemKind::InstructProcessor, "Instruct someone")),
            ["processor_id"]
        );
        assert_eq!(
            fields(manual(ItemKind::NotifyRecipient, "Tell someone")),
            ["recipient"]
        );
        assert_eq!(
            fields(NewChecklistItem {
                recipient: Some("Bank".into()),
                note: Some("n".repeat(NOTE_MAX + 1)),
                ..manual(ItemKind::Erase, "")
            }),
            ["title", "note", "recipient"]
        );
    }

    #[test]
    fn a_manual_item_names_its_links_for_the_store_to_check() {
        let user = UserId::generate();
        let new = NewChecklistItem {
            activity_id: Some(id(1)),
            processor_id: Some(id(11)),
            assignee_id: Some(user),
            ..manual(ItemKind::InstructProcessor, "Instruct the hoster")
        };
        assert_eq!(
            new.references(),
            [
                Reference::to::<Activities>("activity_id", id(1)),
                Reference::to::<Processors>("processor_id", id(11)),
                Reference::member("assignee_id", user),
            ]
        );
    }

    #[test]
    fn items_travel_as_json_with_their_stable_names() {
        let mut items = checklist();
        let target = items[0].id;
        let change = ItemChange {
            status: Some(ItemStatus::NotApplicable),
            note: Some(Some("No account found.".into())),
            assignee_id: None,
        };
        update_item(&mut items, target, change, UserId::generate(), AT).expect("n/a");
        let json = serde_json::to_value(&items[0]).expect("serialises");
        assert_eq!(json["kind"], "search");
        assert_eq!(json["status"], "not_applicable");
        assert_eq!(json["done_at"], "2027-02-03T10:00:00Z");
        let back: ChecklistItem = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, items[0]);
        let progress = ChecklistProgress::of(&items);
        assert_eq!(
            (progress.open, progress.done, progress.not_applicable),
            (8, 0, 1)
        );
        assert!(!progress.is_complete());
    }

    // ---- properties over random registers ----

    const LABELS: &[&str] = &[
        "Customers",
        "Kunden",
        "Mitarbeiter",
        "staff",
        "Bewerber",
        "leads",
        "Lieferanten",
        "Website visitors",
        "Patienten",
    ];
    const RECIPIENTS: &[&str] = &["Tax advisor", "TAX ADVISOR", "Bank", "Authorities", " "];
    const NAMES: &[&str] = &["CRM", "crm", "Payroll", "Newsletter", "Shop"];

    fn activities() -> impl Strategy<Value = Vec<ActivityView>> {
        let one = (
            0..NAMES.len(),
            proptest::sample::subsequence(LABELS, 0..3),
            proptest::collection::vec(0u32..5, 0..4),
            proptest::sample::subsequence(RECIPIENTS, 0..3),
            any::<bool>(),
            any::<bool>(),
            proptest::sample::select(ActivityStatus::ALL),
        );
        proptest::collection::vec(one, 0..7).prop_map(|list| {
            (list.into_iter().enumerate())
                .map(
                    |(n, (name, labels, links, recipients, adm, consent, status))| ActivityView {
                        id: id(u32::try_from(n).unwrap_or_default()),
                        name: NAMES[name].into(),
                        data_subject_categories: labels.iter().map(|l| (*l).into()).collect(),
                        processor_ids: links.into_iter().map(|p| id(100 + p)).collect(),
                        recipient_categories: recipients.iter().map(|r| (*r).into()).collect(),
                        automated_decision_making: adm,
                        may_rely_on_consent: consent,
                        status,
                    },
                )
                .collect()
        })
    }

    /// Some of the five linkable processors (a link may name one that is not passed).
    fn processors() -> impl Strategy<Value = Vec<ProcessorView>> {
        proptest::sample::subsequence(vec![0u32, 1, 2, 3, 4], 0..5).prop_map(|ns| {
            ns.into_iter()
                .map(|n| processor(100 + n, NAMES[n as usize % NAMES.len()]))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn generated_items_name_only_inputs_never_repeat_and_do_not_depend_on_order(
            subject in proptest::sample::select(SubjectCategory::ALL),
            rights in proptest::sample::subsequence(Right::ALL, 0..=Right::ALL.len()),
            activities in activities(),
            processors in processors(),
        ) {
            let items = generate(subject, &rights, &activities, &processors);

            let activity_ids: BTreeSet<ActivityId> = activities.iter().map(|a| a.id).collect();
            let processor_ids: BTreeSet<ProcessorId> = processors.iter().map(|p| p.id).collect();
            let mut keys = std::collections::HashSet::new();
            for item in &items {
                if let Some(a) = item.activity_id {
                    prop_assert!(activity_ids.contains(&a), "{item:?}");
                }
                if let Some(p) = item.processor_id {
                    prop_assert!(processor_ids.contains(&p), "{item:?}");
                }
                prop_assert!(keys.insert(item.key()), "duplicate {:?}", item.key());
                prop_assert!(!item.title.is_empty() && item.title.chars().count() <= TITLE_MAX);
                prop_assert_eq!(item.status, ItemStatus::Open);
            }
            // Every concerned activity is searched, and nothing else is.
            let searched: Vec<ActivityId> = (items.iter())
                .filter(|i| i.kind == ItemKind::Search)
                .filter_map(|i| i.activity_id)
                .collect();
            let concerned: Vec<ActivityId> =
                concerned_activities(subject, &activities).iter().map(|a| a.id).collect();
            prop_assert_eq!(&searched, &concerned);
            if subject == SubjectCategory::Other {
                let live = activities.iter().filter(|a| a.status != ActivityStatus::Retired).count();
                prop_assert!(concerned.len() == live || live == 0);
            }

            // Deterministic: the same input, or the same register listed in another order,
            // gives the same items (their fresh ids aside).
            let again = generate(subject, &rights, &activities, &processors);
            prop_assert_eq!(lines(&again), lines(&items));
            let mut reversed = activities.clone();
            reversed.reverse();
            let mut processors_reversed = processors.clone();
            processors_reversed.reverse();
            let mut rights_reversed = rights.clone();
            rights_reversed.reverse();
            let shuffled = generate(subject, &rights_reversed, &reversed, &processors_reversed);
            prop_assert_eq!(lines(&shuffled), lines(&items));
        }
    }
}
