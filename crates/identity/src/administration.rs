//! Tenant administration: the tenant's settings, its users and their roles, and the
//! platform operations on tenants (CLI). The rule that a tenant keeps at least one active
//! owner is the stores' (`UserRepository`), checked inside the write's transaction.

use std::sync::Arc;

use time::Duration;

use crate::actions;
use aura_audit::{Actor, Changes, PendingEvent, RequestContext};
use aura_shared_kernel::{
    CustomRoleId, Page, PageRequest, Permission, PermissionSet, Role, StoreError, SystemScope,
    Tenant, TenantId, TenantName, TenantScope, TenantSettings, UserId, ValidationErrors,
};

use crate::{
    email::Email,
    error::IdentityError,
    mail::MailKind,
    mfa::SETTING_REQUIRE_MFA,
    password::{Password, PasswordHash},
    shared::{Core, ENTITY_TENANT, ENTITY_USER, SETTING_INVITATIONS_PER_DAY},
    sign_in::Registration,
    throttle::{ThrottleKey, ThrottlePolicy},
    user::{FullName, User},
};

/// A user created by an administrator. Without a password, an invitation mail lets the
/// person set one. Only the platform operator (the CLI) may give one: through the API a
/// tenant's administrator would learn, by signing in with it, whether the address had an
/// account (it applies to new addresses only).
#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: Email,
    pub full_name: FullName,
    pub role: Role,
    pub password: Option<Password>,
}

/// What an administrator may change about a user. A custom role is given by its id
/// (`role` then `None` or [`Role::Custom`]); a built-in `role` takes a custom one away.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub full_name: Option<FullName>,
    pub role: Option<Role>,
    pub custom_role: Option<CustomRoleId>,
    pub is_active: Option<bool>,
}

impl UserPatch {
    /// The role the patch gives, if it gives one: a built-in role, or the custom role
    /// by id.
    fn grant(&self) -> Result<Option<(Role, Option<CustomRoleId>)>, ValidationErrors> {
        match (self.role, self.custom_role) {
            (None | Some(Role::Custom), Some(id)) => Ok(Some((Role::Custom, Some(id)))),
            (Some(Role::Custom), None) => Err(ValidationErrors::single(
                "custom_role_id",
                "is required with the role `custom`",
            )),
            (Some(_), Some(_)) => Err(ValidationErrors::single(
                "custom_role_id",
                "goes only with the role `custom`",
            )),
            (Some(role), None) => Ok(Some((role, None))),
            (None, None) => Ok(None),
        }
    }
}

/// What a tenant's administrators may change (tier and status are platform-only).
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    pub name: Option<TenantName>,
    pub settings: Option<TenantSettings>,
}

/// Administration of a tenant and its users.
#[derive(Clone)]
pub struct TenantAdmin {
    pub(crate) core: Arc<Core>,
}

impl TenantAdmin {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// An address someone typed, checked and canonicalised by the mail system's rules.
    pub fn email(&self, raw: &str, field: &str) -> Result<Email, ValidationErrors> {
        self.core.email(raw, field)
    }

    /// Platform operation (CLI): creates a tenant and its owner whether or not sign-up
    /// is enabled.
    pub async fn create_tenant(
        &self,
        _system: &SystemScope,
        registration: Registration,
    ) -> Result<(Tenant, User), IdentityError> {
        self.core
            .create_tenant_with_owner(registration, &RequestContext::default())
            .await
    }

