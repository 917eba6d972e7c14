//! Pseudonymisation after the retention period (Art. 5(1)(e) GDPR): a request closed
//! (`closed_at` set: closed, withdrawn, or rejected as unverifiable) more than the
//! tenant's `requests_retention_years` ago keeps its reference, dates, rights, status and
//! outcome — what shows the controller answered, and on time — but no longer says who
//! asked: the person becomes [`PSEUDONYM`] without e-mail or contact, the agent and the
//! free-text scope go. An answered request never closed keeps its person (the case is
//! not over).
//!
//! The change is one [`RecordUseCases::act`] per request, in the system's scope of the
//! daily job, with the action [`PSEUDONYMISED`]: its audit event notes that the person,
//! agent and scope changed, never their values (they are the register's
//! `PERSONAL_FIELDS`), in the write's transaction.

use aura_audit::{AuditAction, RequestContext};
use aura_jobs::Job;
use aura_records::{RecordUseCases, UseCaseError};
use aura_shared_kernel::TenantScope;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::{
    request::{DataSubject, RequestFields, Requests},
    store::RequestRepository,
};

/// What stands for the person once pseudonymised.
pub const PSEUDONYM: &str = "pseudonymised";

pub const PSEUDONYMISED: AuditAction = AuditAction::known("data_subject_request.pseudonymised");

/// Requests pseudonymised per store read (the job loops until none is left).
const BATCH: usize = 100;

/// Whether the request no longer names anyone.
pub fn is_pseudonymised(fields: &RequestFields) -> bool {
    fields.subject.name == PSEUDONYM
        && fields.subject.email.is_none()
        && fields.subject.contact.is_none()
        && fields.agent.is_none()
        && fields.scope.is_none()
}

/// `fields` without the person: the category stays (it says which activities the case
/// concerned), the rest of the request is untouched.
pub fn pseudonymised(fields: &RequestFields) -> RequestFields {
    RequestFields {
        subject: DataSubject {
            name: PSEUDONYM.to_owned(),
            email: None,
            contact: None,
            category: fields.subject.category,
        },
        agent: None,
        scope: None,
        ..fields.clone()
    }
}

/// The moment before which a closed request is pseudonymised on `now`: `years` calendar
/// years earlier (29 February falls back to 28 February).
pub fn retention_cutoff(now: OffsetDateTime, years: u8) -> OffsetDateTime {
    let date = now.date();
    let year = date.year() - i32::from(years);
    let back = Date::from_calendar_date(year, date.month(), date.day())
        .or_else(|_| Date::from_calendar_date(year, date.month(), date.day() - 1))
        .unwrap_or(date);
    now.replace_date(back)
}

/// The daily pseudonymisation of one tenant (enqueued for every active tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PseudonymiseClosed {
    #[serde(with = "aura_gdpr_registers::text::iso_date")]
    pub date: Date,
}

impl Job for PseudonymiseClosed {
    const KIND: &'static str = "request_pseudonymise";
    fn dedupe_key(&self) -> String {
        format!("request_pseudonymise:{}", self.date)
    }
}

/// Pseudonymises every request of the scope's tenant closed before `closed_before`;
/// answers how many. Each is its own write (a failure leaves the ones before done, and
/// the next run continues).
pub async fn pseudonymise_closed(
    records: &RecordUseCases<Requests>,
    repository: &dyn RequestRepository,
    scope: &TenantScope,
    closed_before: OffsetDateTime,
) -> Result<usize, UseCaseError> {
    let ctx = RequestContext::default();
    let mut done = 0;
    loop {
        let due = (repository)
            .due_for_pseudonymisation(scope, closed_before, BATCH)
            .await?;
        let last = due.len() < BATCH;
        for id in due {
            let request = records.get(scope, id, &ctx).await?;
            records
                .act(
                    scope,
                    id,
                    request.version,
                    &PSEUDONYMISED,
                    &ctx,
                    |request| {
                        request.fields = pseudonymised(&request.fields);
                        Ok(())
                    },
                )
                .await?;
            done += 1;
        }
        if last {
            return Ok(done);
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_cutoff_is_whole_calendar_years_back() {
        assert_eq!(
            retention_cutoff(datetime!(2030-03-15 02:00 UTC), 3),
            datetime!(2027-03-15 02:00 UTC)
        );
        assert_eq!(
            retention_cutoff(datetime!(2028-02-29 02:00 UTC), 1),
            datetime!(2027-02-28 02:00 UTC)
        );
    }
}
