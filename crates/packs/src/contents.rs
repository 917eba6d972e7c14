//! The files of a pack, each made by the export its register already has (the register's
//! PDF and CSV, the breach and request registers' CSV) or, where none existed, from the
//! records through the registers' CSV writer; all read in the pack's tenant only.

use aura_audit::{AuditService, ChainVerification, RequestContext};
use aura_breaches::Breaches;
use aura_dpias::Dpias;
use aura_gdpr_registers::{RecordKind, Registers, csv};
use aura_records::{RecordUseCases, UseCaseError};
use aura_reports::{Reports, Stamp, register_report};
use aura_requests::{export::Timeliness, request::Requests};
use aura_shared_kernel::TenantScope;
use aura_tasks::{TaskStatus, Tasks};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{Pack, ports::PackFile};

/// What a pack is built from: the registers' use cases, the audit trail and the report
/// renderer.
#[derive(Clone)]
pub struct PackSources {
    pub registers: Registers,
    pub requests: RecordUseCases<Requests>,
    pub breaches: RecordUseCases<Breaches>,
    pub dpias: RecordUseCases<Dpias>,
    pub tasks: RecordUseCases<Tasks>,
    pub audit: AuditService,
    pub reports: Reports,
}

/// Why the files could not be made (said without personal data).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ContentError {
    #[error("reading the records: {0}")]
    Read(#[from] UseCaseError),
    #[error("reading the audit trail: {0}")]
    Audit(#[from] aura_audit::AuditError),
    #[error("rendering: {0}")]
    Render(#[from] aura_reports::RenderError),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn json_file(name: &str, value: &impl serde::Serialize) -> Result<PackFile, ContentError> {
    Ok(PackFile::new(name, serde_json::to_vec_pretty(value)?))
}

impl PackSources {
    /// The pack's files and the tenant's audit-chain head read before them.
    pub(crate) async fn files(
        &self,
        scope: &TenantScope,
        pack: &Pack,
        now: OffsetDateTime,
    ) -> Result<(Vec<PackFile>, Option<String>), ContentError> {
        let ctx = RequestContext::default();
        let period = pack.period;
        let head = self.audit.head(scope).await?;
        let mut files = Vec::new();

        // The record of processing (Art. 30(1)); the processor record (Art. 30(2)) too
        // when the organisation processes on behalf of others.
        for kind in [RecordKind::Controller, RecordKind::Processor] {
            let export = self.registers.export(scope, kind, &ctx).await?;
            if kind == RecordKind::Processor && export.activities.is_empty() {
                continue;
            }
            let stamp = Stamp {
                generated_at: now,
                chain_head: head.clone(),
            };
            let pdf =
                self.reports
                    .renderer
                    .render(&register_report(&export, pack.language, stamp))?;
            files.push(PackFile::new(&format!("register-{kind}.pdf"), pdf));
            files.push(PackFile::new(
                &format!("register-{kind}.csv"),
                aura_gdpr_registers::to_csv(&export),
            ));
        }

        let processors = self.registers.processor_records().all(scope, &ctx).await?;
        files.push(PackFile::new(
            "processors.csv",
            csv::document(
                PROCESSOR_COLUMNS,
                processors.iter().map(|p| {
                    let f = &p.fields;
                    vec![
                        p.id.to_string(),
                        f.name.clone(),
                        f.country.map(String::from).unwrap_or_default(),
                        f.dpa_status.to_string(),
                        csv::optional_date(f.dpa_signed_on),
                        csv::optional_date(f.dpa_review_on),
                        csv::list(f.clauses.missing()),
                        f.parent_id.map(|id| id.to_string()).unwrap_or_default(),
                    ]
                }),
            ),
        ));

        let mut policies = Vec::new();
        for policy in self.registers.policy_records().all(scope, &ctx).await? {
            if policy.derived.current_version.is_none() {
                continue;
            }
            let version = self
                .registers
                .current_version(scope, policy.id, &ctx)
                .await
                .map_err(|e| ContentError::Read(UseCaseError::Internal(Box::new(e))))?;
            policies.push(json!({
                "policy_id": policy.id,
                "title": policy.fields.title,
                "kind": policy.fields.kind,
                "version": version,
            }));
        }
        files.push(json_file("policies-current.json", &policies)?);

        let dpias = self.dpias.all(scope, &ctx).await?;
        files.push(json_file("dpias.json", &dpias)?);

        let breaches = aura_breaches::export::export(
            &self.breaches,
            scope,
            (Some(period.from), Some(period.to)),
            false,
            now,
            &ctx,
        )
        .await?;
        files.push(PackFile::new(
            "breach-register.csv",
            aura_breaches::export::to_csv(&breaches),
        ));

        let requests = aura_requests::export::export(
            &self.requests,
            scope,
            Some(period.from),
            Some(period.to),
            now,
            &ctx,
        )
        .await?;
        files.push(PackFile::new(
            "request-register.csv",
            aura_requests::export::to_csv(&requests),
        ));
        let count = |t: Timeliness| {
            requests
                .requests
                .iter()
                .filter(|r| r.timeliness == t)
                .count()
        };
        let (on_time, late) = (count(Timeliness::OnTime), count(Timeliness::Late));
        let tasks = self.tasks.all(scope, &ctx).await?;
        let due: Vec<_> = tasks
            .iter()
            .filter(|t| t.fields.due_date.is_some_and(|d| period.contains(d)))
            .collect();
        let status = |s: TaskStatus| due.iter().filter(|t| t.fields.status == s).count();
        let (done, cancelled) = (status(TaskStatus::Done), status(TaskStatus::Cancelled));
        let summary = json!({
            "period": period,
            "requests": {
                "received": requests.requests.len(),
                "answered_on_time": on_time,
                "answered_late": late,
                "open_overdue": count(Timeliness::Overdue),
                "on_time_rate": rate(on_time, on_time + late),
            },
            "tasks_due_in_period": {
                "total": due.len(),
                "done": done,
                "cancelled": cancelled,
                "open": due.len() - done - cancelled,
                "completion_rate": rate(done, due.len() - cancelled),
            },
        });
        files.push(json_file("summary.json", &summary)?);

        let verification = self.audit.verify(scope).await?;
        files.push(json_file(
            "audit-chain-verification.json",
            &chain_report(&verification, &pack.period),
        )?);
        Ok((files, head))
    }
}

const PROCESSOR_COLUMNS: &[&str] = &[
    "id",
    "name",
    "country",
    "dpa_status",
    "dpa_signed_on",
    "dpa_review_on",
    "missing_art28_3_clauses",
    "parent_id",
];

/// `part / whole`, rounded to four places; `null` when there is nothing to rate.
fn rate(part: usize, whole: usize) -> Value {
    if whole == 0 {
        return Value::Null;
    }
    let r = (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0;
    json!(r)
}

/// The chain's verification as the pack reports it: the whole chain is checked (a link
/// depends on every one before it), said for the pack's period.
fn chain_report(v: &ChainVerification, period: &crate::Period) -> Value {
    json!({
        "period": period,
        "valid": v.valid,
        "events_checked": v.events_checked,
        "head": v.head,
        "broken_count": v.broken_count,
        "broken_links": v.broken_links.iter().map(|b| json!({
            "seq": b.seq,
            "event_id": b.event_id,
            "reason": b.reason,
        })).collect::<Vec<_>>(),
        "unkeyed_links": v.unkeyed_links,
        "shredded": v.shredded,
        "checkpoint": v.checkpoint.as_ref().map(|c| json!({
            "seq": c.seq,
            "hash": c.hash.to_hex(),
            "sealed_at": csv::instant(c.sealed_at),
            "signature": c.signature.to_hex(),
        })),
    })
}
