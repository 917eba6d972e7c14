//! Set-up through the public API: N tenants signed up, each with its owner and more
//! users (added through the `aura` CLI), an organisation profile, processors, enough
//! processing activities for a page of 20, and policies. Everything created is recorded
//! in the [`Registry`].

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::api::{Api, Registry};

pub const PASSWORD: &str = "load test passphrase 2026";

#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub user_id: String,
    pub access: String,
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub index: usize,
    pub id: String,
    pub users: Vec<User>,
    pub activity_ids: Vec<String>,
    pub processor_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Shape {
    pub tenants: usize,
    pub users_per_tenant: usize,
    pub activities_per_tenant: usize,
    /// The `aura` CLI that adds the members.
    pub cli: PathBuf,
}

/// Creates the tenants, at most `parallel` at once (sign-up and user creation are
/// bcrypt-bound).
pub async fn create(
    api: &Api,
    registry: &Arc<Registry>,
    shape: Shape,
    run: &str,
    parallel: usize,
) -> Result<Vec<Tenant>, String> {
    let mut tenants = Vec::with_capacity(shape.tenants);
    let mut pending = JoinSet::new();
    let mut next = 0;
    while tenants.len() < shape.tenants {
        while next < shape.tenants && pending.len() < parallel.max(1) {
            let (api, registry, run, shape) =
                (api.clone(), registry.clone(), run.to_owned(), shape.clone());
            let index = next;
            pending.spawn(async move { tenant(&api, &registry, shape, &run, index).await });
            next += 1;
        }
        match pending.join_next().await {
            Some(Ok(result)) => tenants.push(result?),
            Some(Err(e)) => return Err(format!("set-up task failed: {e}")),
            None => break,
        }
    }
    tenants.sort_by_key(|t| t.index);
    Ok(tenants)
}

async fn tenant(
    api: &Api,
    registry: &Registry,
    shape: Shape,
    run: &str,
    index: usize,
) -> Result<Tenant, String> {
    let owner_email = format!("owner-{index}-{run}@loadtest.example");
    let organisation = format!("Load Test {index} {run} GmbH");
    expect(
        api.send(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(&json!({
                "organisation_name": organisation,
                "email": owner_email,
                "full_name": format!("Owner {index}"),
                "password": PASSWORD,
            })),
            None,
        )
        .await,
        StatusCode::CREATED,
        "sign-up",
    )?;
    let owner = login(api, &owner_email).await?;
    let (tenant_id, owner) = owner;
    registry.add(&tenant_id, index);
    registry.add(&owner.user_id, index);
    let mut users = vec![owner.clone()];
    for n in 1..shape.users_per_tenant {
        let email = format!("member-{index}-{n}-{run}@loadtest.example");
        add_member(
            &shape.cli,
            &tenant_id,
            &email,
            &format!("Member {n} of tenant {index}"),
        )
        .await?;
        let member = login(api, &email).await?.1;
        registry.add(&member.user_id, index);
        users.push(member);
    }

    let token = owner.access.as_str();
    expect(
        api.send(
            Method::PUT,
            "/api/v1/organisation",
            Some(token),
            Some(&json!({
                "legal_name": organisation,
                "contact_email": format!("privacy-{index}@loadtest.example"),
                "dpo": {"name": "Dana Protection", "email": format!("dpo-{index}@loadtest.example")},
            })),
            Some("\"0\""),
        )
        .await,
        StatusCode::OK,
        "organisation profile",
    )?;

    let mut processor_ids = Vec::new();
    for (name, country, mechanism) in [
        (
            "Cloud Hosting Inc.",
            "US",
            Some("standard_contractual_clauses"),
        ),
        ("Mail Delivery GmbH", "DE", None),
        ("Payroll Services Ltd", "IE", None),
    ] {
        let mut body = json!({
            "name": name, "country": country, "dpa_status": "signed",
            "dpa_signed_on": "2026-01-10", "dpa_review_on": "2027-01-10",
        });
        if let Some(mechanism) = mechanism {
            body["transfer_mechanism"] = json!(mechanism);
        }
        let created = create_record(api, token, "/api/v1/processors", &body).await?;
        registry.add(&created, index);
        processor_ids.push(created);
    }

    let mut activity_ids = Vec::new();
    for n in 0..shape.activities_per_tenant {
        let links = [processor_ids[n % processor_ids.len()].clone()];
        let body = activity(
            &format!("{} {n}", ACTIVITY_NAMES[n % ACTIVITY_NAMES.len()]),
            &links,
        );
        let created = create_record(api, token, "/api/v1/processing-activities", &body).await?;
        registry.add(&created, index);
        activity_ids.push(created);
    }

    for (title, kind) in [
        ("Website privacy policy", "privacy_policy"),
        ("Data retention policy", "retention_policy"),
    ] {
        let body = json!({"title": title, "kind": kind, "review_interval_months": 12});
        let created = create_record(api, token, "/api/v1/policies", &body).await?;
        registry.add(&created, index);
    }

    Ok(Tenant {
        index,
        id: tenant_id,
        users,
        activity_ids,
        processor_ids,
    })
}

