//! The register use cases: permission, validation, optimistic concurrency and the audit
//! event of every change, handed to one port call each.

use std::sync::Arc;

use aura_audit::{
    Actor, AuditAction, AuditLog, Changes, PendingEvent, RequestContext, require_audited,
};
use aura_records::{NoRules, RecordStore, RecordUseCases, Source, at_version, check_cursor};
use aura_tenancy::{Clock, Permission, TenantScope, ValidationErrors};
use time::{Date, Duration, Month};
use uuid::Uuid;

use crate::{
    activity::{Activities, ActivityFields, ActivityId, ProcessingActivity},
    completeness::CompletenessSummary,
    error::RegistersError,
    organisation::{OrganisationProfile, StoredOrganisation},
    policy::{Policy, PolicyFields, PolicyStatus, PolicyVersion, VersionStatus},
    ports::{
        ActivityQuery, ListPage, OrganisationRepository, PolicyQuery, PolicyRepository,
        ProcessorQuery,
    },
    processor::{Processor, ProcessorFields, ProcessorId, Processors},
    rules::{Members, ProcessorRules, check_owner},
};

#[derive(Clone)]
pub struct RegisterPorts {
    pub organisation: Arc<dyn OrganisationRepository>,
    pub activities: Arc<dyn RecordStore<Activities>>,
    pub processors: Arc<dyn RecordStore<Processors>>,
    pub policies: Arc<dyn PolicyRepository>,
    pub members: Arc<dyn Members>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Clone)]
