//! `AuditLog` and the audit half of every write port: per-tenant hash chains that
//! verify, list filters and cursor pagination, isolation between tenants.

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_audit::{
    Actor, AuditAction, AuditQuery, AuditRecord, AuditService, ChainHash, ChainHasher, Changes,
    PendingEvent, RequestContext, Shredding,
};
use aura_identity::PasswordHash;
use aura_identity::actions;
use aura_shared_kernel::{Conflict, Role, TenantName, TenantScope, UserId};
use time::Duration;
use uuid::Uuid;

use crate::{
    Stores,
    fixtures::{
        REGISTER_EVENTS, TenantFixture, add_user, assert_conflict, assert_not_found, audit_len,
        chain, delete_user, edit_user, event, family, insert_user, new_user, register,
        register_tenant, session_event, start_session, stored_user, token, update_tenant,
        user_event,
    },
};

fn custom(actor: Actor, action: &str, entity_type: &'static str, entity_id: &str) -> PendingEvent {
    PendingEvent::new(
        actor,
        AuditAction::from_stored(action.to_owned()),
        entity_type,
        entity_id,
        Changes::new().note("contract", true),
        &RequestContext::default(),
    )
}

async fn append(stores: &Stores, scope: &TenantScope, event: PendingEvent) -> AuditRecord {
    stores
        .audit
        .append(scope, event)
        .await
        .expect("append an event")
}

async fn verify(stores: &Stores, scope: &TenantScope) -> aura_audit::ChainVerification {
    AuditService::new(
        stores.audit.clone(),
        Arc::new(HmacChainHasher::with_test_key()),
    )
    .verify(scope)
    .await
    .expect("verify the chain")
}

async fn list(stores: &Stores, scope: &TenantScope, query: AuditQuery) -> Vec<i64> {
    let page = stores.audit.list(scope, &query).await.expect("list");
    page.items.iter().map(|r| r.seq).collect()
}

fn query(limit: usize) -> AuditQuery {
    AuditQuery {
        limit,
        ..AuditQuery::default()
    }
}

pub async fn append_links_the_chain(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let before = stores.clock.now();
    let context = RequestContext::new(
        Some("203.0.113.7".to_owned()),
        Some("contract-agent/1.0".to_owned()),
        Some(format!("req-{}", Uuid::new_v4())),
    );
    let mut records = Vec::new();
    for n in 0..3 {
        let event = PendingEvent::new(
            Actor::User(fx.owner.id),
            actions::USER_UPDATED,
            "user",
            fx.owner.id,
            Changes::new()
                .field("full_name", &"Before", &"After")
                .note("n", n),
            &context,
        );
        let record = append(&stores, &fx.scope, event.clone()).await;
        assert_eq!(record.actor, event.actor);
        assert_eq!(record.action, event.action);
        assert_eq!(record.entity_type, event.entity_type);
        assert_eq!(record.entity_id, event.entity_id);
        assert_eq!(record.changes, event.changes);
        assert_eq!(record.ip, context.ip);
        assert_eq!(record.user_agent, context.user_agent);
        assert_eq!(record.request_id, context.request_id);
        records.push(record);
    }
    let after = stores.clock.now();

    let stored = chain(&stores, &fx.scope).await;
    assert_eq!(stored.len(), REGISTER_EVENTS + 3);
    assert_eq!(
        stored[REGISTER_EVENTS..],
        records[..],
        "appended records read back unchanged"
    );
    let mut prev = ChainHash::GENESIS;
    for (i, record) in stored.iter().enumerate() {
        assert_eq!(
            record.seq,
            i as i64 + 1,
            "positions run from 1 without gaps"
        );
        assert_eq!(record.tenant_id, fx.tenant.id);
        assert_eq!(record.prev_hash, prev, "each link names the previous hash");
        assert_eq!(
            record.hash,
            HmacChainHasher::with_test_key().link(record.tenant_id, &record.canonical_bytes()),
            "each link is sealed with the tenant's keyed HMAC over its canonical bytes"
        );
        prev = record.hash;
    }
    for record in &records {
        assert!(
            before <= record.created_at && record.created_at <= after,
            "events are stamped with the store's clock"
        );
    }
}

