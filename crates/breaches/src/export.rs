//! The register of breaches for a period (Art. 33(5): the documentation the supervisory
//! authority may check): every breach the organisation became aware of in the period,
//! with its dates, whether the authority was notified on time or late and by how many
//! hours, the reasons for a delay, the risk, the decisions (notified or not, with the
//! reasoning; the data subjects told or the Art. 34(3) ground) and its status. As JSON
//! rows and as CSV with the exports' conventions. Drills are exported only when asked
//! for, and then alone, as the list shows them.

use aura_audit::RequestContext;
use aura_gdpr_registers::{csv, string_enum};
use aura_records::{RecordUseCases, UseCaseError};
use aura_shared_kernel::TenantScope;
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::{
    breach::{
        Breach, BreachId, BreachKind, BreachStatus, Breaches, NoCommunicationGround, RiskLevel,
        SubjectCommunication,
    },
    clock::{DeadlineStanding, standing},
};

string_enum!(
    /// Whether the authority was notified within the 72 hours (Art. 33(1)), as of the
    /// export.
    Timeliness {
        /// Notified (first phase) by the deadline.
        OnTime => "on_time",
        /// Notified after the deadline.
        Late => "late",
        /// The decision is open and the deadline has not passed.
        Pending => "pending",
        /// The decision is open and the deadline has passed.
        Overdue => "overdue",
        /// Decided not to notify (Art. 33(1): unlikely to result in a risk).
        NotRequired => "not_required",
    }
);

string_enum!(
    /// The decision on the notification to the supervisory authority.
    AuthorityDecision {
        Notified => "notified",
        NotNotified => "not_notified",
        /// No decision yet.
        Open => "open",
    }
);

string_enum!(
    /// The Art. 34 decision: the data subjects were told, or not, on a ground.
    Art34Outcome {
        Communicated => "communicated",
        NotCommunicated => "not_communicated",
    }
);

/// One breach in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    pub id: BreachId,
    /// `BR-2027-0001`.
    pub reference: String,
    pub title: String,
    pub kinds: Vec<BreachKind>,
    #[serde(with = "time::serde::rfc3339")]
    pub became_aware_at: OffsetDateTime,
    /// `became_aware_at + 72 h`.
    #[serde(with = "time::serde::rfc3339")]
    pub authority_deadline: OffsetDateTime,
    /// When the first phase of the notification was sent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub notified_at: Option<OffsetDateTime>,
    pub timeliness: Timeliness,
    /// Started hours after the deadline: of the notification when late, of the export
    /// when overdue; `None` otherwise.
    pub hours_late: Option<i64>,
    /// Art. 33(1): why the notification came late (the first phase's reasons).
    pub delay_reasons: Option<String>,
    /// How many phases the notification took (Art. 33(4)).
    pub notification_phases: usize,
    /// The references the authority gave, in the phases' order.
    pub authority_references: Vec<String>,
    pub approximate_subjects: Option<i64>,
    pub approximate_records: Option<i64>,
    pub risk: Option<RiskLevel>,
    pub risk_reasoning: Option<String>,
    pub authority_decision: AuthorityDecision,
    /// The recorded reasoning of the decision not to notify.
    pub not_notified_reasoning: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_notified_at: Option<OffsetDateTime>,
    pub subjects: Option<Art34Outcome>,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub subjects_communicated_on: Option<Date>,
    pub subjects_not_communicated_ground: Option<NoCommunicationGround>,
    pub subjects_not_communicated_reasoning: Option<String>,
    pub status: BreachStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub drill: bool,
}

