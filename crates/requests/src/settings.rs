//! A tenant's settings for its requests, read from the tenant's settings map (`PATCH
//! /api/v1/tenant`), and the calendar port built from them and the organisation profile.

use std::sync::Arc;

use aura_gdpr_registers::ports::OrganisationRepository;
use aura_identity::ports::TenantRepository;
use aura_shared_kernel::{StoreError, TenantScope, TenantSettings, ValidationErrors};
use serde_json::Value;
use time::Date;

use crate::{
    clock::ClockStart,
    intake::IntakeLanguage,
    rules::{CaseCalendar, CaseCalendars},
};

/// `receipt` (default) or `identity_confirmed`: when the clock of a request awaiting
/// proof of identity starts.
pub const CLOCK_START: &str = "requests_clock_start";
/// The organisation's own closing days (ISO dates) on top of its country's holidays.
pub const CLOSING_DAYS: &str = "requests_closing_days";
/// Years after closing before a request's person is pseudonymised (default 3, 1–10).
pub const RETENTION_YEARS: &str = "requests_retention_years";

/// `true` switches the public intake page on (default off).
pub const INTAKE_ENABLED: &str = "requests_intake_enabled";
/// `en` (default) or `de`: the intake page's and its mail's language.
pub const INTAKE_LANGUAGE: &str = "requests_intake_language";
/// Who to ask about privacy, shown on the intake page (at most 500 characters).
pub const PRIVACY_CONTACT: &str = "privacy_contact";

/// The most closing days a tenant may list (a few years' worth).
const MAX_CLOSING_DAYS: usize = 200;

/// The requests' settings of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSettings {
    pub clock_start: ClockStart,
    pub closing_days: Vec<Date>,
    pub retention_years: u8,
}

impl Default for RequestSettings {
    fn default() -> Self {
        Self {
            clock_start: ClockStart::Receipt,
            closing_days: Vec::new(),
            retention_years: 3,
        }
    }
}

impl RequestSettings {
    /// The settings in `settings`, each checked; problems named by key. Absent keys take
    /// their defaults.
    pub fn parse(settings: &TenantSettings) -> Result<Self, ValidationErrors> {
        let map = settings.as_map();
        let mut errors = ValidationErrors::default();
        let mut parsed = Self::default();
        match map.get(CLOCK_START) {
            None | Some(Value::Null) => {}
            Some(value) => match serde_json::from_value(value.clone()) {
                Ok(start) => parsed.clock_start = start,
                Err(_) => errors.push(CLOCK_START, "must be `receipt` or `identity_confirmed`"),
            },
        }
        match map.get(CLOSING_DAYS) {
            None | Some(Value::Null) => {}
            Some(Value::Array(days)) if days.len() <= MAX_CLOSING_DAYS => {
                for (i, day) in days.iter().enumerate() {
                    match day.as_str().and_then(parse_date) {
                        Some(date) => parsed.closing_days.push(date),
                        None => errors.push(
                            format!("{CLOSING_DAYS}[{i}]"),
                            "must be a date (YYYY-MM-DD)",
                        ),
                    }
                }
            }
            Some(_) => errors.push(
                CLOSING_DAYS,
                format!("must be a list of at most {MAX_CLOSING_DAYS} dates (YYYY-MM-DD)"),
            ),
        }
        if map
            .get(INTAKE_ENABLED)
            .is_some_and(|v| !v.is_boolean() && !v.is_null())
        {
            errors.push(INTAKE_ENABLED, "must be true or false");
        }
        let language = map.get(INTAKE_LANGUAGE).filter(|v| !v.is_null());
        if language.is_some_and(|v| v.as_str().and_then(IntakeLanguage::parse).is_none()) {
            errors.push(INTAKE_LANGUAGE, "must be `en` or `de`");
        }
        let contact = map.get(PRIVACY_CONTACT).filter(|v| !v.is_null());
        if contact.is_some_and(|v| v.as_str().is_none_or(|c| c.chars().count() > 500)) {
            errors.push(PRIVACY_CONTACT, "must be a text of at most 500 characters");
        }
        match map.get(RETENTION_YEARS) {
            None | Some(Value::Null) => {}
            Some(value) => match value.as_u64().filter(|y| (1..=10).contains(y)) {
                Some(years) => parsed.retention_years = years as u8,
                None => errors.push(RETENTION_YEARS, "must be a whole number of years, 1 to 10"),
            },
        }
        errors.into_result()?;
        Ok(parsed)
    }

