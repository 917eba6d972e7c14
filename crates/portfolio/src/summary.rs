//! One tenant's summary, read under one membership's scope through the registers' own
//! use cases and ports (their permission checks, their filters, row-level security in
//! the store). A section the membership's role may not read is `None`: checked on the
//! scope before asking, so a missing permission is neither an error nor an audited
//! refusal.

use std::sync::Arc;

use aura_audit::RequestContext;
use aura_breaches::{BreachFilter, BreachId, BreachStatus, Breaches, DeadlineStanding, standing};
use aura_dpias::Dpias;
use aura_gdpr_registers::{
    Activities, DpaStatus, Policies, ProcessorFilter, Processors, Registers,
    reviews::{ReviewDates, ReviewKind},
};
use aura_records::{ListQuery, Record, RecordKind, RecordUseCases, Sort, UseCaseError};
use aura_requests::request::{RequestFilter, Requests};
use aura_shared_kernel::{Clock, TenantScope};
use aura_tasks::{
    TaskService, Tasks,
    ports::{TaskFilter, TaskQuery},
};
use time::{Date, Duration, OffsetDateTime};

/// Requests due within this many days (or overdue) count as due soon.
pub const REQUEST_HORIZON_DAYS: i64 = 7;

/// A processor's DPA review, a DPIA's or a policy's review due within this many days
/// (or past) counts as due for review.
pub const REVIEW_HORIZON_DAYS: i64 = 30;

/// How many rows one read asks for; a section reads page after page until the end.
const PAGE: usize = 200;

/// What a section could not read (a store or use-case failure, never a permission).
pub type SectionError = Box<dyn std::error::Error + Send + Sync>;

/// What the summary reads: the registers' use cases and the review dates port, the
/// same the API's own routes use.
#[derive(Clone)]
pub struct Sources {
    pub registers: Registers,
    pub tasks: TaskService,
    pub requests: RecordUseCases<Requests>,
    pub breaches: RecordUseCases<Breaches>,
    pub reviews: Arc<dyn ReviewDates>,
    pub clock: Arc<dyn Clock>,
}

/// The Art. 30 register's completeness (the registers' own check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Completeness {
    pub activities: usize,
    pub complete: usize,
    pub incomplete: usize,
}

/// Processors whose data processing agreement needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcessorAttention {
    /// No DPA, or one not signed yet.
    pub without_signed_dpa: usize,
    /// A signed DPA whose review date is within [`REVIEW_HORIZON_DAYS`] or past.
    pub dpa_review_due: usize,
}

/// Open data-subject requests due within [`REQUEST_HORIZON_DAYS`] or overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestsDue {
    /// Due before today.
    pub overdue: usize,
    /// Due today or within the horizon.
    pub due_soon: usize,
    /// The most pressing due date of those counted (an overdue one's, if any).
    pub earliest_due_on: Option<Date>,
}

/// A breach still awaiting the authority decision, on the Art. 33(1) clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBreach {
    pub id: BreachId,
    /// `BR-2027-0001`.
    pub reference: String,
    pub authority_deadline: OffsetDateTime,
    /// Hours left (or late) when the summary was computed.
    pub standing: DeadlineStanding,
}

/// One tenant as one membership sees it. `None`: the membership's role may not read
/// that section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TenantSummary {
    pub completeness: Option<Completeness>,
    pub processors: Option<ProcessorAttention>,
    pub overdue_tasks: Option<usize>,
    pub requests: Option<RequestsDue>,
    /// Soonest deadline first; drills left out.
    pub open_breaches: Option<Vec<OpenBreach>>,
    pub dpias_due_for_review: Option<usize>,
    pub policies_due_for_review: Option<usize>,
}

/// The summary of the scope's tenant, as the scope's user with the scope's role.
pub async fn summarise(
    sources: &Sources,
    scope: &TenantScope,
    ctx: &RequestContext,
) -> Result<TenantSummary, SectionError> {
    let now = sources.clock.now();
    let today = now.date();
    let readable = |permission| scope.require(permission).is_ok();
    let reviews_due = if readable(Policies::READ) || readable(Dpias::READ) {
        Some(due_reviews(sources, scope, today).await?)
    } else {
        None
    };
    let count_of = |kind: ReviewKind| {
        let counted = reviews_due.as_ref()?;
        Some(counted.iter().filter(|k| **k == kind).count())
    };
    Ok(TenantSummary {
        completeness: if readable(Activities::READ) {
            Some(completeness(&sources.registers, scope, ctx).await?)
        } else {
            None
        },
        processors: if readable(Processors::READ) {
            Some(processors(&sources.registers, scope, today, ctx).await?)
        } else {
            None
        },
        overdue_tasks: if readable(Tasks::READ) {
            Some(overdue_tasks(&sources.tasks, scope, today, ctx).await?)
        } else {
            None
        },
        requests: if readable(Requests::READ) {
            Some(requests_due(&sources.requests, scope, today, ctx).await?)
        } else {
            None
        },
        open_breaches: if readable(Breaches::READ) {
            Some(open_breaches(&sources.breaches, scope, now, ctx).await?)
        } else {
            None
        },
        dpias_due_for_review: count_of(ReviewKind::Dpia).filter(|_| readable(Dpias::READ)),
        policies_due_for_review: count_of(ReviewKind::Policy).filter(|_| readable(Policies::READ)),
    })
}

