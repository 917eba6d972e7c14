//! Working in several tenants on PostgreSQL: an account's memberships, the switch into
//! one, and a client's partner grants. Everything across tenants goes through the named
//! functions of migration 000035 (`aura_account_tenants`, `aura_enter_tenant`,
//! `aura_partner_access`, `aura_find_partner`, `aura_partner_grants`); the grants and the
//! memberships held through partners are the client's rows (row-level security).

use aura_audit::PendingEvent;
use aura_identity::{AccountId, Membership, PartnerGrant, PartnerRef};
use aura_shared_kernel::{Role, StoreError, TenantId, TenantName, TenantScope, TenantSlug, UserId};
use diesel::{
    QueryableByName,
    prelude::*,
    sql_types::{Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    pool::{in_tenant, unscoped},
    schema::{partner_grants, partner_members, users},
    stores::PgStores,
};

/// `aura_account_tenants(account)`: one tenant the account may work in.
#[derive(QueryableByName)]
struct MembershipRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    tenant_name: String,
    #[diesel(sql_type = Text)]
    tenant_slug: String,
    #[diesel(sql_type = Bool)]
    tenant_is_active: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    user_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Bool)]
    is_active: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    partner_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    partner_name: Option<String>,
}

fn name(raw: &str) -> Result<TenantName, StoreError> {
    TenantName::parse(raw).map_err(|_| corrupt("stored tenant name"))
}

fn slug(raw: &str) -> Result<TenantSlug, StoreError> {
    TenantSlug::parse(raw).map_err(|_| corrupt("stored tenant slug"))
}

fn role(raw: &str) -> Result<Role, StoreError> {
    raw.parse::<Role>().map_err(|_| corrupt("stored role"))
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(row: MembershipRow) -> Result<Self, StoreError> {
        let via_partner = match (row.partner_id, row.partner_name) {
            (Some(id), Some(partner)) => Some(PartnerRef {
                id: TenantId::from_uuid(id),
                name: name(&partner)?,
            }),
            _ => None,
        };
        Ok(Membership {
            tenant_id: TenantId::from_uuid(row.tenant_id),
            tenant_name: name(&row.tenant_name)?,
            tenant_slug: slug(&row.tenant_slug)?,
            tenant_active: row.tenant_is_active,
            user_id: row.user_id.map(UserId::from_uuid),
            role: role(&row.role)?,
            active: row.is_active,
            via_partner,
        })
    }
}

/// `aura_enter_tenant(account, now)` and `aura_partner_access(user)`.
#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
}

/// `aura_find_partner(slug)`.
#[derive(QueryableByName)]
struct PartnerRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    slug: String,
}

/// `aura_partner_grants()`.
#[derive(QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = SqlUuid)]
    partner_id: Uuid,
    #[diesel(sql_type = Text)]
    partner_name: String,
    #[diesel(sql_type = Text)]
    partner_slug: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    granted_by: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    granted_at: OffsetDateTime,
}

impl TryFrom<GrantRow> for PartnerGrant {
    type Error = StoreError;
    fn try_from(row: GrantRow) -> Result<Self, StoreError> {
        Ok(PartnerGrant {
            partner: PartnerRef {
                id: TenantId::from_uuid(row.partner_id),
                name: name(&row.partner_name)?,
            },
            partner_slug: slug(&row.partner_slug)?,
            role: role(&row.role)?,
            granted_by: row.granted_by.map(UserId::from_uuid),
            granted_at: row.granted_at,
        })
    }
}

/// Whether the membership `user` of the transaction's tenant, held through `partner`,
/// still gives access (`aura_partner_access`).
pub(crate) async fn partner_access_holds(
    mut conn: &AsyncPgConnection,
    user: Uuid,
    partner: Uuid,
) -> Result<bool, DbError> {
    let found: IdRow = diesel::sql_query("SELECT aura_partner_access($1) AS id")
        .bind::<SqlUuid, _>(user)
        .get_result(&mut conn)
        .await?;
    Ok(found.id == Some(partner))
}