pub struct Registers {
    ports: RegisterPorts,
    activities: RecordUseCases<Activities>,
    processors: RecordUseCases<Processors>,
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
        let activities = RecordUseCases::new(
            ports.activities.clone(),
            Arc::new(NoRules),
            ports.audit.clone(),
            ports.clock.clone(),
        );
        let processors = RecordUseCases::new(
            ports.processors.clone(),
            Arc::new(ProcessorRules {
                processors: ports.processors.clone(),
            }),
            ports.audit.clone(),
            ports.clock.clone(),
        );
        Self {
            ports,
            activities,
            processors,
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

    fn event(
        scope: &TenantScope,
        action: &'static str,
        entity: &'static str,
        id: impl ToString,
        changes: Changes,
        ctx: &RequestContext,
    ) -> PendingEvent {
        PendingEvent::new(
            Actor::of(scope),
            AuditAction::known(action),
            entity,
            id,
            changes,
            ctx,
        )
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
        let profile = profile.validated()?;
        let before = self.ports.organisation.get(scope).await?;
        let current = before.as_ref().map_or(0, |s| s.version);
        at_version(current, expected_version)?;
        let changes = match &before {
            Some(stored) => Changes::between(&stored.profile, &profile),
            None => Changes::of_new(&profile),
        };
        let event = Self::event(
            scope,
            "organisation.updated",
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

    pub async fn create_activity(
        &self,
        scope: &TenantScope,
        fields: ActivityFields,
        ctx: &RequestContext,
    ) -> Result<ProcessingActivity, RegistersError> {
        self.create_activity_from(scope, fields, None, ctx).await
    }

    /// [`Registers::create_activity`] whose audit event names where it came from.
    pub async fn create_activity_from(
        &self,
        scope: &TenantScope,
        fields: ActivityFields,
        source: Option<&Source>,
        ctx: &RequestContext,
    ) -> Result<ProcessingActivity, RegistersError> {
        self.activities.create(scope, fields, source, ctx).await
    }

    pub async fn activity(
        &self,
        scope: &TenantScope,
        id: ActivityId,
        ctx: &RequestContext,
    ) -> Result<ProcessingActivity, RegistersError> {
        self.activities.get(scope, id, ctx).await
    }

    pub async fn activities(
        &self,
        scope: &TenantScope,
        query: &ActivityQuery,
        ctx: &RequestContext,
    ) -> Result<ListPage<ProcessingActivity>, RegistersError> {
        self.activities.list(scope, query, ctx).await
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

    pub async fn update_activity(
        &self,
        scope: &TenantScope,
        id: ActivityId,
        fields: ActivityFields,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<ProcessingActivity, RegistersError> {
        self.activities
            .update(scope, id, fields, expected_version, None, ctx)
            .await
    }

    pub async fn delete_activity(
        &self,
        scope: &TenantScope,
        id: ActivityId,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(), RegistersError> {
        self.activities
            .delete(scope, id, expected_version, ctx)
            .await
    }

    // ------------------------------------------------------------ processors

    pub async fn create_processor(
        &self,
        scope: &TenantScope,
        fields: ProcessorFields,
        ctx: &RequestContext,
    ) -> Result<Processor, RegistersError> {
        self.processors.create(scope, fields, None, ctx).await
    }

    pub async fn processor(
        &self,
        scope: &TenantScope,
        id: ProcessorId,
        ctx: &RequestContext,
    ) -> Result<Processor, RegistersError> {
        self.processors.get(scope, id, ctx).await
    }

    pub async fn processors(
        &self,
        scope: &TenantScope,
        query: &ProcessorQuery,
        ctx: &RequestContext,
    ) -> Result<ListPage<Processor>, RegistersError> {
        self.processors.list(scope, query, ctx).await
    }

    /// The date `days` from today, for "DPA missing or due for review within N days".
    pub fn attention_date(&self, days: i64) -> Date {
        self.today() + Duration::days(days)
    }

    pub async fn update_processor(
        &self,
        scope: &TenantScope,
        id: ProcessorId,
        fields: ProcessorFields,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Processor, RegistersError> {
        self.processors
            .update(scope, id, fields, expected_version, None, ctx)
            .await
    }

    pub async fn delete_processor(
        &self,
        scope: &TenantScope,
        id: ProcessorId,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(), RegistersError> {
        self.processors
            .delete(scope, id, expected_version, ctx)
            .await
    }

    // ------------------------------------------------------------ policies

    pub async fn create_policy(
        &self,
        scope: &TenantScope,
        fields: PolicyFields,
        ctx: &RequestContext,
    ) -> Result<Policy, RegistersError> {
        self.create_policy_from(scope, fields, None, ctx).await
    }

    /// [`Registers::create_policy`] whose audit event names where it came from.
    pub async fn create_policy_from(
        &self,
        scope: &TenantScope,
        fields: PolicyFields,
        source: Option<&Source>,
        ctx: &RequestContext,
    ) -> Result<Policy, RegistersError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let fields = fields.validated()?;
        check_owner(self.ports.members.as_ref(), scope, fields.owner_id).await?;
        let now = self.ports.clock.now();
        let policy = Policy {
            id: Uuid::now_v7(),
            tenant_id: scope.tenant_id(),
            fields,
            current_version: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let event = Self::event(
            scope,
            "policy.created",
            entity::POLICY,
            policy.id,
            Source::noted(source, Changes::of_new(&policy.fields)),
            ctx,
        );
        self.ports.policies.insert(scope, &policy, event).await?;
        Ok(policy)
    }

    pub async fn policy(
        &self,
        scope: &TenantScope,
        id: Uuid,
        ctx: &RequestContext,
    ) -> Result<Policy, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        Ok(self.ports.policies.get(scope, id).await?)
    }

    pub async fn policies(
        &self,
        scope: &TenantScope,
        query: &PolicyQuery,
        ctx: &RequestContext,
    ) -> Result<ListPage<Policy>, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        check_cursor(query.after.as_ref(), query.sort)?;
        Ok(self.ports.policies.list(scope, query).await?)
    }

    pub async fn update_policy(
        &self,
        scope: &TenantScope,
        id: Uuid,
        fields: PolicyFields,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<Policy, RegistersError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let fields = fields.validated()?;
        let before = self.ports.policies.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        if fields.owner_id != before.fields.owner_id {
            check_owner(self.ports.members.as_ref(), scope, fields.owner_id).await?;
        }
        let changes = Changes::between(&before.fields, &fields);
        if changes.is_empty() {
            return Ok(before);
        }
        let policy = Policy {
            fields,
            version: before.version + 1,
            updated_at: self.ports.clock.now(),
            ..before.clone()
        };
        let event = Self::event(scope, "policy.updated", entity::POLICY, id, changes, ctx);
        self.ports
            .policies
            .update(scope, &policy, expected_version, event)
            .await?;
        Ok(policy)
    }

    pub async fn delete_policy(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(), RegistersError> {
        self.require(scope, Permission::DeleteRecords, ctx).await?;
        let before = self.ports.policies.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        let event = Self::event(
            scope,
            "policy.deleted",
            entity::POLICY,
            id,
            Changes::new().note("title", &before.fields.title),
            ctx,
        );
        Ok(self
            .ports
            .policies
            .delete(scope, id, expected_version, event)
            .await?)
    }

    /// Adds a draft version with the next number.
    pub async fn create_version(
        &self,
        scope: &TenantScope,
        policy: Uuid,
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
        policy: Uuid,
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
            2_000,
            true,
        ));
        errors.into_result()?;
        self.ports.policies.get(scope, policy).await?;
        let versions = self.ports.policies.list_versions(scope, policy).await?;
        let number = versions.iter().map(|v| v.number).max().unwrap_or(0) + 1;
        let version = PolicyVersion {
            id: Uuid::now_v7(),
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
        let event = Self::event(
            scope,
            "policy_version.created",
            entity::POLICY_VERSION,
            version.id,
            changes,
            ctx,
        );
        self.ports
            .policies
            .insert_version(scope, &version, event)
            .await?;
        Ok(version)
    }

    pub async fn versions(
        &self,
        scope: &TenantScope,
        policy: Uuid,
        ctx: &RequestContext,
    ) -> Result<Vec<PolicyVersion>, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        self.ports.policies.get(scope, policy).await?;
        Ok(self.ports.policies.list_versions(scope, policy).await?)
    }

    pub async fn version(
        &self,
        scope: &TenantScope,
        policy: Uuid,
        number: i32,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        Ok(self
            .ports
            .policies
            .get_version(scope, policy, number)
            .await?)
    }

    /// The published version, one call away.
    pub async fn current_version(
        &self,
        scope: &TenantScope,
        policy: Uuid,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.require(scope, Permission::ReadRecords, ctx).await?;
        let policy = self.ports.policies.get(scope, policy).await?;
        let number = policy.current_version.ok_or(RegistersError::NotFound)?;
        Ok(self
            .ports
            .policies
            .get_version(scope, policy.id, number)
            .await?)
    }

    /// Changes the text of a draft or in-review version.
    pub async fn edit_version(
        &self,
        scope: &TenantScope,
        policy: Uuid,
        number: i32,
        content: &str,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<PolicyVersion, RegistersError> {
        self.require(scope, Permission::WriteRecords, ctx).await?;
        let content = PolicyVersion::validate_content(content)?;
        let before = self
            .ports
            .policies
            .get_version(scope, policy, number)
            .await?;
        at_version(before.version, expected_version)?;
        if !before.is_editable() {
            return Err(RegistersError::Conflict {
                code: "version_frozen",
                message: "a published or retired version never changes; create a new version",
            });
        }
        let after = PolicyVersion {
            content,
            version: before.version + 1,
            ..before.clone()
        };
        let changes = Changes::new().note("content_chars", after.content.chars().count());
        let event = Self::event(
            scope,
            "policy_version.updated",
            entity::POLICY_VERSION,
            before.id,
            changes,
            ctx,
        );
        self.ports
            .policies
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
        policy_id: Uuid,
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
            .ports
            .policies
            .get_version(scope, policy_id, number)
            .await?;
        at_version(before.version, expected_version)?;
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
            VersionStatus::InReview => "policy_version.submitted",
            VersionStatus::Draft => "policy_version.withdrawn",
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
                    current_version: Some(number),
                    fields: PolicyFields {
                        status: PolicyStatus::Active,
                        next_review_date: next_review,
                        ..policy.fields.clone()
                    },
                    version: policy.version + 1,
                    updated_at: now,
                    ..policy
                });
                "policy_version.published"
            }
            VersionStatus::Retired => {
                after.retired_at = Some(now);
                let policy = self.ports.policies.get(scope, policy_id).await?;
                if policy.current_version == Some(number) {
                    policy_change = Some(Policy {
                        current_version: None,
                        version: policy.version + 1,
                        updated_at: now,
                        ..policy
                    });
                }
                "policy_version.retired"
            }
        };
        let changes = Changes::new().field("status", &before.status, &after.status);
        let event = Self::event(
            scope,
            action,
            entity::POLICY_VERSION,
            before.id,
            changes,
            ctx,
        );
        self.ports
            .policies
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

/// A cursor must belong to the sort it is used with.
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
