//! The links between activities and processors (`activity_processors`), read from either
//! end: an activity's processors, a processor's activities.

use std::collections::{BTreeSet, HashMap};

use aura_gdpr_registers::ProcessorId;
use aura_shared_kernel::StoreError;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{error::DbError, schema::activity_processors as links};

/// The end of a link a read starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Activity,
    Processor,
}

/// `rows` (records at `end`) made into records by `build`, each with the ids linked to
/// it at the other end, sorted. The links read are those of the rows, or all of the
/// tenant's when `whole_tenant` (cheaper for a read of every row).
pub(super) async fn with_links<R, T>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    end: End,
    rows: Vec<R>,
    whole_tenant: bool,
    id: fn(&R) -> Uuid,
    build: fn(R, Vec<Uuid>) -> Result<T, StoreError>,
) -> Result<Vec<T>, DbError> {
    let mut query = links::table
        .filter(links::tenant_id.eq(tenant))
        .select((links::activity_id, links::processor_id))
        .into_boxed();
    if !whole_tenant {
        let ids: Vec<Uuid> = rows.iter().map(id).collect();
        query = match end {
            End::Activity => query.filter(links::activity_id.eq_any(ids)),
            End::Processor => query.filter(links::processor_id.eq_any(ids)),
        };
    }
    let pairs: Vec<(Uuid, Uuid)> = query.load(conn).await?;
    let mut linked: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (activity, processor) in pairs {
        let (from, to) = match end {
            End::Activity => (activity, processor),
            End::Processor => (processor, activity),
        };
        linked.entry(from).or_default().push(to);
    }
    let records = rows.into_iter().map(|row| {
        let mut ids = linked.remove(&id(&row)).unwrap_or_default();
        ids.sort();
        build(row, ids)
    });
    Ok(records.collect::<Result<Vec<T>, StoreError>>()?)
}

/// Replaces the activity's links with `processor_ids` (a new activity has none to remove:
/// `fresh`). A processor outside the tenant (or missing) fails the composite foreign key:
/// `NotFound`, and the caller's transaction rolls back.
pub(super) async fn replace_links(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    activity: Uuid,
    fresh: bool,
    processor_ids: &[ProcessorId],
) -> Result<(), DbError> {
    if !fresh {
        diesel::delete(
            links::table
                .filter(links::tenant_id.eq(tenant))
                .filter(links::activity_id.eq(activity)),
        )
        .execute(conn)
        .await?;
    }
    let unique: BTreeSet<Uuid> = processor_ids.iter().map(|p| p.as_uuid()).collect();
    if unique.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = unique
        .into_iter()
        .map(|processor| {
            (
                links::tenant_id.eq(tenant),
                links::activity_id.eq(activity),
                links::processor_id.eq(processor),
            )
        })
        .collect();
    diesel::insert_into(links::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}
