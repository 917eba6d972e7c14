//! [`ScreeningAnswersStore`] on PostgreSQL: one row of `dpia_screenings` per activity, its
//! answers in the jsonb column `answers` as a [`StoredForm`] (the stored shape, versioned
//! by `v`, not the domain type), removed with the activity by the foreign key's cascade.

use aura_audit::PendingEvent;
use aura_dpia_screening::{ScreeningAnswers, StoredAnswers, ports::ScreeningAnswersStore};
use aura_gdpr_registers::ActivityId;
use aura_shared_kernel::{StoreError, TenantScope, UserId};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    audit::to_micros,
    error::{DbError, corrupt},
    pool::in_tenant,
    rows::next_version,
    schema::dpia_screenings as screenings,
    stores::PgStores,
};

/// The answers as stored, shape 1.
#[derive(Debug, Serialize, Deserialize)]
struct StoredForm {
    v: u16,
    evaluation_or_scoring: Option<bool>,
    automated_decisions: Option<bool>,
    systematic_monitoring: Option<bool>,
    public_area_monitoring: Option<bool>,
    large_scale: Option<bool>,
    people_concerned: Option<u64>,
    matching_datasets: Option<bool>,
    innovative_technology: Option<bool>,
    denial_of_service_or_right: Option<bool>,
    highly_personal_data: Option<bool>,
    vulnerable_data_subjects: Option<bool>,
    notes: Option<String>,
}

impl From<&ScreeningAnswers> for StoredForm {
    fn from(a: &ScreeningAnswers) -> Self {
        Self {
            v: 1,
            evaluation_or_scoring: a.evaluation_or_scoring,
            automated_decisions: a.automated_decisions,
            systematic_monitoring: a.systematic_monitoring,
            public_area_monitoring: a.public_area_monitoring,
            large_scale: a.large_scale,
            people_concerned: a.people_concerned,
            matching_datasets: a.matching_datasets,
            innovative_technology: a.innovative_technology,
            denial_of_service_or_right: a.denial_of_service_or_right,
            highly_personal_data: a.highly_personal_data,
            vulnerable_data_subjects: a.vulnerable_data_subjects,
            notes: a.notes.clone(),
        }
    }
}

impl From<StoredForm> for ScreeningAnswers {
    fn from(s: StoredForm) -> Self {
        Self {
            evaluation_or_scoring: s.evaluation_or_scoring,
            automated_decisions: s.automated_decisions,
            systematic_monitoring: s.systematic_monitoring,
            public_area_monitoring: s.public_area_monitoring,
            large_scale: s.large_scale,
            people_concerned: s.people_concerned,
            matching_datasets: s.matching_datasets,
            innovative_technology: s.innovative_technology,
            denial_of_service_or_right: s.denial_of_service_or_right,
            highly_personal_data: s.highly_personal_data,
            vulnerable_data_subjects: s.vulnerable_data_subjects,
            notes: s.notes,
        }
    }
}

#[async_trait::async_trait]
impl ScreeningAnswersStore for PgStores {
    async fn get(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
    ) -> Result<Option<StoredAnswers>, StoreError> {
        let (tenant, activity) = (scope.tenant_id().as_uuid(), activity.as_uuid());
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let row: Option<(serde_json::Value, Option<Uuid>, i32, OffsetDateTime)> =
                screenings::table
                    .filter(screenings::tenant_id.eq(tenant))
                    .filter(screenings::activity_id.eq(activity))
                    .select((
                        screenings::answers,
                        screenings::updated_by,
                        screenings::version,
                        screenings::updated_at,
                    ))
                    .first(conn)
                    .await
                    .optional()?;
            let answers: Result<Option<StoredAnswers>, DbError> = row
                .map(|(answers, updated_by, version, updated_at)| {
                    let form: StoredForm = serde_json::from_value(answers)
                        .map_err(|_| corrupt("stored screening answers"))?;
                    Ok(StoredAnswers {
                        answers: form.into(),
                        version,
                        updated_by: updated_by.map(UserId::from_uuid),
                        updated_at: Some(updated_at),
                    })
                })
                .transpose();
            answers
        })
        .await
    }

    /// Version 0 inserts (an existing row is `Conflict::Version`); otherwise the row must
    /// be at `expected_version`. An activity outside the tenant fails the foreign key:
    /// `NotFound`.
    async fn put(
        &self,
        scope: &TenantScope,
        activity: ActivityId,
        answers: &ScreeningAnswers,
        updated_by: Option<UserId>,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<StoredAnswers, StoreError> {
        let updated_at = to_micros(self.now());
        let (tenant, activity_id) = (scope.tenant_id().as_uuid(), activity.as_uuid());
        let value = serde_json::to_value(StoredForm::from(answers))
            .map_err(|_| StoreError::unexpected("screening answers not serialisable"))?;
        let version = next_version(expected_version)?;
        let by = updated_by.map(|u| u.as_uuid());
        let row = screenings::table
            .filter(screenings::tenant_id.eq(tenant))
            .filter(screenings::activity_id.eq(activity_id));
        let insert = diesel::insert_into(screenings::table)
            .values((
                screenings::tenant_id.eq(tenant),
                screenings::activity_id.eq(activity_id),
                screenings::answers.eq(value.clone()),
                screenings::updated_by.eq(by),
                screenings::version.eq(version),
                screenings::updated_at.eq(updated_at),
            ))
            .on_conflict((screenings::tenant_id, screenings::activity_id))
            .do_nothing();
        let update = diesel::update(row.filter(screenings::version.eq(expected_version))).set((
            screenings::answers.eq(value),
            screenings::updated_by.eq(by),
            screenings::version.eq(version),
            screenings::updated_at.eq(updated_at),
        ));
        let exists = diesel::select(diesel::dsl::exists(row));
        self.put_versioned(scope, event, expected_version, (insert, update), exists)
            .await?;
        Ok(StoredAnswers {
            answers: answers.clone(),
            version,
            updated_by,
            updated_at: Some(updated_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::StoredForm;

    /// Shape 1 as stored reads back: a change that would break stored rows fails here.
    #[test]
    fn stored_shape_1_stays_readable() {
        let stored = serde_json::json!({
            "v": 1, "evaluation_or_scoring": true, "automated_decisions": null,
            "systematic_monitoring": false, "public_area_monitoring": null,
            "large_scale": true, "people_concerned": 250000, "matching_datasets": null,
            "innovative_technology": null, "denial_of_service_or_right": false,
            "highly_personal_data": null, "vulnerable_data_subjects": null,
            "notes": "loyalty programme"
        });
        let form: StoredForm = serde_json::from_value(stored).expect("shape 1 reads");
        assert_eq!(form.people_concerned, Some(250_000));
        assert_eq!(form.large_scale, Some(true));
        assert_eq!(form.notes.as_deref(), Some("loyalty programme"));
    }
}
