//! [`OrganisationRepository`] on PostgreSQL: one profile row per tenant, its profile in
//! the jsonb column `profile` as a [`StoredProfile`] (the stored form, versioned, not the
//! domain type: renaming a domain or API field never makes old rows unreadable).

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    Contact, CountryCode, JointController, OrganisationProfile, StoredOrganisation,
    ports::OrganisationRepository,
};
use aura_shared_kernel::{StoreError, TenantScope, TimeZoneName};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::next_version;
use crate::{
    audit::to_micros,
    error::{DbError, corrupt},
    json::StoredJson,
    pool::read_in_tenant,
    schema::organisation_profiles as profiles,
    stores::PgStores,
};

/// The stored form of a profile. Rows written before `v` existed read as version 1;
/// they were written with these same field names.
#[derive(Debug, Serialize, Deserialize)]
struct StoredProfile {
    #[serde(default = "first_format")]
    v: u16,
    legal_name: String,
    address: Option<String>,
    #[serde(default)]
    country: Option<CountryCode>,
    /// Absent in rows written before the profile had a time zone: UTC.
    #[serde(default)]
    time_zone: TimeZoneName,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    dpo: Option<StoredContact>,
    dpo_not_required_reason: Option<String>,
    eu_representative: Option<StoredContact>,
    #[serde(default)]
    joint_controllers: Vec<StoredJointController>,
}

fn first_format() -> u16 {
    1
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredContact {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredJointController {
    contact: StoredContact,
    responsibilities: Option<String>,
}

impl From<&Contact> for StoredContact {
    fn from(c: &Contact) -> Self {
        Self {
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            address: c.address.clone(),
        }
    }
}

impl From<StoredContact> for Contact {
    fn from(c: StoredContact) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
            address: c.address,
        }
    }
}

impl From<&OrganisationProfile> for StoredProfile {
    fn from(p: &OrganisationProfile) -> Self {
        Self {
            v: first_format(),
            legal_name: p.legal_name.clone(),
            address: p.address.clone(),
            country: p.country,
            time_zone: p.time_zone.clone(),
            contact_email: p.contact_email.clone(),
            contact_phone: p.contact_phone.clone(),
            dpo: p.dpo.as_ref().map(Into::into),
            dpo_not_required_reason: p.dpo_not_required_reason.clone(),
            eu_representative: p.eu_representative.as_ref().map(Into::into),
            joint_controllers: p
                .joint_controllers
                .iter()
                .map(|jc| StoredJointController {
                    contact: (&jc.contact).into(),
                    responsibilities: jc.responsibilities.clone(),
                })
                .collect(),
        }
    }
}

impl From<StoredProfile> for OrganisationProfile {
    fn from(p: StoredProfile) -> Self {
        Self {
            legal_name: p.legal_name,
            address: p.address,
            country: p.country,
            time_zone: p.time_zone,
            contact_email: p.contact_email,
            contact_phone: p.contact_phone,
            dpo: p.dpo.map(Into::into),
            dpo_not_required_reason: p.dpo_not_required_reason,
            eu_representative: p.eu_representative.map(Into::into),
            joint_controllers: p
                .joint_controllers
                .into_iter()
                .map(|jc| JointController {
                    contact: jc.contact.into(),
                    responsibilities: jc.responsibilities,
                })
                .collect(),
        }
    }
}

/// The tenant's profile, or `None` before it was first saved, in the caller's
/// transaction (an activity's gaps are derived from it where the activity is read).
pub(crate) async fn stored_profile(
    mut conn: &AsyncPgConnection,
    tenant: Uuid,
) -> Result<Option<StoredOrganisation>, DbError> {
    let row: Option<(StoredJson, i32, OffsetDateTime)> = profiles::table
        .filter(profiles::tenant_id.eq(tenant))
        .select((profiles::profile, profiles::version, profiles::updated_at))
        .first(&mut conn)
        .await
        .optional()?;
    row.map(|(profile, version, updated_at)| {
        let stored: StoredProfile =
            (profile.read()).map_err(|_| corrupt("stored organisation profile"))?;
        Ok(StoredOrganisation {
            profile: stored.into(),
            version,
            updated_at: Some(updated_at),
        })
    })
    .transpose()
}

#[async_trait::async_trait]
impl OrganisationRepository for PgStores {
    async fn get(&self, scope: &TenantScope) -> Result<Option<StoredOrganisation>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        read_in_tenant(&self.inner.pool, scope, async move |conn| {
            stored_profile(conn, tenant).await
        })
        .await
    }

    /// Version 0 means "not saved yet": the row is inserted, and an existing one is
    /// `Conflict::Version`. Otherwise the row must be at `expected_version`:
    /// `Conflict::Version` when it is at another, `NotFound` when there is none yet.
    async fn put(
        &self,
        scope: &TenantScope,
        profile: &OrganisationProfile,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<i32, StoreError> {
        let updated_at = to_micros(self.now());
        let tenant = scope.tenant_id().as_uuid();
        let value = serde_json::to_value(StoredProfile::from(profile))
            .map_err(|_| StoreError::unexpected("organisation profile not serialisable"))?;
        let new_version = next_version(expected_version)?;
        let row = profiles::table.filter(profiles::tenant_id.eq(tenant));
        let insert = diesel::insert_into(profiles::table)
            .values((
                profiles::tenant_id.eq(tenant),
                profiles::profile.eq(value.clone()),
                profiles::version.eq(new_version),
                profiles::updated_at.eq(updated_at),
            ))
            .on_conflict(profiles::tenant_id)
            .do_nothing();
        let update = diesel::update(row.filter(profiles::version.eq(expected_version))).set((
            profiles::profile.eq(value),
            profiles::version.eq(new_version),
            profiles::updated_at.eq(updated_at),
        ));
        let exists = diesel::select(diesel::dsl::exists(row));
        self.put_versioned(scope, event, expected_version, (insert, update), exists)
            .await?;
        Ok(new_version)
    }
}