    pub async fn tenant(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<Tenant, IdentityError> {
        self.core
            .require(scope, Permission::ReadTenant, ctx)
            .await?;
        Ok(self.core.ports.tenants.get(scope).await?)
    }

    pub async fn update_tenant(
        &self,
        scope: &TenantScope,
        patch: TenantPatch,
        ctx: &RequestContext,
    ) -> Result<Tenant, IdentityError> {
        self.core
            .require(scope, Permission::ManageTenant, ctx)
            .await?;
        let before = self.core.ports.tenants.get(scope).await?;
        let mut tenant = before.clone();
        if let Some(name) = patch.name {
            tenant.name = name;
        }
        if let Some(settings) = patch.settings {
            tenant.settings = settings;
        }
        self.check_require_mfa(scope, &before, &tenant, ctx).await?;
        if tenant == before {
            return Ok(tenant);
        }
        tenant.updated_at = self.core.ports.clock.now();
        let expected_version = tenant.bump_version();
        let event = PendingEvent::new(
            scope,
            actions::TENANT_UPDATED,
            ENTITY_TENANT,
            tenant.id,
            Changes::new()
                .field("name", &before.name, &tenant.name)
                .field("settings", &before.settings, &tenant.settings),
            ctx,
        );
        self.core
            .ports
            .tenants
            .update(scope, &tenant, expected_version, event)
            .await?;
        Ok(tenant)
    }

    /// `require_mfa` is a boolean, and only an owner changes it (the permission that
    /// grants and removes the privileged roles: it decides how everyone signs in).
    async fn check_require_mfa(
        &self,
        scope: &TenantScope,
        before: &Tenant,
        after: &Tenant,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        let value = |tenant: &Tenant| tenant.settings.as_map().get(SETTING_REQUIRE_MFA).cloned();
        let wanted = value(after);
        if wanted == value(before) {
            return Ok(());
        }
        if !matches!(wanted, None | Some(serde_json::Value::Bool(_))) {
            return Err(
                ValidationErrors::single("settings.require_mfa", "must be true or false").into(),
            );
        }
        self.core
            .require(scope, Permission::ManagePrivilegedUsers, ctx)
            .await
    }

    /// Platform operation: suspends or reactivates a tenant.
    pub async fn set_tenant_active(
        &self,
        system: &SystemScope,
        tenant: TenantId,
        active: bool,
    ) -> Result<Tenant, IdentityError> {
        let scope = system.within(tenant);
        let before = self.core.ports.tenants.get(&scope).await?;
        let mut updated = before.clone();
        updated.is_active = active;
        if updated == before {
            return Ok(updated);
        }
        updated.updated_at = self.core.ports.clock.now();
        let expected_version = updated.bump_version();
        let action = if active {
            actions::TENANT_REACTIVATED
        } else {
            actions::TENANT_SUSPENDED
        };
        let event = PendingEvent::new(
            Actor::System,
            action,
            ENTITY_TENANT,
            tenant,
            Changes::new()
                .field("is_active", &before.is_active, &active)
                .note("by", system.purpose()),
            &RequestContext::default(),
        );
        self.core
            .ports
            .tenants
            .update(&scope, &updated, expected_version, event)
            .await?;
        Ok(updated)
    }

    pub async fn list_tenants(&self, system: &SystemScope) -> Result<Vec<Tenant>, IdentityError> {
        Ok(self.core.ports.tenants.list_all(system).await?)
    }

    // ---------------------------------------------------------------- user administration

    pub async fn list_users(
        &self,
        scope: &TenantScope,
        page: PageRequest,
        ctx: &RequestContext,
    ) -> Result<Page<User>, IdentityError> {
        self.core.require(scope, Permission::ReadUsers, ctx).await?;
        Ok(self.core.ports.users.list(scope, page).await?)
    }

    pub async fn user(
        &self,
        scope: &TenantScope,
        id: UserId,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        self.core.require(scope, Permission::ReadUsers, ctx).await?;
        Ok(self.core.ports.users.get(scope, id).await?)
    }

    /// Adds a user to the scope's tenant. Members and viewers need `ManageMembers`;
    /// owners and admins need `ManagePrivilegedUsers`.
    pub async fn create_user(
        &self,
        scope: &TenantScope,
        member: NewMember,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        self.core
            .require(scope, Permission::ManageMembers, ctx)
            .await?;
        if member.role == Role::Custom {
            return Err(ValidationErrors::single(
                "role",
                "a custom role is given to a member by the user update (`custom_role_id`)",
            )
            .into());
        }
        if member.role.is_privileged() {
            self.core
                .require(scope, Permission::ManagePrivilegedUsers, ctx)
                .await?;
        }
        self.require_covers(scope, member.role.permissions(), ctx)
            .await?;
        // An address that already has an account (in any tenant) gets a pending
        // membership the person accepts through the invitation mail; the account's
        // password is never the inviting tenant's to set. The answer is the same
        // either way: the same status and body, after the same work (the lookup, the
        // hash of a given password, the invitation counted and enqueued).
        let existing = self.core.ports.users.find_account(&member.email).await?;
        let member_invited = member.password.is_none();
        let invite = member_invited || existing.is_some();
        // Every new member counts against the daily cap: an address with an account
        // is invited even when a password is given, and counting only invitations
        // would tell the caller (by a later 429) which addresses have one.
        let counted = self.count_invitation(scope).await?;
        let password_hash = match &member.password {
            Some(password) => self.core.ports.hasher.hash(password).await?,
            None => PasswordHash::unset(),
        };
        let now = self.core.ports.clock.now();
        let mut user = User::new(
            scope.tenant_id(),
            member.email,
            member.full_name,
            member.role,
            password_hash,
            now,
        );
        user.invited_by = scope.user_id();
        // Every added membership is pending until the person accepts it (signs in with
        // the password given here, or follows their link): the answer and every later
        // read say the same for a new address and for one that has an account.
        user.accepted_at = None;
        if let Some(account) = existing {
            user.account_id = account;
            user.password_hash = PasswordHash::unset();
        }
        let event = PendingEvent::new(
            scope,
            actions::USER_CREATED,
            ENTITY_USER,
            user.id,
            Changes::new()
                .created("role", &user.role)
                .note("invited", member_invited),
            ctx,
        );
        if let Err(error) = self.core.ports.users.insert(scope, &user, event).await {
            // Nobody was added: the member is not counted.
            self.core.ports.throttle.release(&[counted]).await?;
            return Err(error.into());
        }
        if invite {
            // The user exists now; a mail that cannot be enqueued must not turn that into
            // an error the client would retry into a conflict. The link can be re-sent
            // with "forgot password".
            if let Err(error) = self
                .core
                .queue_mail(scope, user.id, MailKind::Invitation)
                .await
            {
                tracing::warn!(%error, user = %user.id, "invitation mail not enqueued");
            }
        }
        Ok(user)
    }

    /// Counts one invitation against the tenant's daily cap (the installation's
    /// `invitations_per_day`, or the tenant's own if lower), or refuses it until the
    /// next UTC day. Returns the counted key, to take the count back if nobody is
    /// invited after all.
    async fn count_invitation(&self, scope: &TenantScope) -> Result<ThrottleKey, IdentityError> {
        let tenant = self.core.ports.tenants.get(scope).await?;
        let installation = self.core.config.invitations_per_day;
        let cap = tenant
            .settings
            .as_map()
            .get(SETTING_INVITATIONS_PER_DAY)
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .map_or(installation, |own| own.min(installation));
        let now = self.core.ports.clock.now();
        let key = ThrottleKey::Invitations(scope.tenant_id(), now.date());
        // A day's count never outlives its day: the key names the day.
        let policy = ThrottlePolicy {
            window: Duration::days(1),
            ..self.core.config.throttle
        };
        let counted = self
            .core
            .ports
            .throttle
            .record_failure(std::slice::from_ref(&key), &policy, now)
            .await?;
        if counted.first().is_some_and(|c| c.state.failures > cap) {
            self.core.ports.throttle.release(&[key]).await?;
            let midnight = (now.date() + Duration::days(1)).midnight().assume_utc();
            return Err(IdentityError::LimitReached {
                setting: SETTING_INVITATIONS_PER_DAY,
                retry_after_secs: (midnight - now).whole_seconds().max(1),
            });
        }
        Ok(key)
    }

    /// Changes a user's name, role or status. Touching an owner or admin, or granting
    /// those roles, needs `ManagePrivilegedUsers`. A role change or deactivation ends the
    /// user's sessions.
    pub async fn update_user(
        &self,
        scope: &TenantScope,
        id: UserId,
        patch: UserPatch,
        ctx: &RequestContext,
    ) -> Result<User, IdentityError> {
        self.core
            .require(scope, Permission::ManageMembers, ctx)
            .await?;
        let before = self.core.ports.users.get(scope, id).await?;
        let privileged = before.role.is_privileged() || patch.role.is_some_and(Role::is_privileged);
        if privileged {
            self.core
                .require(scope, Permission::ManagePrivilegedUsers, ctx)
                .await?;
        }
        let mut user = before.clone();
        if let Some((role, custom_role)) = patch.grant()? {
            let granted = match custom_role {
                Some(id) => self.custom_role_permissions(scope, id).await?,
                None => role.permissions(),
            };
            self.require_covers(scope, granted, ctx).await?;
            user.role = role;
            user.custom_role = custom_role;
        }
        if let Some(name) = patch.full_name {
            user.full_name = name;
        }
        if let Some(active) = patch.is_active {
            user.is_active = active;
        }
        if user == before {
            return Ok(user);
        }
        let role_changed = user.role != before.role || user.custom_role != before.custom_role;
        let status_changed = user.is_active != before.is_active;
        if role_changed || (status_changed && !user.is_active) {
            user.end_sessions();
        }
        user.updated_at = self.core.ports.clock.now();
        let expected_version = user.bump_version();
        let action = if role_changed {
            actions::USER_ROLE_CHANGED
        } else if status_changed && user.is_active {
            actions::USER_REACTIVATED
        } else if status_changed {
            actions::USER_DEACTIVATED
        } else {
            actions::USER_UPDATED
        };
        let event = PendingEvent::new(
            scope,
            action,
            ENTITY_USER,
            user.id,
            Changes::new()
                .field("full_name", &before.full_name, &user.full_name)
                .field("role", &before.role, &user.role)
                .field("custom_role_id", &before.custom_role, &user.custom_role)
                .field("is_active", &before.is_active, &user.is_active)
                .personal(&["full_name"]),
            ctx,
        );
        self.core
            .ports
            .users
            .update(scope, &user, expected_version, event)
            .await?;
        Ok(user)
    }

    /// Removes a user. Nobody removes themselves this way (deactivation is reversible).
    pub async fn delete_user(
        &self,
        scope: &TenantScope,
        id: UserId,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        self.core
            .require(scope, Permission::ManageMembers, ctx)
            .await?;
        let user = self.core.ports.users.get(scope, id).await?;
        if user.role.is_privileged() {
            self.core
                .require(scope, Permission::ManagePrivilegedUsers, ctx)
                .await?;
        }
        if scope.user_id() == Some(id) {
            return Err(IdentityError::conflict(
                "self_removal",
                None,
                "you cannot remove your own account",
            ));
        }
        let event = PendingEvent::new(
            scope,
            actions::USER_DELETED,
            ENTITY_USER,
            id,
            Changes::new().note("role", user.role),
            ctx,
        );
        self.core.ports.users.delete(scope, id, event).await?;
        Ok(())
    }

    /// No grant escalates: whoever gives a role holds every permission it gives (the
    /// first one missing is refused and audited). Owners and admins hold every role
    /// they may give; a custom role that manages members gives only what it holds.
    async fn require_covers(
        &self,
        scope: &TenantScope,
        granted: PermissionSet,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        for permission in granted.iter() {
            self.core.require(scope, permission, ctx).await?;
        }
        Ok(())
    }

    /// The permissions of a custom role of the scope's tenant; an id naming none is the
    /// client's mistake (422 naming `custom_role_id`).
    async fn custom_role_permissions(
        &self,
        scope: &TenantScope,
        id: CustomRoleId,
    ) -> Result<PermissionSet, IdentityError> {
        match self.core.ports.roles.get(scope, id).await {
            Ok(role) => Ok(role.permissions),
            Err(StoreError::NotFound) => Err(ValidationErrors::single(
                "custom_role_id",
                "names no role of this tenant",
            )
            .into()),
            Err(other) => Err(other.into()),
        }
    }

    /// Checks a permission; a denial is audited.
    pub async fn require(
        &self,
        scope: &TenantScope,
        permission: Permission,
        ctx: &RequestContext,
    ) -> Result<(), IdentityError> {
        self.core.require(scope, permission, ctx).await
    }
}
