//! The register use cases: permission, validation, optimistic concurrency and the audit
//! event of every change, handed to one port call each.

use std::sync::Arc;

use aura_audit::{AuditAction, AuditLog, Changes, PendingEvent, RequestContext, require_audited};
use aura_records::{Id, NoRules, RecordRules, RecordStore, RecordUseCases, Source, at_version};
use aura_shared_kernel::{Clock, Permission, TenantScope, TimeZones, ValidationErrors};
use time::{Date, Duration, Month};

use crate::{
    actions,
    activity::Activities,
    completeness::CompletenessSummary,
    error::RegistersError,
    organisation::{OrganisationProfile, StoredOrganisation},
    policy::{
        Policies, Policy, PolicyFields, PolicyId, PolicyState, PolicyStatus, PolicyVersion,
        VersionStatus,
    },
    ports::{OrganisationRepository, PolicyVersions},
    processor::Processors,
    rules::{Members, ProcessorRules},
};

#[derive(Clone)]
pub struct RegisterPorts {
    pub organisation: Arc<dyn OrganisationRepository>,
    pub activities: Arc<dyn RecordStore<Activities>>,
    pub processors: Arc<dyn RecordStore<Processors>>,
    pub policies: Arc<dyn RecordStore<Policies>>,
    pub policy_versions: Arc<dyn PolicyVersions>,
    pub members: Arc<dyn Members>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
    /// The zone database the organisation's time zone is checked against.
    pub time_zones: Arc<dyn TimeZones>,
}

#[derive(Clone)]
pub struct Registers {
    ports: RegisterPorts,
    activities: RecordUseCases<Activities>,
    processors: RecordUseCases<Processors>,
    policies: RecordUseCases<Policies>,
}

/// The entity types in audit events.
pub mod entity {
    pub const ORGANISATION: &str = "organisation";
    pub const ACTIVITY: &str = "processing_activity";
    pub const PROCESSOR: &str = "processor";
    pub const POLICY: &str = "policy";
    pub const POLICY_VERSION: &str = "policy_version";
}

impl Registers {
    pub fn new(ports: RegisterPorts) -> Self {
        // Every register's use cases share the audit log and the clock.
        fn use_cases<K: aura_records::RecordKind>(
            ports: &RegisterPorts,
            store: &Arc<dyn RecordStore<K>>,
            rules: impl RecordRules<K> + 'static,
        ) -> RecordUseCases<K> {
            RecordUseCases::new(
                store.clone(),
                Arc::new(rules),
                ports.audit.clone(),
                ports.clock.clone(),
            )
        }
        let activities = use_cases(&ports, &ports.activities, NoRules);
        let processors = use_cases(
            &ports,
            &ports.processors,
            ProcessorRules {
                processors: ports.processors.clone(),
            },
        );
        let policies = use_cases(&ports, &ports.policies, NoRules);
        Self {
            ports,
            activities,
            processors,
            policies,
        }
    }

    async fn require(
        &self,
        scope: &TenantScope,
        permission: Permission,
        ctx: &RequestContext,
    ) -> Result<(), RegistersError> {
        Ok(require_audited(self.ports.audit.as_ref(), scope, permission, ctx).await?)
    }

    fn today(&self) -> Date {
        self.ports.clock.now().date()
    }

    // ------------------------------------------------------------ organisation

    pub async fn organisation(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<Option<StoredOrganisation>, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        Ok(self.ports.organisation.get(scope).await?)
    }

    /// Saves the profile; `expected_version` is 0 for the first save.
    pub async fn put_organisation(
        &self,
        scope: &TenantScope,
        profile: OrganisationProfile,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<StoredOrganisation, RegistersError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let profile = profile.validated(self.ports.time_zones.as_ref())?;
        let before = self.ports.organisation.get(scope).await?;
        let current = before.as_ref().map_or(0, |s| s.version);
        at_version(current, expected_version)?;
        let changes = match &before {
            Some(stored) => Changes::between(&stored.profile, &profile),
            None => Changes::of_new(&profile),
        }
        .personal(OrganisationProfile::PERSONAL_FIELDS);
        let event = PendingEvent::new(
            scope,
            actions::ORGANISATION_UPDATED,
            entity::ORGANISATION,
            scope.tenant_id(),
            changes,
            ctx,
        );
        let version = self
            .ports
            .organisation
            .put(scope, &profile, expected_version, event)
            .await?;
        Ok(StoredOrganisation {
            profile,
            version,
            updated_at: Some(self.ports.clock.now()),
        })
    }