pub async fn chain_after_pages_in_chain_order(stores: Stores) {
    let fx = register_tenant(&stores).await;
    for n in 0..5 {
        append(
            &stores,
            &fx.scope,
            custom(Actor::System, "contract.step", "step", &n.to_string()),
        )
        .await;
    }
    let seqs = |records: Vec<AuditRecord>| records.into_iter().map(|r| r.seq).collect::<Vec<_>>();
    let page = |after, limit| {
        let stores = stores.clone();
        let scope = fx.scope.clone();
        async move {
            seqs(
                stores
                    .audit
                    .chain_after(&scope, after, limit)
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(page(0, 3).await, [1, 2, 3]);
    assert_eq!(page(3, 3).await, [4, 5, 6]);
    assert_eq!(page(6, 3).await, [7]);
    assert_eq!(page(7, 3).await, Vec::<i64>::new());
    assert_eq!(page(2, 100).await, [3, 4, 5, 6, 7]);
}

/// Every write port's event lands in the chain, and the chain verifies.
pub async fn writes_keep_a_valid_chain(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let now = stores.clock.now();
    let mut expected = REGISTER_EVENTS;

    let member = add_user(&stores, &fx, Role::Member).await;
    expected += 1;
    let mut renamed = member.clone();
    renamed.full_name = crate::fixtures::name("Renamed Member");
    edit_user(&stores, &fx.scope, &renamed).await.unwrap();
    expected += 1;

    let mut tenant = fx.tenant.clone();
    tenant.name = TenantName::parse("Renamed Tenant").unwrap();
    update_tenant(
        &stores,
        &fx.scope,
        &tenant,
        tenant.version,
        (Actor::User(fx.owner.id), actions::TENANT_UPDATED),
    )
    .await
    .unwrap();
    expected += 1;

    let (session, first) = start_session(&stores, &fx, &member).await;
    expected += 1;
    assert!(
        stores
            .sessions
            .rotate(
                &fx.scope_of(&member),
                &first,
                &token(),
                now + Duration::days(1),
                now
            )
            .await
            .unwrap()
    );
    stores
        .sessions
        .revoke(
            &fx.scope_of(&member),
            session.id,
            now,
            session_event(&member, actions::USER_LOGGED_OUT, session.id),
        )
        .await
        .unwrap();
    expected += 1;

    let reset = token();
    stores
        .resets
        .issue(
            &fx.scope,
            member.id,
            &reset,
            now + Duration::hours(1),
            user_event(&member, actions::USER_PASSWORD_RESET_REQUESTED),
        )
        .await
        .unwrap();
    expected += 1;
    let mut with_password = stored_user(&stores, &fx, member.id).await;
    with_password.password_hash = PasswordHash::from_stored("$contract$new".to_owned());
    with_password.account_session_version += 1;
    assert!(
        stores
            .resets
            .redeem(
                &fx.scope_of(&member),
                &reset,
                &with_password,
                with_password.version,
                now,
                user_event(&member, actions::USER_PASSWORD_RESET),
            )
            .await
            .unwrap()
    );
    expected += 1;

    append(
        &stores,
        &fx.scope,
        user_event(&member, actions::USER_LOGIN_FAILED),
    )
    .await;
    expected += 1;
    delete_user(&stores, &fx.scope, &member).await.unwrap();
    expected += 1;

    let records = chain(&stores, &fx.scope).await;
    assert_eq!(
        records.len(),
        expected,
        "every write stored exactly its event"
    );
    let verification = verify(&stores, &fx.scope).await;
    assert!(verification.valid, "the chain verifies: {verification:?}");
    assert_eq!(verification.events_checked, expected as u64);
    assert_eq!(verification.first_broken_link, None);
    assert_eq!(
        verification.head,
        records.last().map(|r| r.hash.to_hex()),
        "the head is the last link's hash"
    );
}

pub async fn concurrent_appends_keep_one_chain(stores: Stores) {
    const WRITERS: usize = 16;
    let fx = register_tenant(&stores).await;
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let audit = stores.audit.clone();
        let scope = fx.scope.clone();
        tasks.push(tokio::spawn(async move {
            audit
                .append(
                    &scope,
                    custom(Actor::System, "contract.parallel", "writer", &n.to_string()),
                )
                .await
        }));
    }
    for task in tasks {
        task.await.expect("writer task").expect("concurrent append");
    }
    let records = chain(&stores, &fx.scope).await;
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    let expected: Vec<i64> = (1..=(REGISTER_EVENTS + WRITERS) as i64).collect();
    assert_eq!(
        seqs, expected,
        "concurrent appends take distinct positions without gaps"
    );
    let verification = verify(&stores, &fx.scope).await;
    assert!(verification.valid, "{verification:?}");
    assert_eq!(
        verification.events_checked,
        (REGISTER_EVENTS + WRITERS) as u64
    );
}

/// A write refused by a rule stores no event (and leaves the chain valid).
pub async fn failed_writes_leave_no_event(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let other = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let events = audit_len(&stores, &fx.scope).await;
    let now = stores.clock.now();

    // A second registration of the same tenant.
    let owner = new_user(fx.tenant.id, Role::Owner, now);
    let result = register(&stores, &fx.tenant, &owner).await;
    assert!(result.is_err(), "registering a tenant twice: {result:?}");

    let mut twin = new_user(fx.tenant.id, Role::Member, now);
    twin.email = member.email.clone();
    assert_conflict(
        insert_user(&stores, &fx.scope, &twin).await,
        Conflict::EmailTaken,
        "insert with a taken e-mail",
    );
    let mut ghost = member.clone();
    ghost.id = UserId::generate();
    assert_not_found(
        edit_user(&stores, &fx.scope, &ghost).await,
        "update of an unknown user",
    );
    assert_conflict(
        delete_user(&stores, &fx.scope, &fx.owner).await,
        Conflict::LastOwner,
        "delete of the last owner",
    );
    assert_not_found(
        stores
            .sessions
            .revoke(
                &fx.scope,
                Uuid::now_v7(),
                now,
                event(
                    Actor::System,
                    actions::USER_LOGGED_OUT,
                    "session",
                    "unknown",
                ),
            )
            .await,
        "revoke of an unknown session",
    );
    let result = stores
        .resets
        .issue(
            &fx.scope,
            UserId::generate(),
            &token(),
            now + Duration::hours(1),
            event(
                Actor::System,
                actions::USER_PASSWORD_RESET_REQUESTED,
                "user",
                "unknown",
            ),
        )
        .await;
    assert!(
        result.is_err(),
        "a reset token for an unknown user: {result:?}"
    );
    let result = stores
        .sessions
        .start(
            &fx.scope,
            &family(&other.owner, now),
            &token(),
            now + Duration::days(1),
            event(
                Actor::System,
                actions::USER_LOGIN_SUCCEEDED,
                "session",
                "foreign",
            ),
        )
        .await;
    assert!(
        result.is_err(),
        "a session for another tenant's user: {result:?}"
    );

    assert_eq!(
        audit_len(&stores, &fx.scope).await,
        events,
        "no refused write left an event"
    );
    assert_eq!(audit_len(&stores, &other.scope).await, REGISTER_EVENTS);
    let verification = verify(&stores, &fx.scope).await;
    assert!(verification.valid, "{verification:?}");
    assert_eq!(verification.events_checked, events as u64);
}

pub async fn list_is_newest_first_and_filters(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member_id = UserId::generate();
    let d1 = Uuid::new_v4().to_string();
    let d2 = Uuid::new_v4().to_string();
    let owner = Actor::User(fx.owner.id);
    let mut appended = Vec::new();
    for (actor, action, entity_type, entity_id) in [
        (owner, "contract.alpha", "document", &d1),
        (Actor::User(member_id), "contract.beta", "document", &d2),
        (owner, "contract.beta", "invoice", &d1),
        (Actor::System, "contract.alpha", "document", &d2),
    ] {
        let event = custom(actor, action, entity_type, entity_id);
        appended.push(append(&stores, &fx.scope, event).await);
    }
    let [e1, e2, e3, e4] = <[AuditRecord; 4]>::try_from(appended).unwrap();
    let (s1, s2, s3, s4) = (e1.seq, e2.seq, e3.seq, e4.seq);

    let all = stores.audit.list(&fx.scope, &query(100)).await.unwrap();
    assert_eq!(all.next_cursor, None);
    let all_seqs: Vec<i64> = all.items.iter().map(|r| r.seq).collect();
    let mut expected: Vec<i64> = (1..=s4).collect();
    expected.reverse();
    assert_eq!(all_seqs, expected, "newest first");
    assert_eq!(all.items[0], e4, "list returns the stored records");

    let filtered = [
        (
            AuditQuery {
                actor: Some(member_id),
                ..query(100)
            },
            vec![s2],
            "filter by actor",
        ),
        (
            AuditQuery {
                action: Some("contract.beta".to_owned()),
                ..query(100)
            },
            vec![s3, s2],
            "filter by action",
        ),
        (
            AuditQuery {
                entity_type: Some("document".to_owned()),
                ..query(100)
            },
            vec![s4, s2, s1],
            "filter by entity type",
        ),
        (
            AuditQuery {
                entity_id: Some(d1.clone()),
                ..query(100)
            },
            vec![s3, s1],
            "filter by entity id",
        ),
        (
            AuditQuery {
                action: Some("contract.alpha".to_owned()),
                entity_id: Some(d2.clone()),
                ..query(100)
            },
            vec![s4],
            "filters combine",
        ),
        (
            AuditQuery {
                entity_type: Some("document".to_owned()),
                before_seq: Some(s4),
                ..query(100)
            },
            vec![s2, s1],
            "before_seq continues below a position",
        ),
    ];
    for (filter, expected, what) in filtered {
        assert_eq!(list(&stores, &fx.scope, filter).await, expected, "{what}");
    }

    let first = all.items.iter().map(|r| r.created_at).min().unwrap();
    let last = all.items.iter().map(|r| r.created_at).max().unwrap();
    let micro = Duration::microseconds(1);
    let window = |from, to| AuditQuery {
        from,
        to,
        ..query(100)
    };
    assert_eq!(
        list(&stores, &fx.scope, window(Some(first), Some(last + micro))).await,
        expected,
        "from is inclusive"
    );
    assert_eq!(
        list(&stores, &fx.scope, window(Some(last + micro), None)).await,
        Vec::<i64>::new(),
        "nothing after the last event"
    );
    assert_eq!(
        list(&stores, &fx.scope, window(None, Some(first))).await,
        Vec::<i64>::new(),
        "to is exclusive"
    );
}

pub async fn list_pages_with_the_cursor(stores: Stores) {
    let fx = register_tenant(&stores).await;
    for n in 0..5 {
        let action = if n % 2 == 0 {
            "contract.even"
        } else {
            "contract.odd"
        };
        append(
            &stores,
            &fx.scope,
            custom(Actor::System, action, "step", &n.to_string()),
        )
        .await;
    }
    let total = (REGISTER_EVENTS + 5) as i64;

    async fn walk(stores: &Stores, fx: &TenantFixture, base: AuditQuery) -> Vec<Vec<i64>> {
        let mut pages = Vec::new();
        let mut query = base.clone();
        for _ in 0..20 {
            let page = stores.audit.list(&fx.scope, &query).await.unwrap();
            assert!(page.items.len() <= base.limit, "at most `limit` items");
            let seqs: Vec<i64> = page.items.iter().map(|r| r.seq).collect();
            pages.push(seqs);
            match page.next_cursor {
                Some(cursor) => {
                    assert_eq!(
                        Some(cursor),
                        page.items.last().map(|r| r.seq),
                        "the cursor is the last returned position"
                    );
                    query.before_seq = Some(cursor);
                }
                None => return pages,
            }
        }
        panic!("the cursor never ended");
    }

    let pages = walk(&stores, &fx, query(3)).await;
    assert_eq!(
        pages,
        vec![
            vec![total, total - 1, total - 2],
            vec![total - 3, total - 4, total - 5],
            vec![total - 6],
        ]
    );
    let exact = walk(&stores, &fx, query(total as usize)).await;
    assert_eq!(exact.len(), 1, "a full last page has no cursor");

    let even = walk(
        &stores,
        &fx,
        AuditQuery {
            action: Some("contract.even".to_owned()),
            ..query(2)
        },
    )
    .await;
    let even_seqs = [
        REGISTER_EVENTS as i64 + 5,
        REGISTER_EVENTS as i64 + 3,
        REGISTER_EVENTS as i64 + 1,
    ];
    assert_eq!(
        even,
        vec![vec![even_seqs[0], even_seqs[1]], vec![even_seqs[2]]],
        "the cursor pages through filtered lists"
    );
}

pub async fn tenants_have_separate_chains(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let marker = Uuid::new_v4().to_string();
    for _ in 0..3 {
        append(
            &stores,
            &a.scope,
            custom(
                Actor::User(a.owner.id),
                "contract.secret",
                "document",
                &marker,
            ),
        )
        .await;
    }
    append(
        &stores,
        &b.scope,
        custom(Actor::User(b.owner.id), "contract.own", "document", "b"),
    )
    .await;

    let a_chain = chain(&stores, &a.scope).await;
    let b_chain = chain(&stores, &b.scope).await;
    assert_eq!(
        a_chain.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=(REGISTER_EVENTS + 3) as i64).collect::<Vec<_>>()
    );
    assert_eq!(
        b_chain.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=(REGISTER_EVENTS + 1) as i64).collect::<Vec<_>>(),
        "each tenant's chain counts on its own"
    );
    assert!(b_chain.iter().all(|r| r.tenant_id == b.tenant.id));

    let b_list = stores.audit.list(&b.scope, &query(100)).await.unwrap();
    assert_eq!(b_list.items.len(), REGISTER_EVENTS + 1);
    assert!(
        b_list.items.iter().all(|r| r.tenant_id == b.tenant.id),
        "B's list holds only B's events"
    );
    let a_ids: Vec<Uuid> = a_chain.iter().map(|r| r.id).collect();
    assert!(b_list.items.iter().all(|r| !a_ids.contains(&r.id)));
    for filter in [
        AuditQuery {
            entity_id: Some(marker.clone()),
            ..query(100)
        },
        AuditQuery {
            actor: Some(a.owner.id),
            ..query(100)
        },
        AuditQuery {
            action: Some("contract.secret".to_owned()),
            ..query(100)
        },
    ] {
        assert_eq!(
            list(&stores, &b.scope, filter).await,
            Vec::<i64>::new(),
            "A's events never appear in B's list"
        );
    }

    for fx in [&a, &b] {
        let verification = verify(&stores, &fx.scope).await;
        assert!(verification.valid, "{verification:?}");
    }
    assert_eq!(
        verify(&stores, &b.scope).await.events_checked,
        (REGISTER_EVENTS + 1) as u64
    );
}