impl ExportRow {
    /// `breach` as of `now`.
    pub fn of(breach: &Breach, now: OffsetDateTime) -> Self {
        let (f, d) = (&breach.fields, &breach.derived);
        let notified_at = d.notified_at();
        let (timeliness, hours_late) = match (notified_at, d.status) {
            (Some(at), _) => match standing(d.authority_deadline, at) {
                DeadlineStanding::HoursLeft(_) => (Timeliness::OnTime, None),
                DeadlineStanding::HoursLate(h) => (Timeliness::Late, Some(h)),
            },
            (None, status) if !status.awaits_decision() => (Timeliness::NotRequired, None),
            (None, _) => match standing(d.authority_deadline, now) {
                DeadlineStanding::HoursLeft(_) => (Timeliness::Pending, None),
                DeadlineStanding::HoursLate(h) => (Timeliness::Overdue, Some(h)),
            },
        };
        let authority_decision = match (notified_at, &d.not_notified) {
            (Some(_), _) => AuthorityDecision::Notified,
            (None, Some(_)) => AuthorityDecision::NotNotified,
            (None, None) => AuthorityDecision::Open,
        };
        let (subjects, communicated_on, ground, ground_reasoning) = match &d.communication {
            Some(SubjectCommunication::Communicated {
                communicated_on, ..
            }) => (
                Some(Art34Outcome::Communicated),
                Some(*communicated_on),
                None,
                None,
            ),
            Some(SubjectCommunication::NotCommunicated {
                ground, reasoning, ..
            }) => (
                Some(Art34Outcome::NotCommunicated),
                None,
                Some(*ground),
                Some(reasoning.clone()),
            ),
            None => (None, None, None, None),
        };
        Self {
            id: breach.id,
            reference: d.reference.clone(),
            title: f.title.clone(),
            kinds: f.kinds.clone(),
            became_aware_at: f.became_aware_at,
            authority_deadline: d.authority_deadline,
            notified_at,
            timeliness,
            hours_late,
            delay_reasons: d
                .notifications
                .first()
                .and_then(|p| p.delay_reasons.clone()),
            notification_phases: d.notifications.len(),
            authority_references: (d.notifications.iter())
                .filter_map(|p| p.authority_reference.clone())
                .collect(),
            approximate_subjects: f.approximate_subjects,
            approximate_records: f.approximate_records,
            risk: d.risk_level(),
            risk_reasoning: d.risk.as_ref().map(|r| r.reasoning.clone()),
            authority_decision,
            not_notified_reasoning: d.not_notified.as_ref().map(|n| n.reasoning.clone()),
            not_notified_at: d.not_notified.as_ref().map(|n| n.decided_at),
            subjects,
            subjects_communicated_on: communicated_on,
            subjects_not_communicated_ground: ground,
            subjects_not_communicated_reasoning: ground_reasoning,
            status: d.status,
            closed_at: d.closed_at,
            drill: f.drill,
        }
    }
}

/// The breaches the organisation became aware of in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreachExport {
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub from: Option<Date>,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    pub to: Option<Date>,
    /// Whether this is the export of the drills (exercises) instead of the register.
    pub drill: bool,
    /// Earliest awareness first.
    pub breaches: Vec<ExportRow>,
}

/// The export of `breaches` the organisation became aware of from `from` to `to` (each
/// optional, inclusive, on the UTC date of awareness), on `now`: the real breaches, or
/// with `drill` the drills alone.
pub fn build_export(
    breaches: &[Breach],
    from: Option<Date>,
    to: Option<Date>,
    drill: bool,
    now: OffsetDateTime,
) -> BreachExport {
    let mut rows: Vec<ExportRow> = breaches
        .iter()
        .filter(|b| {
            let aware = crate::breach::utc(b.fields.became_aware_at).date();
            b.fields.drill == drill
                && from.is_none_or(|from| aware >= from)
                && to.is_none_or(|to| aware <= to)
        })
        .map(|b| ExportRow::of(b, now))
        .collect();
    rows.sort_by_key(|r| (r.became_aware_at, r.id));
    BreachExport {
        generated_at: now,
        from,
        to,
        drill,
        breaches: rows,
    }
}