async fn completeness(
    registers: &Registers,
    scope: &TenantScope,
    ctx: &RequestContext,
) -> Result<Completeness, SectionError> {
    let summary = registers.completeness(scope, ctx).await?;
    Ok(Completeness {
        activities: summary.activities,
        complete: summary.complete,
        incomplete: summary.incomplete,
    })
}

async fn processors(
    registers: &Registers,
    scope: &TenantScope,
    today: Date,
    ctx: &RequestContext,
) -> Result<ProcessorAttention, SectionError> {
    let filter = ProcessorFilter {
        dpa_attention_by: Some(today + Duration::days(REVIEW_HORIZON_DAYS)),
        ..ProcessorFilter::default()
    };
    let mut attention = ProcessorAttention::default();
    for processor in every(registers.processor_records(), scope, filter, ctx).await? {
        if processor.fields.dpa_status == DpaStatus::Signed {
            attention.dpa_review_due += 1;
        } else {
            attention.without_signed_dpa += 1;
        }
    }
    Ok(attention)
}

async fn overdue_tasks(
    tasks: &TaskService,
    scope: &TenantScope,
    today: Date,
    ctx: &RequestContext,
) -> Result<usize, SectionError> {
    let mut query = TaskQuery {
        filter: TaskFilter {
            overdue_on: Some(today),
            ..TaskFilter::default()
        },
        limit: PAGE,
        ..TaskQuery::default()
    };
    let mut count = 0;
    loop {
        let page = tasks.list(scope, &query, ctx).await?;
        count += page.items.len();
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(count),
        }
    }
}

async fn requests_due(
    requests: &RecordUseCases<Requests>,
    scope: &TenantScope,
    today: Date,
    ctx: &RequestContext,
) -> Result<RequestsDue, SectionError> {
    let filter = RequestFilter {
        due_by: Some(today + Duration::days(REQUEST_HORIZON_DAYS)),
        ..RequestFilter::default()
    };
    let mut due = RequestsDue::default();
    for request in every(requests, scope, filter, ctx).await? {
        let state = &request.derived;
        let Some(due_on) = state.due_on.filter(|_| state.status.is_open()) else {
            continue;
        };
        if due_on < today {
            due.overdue += 1;
        } else {
            due.due_soon += 1;
        }
        due.earliest_due_on = Some(due.earliest_due_on.map_or(due_on, |d| d.min(due_on)));
    }
    Ok(due)
}

async fn open_breaches(
    breaches: &RecordUseCases<Breaches>,
    scope: &TenantScope,
    now: OffsetDateTime,
    ctx: &RequestContext,
) -> Result<Vec<OpenBreach>, SectionError> {
    let mut open = Vec::new();
    for status in [BreachStatus::Open, BreachStatus::Assessed] {
        debug_assert!(status.awaits_decision());
        let filter = BreachFilter {
            status: Some(status),
            ..BreachFilter::default()
        };
        for breach in every(breaches, scope, filter, ctx).await? {
            let deadline = breach.derived.authority_deadline;
            open.push(OpenBreach {
                id: breach.id,
                reference: breach.derived.reference,
                authority_deadline: deadline,
                standing: standing(deadline, now),
            });
        }
    }
    open.sort_by_key(|b| (b.authority_deadline, b.id));
    Ok(open)
}

/// The kinds of the reviews due within the horizon (policies, DPIAs, and the rest the
/// port knows).
async fn due_reviews(
    sources: &Sources,
    scope: &TenantScope,
    today: Date,
) -> Result<Vec<ReviewKind>, SectionError> {
    let by = today + Duration::days(REVIEW_HORIZON_DAYS);
    let mut kinds = Vec::new();
    let mut after = None;
    loop {
        let page = sources.reviews.due_reviews(scope, by, after, PAGE).await?;
        kinds.extend(page.iter().map(|review| review.kind));
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.cursor()),
            _ => return Ok(kinds),
        }
    }
}

/// Every record of a register that passes `filter`, page after page.
async fn every<K: RecordKind>(
    records: &RecordUseCases<K>,
    scope: &TenantScope,
    filter: K::Filter,
    ctx: &RequestContext,
) -> Result<Vec<Record<K>>, UseCaseError> {
    let mut query = ListQuery {
        filter,
        sort: Sort::Created,
        after: None,
        limit: PAGE,
    };
    let mut all = Vec::new();
    loop {
        let page = records.list(scope, &query, ctx).await?;
        all.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(all),
        }
    }
}
