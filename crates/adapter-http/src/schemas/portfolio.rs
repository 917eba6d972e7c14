//! `GET /me/portfolio`: the signed-in account's client tenants at a glance.

use aura_breaches::DeadlineStanding;
use aura_portfolio::{
    Completeness, OpenBreach, PortfolioEntry, ProcessorAttention, RequestsDue, TenantSummary,
};
use aura_shared_kernel::{Role, date::iso_date};
use serde::Serialize;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::partners::PartnerRefBody;

/// The account's usable memberships (accepted, active, tenant active) — its own and
/// those held through a partner's grant — each tenant summarised as that membership may
/// read it (its role, a custom role's permissions, acting for the partner). A partner's
/// client the account never switched into is listed with `entered: false` and no
/// summary. Each summary is at most 30 seconds old (`computed_at`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioBody {
    pub tenants: Vec<PortfolioTenantBody>,
}

/// One client tenant. A section is `null` when the role may not read it; all are
/// `null` with `available: false` when the tenant could not be read just now, or was
/// not entered yet (`entered: false`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioTenantBody {
    pub tenant_id: Uuid,
    pub name: String,
    pub slug: String,
    /// The account's role in this tenant (through a partner: the role the client
    /// granted the partner).
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
    /// The partner whose grant the access comes through; null for the account's own
    /// membership.
    pub via_partner: Option<PartnerRefBody>,
    /// False for a client reached through a partner that the account never switched
    /// into (`POST /api/v1/auth/switch` creates the membership there): nothing of the
    /// tenant is read, every section is `null` and `available` is false.
    pub entered: bool,
    pub available: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
    /// The Art. 30 register: activities complete and incomplete.
    pub completeness: Option<CompletenessCountsBody>,
    /// Processors whose DPA is missing or unsigned, or due for review within 30 days.
    pub processors: Option<ProcessorAttentionBody>,
    /// Open or in-progress tasks due before today.
    pub overdue_tasks: Option<usize>,
    /// Open data-subject requests due within 7 days or overdue.
    pub requests: Option<RequestsDueBody>,
    /// Breaches awaiting the authority decision (Art. 33(1)), soonest deadline first.
    pub open_breaches: Option<Vec<OpenBreachBody>>,
    /// Approved DPIAs whose review date is within 30 days or past (Art. 35(11)).
    pub dpias_due_for_review: Option<usize>,
    /// Policies whose next review date is within 30 days or past.
    pub policies_due_for_review: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompletenessCountsBody {
    pub activities: usize,
    pub complete: usize,
    pub incomplete: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessorAttentionBody {
    /// No DPA, or one not signed yet.
    pub without_signed_dpa: usize,
    /// A signed DPA due for review within 30 days or past.
    pub dpa_review_due: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestsDueBody {
    /// Due before today.
    pub overdue: usize,
    /// Due today or within 7 days.
    pub due_soon: usize,
    /// The most pressing due date of those counted (an overdue one's, if any).
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub earliest_due_on: Option<Date>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenBreachBody {
    pub id: Uuid,
    /// `BR-2027-0001`.
    pub reference: String,
    /// Awareness + 72 hours (Art. 33(1)), in UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub authority_deadline: OffsetDateTime,
    /// Whole hours left when the summary was computed; `null` when late.
    pub hours_left: Option<i64>,
    /// Whole hours past the deadline (rounded up); `null` while time is left.
    pub hours_late: Option<i64>,
}

impl From<Vec<PortfolioEntry>> for PortfolioBody {
    fn from(entries: Vec<PortfolioEntry>) -> Self {
        Self {
            tenants: entries.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<PortfolioEntry> for PortfolioTenantBody {
    fn from(entry: PortfolioEntry) -> Self {
        let summary = entry.summary.as_deref().cloned();
        let TenantSummary {
            completeness,
            processors,
            overdue_tasks,
            requests,
            open_breaches,
            dpias_due_for_review,
            policies_due_for_review,
        } = summary.clone().unwrap_or_default();
        Self {
            tenant_id: entry.tenant.id.as_uuid(),
            name: entry.tenant.name.as_str().to_owned(),
            slug: entry.tenant.slug.as_str().to_owned(),
            role: entry.role,
            via_partner: entry.via_partner.map(PartnerRefBody::from),
            entered: entry.entered,
            available: summary.is_some(),
            computed_at: entry.computed_at,
            completeness: completeness.map(Into::into),
            processors: processors.map(Into::into),
            overdue_tasks,
            requests: requests.map(Into::into),
            open_breaches: open_breaches.map(|open| open.into_iter().map(Into::into).collect()),
            dpias_due_for_review,
            policies_due_for_review,
        }
    }
}

impl From<Completeness> for CompletenessCountsBody {
    fn from(c: Completeness) -> Self {
        Self {
            activities: c.activities,
            complete: c.complete,
            incomplete: c.incomplete,
        }
    }
}

impl From<ProcessorAttention> for ProcessorAttentionBody {
    fn from(p: ProcessorAttention) -> Self {
        Self {
            without_signed_dpa: p.without_signed_dpa,
            dpa_review_due: p.dpa_review_due,
        }
    }
}

impl From<RequestsDue> for RequestsDueBody {
    fn from(r: RequestsDue) -> Self {
        Self {
            overdue: r.overdue,
            due_soon: r.due_soon,
            earliest_due_on: r.earliest_due_on,
        }
    }
}

impl From<OpenBreach> for OpenBreachBody {
    fn from(b: OpenBreach) -> Self {
        let (hours_left, hours_late) = match b.standing {
            DeadlineStanding::HoursLeft(h) => (Some(h), None),
            DeadlineStanding::HoursLate(h) => (None, Some(h)),
        };
        Self {
            id: b.id.as_uuid(),
            reference: b.reference,
            authority_deadline: b.authority_deadline,
            hours_left,
            hours_late,
        }
    }
}