const ACTIVITY_NAMES: [&str; 8] = [
    "Newsletter",
    "Payroll",
    "Recruiting",
    "Customer support",
    "Web analytics",
    "Order processing",
    "Video surveillance",
    "Supplier management",
];

/// A complete processing activity as a privacy owner would record it.
pub fn activity(name: &str, processor_ids: &[String]) -> Value {
    json!({
        "name": name,
        "description": "Recorded by the load test",
        "role": "controller",
        "status": "active",
        "purposes": [{"description": format!("{name} for customers"), "lawful_basis": "contract"}],
        "data_subject_categories": ["customers", "prospects"],
        "data_categories": [
            {"name": "contact data", "retention": "2 years after the last order"},
            {"name": "order history", "retention": "10 years (commercial law)"}
        ],
        "recipient_categories": ["hosting provider", "mailing service"],
        "transfers": [{"country": "US", "mechanism": "standard_contractual_clauses", "recipient": "Cloud Hosting Inc."}],
        "security_measures": "TLS, encryption at rest, MFA, least privilege",
        "processor_ids": processor_ids,
        "dpia_required": "no",
        "department": "Operations",
    })
}

/// Signs in; the tenant id and the user with a fresh access token.
/// Adds a member with the fixture's password through the `aura` CLI (run with this
/// process's environment: the server's database and pepper): the API only invites, and
/// the person chooses the password from the mail. The first sign-in accepts it.
async fn add_member(cli: &Path, tenant: &str, email: &str, name: &str) -> Result<(), String> {
    let mut command = std::process::Command::new(cli);
    command
        .args(["user", "create", "--tenant", tenant, "--email", email])
        .args(["--name", name, "--role", "member", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let shown = cli.display().to_string();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn()?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(PASSWORD.as_bytes())?;
        child.wait_with_output()
    })
    .await
    .map_err(|e| format!("add member: {e}"))?
    .map_err(|e| format!("add member: {shown}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "add member: {shown}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

pub async fn login(api: &Api, email: &str) -> Result<(String, User), String> {
    let body = json!({"email": email, "password": PASSWORD});
    let tokens = match api
        .send(Method::POST, "/api/v1/auth/login", None, Some(&body), None)
        .await
    {
        // An account that must use a second factor (the portfolio's consultant, in many
        // tenants) enrols one as the person would.
        Ok((StatusCode::ACCEPTED, challenge))
            if challenge["mfa_enrolment_required"] == json!(true) =>
        {
            enrol_at_sign_in(api, str_field(&challenge, "challenge")?).await?
        }
        answer => expect(answer, StatusCode::OK, "login")?,
    };
    let access = str_field(&tokens, "access_token")?.to_owned();
    let me = expect(
        api.send(Method::GET, "/api/v1/users/me", Some(&access), None, None)
            .await,
        StatusCode::OK,
        "users/me",
    )?;
    Ok((
        str_field(&me, "tenant_id")?.to_owned(),
        User {
            email: email.to_owned(),
            user_id: str_field(&me, "id")?.to_owned(),
            access,
        },
    ))
}

/// The enrolment step of a sign-in: the secret, a first code from it, the tokens.
async fn enrol_at_sign_in(api: &Api, challenge: &str) -> Result<Value, String> {
    let path = "/api/v1/auth/login/mfa/enrolment";
    let body = json!({ "challenge": challenge });
    let enrolment = expect(
        api.send(Method::POST, path, None, Some(&body), None).await,
        StatusCode::OK,
        path,
    )?;
    let secret = totp_rs::Secret::try_from_base32(str_field(&enrolment, "secret")?)
        .map_err(|e| format!("{path}: the secret: {e}"))?;
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .map_err(|e| format!("{path}: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| format!("{path}: the clock: {e}"))?;
    let code = totp.generate(now.as_secs());
    let path = "/api/v1/auth/login/mfa/enrolment/confirm";
    let body = json!({ "challenge": challenge, "code": code.to_string() });
    expect(
        api.send(Method::POST, path, None, Some(&body), None).await,
        StatusCode::OK,
        path,
    )
}

async fn create_record(api: &Api, token: &str, path: &str, body: &Value) -> Result<String, String> {
    let created = expect(
        api.send(Method::POST, path, Some(token), Some(body), None)
            .await,
        StatusCode::CREATED,
        path,
    )?;
    Ok(str_field(&created, "id")?.to_owned())
}

pub(crate) fn expect(
    answer: Result<(StatusCode, Value), String>,
    want: StatusCode,
    what: &str,
) -> Result<Value, String> {
    match answer {
        Ok((status, body)) if status == want => Ok(body),
        Ok((status, body)) => Err(format!("{what}: {status} {body}")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

pub(crate) fn str_field<'a>(body: &'a Value, field: &str) -> Result<&'a str, String> {
    body[field]
        .as_str()
        .ok_or_else(|| format!("answer without {field}"))
}
