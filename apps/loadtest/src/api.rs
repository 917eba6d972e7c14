//! The HTTP side: one shared client and the checks that every answer belongs to the
//! caller's tenant.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// What went wrong with a request before any status: kept short for the error table.
pub type Transport = String;

impl Api {
    pub fn new(base: &str, timeout: Duration, pool: usize) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(pool)
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// A request to `path`, signed in with `token`: for bodies and answers that are not JSON.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends a request; the JSON body (Null when empty or not JSON) and the content type.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<(StatusCode, Value), Transport> {
        let mut request = self.request(method, path, token);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(version) = if_match {
            request = request.header("if-match", version);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

pub fn transport(error: reqwest::Error) -> Transport {
    if error.is_timeout() {
        "timeout".to_owned()
    } else if error.is_connect() {
        "connect".to_owned()
    } else {
        "transport".to_owned()
    }
}

/// Which tenant (by index) created each id the load test knows: tenants, users and
/// records. Shared by all workers; creates add to it as they are acknowledged.
#[derive(Default)]
pub struct Registry {
    owner_of: Mutex<HashMap<String, usize>>,
}

impl Registry {
    pub fn add(&self, id: &str, tenant: usize) {
        self.owner_of
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_owned(), tenant);
    }

    fn owner(&self, id: &str) -> Option<usize> {
        self.owner_of
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .copied()
    }

    /// Whether `id` is known to belong to a tenant other than `tenant`.
    pub fn is_foreign(&self, id: &str, tenant: usize) -> bool {
        self.owner(id).is_some_and(|owner| owner != tenant)
    }
}

/// The caller a response is checked against.
pub struct Caller<'a> {
    pub tenant: usize,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
}

/// Whether a record (an activity, processor, policy or user) belongs to the caller: its
/// `tenant_id` is the caller's, and neither its id nor any linked id (`processor_ids`,
/// `parent_id`) is one another tenant created.
pub fn record_is_own(record: &Value, caller: &Caller<'_>, registry: &Registry) -> bool {
    if record["tenant_id"].as_str() != Some(caller.tenant_id) {
        return false;
    }
    let mut ids: Vec<&str> = Vec::new();
    ids.extend(record["id"].as_str());
    ids.extend(record["parent_id"].as_str());
    if let Some(links) = record["processor_ids"].as_array() {
        ids.extend(links.iter().filter_map(Value::as_str));
    }
    !ids.iter().any(|id| registry.is_foreign(id, caller.tenant))
}

/// `{items: [...]}`: every item is the caller's (an empty page is too).
pub fn page_is_own(page: &Value, caller: &Caller<'_>, registry: &Registry) -> bool {
    page["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|i| record_is_own(i, caller, registry)))
}

/// `GET /users/me`: the caller's own user in the caller's tenant.
pub fn me_is_own(me: &Value, caller: &Caller<'_>) -> bool {
    me["id"].as_str() == Some(caller.user_id) && me["tenant_id"].as_str() == Some(caller.tenant_id)
}

/// A login answer: the access token's `tenant_id` and `sub` claims are the caller's.
pub fn tokens_are_own(tokens: &Value, caller: &Caller<'_>) -> bool {
    let Some(claims) = tokens["access_token"].as_str().and_then(claims) else {
        return false;
    };
    claims["tenant_id"].as_str() == Some(caller.tenant_id)
        && claims["sub"].as_str() == Some(caller.user_id)
}

/// The claims of a JWT, unverified (the server verifies; this only reads whose it is).
pub fn claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const A: &str = "00000000-0000-7000-8000-00000000000a";
    const B: &str = "00000000-0000-7000-8000-00000000000b";

    fn caller() -> Caller<'static> {
        Caller {
            tenant: 0,
            tenant_id: A,
            user_id: "u-a",
        }
    }

    #[test]
    fn foreign_tenant_ids_and_links_are_caught() {
        let registry = Registry::default();
        registry.add("mine", 0);
        registry.add("theirs", 1);
        let own = json!({"id": "mine", "tenant_id": A, "processor_ids": ["mine"]});
        assert!(record_is_own(&own, &caller(), &registry));
        for bad in [
            json!({"id": "mine", "tenant_id": B}),
            json!({"id": "theirs", "tenant_id": A}),
            json!({"id": "mine", "tenant_id": A, "processor_ids": ["theirs"]}),
            json!({"id": "mine", "tenant_id": A, "parent_id": "theirs"}),
            json!({"id": "mine"}),
        ] {
            assert!(!record_is_own(&bad, &caller(), &registry), "{bad}");
        }
        assert!(page_is_own(
            &json!({"items": [own.clone()]}),
            &caller(),
            &registry
        ));
        assert!(!page_is_own(
            &json!({"items": [own, {"id": "theirs", "tenant_id": A}]}),
            &caller(),
            &registry
        ));
        assert!(!page_is_own(&json!({"nothing": []}), &caller(), &registry));
    }

    #[test]
    fn token_claims_name_the_tenant() {
        let payload = URL_SAFE_NO_PAD.encode(json!({"sub": "u-a", "tenant_id": A}).to_string());
        let token = json!({"access_token": format!("h.{payload}.s")});
        assert!(tokens_are_own(&token, &caller()));
        let other = URL_SAFE_NO_PAD.encode(json!({"sub": "u-a", "tenant_id": B}).to_string());
        assert!(!tokens_are_own(
            &json!({"access_token": format!("h.{other}.s")}),
            &caller()
        ));
        assert!(!tokens_are_own(&json!({}), &caller()));
    }
}
