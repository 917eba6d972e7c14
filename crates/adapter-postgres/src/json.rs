//! `jsonb` columns read and written as JSON text: a register's `details` go from the row's
//! bytes straight into their typed struct (and back), with no `serde_json::Value` tree
//! built in between — which, for a page of records, was a third of the server's work.
//! The text is checked as UTF-8 once, as it leaves the row; read from a `&str`, serde_json
//! does not check each key and string again (from bytes it does: a page of 20 activities
//! made a thousand such checks, 6 % of the request's instructions).

use std::io::Write;

use diesel::{
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    pg::{Pg, PgValue},
    serialize::{self, IsNull, Output, ToSql},
    sql_types::Jsonb,
};
use serde::{Serialize, de::DeserializeOwned};

/// The `jsonb` binary format's version byte: the JSON text follows it.
const JSONB_VERSION: u8 = 1;

/// A `jsonb` value as its JSON text.
#[derive(Debug, Clone, AsExpression, FromSqlRow)]
#[diesel(sql_type = Jsonb)]
pub(crate) struct StoredJson(String);

impl StoredJson {
    /// `value` as JSON text, for a row to write.
    pub(crate) fn of<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(Self)
    }

    /// The stored text read as `T`.
    pub(crate) fn read<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

impl FromSql<Jsonb, Pg> for StoredJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        match value.as_bytes().split_first() {
            Some((&JSONB_VERSION, text)) => Ok(Self(std::str::from_utf8(text)?.to_owned())),
            _ => Err("unsupported jsonb encoding version".into()),
        }
    }
}

impl ToSql<Jsonb, Pg> for StoredJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&[JSONB_VERSION])?;
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::StoredJson;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Details {
        description: String,
        countries: Vec<String>,
    }

    #[test]
    fn a_value_written_reads_back_alike() {
        let details = Details {
            description: "Payroll \"quoted\" — ünïcode".to_owned(),
            countries: vec!["DE".to_owned(), "US".to_owned()],
        };
        let stored = StoredJson::of(&details).expect("serialisable");
        assert_eq!(stored.read::<Details>().expect("readable"), details);
        assert!(
            stored.read::<Vec<u8>>().is_err(),
            "another shape is refused"
        );
    }
}
