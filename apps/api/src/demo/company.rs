//! The demo tenant's company (`company.json`): an organisation profile, processors,
//! processing activities, policies with versions, an approved DPIA (the server room's
//! video surveillance), tasks, a data-subject request and a breach drill, written
//! through the use cases as a user would write them (validation, audit events, reminders),
//! so every list, export, completeness figure and assistant answer has something to show.
//!
//! The data file holds the records' request bodies. Dates are relative to the seeding day
//! (`@today-7`, `@now-240h`) so that the overdue task stays overdue and the expired
//! agreement stays expired whenever the demo starts; `@processor:KEY` (likewise `activity`,
//! `policy`) names a record of the file by its `key`, `@user:ROLE` the demo user with that
//! role.

use std::collections::HashMap;

use aura_audit::RequestContext;
use aura_breaches::BreachCases;
use aura_dpias::DpiaCases;
use aura_gdpr_registers::{OrganisationProfile, Registers, VersionStatus};
use aura_requests::RequestCases;
use aura_shared_kernel::{Role, TenantScope, UserId};
use aura_tasks::TaskService;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

const COMPANY: &str = include_str!("company.json");

/// The use cases the company is written through.
pub struct CompanyServices<'a> {
    pub registers: &'a Registers,
    pub tasks: &'a TaskService,
    pub requests: &'a RequestCases,
    pub breaches: &'a BreachCases,
    pub dpias: &'a DpiaCases,
}

/// What the data file names: the demo users by role and the records written so far.
struct Names {
    now: OffsetDateTime,
    users: HashMap<Role, UserId>,
    records: HashMap<String, String>,
}

impl Names {
    /// Replaces every `@…` string in `value` by what it names.
    fn resolve(&self, value: &mut Value) -> Result<(), String> {
        match value {
            Value::String(text) if text.starts_with('@') => *value = self.name(text)?,
            Value::Array(items) => items.iter_mut().try_for_each(|v| self.resolve(v))?,
            Value::Object(fields) => fields.values_mut().try_for_each(|v| self.resolve(v))?,
            _ => {}
        }
        Ok(())
    }

    fn name(&self, text: &str) -> Result<Value, String> {
        let unknown = || format!("company.json: `{text}` names nothing");
        if let Some(days) = text.strip_prefix("@today") {
            let days: i64 = days.parse().map_err(|_| unknown())?;
            return Ok(Value::String(
                (self.now.date() + Duration::days(days)).to_string(),
            ));
        }
        if let Some(hours) = text.strip_prefix("@now").and_then(|h| h.strip_suffix('h')) {
            let hours: i64 = hours.parse().map_err(|_| unknown())?;
            let at = (self.now + Duration::hours(hours))
                .format(&Rfc3339)
                .map_err(|e| e.to_string())?;
            return Ok(Value::String(at));
        }
        if let Some(role) = text.strip_prefix("@user:") {
            let role = role.parse::<Role>().map_err(|_| unknown())?;
            let user = self.users.get(&role).ok_or_else(unknown)?;
            return Ok(Value::String(user.to_string()));
        }
        let id = self.records.get(&text[1..]).ok_or_else(unknown)?;
        Ok(Value::String(id.clone()))
    }

    /// One entry of the file as the fields of a record: its `@` names resolved, the
    /// file's own keys (`key`, and `extra`) taken out first.
    fn fields<T: DeserializeOwned>(
        &self,
        entry: &Value,
        extra: &str,
    ) -> Result<(T, Option<String>, Option<Value>), String> {
        let mut fields: Map<String, Value> = entry
            .as_object()
            .cloned()
            .ok_or("company.json: an entry is not an object")?;
        let key = fields
            .remove("key")
            .and_then(|k| k.as_str().map(str::to_owned));
        let extra = fields.remove(extra);
        let mut value = Value::Object(fields);
        self.resolve(&mut value)?;
        let fields = serde_json::from_value(value)
            .map_err(|e| format!("company.json: {}: {e}", key.as_deref().unwrap_or("entry")))?;
        Ok((fields, key, extra))
    }

    fn remember(&mut self, kind: &str, key: Option<String>, id: impl ToString) {
        if let Some(key) = key {
            self.records.insert(format!("{kind}:{key}"), id.to_string());
        }
    }
}

