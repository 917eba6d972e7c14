//! The links between activities and processors (`activity_processors`), read from either
//! end: an activity's processors, a processor's activities.

use std::collections::BTreeSet;

use aura_gdpr_registers::ProcessorId;
use diesel::{
    prelude::*,
    sql_types::{Array, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    error::DbError,
    prepared::{Fixed, fixed},
    schema::activity_processors as links,
};

/// The end of a link a read starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Activity,
    Processor,
}

/// The ids linked to each row read at `end` (sorted), as one more column of the rows'
/// own select: the links come with the page, not in a second round trip. Row-level
/// security confines the subquery as it does the rows.
pub(super) fn linked_ids(end: End) -> Fixed<Array<SqlUuid>> {
    fixed(match end {
        End::Activity => {
            "ARRAY(SELECT l.processor_id FROM activity_processors l \
              WHERE l.tenant_id = processing_activities.tenant_id \
                AND l.activity_id = processing_activities.id ORDER BY l.processor_id)"
        }
        End::Processor => {
            "ARRAY(SELECT l.activity_id FROM activity_processors l \
              WHERE l.tenant_id = processors.tenant_id \
                AND l.processor_id = processors.id ORDER BY l.activity_id)"
        }
    })
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
