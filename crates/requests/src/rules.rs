//! The rules a request's writes follow beyond its own fields: its dates, derived by the
//! legal clock from the receipt, the identity check and the tenant's calendar.

use std::sync::Arc;

use aura_gdpr_registers::CountryCode;
use aura_records::{Id, Record, RecordRules, UseCaseError};
use aura_shared_kernel::{StoreError, TenantScope};
use time::Date;

use crate::{
    calendar::{HolidayCalendar, PublicHolidays},
    clock::{ClockStart, ExtensionMonths, IdentityCheck, due_date, extended_due_date},
    request::{RequestFields, RequestState, Requests},
};

/// What a tenant's clock depends on: the organisation's country (its profile), its own
/// closing days, and when the clock starts for a request awaiting proof of identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseCalendar {
    pub country: Option<CountryCode>,
    pub closing_days: Vec<Date>,
    pub clock_start: ClockStart,
}

/// The port to a tenant's calendar settings (organisation profile and tenant settings).
#[async_trait::async_trait]
pub trait CaseCalendars: Send + Sync {
    async fn calendar(&self, scope: &TenantScope) -> Result<CaseCalendar, StoreError>;
}

/// The dates of a request, derived on every create and update from its receipt.
pub struct RequestRules {
    pub holidays: Arc<dyn PublicHolidays + Send + Sync>,
    pub calendars: Arc<dyn CaseCalendars>,
}

impl RequestRules {
    /// The clock's dates for `state` of a request received on `received`: the start
    /// (receipt, or the identity confirmation where the tenant counts from it), the first due
    /// date (Art. 12(3) by Reg. 1182/71 Art. 3), and the due date after any extension.
    pub fn dated(
        &self,
        settings: &CaseCalendar,
        received: Date,
        mut state: RequestState,
    ) -> RequestState {
        let calendar = HolidayCalendar::new(self.holidays.as_ref(), settings.country)
            .with_closing_days(settings.closing_days.iter().copied());
        let identity = identity_check(&state);
        state.clock_starts_on = settings.clock_start.start_date(received, identity);
        state.first_due_on = state
            .clock_starts_on
            .map(|start| due_date(start, &calendar));
        let extension = state
            .extension
            .as_ref()
            .and_then(|e| ExtensionMonths::try_from(e.months).ok());
        state.due_on = match (state.first_due_on, extension) {
            (Some(first), Some(months)) => Some(extended_due_date(first, months, &calendar)),
            (first, _) => first,
        };
        state
    }
}

/// Where the identity check stands, as the clock reads it from the case.
fn identity_check(state: &RequestState) -> IdentityCheck {
    use crate::request::RequestStatus::*;
    match (state.identity.verified_at, state.status) {
        (Some(at), _) => IdentityCheck::ConfirmedOn(at.date()),
        (None, VerifyingIdentity | RejectedUnverifiable) => IdentityCheck::Awaiting,
        (None, _) => IdentityCheck::NotRequired,
    }
}

#[async_trait::async_trait]
impl RecordRules<Requests> for RequestRules {
    async fn check(
        &self,
        _: &TenantScope,
        _: Id<Requests>,
        _: Option<&RequestFields>,
        _: &RequestFields,
    ) -> Result<(), UseCaseError> {
        Ok(())
    }

    async fn derive(
        &self,
        scope: &TenantScope,
        fields: &RequestFields,
        before: Option<&Record<Requests>>,
    ) -> Result<RequestState, UseCaseError> {
        let settings = self.calendars.calendar(scope).await?;
        let state = match before {
            Some(record) => record.derived.clone(),
            None => RequestState {
                created_by: scope.user_id(),
                ..RequestState::default()
            },
        };
        Ok(self.dated(&settings, fields.received_at.date(), state))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::request::{Extension, IdentityVerification, RequestStatus};

    /// Good Friday and Easter Monday 2027 in Germany, nothing elsewhere.
    struct German;
    impl PublicHolidays for German {
        fn public_holiday(&self, country: CountryCode, date: Date) -> Option<&'static str> {
            (country.as_str() == "DE"
                && [date!(2027 - 03 - 26), date!(2027 - 03 - 29)].contains(&date))
            .then_some("Easter")
        }
    }