/// Writes the company into the tenant of `scope`; `users` are the demo users by role.
pub async fn seed(
    services: &CompanyServices<'_>,
    scope: &TenantScope,
    users: HashMap<Role, UserId>,
    now: OffsetDateTime,
) -> Result<(), String> {
    let file: Value = serde_json::from_str(COMPANY).map_err(|e| e.to_string())?;
    let section = |name: &str| -> Vec<Value> {
        file.get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let ctx = RequestContext::default();
    let failed = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    let mut names = Names {
        now,
        users,
        records: HashMap::new(),
    };
    let registers = services.registers;

    let (profile, _, _): (OrganisationProfile, _, _) =
        names.fields(file.get("organisation").unwrap_or(&Value::Null), "")?;
    registers
        .put_organisation(scope, profile, 0, &ctx)
        .await
        .map_err(|e| failed("organisation", &e))?;

    for entry in section("processors") {
        let (fields, key, _) = names.fields(&entry, "")?;
        let record = registers
            .processor_records()
            .create(scope, fields, None, &ctx)
            .await
            .map_err(|e| failed("processor", &e))?;
        names.remember("processor", key, record.id);
    }
    for entry in section("activities") {
        let (fields, key, _) = names.fields(&entry, "")?;
        let record = registers
            .activity_records()
            .create(scope, fields, None, &ctx)
            .await
            .map_err(|e| failed("activity", &e))?;
        names.remember("activity", key, record.id);
    }
    for entry in section("policies") {
        let (fields, key, versions) = names.fields(&entry, "versions")?;
        let policy = registers
            .policy_records()
            .create(scope, fields, None, &ctx)
            .await
            .map_err(|e| failed("policy", &e))?;
        for version in versions
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = |field: &str| version.get(field).and_then(Value::as_str);
            let draft = registers
                .create_version(
                    scope,
                    policy.id,
                    text("content").unwrap_or_default(),
                    text("change_note"),
                    &ctx,
                )
                .await
                .map_err(|e| failed("policy version", &e))?;
            if version.get("publish").and_then(Value::as_bool) == Some(true) {
                let mut current = draft;
                for next in [VersionStatus::InReview, VersionStatus::Published] {
                    current = registers
                        .transition_version(
                            scope,
                            policy.id,
                            current.number,
                            next,
                            current.version,
                            &ctx,
                        )
                        .await
                        .map_err(|e| failed("policy version", &e))?;
                }
            }
        }
        names.remember("policy", key, policy.id);
    }
    for entry in section("dpias") {
        // Written as a member would, then taken through its `actions` (submit, approve).
        let (fields, key, actions) = names.fields(&entry, "actions")?;
        let dpias = services.dpias;
        let mut dpia = (dpias.records())
            .create(scope, fields, None, &ctx)
            .await
            .map_err(|e| failed("dpia", &e))?;
        for action in actions
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (id, version) = (dpia.id, dpia.version);
            dpia = match action.as_str() {
                Some("submit") => dpias.submit(scope, id, version, &ctx).await,
                Some("approve") => dpias.approve(scope, id, version, &ctx).await,
                _ => return Err(format!("company.json: dpia action {action} is unknown")),
            }
            .map_err(|e| failed("dpia action", &e))?;
        }
        names.remember("dpia", key, dpia.id);
    }
    for entry in section("tasks") {
        let (fields, _, _) = names.fields(&entry, "")?;
        services
            .tasks
            .records()
            .create(scope, fields, None, &ctx)
            .await
            .map_err(|e| failed("task", &e))?;
    }
    for entry in section("breaches") {
        let (fields, _, _) = names.fields(&entry, "")?;
        services
            .breaches
            .records()
            .create(scope, fields, None, &ctx)
            .await
            .map_err(|e| failed("breach", &e))?;
    }
    for entry in section("requests") {
        let (fields, _, _) = names.fields(&entry, "")?;
        services
            .requests
            .records()
            .create(scope, fields, None, &ctx)
            .await
            .map_err(|e| failed("request", &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_resolve_relative_to_the_seeding_day() {
        let now = time::macros::datetime!(2026-12-06 10:00 UTC);
        let user = UserId::generate();
        let mut names = Names {
            now,
            users: HashMap::from([(Role::Admin, user)]),
            records: HashMap::new(),
        };
        names.remember("processor", Some("mailing".to_owned()), "p-1");
        let mut value = serde_json::json!({
            "due": "@today-7", "later": "@today+30", "at": "@now-240h",
            "owner": "@user:admin", "ids": ["@processor:mailing"], "plain": "text",
        });
        names.resolve(&mut value).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "due": "2026-11-29", "later": "2027-01-05", "at": "2026-11-26T10:00:00Z",
                "owner": user.to_string(), "ids": ["p-1"], "plain": "text",
            })
        );
        for unknown in ["@processor:nothing", "@user:owner", "@today-x", "@now-3"] {
            assert!(
                names.name(unknown).is_err(),
                "{unknown} should name nothing"
            );
        }
    }

    #[test]
    fn every_entry_of_the_file_is_a_valid_body() {
        // Deserialises each entry with placeholder names, so a field renamed in a domain
        // type fails here, not at a demo's start.
        let mut names = Names {
            now: OffsetDateTime::now_utc(),
            users: [Role::Owner, Role::Admin, Role::Member, Role::Viewer]
                .into_iter()
                .map(|role| (role, UserId::generate()))
                .collect(),
            records: HashMap::new(),
        };
        let file: Value = serde_json::from_str(COMPANY).unwrap();
        for (kind, section) in [
            ("processor", "processors"),
            ("activity", "activities"),
            ("policy", "policies"),
        ] {
            for entry in file[section].as_array().unwrap() {
                let key = entry["key"].as_str().unwrap().to_owned();
                names.remember(kind, Some(key), uuid::Uuid::new_v4());
            }
        }
        let _: (OrganisationProfile, _, _) = names.fields(&file["organisation"], "").unwrap();
        for entry in file["processors"].as_array().unwrap() {
            let _: (aura_gdpr_registers::ProcessorFields, _, _) = names.fields(entry, "").unwrap();
        }
        for entry in file["activities"].as_array().unwrap() {
            let _: (aura_gdpr_registers::ActivityFields, _, _) = names.fields(entry, "").unwrap();
        }
        for entry in file["policies"].as_array().unwrap() {
            let _: (aura_gdpr_registers::PolicyFields, _, _) =
                names.fields(entry, "versions").unwrap();
        }
        for entry in file["dpias"].as_array().unwrap() {
            let (_, _, actions): (aura_dpias::DpiaFields, _, _) =
                names.fields(entry, "actions").unwrap();
            assert!(actions.is_some_and(|a| a.is_array()));
        }
        for entry in file["tasks"].as_array().unwrap() {
            let _: (aura_tasks::TaskFields, _, _) = names.fields(entry, "").unwrap();
        }
        for entry in file["breaches"].as_array().unwrap() {
            let _: (aura_breaches::BreachFields, _, _) = names.fields(entry, "").unwrap();
        }
        for entry in file["requests"].as_array().unwrap() {
            let _: (aura_requests::request::RequestFields, _, _) = names.fields(entry, "").unwrap();
        }
    }
}
