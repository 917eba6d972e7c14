//! The rules a breach's writes follow beyond its own fields: awareness is not in the
//! future, and the derived values (the authority deadline, what the record still lacks)
//! follow the fields and the decisions on every write.

use std::sync::Arc;

use aura_records::{Id, Record, RecordRules, UseCaseError};
use aura_shared_kernel::{Clock, TenantScope, ValidationErrors};

use crate::{
    breach::{BreachFields, BreachState, Breaches, gaps},
    clock::authority_deadline,
};

/// The breaches' [`RecordRules`]: the clock says what "the future" is.
pub struct BreachRules {
    pub clock: Arc<dyn Clock>,
}

impl BreachRules {
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

    async fn derive(
        &self,
        scope: &TenantScope,
        fields: &BreachFields,
        before: Option<&Record<Breaches>>,
    ) -> Result<BreachState, UseCaseError> {
        let state = match before {
            Some(record) => record.derived.clone(),
            None => BreachState {
                created_by: scope.user_id(),
                ..BreachState::default()
            },
        };
        Ok(Self::derived(fields, state))
    }
}
