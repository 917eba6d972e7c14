//! The audit actions the identity domain emits (tenants, users, sessions, passwords,
//! partners): the one list of them. `auth.permission_denied` is the audit crate's own
//! (`aura_audit::AuditAction::AUTH_PERMISSION_DENIED`): every domain's use cases refuse with it.

use aura_audit::AuditAction;

pub const TENANT_CREATED: AuditAction = AuditAction::known("tenant.created");
pub const TENANT_UPDATED: AuditAction = AuditAction::known("tenant.updated");
pub const TENANT_SUSPENDED: AuditAction = AuditAction::known("tenant.suspended");
pub const TENANT_REACTIVATED: AuditAction = AuditAction::known("tenant.reactivated");
pub const ROLE_CREATED: AuditAction = AuditAction::known("tenant_role.created");
pub const ROLE_UPDATED: AuditAction = AuditAction::known("tenant_role.updated");
pub const ROLE_DELETED: AuditAction = AuditAction::known("tenant_role.deleted");
pub const USER_CREATED: AuditAction = AuditAction::known("user.created");
pub const USER_UPDATED: AuditAction = AuditAction::known("user.updated");
pub const USER_ROLE_CHANGED: AuditAction = AuditAction::known("user.role_changed");
pub const USER_DEACTIVATED: AuditAction = AuditAction::known("user.deactivated");
pub const USER_REACTIVATED: AuditAction = AuditAction::known("user.reactivated");
pub const USER_DELETED: AuditAction = AuditAction::known("user.deleted");
pub const USER_LOGIN_SUCCEEDED: AuditAction = AuditAction::known("user.login_succeeded");
pub const USER_LOGIN_FAILED: AuditAction = AuditAction::known("user.login_failed");
pub const USER_LOGGED_OUT: AuditAction = AuditAction::known("user.logged_out");
pub const USER_PASSWORD_CHANGED: AuditAction = AuditAction::known("user.password_changed");
pub const USER_PASSWORD_RESET_REQUESTED: AuditAction =
    AuditAction::known("user.password_reset_requested");
pub const USER_PASSWORD_RESET: AuditAction = AuditAction::known("user.password_reset");
pub const AUTH_REFRESH_REUSED: AuditAction = AuditAction::known("auth.refresh_reused");
pub const SESSION_SWITCHED: AuditAction = AuditAction::known("session.switched");
pub const PARTNER_GRANTED: AuditAction = AuditAction::known("partner.granted");
pub const PARTNER_REVOKED: AuditAction = AuditAction::known("partner.revoked");
pub const USER_MFA_ENROLMENT_STARTED: AuditAction =
    AuditAction::known("user.mfa_enrolment_started");
pub const USER_MFA_ENABLED: AuditAction = AuditAction::known("user.mfa_enabled");
pub const USER_MFA_DISABLED: AuditAction = AuditAction::known("user.mfa_disabled");
pub const USER_MFA_RECOVERY_CODE_USED: AuditAction =
    AuditAction::known("user.mfa_recovery_code_used");
pub const USER_MFA_RECOVERY_CODES_REPLACED: AuditAction =
    AuditAction::known("user.mfa_recovery_codes_replaced");
