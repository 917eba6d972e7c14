//! The rules a breach's writes follow beyond its own fields: awareness is not in the
//! future, and the derived values (the authority deadline — also in the organisation's
//! time zone —, the contact point in effect, what the register says of the activities it
//! names, what the record still lacks) follow the fields and the decisions on every
//! write; a new breach's empty categories and processors are filled from the register.

use std::sync::Arc;

use aura_gdpr_registers::{Activities, ports::OrganisationRepository};
use aura_records::{Id, Record, RecordRules, RecordStore, UseCaseError};
use aura_shared_kernel::{
    Clock, LocalInstant, TenantScope, TimeZoneName, TimeZones, ValidationErrors,
};

use time::OffsetDateTime;

use crate::{
    breach::{BreachFields, BreachState, Breaches, NotificationPhase, gaps},
    clock::authority_deadline,
    defaults::{FromRegister, contact_in_effect, present},
};

/// The breaches' [`RecordRules`]: the clock says what "the future" is; the organisation
/// profile's time zone and the zone database say the deadline in local time, its DPO or
/// contact the contact point a breach names none of; the activities a breach names
/// what the register says of its categories and processors.
pub struct BreachRules {
    pub clock: Arc<dyn Clock>,
    pub organisation: Arc<dyn OrganisationRepository>,
    pub activities: Arc<dyn RecordStore<Activities>>,
    pub zones: Arc<dyn TimeZones>,
}

impl BreachRules {
    /// What the register says of the activities `fields` names, read in the tenant.
    async fn register_view(
        &self,
        scope: &TenantScope,
        fields: &BreachFields,
    ) -> Result<FromRegister, UseCaseError> {
        let activities = present(self.activities.as_ref(), scope, &fields.activity_ids).await?;
        Ok(FromRegister::of(&activities))
    }

    /// `state` with the deadline and the gaps of `fields`.
    pub fn derived(fields: &BreachFields, mut state: BreachState) -> BreachState {
        state.authority_deadline = authority_deadline(fields.became_aware_at);
        state.missing = gaps(fields, &state);
        state
    }
}

#[async_trait::async_trait]
impl RecordRules<Breaches> for BreachRules {
    async fn check(
        &self,
        _: &TenantScope,
        _: Id<Breaches>,
        _: Option<&BreachFields>,
        fields: &BreachFields,
    ) -> Result<(), UseCaseError> {
        let now = self.clock.now();
        let mut e = ValidationErrors::default();
        if fields.became_aware_at > now {
            e.push(
                "became_aware_at",
                "cannot be in the future: the Art. 33(1) clock starts when the organisation became aware",
            );
        }
        for (field, at) in [
            ("occurred_from", fields.occurred_from),
            ("occurred_to", fields.occurred_to),
        ] {
            if at.is_some_and(|at| at > now) {
                e.push(field, "cannot be in the future");
            }
        }
        Ok(e.into_result()?)
    }

    /// A new breach's empty categories and processors come from the activities it
    /// names; what the user entered stays.
    async fn complete(
        &self,
        scope: &TenantScope,
        fields: BreachFields,
    ) -> Result<BreachFields, UseCaseError> {
        Ok(self.register_view(scope, &fields).await?.prefill(fields))
    }

    async fn derive(
        &self,
        scope: &TenantScope,
        fields: &BreachFields,
        before: Option<&Record<Breaches>>,
    ) -> Result<BreachState, UseCaseError> {
        let mut state = match before {
            Some(record) => record.derived.clone(),
            None => BreachState {
                created_by: scope.user_id(),
                ..BreachState::default()
            },
        };
        // Written on every write: a later change of the organisation's profile or of
        // the activities shows on the breach's next write (the deadline's instant itself
        // never changes).
        let profile = self
            .organisation
            .get(scope)
            .await?
            .map(|stored| stored.profile);
        state.contact_point_in_effect = contact_in_effect(fields, profile.as_ref());
        state.from_register = self.register_view(scope, fields).await?;
        let mut state = Self::derived(fields, state);
        if let Some(first) = state.notifications.first() {
            notified_awareness_holds(first, state.authority_deadline, fields)?;
        }
        let zone = profile.map_or_else(TimeZoneName::utc, |profile| profile.time_zone);
        state.authority_deadline_local = Some(LocalInstant::new(
            state.authority_deadline,
            &zone,
            self.zones.as_ref(),
        ));
        Ok(state)
    }
}

/// A correction of the awareness time once the authority was notified keeps the record
/// true to Art. 33(1): the notification cannot come before the awareness it reports, and
/// if the corrected deadline falls before the first phase, that phase must carry the
/// reasons for the delay (record them by a phase first, or keep the time).
fn notified_awareness_holds(
    first: &NotificationPhase,
    deadline: OffsetDateTime,
    fields: &BreachFields,
) -> Result<(), UseCaseError> {
    if fields.became_aware_at > first.sent_at {
        return Err(ValidationErrors::single(
            "became_aware_at",
            "cannot be after the authority was first notified of the breach",
        )
        .into());
    }
    if first.sent_at > deadline && first.delay_reasons.is_none() {
        return Err(ValidationErrors::single(
            "became_aware_at",
            "Art. 33(1) GDPR: with this awareness time the notification came after 72 hours, and it carries no reasons for the delay",
        )
        .into());
    }
    Ok(())
}
