//! The audit actions the registers emit besides their records' own changes (those are
//! each register's `RecordKind::ACTIONS`): the organisation profile and policy versions.

use aura_audit::AuditAction;

pub const ORGANISATION_UPDATED: AuditAction = AuditAction::known("organisation.updated");
pub const POLICY_VERSION_CREATED: AuditAction = AuditAction::known("policy_version.created");
pub const POLICY_VERSION_UPDATED: AuditAction = AuditAction::known("policy_version.updated");
pub const POLICY_VERSION_SUBMITTED: AuditAction = AuditAction::known("policy_version.submitted");
pub const POLICY_VERSION_WITHDRAWN: AuditAction = AuditAction::known("policy_version.withdrawn");
pub const POLICY_VERSION_PUBLISHED: AuditAction = AuditAction::known("policy_version.published");
pub const POLICY_VERSION_RETIRED: AuditAction = AuditAction::known("policy_version.retired");