    /// The settings for the clock, with the defaults for any the tenant set wrongly (the
    /// settings route refuses those; a request is not refused for a broken setting).
    pub fn read(settings: &TenantSettings) -> Self {
        Self::parse(settings).unwrap_or_default()
    }
}

fn parse_date(raw: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &format).ok()
}

/// The calendar port over the tenant's settings and its organisation profile.
pub struct TenantCalendars {
    pub tenants: Arc<dyn TenantRepository>,
    pub organisation: Arc<dyn OrganisationRepository>,
}

#[async_trait::async_trait]
impl CaseCalendars for TenantCalendars {
    async fn calendar(&self, scope: &TenantScope) -> Result<CaseCalendar, StoreError> {
        let tenant = self.tenants.get(scope).await?;
        let settings = RequestSettings::read(&tenant.settings);
        let profile = self.organisation.get(scope).await?;
        Ok(CaseCalendar {
            country: profile.and_then(|p| p.profile.country),
            closing_days: settings.closing_days,
            clock_start: settings.clock_start,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::date;

    use super::*;

    fn settings(value: Value) -> TenantSettings {
        TenantSettings::parse(value).expect("an object")
    }

    #[test]
    fn absent_settings_take_the_strict_defaults() {
        let parsed = RequestSettings::parse(&settings(json!({}))).expect("valid");
        assert_eq!(parsed, RequestSettings::default());
        assert_eq!(parsed.clock_start, ClockStart::Receipt);
        assert_eq!(parsed.retention_years, 3);
    }

    #[test]
    fn set_values_are_read() {
        let parsed = RequestSettings::parse(&settings(json!({
            CLOCK_START: "identity_confirmed",
            CLOSING_DAYS: ["2027-12-24", "2027-12-31"],
            RETENTION_YEARS: 5,
        })))
        .expect("valid");
        assert_eq!(parsed.clock_start, ClockStart::IdentityConfirmed);
        assert_eq!(
            parsed.closing_days,
            vec![date!(2027 - 12 - 24), date!(2027 - 12 - 31)]
        );
        assert_eq!(parsed.retention_years, 5);
    }

    #[test]
    fn the_intake_settings_are_checked_too() {
        let wrong = settings(json!({
            INTAKE_ENABLED: "yes",
            INTAKE_LANGUAGE: "fr",
            PRIVACY_CONTACT: 42,
        }));
        let errors = RequestSettings::parse(&wrong).expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, [INTAKE_ENABLED, INTAKE_LANGUAGE, PRIVACY_CONTACT]);
        let right = settings(json!({
            INTAKE_ENABLED: true,
            INTAKE_LANGUAGE: "de",
            PRIVACY_CONTACT: "datenschutz@example.test",
        }));
        assert!(RequestSettings::parse(&right).is_ok());
    }

    #[test]
    fn wrong_values_are_named_and_read_as_defaults() {
        let wrong = settings(json!({
            CLOCK_START: "whenever",
            CLOSING_DAYS: ["2027-13-01"],
            RETENTION_YEARS: 0,
        }));
        let errors = RequestSettings::parse(&wrong).expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [CLOCK_START, "requests_closing_days[0]", RETENTION_YEARS]
        );
        assert_eq!(RequestSettings::read(&wrong), RequestSettings::default());
    }
}