    // ------------------------------------------------------------ activities

    /// The processing activities' use cases (the kernel's create / get / list / update /
    /// delete); an activity's gaps are derived by the store.
    pub fn activity_records(&self) -> &RecordUseCases<Activities> {
        &self.activities
    }

    pub fn processor_records(&self) -> &RecordUseCases<Processors> {
        &self.processors
    }

    /// The completeness of the whole register.
    pub async fn completeness(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<CompletenessSummary, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        let mut summary = CompletenessSummary::default();
        for activity in self.ports.activities.all(scope).await? {
            summary.add(&activity.derived.missing);
        }
        Ok(summary)
    }

    // ------------------------------------------------------------ processors

    /// The date `days` from today, for "DPA missing or due for review within N days".
    pub fn attention_date(&self, days: i64) -> Date {
        self.today() + Duration::days(days)
    }

    // ------------------------------------------------------------ policies

    /// The policies' use cases (the kernel's create / get / list / update / delete); the
    /// methods below are the versions and their workflow.
    pub fn policy_records(&self) -> &RecordUseCases<Policies> {
        &self.policies
    }

    /// Adds a draft version with the next number.
    pub async fn create_version(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        content: &str,
        change_note: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.create_version_from(scope, policy, content, change_note, None, ctx)
            .await
    }

    /// [`Registers::create_version`] whose audit event names where it came from.
    pub async fn create_version_from(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        content: &str,
        change_note: Option<&str>,
        source: Option<&Source>,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let mut errors = ValidationErrors::default();
        let content = errors.collect(PolicyVersion::validate_content(content));
        let note = errors.collect(crate::text::optional_text(
            "change_note",
            change_note,
            crate::text::TextRule::block(2_000),
        ));
        errors.into_result()?;
        let versions = self.versions_of(scope, policy).await?;
        let number = versions.iter().map(|v| v.number).max().unwrap_or(0) + 1;
        let version = PolicyVersion {
            id: Id::generate(),
            tenant_id: scope.tenant_id(),
            policy_id: policy,
            number,
            content: content.unwrap_or_default(),
            status: VersionStatus::Draft,
            change_note: note.flatten(),
            created_by: scope.user_id(),
            created_at: self.ports.clock.now(),
            published_by: None,
            published_at: None,
            retired_at: None,
            version: 1,
        };
        let changes = Source::noted(
            source,
            Changes::new()
                .created("number", &number)
                .created("policy_id", &policy),
        );
        let event = Self::version_event(
            scope,
            &actions::POLICY_VERSION_CREATED,
            &version,
            changes,
            ctx,
        );
        self.ports
            .policy_versions
            .insert_version(scope, &version, event)
            .await?;
        Ok(version)
    }

    /// The versions of a policy of the tenant (`NotFound` for any other), newest first.
    async fn versions_of(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
    ) -> Result<Vec<PolicyVersion>, RegistersError> {
        self.ports.policies.get(scope, policy).await?;
        Ok(self
            .ports
            .policy_versions
            .list_versions(scope, policy)
            .await?)
    }