pub async fn head_is_the_newest_sealed_link(stores: Stores) {
    let unknown = TenantScope::for_tests(
        aura_shared_kernel::TenantId::generate(),
        UserId::generate(),
        Role::Owner,
    );
    let head = stores.audit.head(&unknown).await.expect("head");
    assert!(
        head.is_none_or(|(seq, _)| seq == 0),
        "a tenant without events has no head: {head:?}"
    );

    let fx = register_tenant(&stores).await;
    let last = chain(&stores, &fx.scope).await.pop().unwrap();
    assert_eq!(
        stores.audit.head(&fx.scope).await.unwrap(),
        Some((last.seq, last.hash)),
        "the head is the last link after registration"
    );
    let appended = append(
        &stores,
        &fx.scope,
        custom(Actor::User(fx.owner.id), "contract.head", "document", "h"),
    )
    .await;
    assert_eq!(
        stores.audit.head(&fx.scope).await.unwrap(),
        Some((appended.seq, appended.hash)),
        "the head follows every append"
    );
    let verification = verify(&stores, &fx.scope).await;
    assert!(verification.valid, "{verification:?}");
    assert_eq!(verification.head, Some(appended.hash.to_hex()));
}

/// Shredding clears the personal values (address, agent, personal fields) of exactly the
/// selected events of the scope's tenant, keeps their digests so the chain verifies,
/// records itself with the count, and records nothing when nothing was shredded.
pub async fn shredding_clears_only_the_selected_personal_values(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let ctx = RequestContext::new(Some("192.0.2.44".into()), Some("agent".into()), None);
    let personal = |fx: &TenantFixture, actor: Actor| {
        PendingEvent::new(
            actor,
            AuditAction::known("user.updated"),
            "user",
            fx.owner.id,
            Changes::new()
                .field("full_name", &"Erika", &"Erika M.")
                .personal(&["full_name"]),
            &ctx,
        )
    };
    let of_owner = append(&stores, &a.scope, personal(&a, Actor::User(a.owner.id))).await;
    let by_system = append(&stores, &a.scope, personal(&a, Actor::System)).await;
    let other_tenant = append(&stores, &b.scope, personal(&b, Actor::User(b.owner.id))).await;
    assert_eq!(of_owner.changes["full_name"]["after"], "Erika M.");
    assert_eq!(of_owner.ip.as_deref(), Some("192.0.2.44"));

    // Erasure of a user someone else's tenant does not know: nothing, and no event.
    let before = audit_len(&stores, &a.scope).await;
    let event = |count| {
        custom(
            Actor::System,
            &format!("contract.shredded.{count}"),
            "audit_trail",
            "x",
        )
    };
    let nobody = aura_shared_kernel::UserId::generate();
    let none = stores
        .audit
        .shred_personal(&a.scope, Shredding::OfUser(nobody), Box::new(event))
        .await
        .expect("shred");
    assert_eq!((none, audit_len(&stores, &a.scope).await), (0, before));

    // The owner's events (as actor, and the one about them by the system).
    let shredded = stores
        .audit
        .shred_personal(&a.scope, Shredding::OfUser(a.owner.id), Box::new(event))
        .await
        .expect("shred");
    assert_eq!(shredded, 2);
    let records = chain(&stores, &a.scope).await;
    for seq in [of_owner.seq, by_system.seq] {
        let record = &records[(seq - 1) as usize];
        assert_eq!(record.ip, None);
        assert_eq!(record.user_agent, None);
        assert_eq!(
            record.changes["full_name"],
            serde_json::json!({"personal": true})
        );
        assert!(record.personal.is_none() && record.personal_digest.is_some());
    }
    let last = records.last().expect("the shredding's event");
    assert_eq!(last.action.as_str(), "contract.shredded.2");
    let verification = verify(&stores, &a.scope).await;
    assert!(verification.valid, "{verification:?}");
    assert_eq!(verification.shredded, 2);

    // The other tenant's event is untouched.
    let b_chain = chain(&stores, &b.scope).await;
    assert_eq!(b_chain[(other_tenant.seq - 1) as usize], other_tenant);

    // Retention: everything sealed before a moment; again, nothing left.
    let later = stores.clock.now() + time::Duration::seconds(1);
    let shredded = stores
        .audit
        .shred_personal(&b.scope, Shredding::SealedBefore(later), Box::new(event))
        .await
        .expect("shred");
    assert_eq!(shredded, 1);
    let again = stores
        .audit
        .shred_personal(&b.scope, Shredding::SealedBefore(later), Box::new(event))
        .await
        .expect("shred");
    assert_eq!(again, 0);
    assert!(verify(&stores, &b.scope).await.valid);
}
