//! What route handlers share: query parameters (limits, cursors, sorts, enums, free text,
//! ids), `If-Match` and `ETag`, a page's cursor. A leaf of `routes`: the handlers import
//! it, it imports none of them.

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::header};
use aura_gdpr_registers::ports::{Cursor, Sort};
use aura_records::{Id, ListQuery};
use aura_shared_kernel::{PageRequest, PersonalDataSeal, TenantId, ValidationErrors};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::{
    error::ApiError,
    extract::{Caller, cursor, parse_id},
};

/// `If-Match: "3"` (or `3`) → 3. Missing → 428; malformed → 400.
pub(crate) fn if_match(req: &HttpRequest) -> Result<i32, ApiError> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .unwrap_or("");
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i32>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_if_match",
                Some("If-Match"),
                "must be the record's ETag, e.g. \"3\"",
            )
        })
}

pub(crate) fn with_etag<T: Serialize>(
    status: actix_web::http::StatusCode,
    version: i32,
    body: &T,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(body)
}

/// The list cursors of the caller's tenant: a cursor holds the sort key of the last row
/// (a record's name, for the name sorts), so it is sealed (AES-256-GCM under the tenant's
/// key, `PersonalDataSeal`): opaque in URLs, logs and referrers, unforgeable, and
/// unusable in another tenant.
#[derive(Clone, Copy)]
pub(crate) struct Cursors<'a> {
    seal: &'a dyn PersonalDataSeal,
    tenant: TenantId,
}

/// What a cursor's seal is bound to besides the tenant.
const CURSOR_CONTEXT: &[u8] = b"list-cursor";

impl Caller {
    /// The cursors of this caller's lists.
    pub(crate) fn cursors(&self) -> Cursors<'_> {
        Cursors {
            seal: self.state.seal.as_ref(),
            tenant: self.scope().tenant_id(),
        }
    }
}

fn encode_cursor(cursor: &Cursor, cursors: Cursors<'_>) -> Option<String> {
    let plain = serde_json::json!({ "k": cursor.key, "i": cursor.id }).to_string();
    // Sealing fails only on a broken key, which start-up would have shown: no cursor
    // (`null`, as on the last page) rather than one in clear or an empty string that
    // the schema does not allow.
    cursors
        .seal
        .seal(cursors.tenant, CURSOR_CONTEXT, plain.as_bytes())
        .ok()
        .map(|sealed| URL_SAFE_NO_PAD.encode(sealed))
}

pub(crate) fn decode_cursor(
    raw: Option<&str>,
    cursors: Cursors<'_>,
) -> Result<Option<Cursor>, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_cursor",
            Some("cursor"),
            "is not a cursor this API issued",
        )
    };
    raw.map(|raw| {
        let sealed = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let bytes = cursors
            .seal
            .open(cursors.tenant, CURSOR_CONTEXT, &sealed)
            .map_err(|_| invalid())?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let key = value["k"].as_str().ok_or_else(invalid)?.to_owned();
        let id = value["i"]
            .as_str()
            .and_then(|i| Uuid::parse_str(i).ok())
            .ok_or_else(invalid)?;
        Ok(Cursor { key, id })
    })
    .transpose()
}

fn parse_sort(raw: Option<&str>) -> Result<Sort, ApiError> {
    raw.map(|s| Sort::parse(s).map_err(|m| ApiError::bad_request("invalid_query", Some("sort"), m)))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// A register's list query: its filter, and the order, start and size every list
/// takes from `sort`, `cursor` and `limit`.
pub(crate) fn list_query<F>(
    filter: F,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
    cursors: Cursors<'_>,
) -> Result<ListQuery<F>, ApiError> {
    Ok(ListQuery {
        filter,
        sort: parse_sort(sort.as_deref())?,
        after: decode_cursor(cursor.as_deref(), cursors)?,
        limit: checked_limit(limit)?,
    })
}

/// An optional id filter of a list, e.g. `owner`.
pub(crate) fn query_id(raw: Option<&str>, field: &str) -> Result<Option<Uuid>, ApiError> {
    raw.map(|raw| parse_id(raw, field)).transpose()
}

/// The `{id}` of a kernel record's path.
pub(crate) fn typed_id<K>(raw: &str) -> Result<Id<K>, ApiError> {
    parse_id(raw, "id").map(Id::from_uuid)
}

/// What a write names: the record of its path's `{id}`, at the version `If-Match` names
/// (malformed id first, then a missing or malformed `If-Match`). Listed after the
/// handler's `Caller` and body, so those are refused first.
pub(crate) struct Versioned<K> {
    pub id: Id<K>,
    pub expected: i32,
}

impl<K: 'static> FromRequest for Versioned<K> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw_id = req.match_info().get("id").unwrap_or_default();
        std::future::ready(typed_id(raw_id).and_then(|id| {
            let expected = if_match(req)?;
            Ok(Self { id, expected })
        }))
    }
}