impl PgStores {
    pub(crate) async fn account_memberships(
        &self,
        account: AccountId,
    ) -> Result<Vec<Membership>, StoreError> {
        let rows: Vec<MembershipRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query("SELECT * FROM aura_account_tenants($1)")
                .bind::<SqlUuid, _>(account.as_uuid())
                .load(conn)
                .await?)
        })
        .await?;
        rows.into_iter().map(Membership::try_from).collect()
    }

    pub(crate) async fn enter_tenant(
        &self,
        scope: &TenantScope,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Option<(UserId, Option<TenantId>)>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let entered: IdRow = diesel::sql_query("SELECT aura_enter_tenant($1, $2) AS id")
                .bind::<SqlUuid, _>(account.as_uuid())
                .bind::<Timestamptz, _>(now)
                .get_result(conn)
                .await?;
            let Some(member) = entered.id else {
                return Ok(None);
            };
            let partner: Option<Uuid> = partner_members::table
                .find((tenant, member))
                .select(partner_members::partner_id)
                .first(conn)
                .await
                .optional()?;
            Ok(Some((
                UserId::from_uuid(member),
                partner.map(TenantId::from_uuid),
            )))
        })
        .await
    }

    pub(crate) async fn find_partner_by_slug(
        &self,
        scope: &TenantScope,
        wanted: &TenantSlug,
    ) -> Result<Option<(PartnerRef, TenantSlug)>, StoreError> {
        let row: Option<PartnerRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(diesel::sql_query("SELECT * FROM aura_find_partner($1)")
                .bind::<Text, _>(wanted.as_str())
                .get_result(conn)
                .await
                .optional()?)
        })
        .await?;
        row.map(|row| {
            let partner = PartnerRef {
                id: TenantId::from_uuid(row.id),
                name: name(&row.name)?,
            };
            Ok((partner, slug(&row.slug)?))
        })
        .transpose()
    }

    pub(crate) async fn insert_grant(
        &self,
        scope: &TenantScope,
        grant: &PartnerGrant,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        self.write_audited(scope, event, async move |conn| {
            diesel::insert_into(partner_grants::table)
                .values((
                    partner_grants::tenant_id.eq(tenant),
                    partner_grants::partner_id.eq(grant.partner.id.as_uuid()),
                    partner_grants::role.eq(grant.role.as_str()),
                    partner_grants::granted_by.eq(grant.granted_by.map(|id| id.as_uuid())),
                    partner_grants::granted_at.eq(grant.granted_at),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn grants(
        &self,
        scope: &TenantScope,
    ) -> Result<Vec<PartnerGrant>, StoreError> {
        let rows: Vec<GrantRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(diesel::sql_query("SELECT * FROM aura_partner_grants()")
                .load(conn)
                .await?)
        })
        .await?;
        rows.into_iter().map(PartnerGrant::try_from).collect()
    }

    pub(crate) async fn delete_grant(
        &self,
        scope: &TenantScope,
        partner: TenantId,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let partner = partner.as_uuid();
        let now = self.now();
        self.write_audited(scope, event, async move |conn| {
            let removed = diesel::delete(partner_grants::table.find((tenant, partner)))
                .execute(conn)
                .await?;
            if removed == 0 {
                return Err(StoreError::NotFound.into());
            }
            // Every session of a membership held through the partner ends now (the
            // principal check also wants the grant; this keeps a new grant from
            // reviving them).
            let held = partner_members::table
                .filter(partner_members::tenant_id.eq(tenant))
                .filter(partner_members::partner_id.eq(partner))
                .select(partner_members::user_id);
            diesel::update(
                users::table
                    .filter(users::tenant_id.eq(tenant))
                    .filter(users::id.eq_any(held)),
            )
            .set((
                users::session_version.eq(users::session_version + 1),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
            Ok(())
        })
        .await
    }
}