    fn rules() -> RequestRules {
        struct NoSettings;
        #[async_trait::async_trait]
        impl CaseCalendars for NoSettings {
            async fn calendar(&self, _: &TenantScope) -> Result<CaseCalendar, StoreError> {
                Ok(CaseCalendar::default())
            }
        }
        RequestRules {
            holidays: Arc::new(German),
            calendars: Arc::new(NoSettings),
        }
    }

    fn germany(clock_start: ClockStart) -> CaseCalendar {
        CaseCalendar {
            country: CountryCode::parse("country", "DE").ok(),
            closing_days: vec![],
            clock_start,
        }
    }

    #[test]
    fn received_on_26_february_is_due_after_easter_in_germany() {
        // Same date next month: Friday 26 March 2027, Good Friday; then the weekend and
        // Easter Monday: due Tuesday 30 March.
        let state = rules().dated(
            &germany(ClockStart::Receipt),
            date!(2027 - 02 - 26),
            RequestState::default(),
        );
        assert_eq!(state.clock_starts_on, Some(date!(2027 - 02 - 26)));
        assert_eq!(state.first_due_on, Some(date!(2027 - 03 - 30)));
        assert_eq!(state.due_on, state.first_due_on);
        // Without the country only weekends close: due on Good Friday itself.
        let nowhere = CaseCalendar::default();
        let state = rules().dated(&nowhere, date!(2027 - 02 - 26), RequestState::default());
        assert_eq!(state.due_on, Some(date!(2027 - 03 - 26)));
    }

    #[test]
    fn the_clock_can_wait_for_the_identity_where_the_tenant_counts_so() {
        let awaiting = RequestState {
            status: RequestStatus::VerifyingIdentity,
            ..RequestState::default()
        };
        let received = date!(2027 - 01 - 31);
        let strict = rules().dated(&germany(ClockStart::Receipt), received, awaiting.clone());
        assert_eq!(
            strict.first_due_on,
            Some(date!(2027 - 03 - 01)),
            "28 Feb is a Sunday"
        );
        let waiting = germany(ClockStart::IdentityConfirmed);
        let state = rules().dated(&waiting, received, awaiting.clone());
        assert_eq!((state.clock_starts_on, state.due_on), (None, None));
        let confirmed = RequestState {
            identity: IdentityVerification {
                verified_at: Some(datetime!(2027-02-10 09:00 UTC)),
                ..IdentityVerification::default()
            },
            status: RequestStatus::InProgress,
            ..awaiting
        };
        let state = rules().dated(&waiting, received, confirmed);
        assert_eq!(state.clock_starts_on, Some(date!(2027 - 02 - 10)));
        assert_eq!(state.due_on, Some(date!(2027 - 03 - 10)));
    }

    #[test]
    fn an_extension_moves_the_due_date_and_follows_a_changed_receipt() {
        let extended = RequestState {
            extension: Some(Extension {
                months: 2,
                reasons: "many systems to search".into(),
                told_on: date!(2027 - 01 - 20),
            }),
            ..RequestState::default()
        };
        let settings = germany(ClockStart::Receipt);
        let state = rules().dated(&settings, date!(2027 - 01 - 11), extended.clone());
        assert_eq!(state.first_due_on, Some(date!(2027 - 02 - 11)));
        assert_eq!(
            state.due_on,
            Some(date!(2027 - 04 - 12)),
            "11 April is a Sunday"
        );
        // The receipt corrected by a week: every date follows.
        let state = rules().dated(&settings, date!(2027 - 01 - 18), extended);
        assert_eq!(state.first_due_on, Some(date!(2027 - 02 - 18)));
        assert_eq!(state.due_on, Some(date!(2027 - 04 - 19)));
    }
}