/// A page's items as their bodies, and the cursor of the next page.
pub(crate) fn page_of<T, B: From<T>>(
    items: Vec<T>,
    next: Option<Cursor>,
    cursors: Cursors<'_>,
) -> (Vec<B>, Option<String>) {
    (
        items.into_iter().map(Into::into).collect(),
        next.as_ref().and_then(|next| encode_cursor(next, cursors)),
    )
}

pub(crate) fn query_enum<T: std::str::FromStr<Err = String>>(
    raw: Option<&str>,
    field: &str,
) -> Result<Option<T>, ApiError> {
    raw.map(|r| {
        r.parse::<T>()
            .map_err(|m| ApiError::bad_request("invalid_query", Some(field), m))
    })
    .transpose()
}

/// `limit` and `cursor` of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Items per page, 1–100 (default 25).
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub(crate) fn checked_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(PageRequest::DEFAULT_LIMIT),
        Some(n) if (1..=PageRequest::MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            "invalid_query",
            Some("limit"),
            "must be between 1 and 100",
        )),
    }
}

/// A free-text query parameter: trimmed, empty means absent, at most 200 characters.
pub(crate) fn query_text(raw: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    match raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 200 => Err(ApiError::bad_request(
            "invalid_query",
            Some(field),
            "must be at most 200 characters",
        )),
        other => Ok(other),
    }
}

impl ListParams {
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            after: self.cursor.as_deref().map(cursor::decode_id).transpose()?,
            limit: checked_limit(self.limit)?,
        })
    }
}

/// Runs `parse` on an optional input, collecting its errors.
pub(crate) fn optional<T, R>(
    errors: &mut ValidationErrors,
    value: Option<R>,
    parse: impl FnOnce(R) -> Result<T, ValidationErrors>,
) -> Option<T> {
    value.and_then(|v| errors.collect(parse(v)))
}

/// The bounds `from` and `to` of a query as given; `to` before `from` is refused naming
/// `to` (dates of an export, instants of the audit trail).
pub(crate) fn ordered<T: PartialOrd>(
    from: Option<T>,
    to: Option<T>,
) -> Result<(Option<T>, Option<T>), ApiError> {
    if let (Some(from), Some(to)) = (&from, &to)
        && from > to
    {
        return Err(ApiError::bad_request(
            "invalid_query",
            Some("to"),
            "must not be before `from`",
        ));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use aura_shared_kernel::{KeyedHash, SealFailed};

    use super::*;

    /// A seal whose key is broken: every seal fails.
    struct BrokenSeal;

    impl KeyedHash for BrokenSeal {
        fn keyed_hash(&self, _: &[u8], _: &[u8]) -> [u8; 32] {
            [0; 32]
        }
    }

    impl PersonalDataSeal for BrokenSeal {
        fn seal(&self, _: TenantId, _: &[u8], _: &[u8]) -> Result<Vec<u8>, SealFailed> {
            Err(SealFailed)
        }
        fn open(&self, _: TenantId, _: &[u8], _: &[u8]) -> Result<Vec<u8>, SealFailed> {
            Err(SealFailed)
        }
        fn lookup_hash(&self, _: TenantId, _: &[u8], _: &[u8]) -> [u8; 32] {
            [0; 32]
        }
    }

    #[test]
    fn a_cursor_that_cannot_be_sealed_is_null_not_empty() {
        let cursors = Cursors {
            seal: &BrokenSeal,
            tenant: TenantId::from_uuid(Uuid::new_v4()),
        };
        let next = Cursor {
            key: "Alice".to_owned(),
            id: Uuid::new_v4(),
        };
        let (items, cursor): (Vec<String>, _) = page_of(vec!["a".to_owned()], Some(next), cursors);
        assert_eq!(items, ["a"]);
        assert_eq!(cursor, None, "no cursor rather than an empty one");
        let page = serde_json::json!({ "next_cursor": cursor });
        assert!(page["next_cursor"].is_null());
    }
}