    pub async fn versions(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        ctx: &RequestContext,
    ) -> Result<Vec<PolicyVersion>, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        self.versions_of(scope, policy).await
    }

    pub async fn version(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        number: i32,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        Ok(self
            .ports
            .policy_versions
            .get_version(scope, policy, number)
            .await?)
    }

    /// The published version, one call away.
    pub async fn current_version(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        let policy = self.ports.policies.get(scope, policy).await?;
        let number = policy
            .derived
            .current_version
            .ok_or(RegistersError::NotFound)?;
        Ok(self
            .ports
            .policy_versions
            .get_version(scope, policy.id, number)
            .await?)
    }

    /// The version as read for a change at `expected_version`.
    async fn version_at(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        number: i32,
        expected_version: i32,
    ) -> Result<PolicyVersion, RegistersError> {
        let before = self
            .ports
            .policy_versions
            .get_version(scope, policy, number)
            .await?;
        at_version(before.version, expected_version)?;
        Ok(before)
    }

    fn version_event(
        scope: &TenantScope,
        action: &AuditAction,
        version: &PolicyVersion,
        changes: Changes,
        ctx: &RequestContext,
    ) -> PendingEvent {
        PendingEvent::new(
            scope,
            action.clone(),
            entity::POLICY_VERSION,
            version.id,
            changes,
            ctx,
        )
    }

    /// Changes the text of a draft or in-review version.
    pub async fn edit_version(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        number: i32,
        content: &str,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let content = PolicyVersion::validate_content(content)?;
        let before = self
            .version_at(scope, policy, number, expected_version)
            .await?;
        if !before.is_editable() {
            return Err(RegistersError::Conflict {
                code: "version_frozen",
                message: "a published or retired version never changes; create a new version",
            });
        }
        let after = PolicyVersion {
            content,
            version: before.version + 1,
            ..before
        };
        let changes = Changes::new().note("content_chars", after.content.chars().count());
        let event = Self::version_event(
            scope,
            &actions::POLICY_VERSION_UPDATED,
            &after,
            changes,
            ctx,
        );
        self.ports
            .policy_versions
            .update_version(scope, &after, expected_version, None, event)
            .await?;
        Ok(after)
    }

    /// Moves a version along draft → in_review → published → retired (in_review may go
    /// back to draft). Publishing and retiring need `DeleteRecords` (admins and owners),
    /// record the approver, and make the version the policy's current one.
    pub async fn transition_version(
        &self,
        scope: &TenantScope,
        policy_id: PolicyId,
        number: i32,
        next: VersionStatus,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        let permission = match next {
            VersionStatus::Published | VersionStatus::Retired => Permission::DeleteRecords,
            _ => Permission::WriteRecords,
        };
        self.require(scope, permission, ctx).await?;
        let before = self
            .version_at(scope, policy_id, number, expected_version)
            .await?;
        if !before.can_move_to(next) {
            return Err(RegistersError::Conflict {
                code: "invalid_transition",
                message: "this version cannot move to that status",
            });
        }
        let now = self.ports.clock.now();
        let mut after = PolicyVersion {
            status: next,
            version: before.version + 1,
            ..before.clone()
        };
        let mut policy_change = None;
        let action = match next {
            VersionStatus::InReview => &actions::POLICY_VERSION_SUBMITTED,
            VersionStatus::Draft => &actions::POLICY_VERSION_WITHDRAWN,
            VersionStatus::Published => {
                after.published_by = scope.user_id();
                after.published_at = Some(now);
                let policy = self.ports.policies.get(scope, policy_id).await?;
                let next_review = policy
                    .fields
                    .review_interval_months
                    .map(|months| add_months(now.date(), months))
                    .or(policy.fields.next_review_date);
                policy_change = Some(Policy {
                    derived: PolicyState {
                        current_version: Some(number),
                    },
                    fields: PolicyFields {
                        status: PolicyStatus::Active,
                        next_review_date: next_review,
                        ..policy.fields.clone()
                    },
                    version: policy.version + 1,
                    updated_at: now,
                    ..policy
                });
                &actions::POLICY_VERSION_PUBLISHED
            }
            VersionStatus::Retired => {
                after.retired_at = Some(now);
                let policy = self.ports.policies.get(scope, policy_id).await?;
                if policy.derived.current_version == Some(number) {
                    policy_change = Some(Policy {
                        derived: PolicyState::default(),
                        version: policy.version + 1,
                        updated_at: now,
                        ..policy
                    });
                }
                &actions::POLICY_VERSION_RETIRED
            }
        };
        let changes = Changes::new().field("status", &before.status, &after.status);
        let event = Self::version_event(scope, action, &after, changes, ctx);
        self.ports
            .policy_versions
            .update_version(
                scope,
                &after,
                expected_version,
                policy_change.as_ref(),
                event,
            )
            .await?;
        Ok(after)
    }
}

impl Registers {
    /// The controller or processor record with everything linked (Art. 30(4)).
    pub async fn export(
        &self,
        scope: &TenantScope,
        kind: crate::export::RecordKind,
        ctx: &RequestContext,
    ) -> Result<crate::export::RegisterExport, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        let organisation = self.ports.organisation.get(scope).await?.map(|o| o.profile);
        let activities = self.ports.activities.all(scope).await?;
        let processors = self.ports.processors.all(scope).await?;
        Ok(crate::export::build_export(
            kind,
            organisation,
            activities,
            processors,
            self.ports.clock.now(),
        ))
    }
}

/// The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb).
pub fn add_months(date: Date, months: u8) -> Date {
    let total = date.month() as i32 - 1 + i32::from(months);
    let year = date.year() + total.div_euclid(12);
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1))
        .unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 11 - 15), 12), date!(2027 - 11 - 15));
        assert_eq!(add_months(date!(2026 - 12 - 31), 2), date!(2027 - 02 - 28));
    }
}
