//! Statements that stay prepared.
//!
//! diesel prepares a statement again each time it runs — one more round trip and a fresh
//! plan — unless it can tell the statement's text never changes: never for one holding
//! `diesel::dsl::sql`, an insert (a missing value is written `DEFAULT`), an update (a
//! changeset may skip a field) or an upsert. Two ways to keep such statements prepared:
//! - [`fixed`]: SQL text fixed at compile time, as an expression, for the few the DSL
//!   cannot write (a collation, a correlated subquery, a jsonb path); never with text
//!   built at run time;
//! - [`Prepared`]: a statement kept in the connection's cache under its SQL text (and its
//!   binds' types), so each distinct text is prepared once per connection — for
//!   statements with few texts (not a batch insert, whose text grows with its rows).

use std::marker::PhantomData;

use diesel::{
    QueryResult,
    expression::{
        AppearsOnTable, Expression, SelectableExpression, TypedExpressionType, ValidGrouping,
        is_aggregate,
    },
    pg::Pg,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
};

/// A SQL expression of type `ST` whose text is a constant (see the module).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed<ST> {
    sql: &'static str,
    sql_type: PhantomData<ST>,
}

/// The expression `sql`, of SQL type `ST`.
pub(crate) const fn fixed<ST>(sql: &'static str) -> Fixed<ST> {
    Fixed {
        sql,
        sql_type: PhantomData,
    }
}

impl<ST: TypedExpressionType> Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}

/// No static id: two texts share this type, so the statement is cached by its SQL.
impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS, ST> SelectableExpression<QS> for Fixed<ST> where Self: Expression {}

impl<QS, ST> AppearsOnTable<QS> for Fixed<ST> where Self: Expression {}

impl<ST, GB> ValidGrouping<GB> for Fixed<ST> {
    type IsAggregate = is_aggregate::Never;
}

/// `S`, cached by its SQL text (see the module).
#[derive(Debug, Clone)]
pub(crate) struct Prepared<S>(pub(crate) S);

impl<S: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<S> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    /// Safe whatever `S` says: the cache's key is the text itself, so statements whose
    /// texts differ never share an entry.
    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the key must be the SQL text (see above).
impl<S> QueryId for Prepared<S> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// A statement with `RETURNING` answers rows as `S` does.
impl<S: Query> Query for Prepared<S> {
    type SqlType = S::SqlType;
}

#[cfg(test)]
mod tests {
    use diesel::{prelude::*, sql_types::Text};

    use super::*;
    use crate::schema::processing_activities as activities;

    fn cacheable(query: &impl QueryFragment<Pg>) -> bool {
        query.is_safe_to_cache_prepared(&Pg).expect("walks")
    }

    #[test]
    fn a_statement_with_fixed_sql_stays_cacheable_unlike_one_with_dsl_sql() {
        let name = || fixed::<Text>("processing_activities.name COLLATE \"C\"");
        let query = activities::table.select(activities::id).order(name().asc());
        assert!(cacheable(&query));
        let sql = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(
            sql.contains("ORDER BY processing_activities.name COLLATE \"C\" ASC"),
            "{sql}"
        );

        let literal = diesel::dsl::sql::<Text>("processing_activities.name COLLATE \"C\"");
        let query = activities::table
            .select(activities::id)
            .order(literal.asc());
        assert!(!cacheable(&query));
    }

    #[test]
    fn the_chain_insert_has_one_text_whatever_is_missing() {
        use crate::{models::AuditRow, schema::audit_events};
        let row = AuditRow {
            tenant_id: uuid::Uuid::nil(),
            seq: 1,
            id: uuid::Uuid::nil(),
            actor_kind: "system".to_owned(),
            actor_id: None,
            action: "a".to_owned(),
            entity_type: "e".to_owned(),
            entity_id: None,
            changes: "{}".to_owned(),
            ip: None,
            user_agent: None,
            request_id: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            prev_hash: Vec::new(),
            hash: Vec::new(),
            chain_version: 2,
            personal: None,
            personal_salt: None,
            personal_digest: None,
            actor_partner: None,
        };
        let insert = diesel::insert_into(audit_events::table).values(&row);
        let sql = diesel::debug_query::<Pg, _>(&insert).to_string();
        assert!(!sql.contains("DEFAULT"), "{sql}");
    }

    #[test]
    fn a_prepared_write_is_cached_by_its_text_alone() {
        let target = activities::table.filter(activities::id.eq(uuid::Uuid::nil()));
        let update = diesel::update(target).set(activities::name.eq("renamed"));
        assert!(
            !cacheable(&update),
            "diesel prepares an update anew each time"
        );
        let prepared = Prepared(update);
        assert!(cacheable(&prepared));
        // Keyed by its text, never by its type: two texts of one type never share an entry.
        assert!(<Prepared<()> as QueryId>::query_id().is_none());
        assert_eq!(
            diesel::debug_query::<Pg, _>(&prepared).to_string(),
            diesel::debug_query::<Pg, _>(&prepared.0).to_string()
        );
    }
}