/// The export through the register's use cases: the caller needs read permission
/// (viewers may export); a refusal is audited.
pub async fn export(
    records: &RecordUseCases<Breaches>,
    scope: &TenantScope,
    period: (Option<Date>, Option<Date>),
    drill: bool,
    now: OffsetDateTime,
    ctx: &RequestContext,
) -> Result<BreachExport, UseCaseError> {
    let all = records.all(scope, ctx).await?;
    Ok(build_export(&all, period.0, period.1, drill, now))
}

pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "reference",
    "title",
    "kinds",
    "became_aware_at",
    "authority_deadline",
    "notified_at",
    "timeliness",
    "hours_late",
    "delay_reasons",
    "notification_phases",
    "authority_references",
    "approximate_subjects",
    "approximate_records",
    "risk",
    "risk_reasoning",
    "authority_decision",
    "not_notified_reasoning",
    "not_notified_at",
    "subjects",
    "subjects_communicated_on",
    "subjects_not_communicated_ground",
    "subjects_not_communicated_reasoning",
    "status",
    "closed_at",
    "drill",
];

/// One row per breach, with the exports' CSV conventions.
pub fn to_csv(export: &BreachExport) -> String {
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let rows = export.breaches.iter().map(|row| {
        [
            row.id.to_string(),
            row.reference.clone(),
            row.title.clone(),
            csv::list(row.kinds.iter().map(|k| k.as_str())),
            csv::instant(row.became_aware_at),
            csv::instant(row.authority_deadline),
            csv::optional_instant(row.notified_at),
            row.timeliness.as_str().to_owned(),
            number(row.hours_late),
            text(&row.delay_reasons),
            row.notification_phases.to_string(),
            csv::list(&row.authority_references),
            number(row.approximate_subjects),
            number(row.approximate_records),
            row.risk.map(|r| r.as_str().to_owned()).unwrap_or_default(),
            text(&row.risk_reasoning),
            row.authority_decision.as_str().to_owned(),
            text(&row.not_notified_reasoning),
            csv::optional_instant(row.not_notified_at),
            (row.subjects.map(|s| s.as_str().to_owned())).unwrap_or_default(),
            csv::optional_date(row.subjects_communicated_on),
            (row.subjects_not_communicated_ground
                .map(|g| g.as_str().to_owned()))
            .unwrap_or_default(),
            text(&row.subjects_not_communicated_reasoning),
            row.status.as_str().to_owned(),
            csv::optional_instant(row.closed_at),
            row.drill.to_string(),
        ]
    });
    csv::document(CSV_COLUMNS, rows)
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::{
        breach::{NotNotifiedDecision, SubjectCommunication},
        testing::{assessed, breach, notified},
    };

    const NOW: OffsetDateTime = datetime!(2027-04-01 12:00 UTC);

    #[test]
    fn a_late_notification_shows_its_hours_and_reasons() {
        let late = notified(
            assessed(
                breach("Late", datetime!(2027-03-01 09:00 UTC)),
                RiskLevel::Risk,
            ),
            datetime!(2027-03-04 11:30 UTC),
            Some("the forensic report came on day four"),
            vec![],
        );
        let row = ExportRow::of(&late, NOW);
        assert_eq!(row.timeliness, Timeliness::Late);
        assert_eq!(row.hours_late, Some(3), "2 h 30 min late, started hours");
        assert_eq!(
            row.delay_reasons.as_deref(),
            Some("the forensic report came on day four")
        );
        assert_eq!(row.authority_decision, AuthorityDecision::Notified);
        assert_eq!(row.authority_references, ["SA-1"]);
        assert_eq!(row.authority_deadline, datetime!(2027-03-04 09:00 UTC));
    }

    #[test]
    fn timeliness_follows_the_decision_and_the_clock() {
        let on_time = notified(
            breach("On time", datetime!(2027-03-01 09:00 UTC)),
            datetime!(2027-03-04 09:00 UTC),
            None,
            vec![],
        );
        let row = ExportRow::of(&on_time, NOW);
        assert_eq!((row.timeliness, row.hours_late), (Timeliness::OnTime, None));

        let pending = breach("Pending", datetime!(2027-03-31 12:00 UTC));
        let row = ExportRow::of(&pending, NOW);
        assert_eq!(
            (row.timeliness, row.hours_late),
            (Timeliness::Pending, None)
        );
        assert_eq!(row.authority_decision, AuthorityDecision::Open);

        let overdue = breach("Overdue", datetime!(2027-03-28 12:00 UTC));
        let row = ExportRow::of(&overdue, NOW);
        assert_eq!(
            (row.timeliness, row.hours_late),
            (Timeliness::Overdue, Some(24))
        );

        let mut declined = assessed(
            breach("Declined", datetime!(2027-03-01 09:00 UTC)),
            RiskLevel::NoRisk,
        );
        declined.derived.status = BreachStatus::NotNotified;
        declined.derived.not_notified = Some(NotNotifiedDecision {
            reasoning: "the data were encrypted".into(),
            decided_by: None,
            decided_at: datetime!(2027-03-02 09:00 UTC),
        });
        let row = ExportRow::of(&declined, NOW);
        assert_eq!(row.timeliness, Timeliness::NotRequired);
        assert_eq!(row.authority_decision, AuthorityDecision::NotNotified);
        assert_eq!(
            row.not_notified_reasoning.as_deref(),
            Some("the data were encrypted")
        );
    }

    #[test]
    fn the_period_is_the_awareness_dates_and_drills_stay_apart() {
        let mut drill = breach("Drill", datetime!(2027-03-10 09:00 UTC));
        drill.fields.drill = true;
        let all = [
            breach("February", datetime!(2027-02-28 23:59 UTC)),
            breach("March late", datetime!(2027-03-31 23:00 UTC)),
            breach("March", datetime!(2027-03-01 00:00 UTC)),
            // 1 April in UTC, though 31 March in New York.
            breach("April", datetime!(2027-03-31 21:00 -04:00)),
            drill,
        ];
        let march = |drill| {
            build_export(
                &all,
                Some(date!(2027 - 03 - 01)),
                Some(date!(2027 - 03 - 31)),
                drill,
                NOW,
            )
        };
        let titles =
            |e: BreachExport| -> Vec<String> { e.breaches.into_iter().map(|r| r.title).collect() };
        assert_eq!(titles(march(false)), ["March", "March late"]);
        assert_eq!(titles(march(true)), ["Drill"]);
        assert_eq!(
            titles(build_export(&all, None, None, false, NOW)).len(),
            4,
            "open-ended"
        );
    }

    #[test]
    fn the_csv_has_a_row_per_breach_with_the_decisions() {
        let mut high = assessed(
            breach("Laptop, stolen", datetime!(2027-03-01 09:00 UTC)),
            RiskLevel::HighRisk,
        );
        high.derived.communication = Some(SubjectCommunication::NotCommunicated {
            ground: NoCommunicationGround::DisproportionateEffort,
            reasoning: "public notice instead".into(),
            recorded_by: None,
            decided_at: datetime!(2027-03-03 09:00 UTC),
        });
        let mut high = notified(
            high,
            datetime!(2027-03-05 09:00 UTC),
            Some("late; sorry"),
            vec![],
        );
        high.derived.reference = "BR-2027-0007".into();
        let csv = to_csv(&build_export(
            std::slice::from_ref(&high),
            None,
            None,
            false,
            NOW,
        ));
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].split(',').count(), CSV_COLUMNS.len());
        assert_eq!(
            lines[1],
            format!(
                "{},BR-2027-0007,\"Laptop, stolen\",confidentiality,2027-03-01T09:00:00Z,\
                 2027-03-04T09:00:00Z,2027-03-05T09:00:00Z,late,24,\"late; sorry\",1,SA-1,\
                 1200,1500,high_risk,unencrypted customer data,notified,,,not_communicated,,\
                 disproportionate_effort,public notice instead,notified,,false",
                high.id
            )
        );
    }
}
