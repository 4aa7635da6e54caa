//! Tests of the notice state machine, numbering and incident levels.

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn draft() -> Notice {
    Notice {
        id: Uuid::from_u128(1),
        number: "2026-0042".parse().unwrap(),
        org: OrgId(9),
        findings: vec![Uuid::from_u128(5)],
        title: "t".into(),
        severity: Severity::High,
        level: IncidentLevel::General,
        required_actions: vec![],
        state: NoticeState::Draft,
        created_by: Actor::user("ana"),
        created_at: ts("2026-11-02T01:00:00Z"),
        issued_at: None,
        ack_due: None,
        rectify_due: None,
        acknowledged_at: None,
        submitted_at: None,
        closed_at: None,
        returns: 0,
        escalations: vec![],
        history: vec![],
    }
}

fn analyst() -> LoopActor {
    LoopActor::user("ana", Role::Analyst)
}
fn officer() -> LoopActor {
    LoopActor::user("off", Role::Officer)
}

#[test]
fn number_round_trip() {
    let n: NoticeNumber = "2026-0042".parse().unwrap();
    assert_eq!(
        (n.year, n.seq, n.to_string()),
        (2026, 42, "2026-0042".to_owned())
    );
    assert_eq!(
        NoticeNumber {
            year: 2026,
            seq: 12345
        }
        .to_string(),
        "2026-12345"
    );
    for bad in ["2026", "26-0001", "2026-0000", "2026-12", "abcd-0001"] {
        assert!(bad.parse::<NoticeNumber>().is_err(), "{bad}");
    }
    assert_eq!(serde_json::to_string(&n).unwrap(), "\"2026-0042\"");
}

#[test]
fn full_path_with_return_and_audit() {
    let mut n = draft();
    let t = ts("2026-11-02T02:00:00Z");
    let issue = NoticeAction::Issue {
        ack_due: ts("2026-11-03T02:00:00Z"),
        rectify_due: Some(ts("2026-11-16T02:00:00Z")),
    };
    assert!(matches!(
        n.apply(&officer(), true, issue.clone(), t, ""),
        Err(NoticeError::Forbidden { .. })
    ));
    n.apply(&analyst(), true, issue, t, "").unwrap();
    assert!(matches!(
        n.apply(&officer(), false, NoticeAction::Acknowledge, t, ""),
        Err(NoticeError::Forbidden { .. })
    ));
    n.apply(&officer(), true, NoticeAction::Acknowledge, t, "got it")
        .unwrap();
    let sub = NoticeAction::SubmitRectification {
        rectification: Uuid::from_u128(3),
    };
    n.apply(&officer(), true, sub.clone(), t, "patched")
        .unwrap();
    assert!(matches!(
        n.apply(&officer(), true, NoticeAction::Close, t, ""),
        Err(NoticeError::Forbidden { .. })
    ));
    n.apply(&analyst(), true, NoticeAction::StartVerification, t, "")
        .unwrap();
    assert_eq!(
        n.apply(
            &analyst(),
            true,
            NoticeAction::Return { reason: " ".into() },
            t,
            ""
        ),
        Err(NoticeError::ReasonRequired { action: "return" })
    );
    n.apply(
        &analyst(),
        true,
        NoticeAction::Return {
            reason: "still expired".into(),
        },
        t,
        "",
    )
    .unwrap();
    assert_eq!((n.state, n.returns), (NoticeState::Returned, 1));
    n.apply(&officer(), true, sub, t, "really patched").unwrap();
    n.apply(
        &analyst(),
        true,
        NoticeAction::Close,
        ts("2026-11-10T00:00:00Z"),
        "",
    )
    .unwrap();
    assert_eq!(n.state, NoticeState::Closed);
    assert_eq!(n.closed_on_time(), Some(true));
    assert!(matches!(
        n.apply(
            &analyst(),
            true,
            NoticeAction::Cancel { reason: "x".into() },
            t,
            ""
        ),
        Err(NoticeError::InvalidState {
            state: "closed",
            ..
        })
    ));
    let actions: Vec<_> = n.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "issue",
            "acknowledge",
            "submit_rectification",
            "start_verification",
            "return",
            "submit_rectification",
            "close"
        ]
    );
    assert_eq!(n.history[4].comment, "still expired");
}

#[test]
fn viewer_and_states() {
    let mut n = draft();
    let viewer = LoopActor::user("v", Role::Viewer);
    assert!(
        n.apply(
            &viewer,
            true,
            NoticeAction::Acknowledge,
            ts("2026-11-02T02:00:00Z"),
            ""
        )
        .is_err()
    );
    assert!(matches!(
        n.apply(
            &analyst(),
            true,
            NoticeAction::Acknowledge,
            ts("2026-11-02T02:00:00Z"),
            ""
        ),
        Err(NoticeError::InvalidState { state: "draft", .. })
    ));
    n.apply(
        &analyst(),
        true,
        NoticeAction::Cancel {
            reason: "dup".into(),
        },
        ts("2026-11-02T02:00:00Z"),
        "",
    )
    .unwrap();
    assert!(n.state.is_final() && !n.is_overdue(ts("2030-01-01T00:00:00Z")));
    assert_eq!(
        NoticeState::parse("rectification_submitted"),
        Some(NoticeState::RectificationSubmitted)
    );
    assert_eq!("较大".parse::<IncidentLevel>(), Ok(IncidentLevel::Large));
}

fn issued(due: &str) -> Notice {
    let mut n = draft();
    let issue = NoticeAction::Issue {
        ack_due: ts("2026-11-03T02:00:00Z"),
        rectify_due: Some(ts(due)),
    };
    n.apply(&analyst(), true, issue, ts("2026-11-02T02:00:00Z"), "")
        .unwrap();
    n
}

#[test]
fn extension_request_then_grant_moves_the_deadline_with_history() {
    let mut n = issued("2026-11-16T02:00:00Z");
    let t = ts("2026-11-10T00:00:00Z");
    let ask = |until: &str, reason: &str| NoticeAction::RequestExtension {
        until: ts(until),
        reason: reason.into(),
    };
    // Out of scope, a viewer, no reason, a date not later than the deadline: all refused.
    assert!(matches!(
        n.apply(&officer(), false, ask("2026-11-30T02:00:00Z", "x"), t, ""),
        Err(NoticeError::Forbidden { .. })
    ));
    let viewer = LoopActor::user("v", Role::Viewer);
    assert!(matches!(
        n.apply(&viewer, true, ask("2026-11-30T02:00:00Z", "x"), t, ""),
        Err(NoticeError::Forbidden { .. })
    ));
    assert!(matches!(
        n.apply(&officer(), true, ask("2026-11-30T02:00:00Z", " "), t, ""),
        Err(NoticeError::ReasonRequired { .. })
    ));
    assert!(matches!(
        n.apply(&officer(), true, ask("2026-11-15T02:00:00Z", "x"), t, ""),
        Err(NoticeError::BadDeadline { .. })
    ));
    // Nothing to grant yet.
    let grant = NoticeAction::GrantExtension {
        until: ts("2026-11-23T02:00:00Z"),
    };
    assert!(matches!(
        n.apply(&analyst(), true, grant.clone(), t, ""),
        Err(NoticeError::ExtensionConflict { .. })
    ));
    n.apply(
        &officer(),
        true,
        ask("2026-11-30T02:00:00Z", "vendor patch due 11-25"),
        t,
        "",
    )
    .unwrap();
    assert_eq!(n.state, NoticeState::Issued);
    assert_eq!(n.rectify_due, Some(ts("2026-11-16T02:00:00Z")));
    assert!(n.pending_extension().is_some());
    assert!(matches!(
        n.apply(
            &officer(),
            true,
            ask("2026-12-01T02:00:00Z", "again"),
            t,
            ""
        ),
        Err(NoticeError::ExtensionConflict { .. })
    ));
    // Only analysts decide.
    assert!(matches!(
        n.apply(&officer(), true, grant.clone(), t, ""),
        Err(NoticeError::Forbidden { .. })
    ));
    n.apply(&analyst(), true, grant, t, "one week").unwrap();
    assert_eq!(n.rectify_due, Some(ts("2026-11-23T02:00:00Z")));
    assert!(n.pending_extension().is_none());
    let last = n.history.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.to_string(),
            last.comment.as_str()
        ),
        ("grant_extension", "user:ana".to_owned(), "one week")
    );
    assert_eq!(
        last.deadline,
        Some(DeadlineChange {
            from: Some(ts("2026-11-16T02:00:00Z")),
            to: ts("2026-11-23T02:00:00Z")
        })
    );
    assert_eq!(n.deadline_epoch(), n.history.len());
    // The change survives the JSON document.
    let back: Notice = serde_json::from_str(&serde_json::to_string(&n).unwrap()).unwrap();
    assert_eq!(back, n);
}

#[test]
fn extension_refusal_and_direct_extension() {
    let mut n = issued("2026-11-16T02:00:00Z");
    let t = ts("2026-11-10T00:00:00Z");
    n.apply(
        &officer(),
        true,
        NoticeAction::RequestExtension {
            until: ts("2026-12-30T02:00:00Z"),
            reason: "budget".into(),
        },
        t,
        "",
    )
    .unwrap();
    assert!(matches!(
        n.apply(
            &analyst(),
            true,
            NoticeAction::RefuseExtension { reason: "".into() },
            t,
            ""
        ),
        Err(NoticeError::ReasonRequired { .. })
    ));
    n.apply(
        &analyst(),
        true,
        NoticeAction::RefuseExtension {
            reason: "critical finding".into(),
        },
        t,
        "",
    )
    .unwrap();
    assert_eq!(n.rectify_due, Some(ts("2026-11-16T02:00:00Z")));
    assert!(n.pending_extension().is_none());
    assert_eq!(n.deadline_epoch(), 0);
    // Officers cannot extend directly; analysts can, with a reason, and not into the past.
    let extend = |until: &str| NoticeAction::Extend {
        until: ts(until),
        reason: "holiday".into(),
    };
    assert!(matches!(
        n.apply(&officer(), true, extend("2026-11-20T02:00:00Z"), t, ""),
        Err(NoticeError::Forbidden { .. })
    ));
    let late = ts("2026-11-25T00:00:00Z");
    assert!(matches!(
        n.apply(&analyst(), true, extend("2026-11-20T02:00:00Z"), late, ""),
        Err(NoticeError::BadDeadline { .. })
    ));
    n.apply(&analyst(), true, extend("2026-11-20T02:00:00Z"), t, "")
        .unwrap();
    assert_eq!(n.rectify_due, Some(ts("2026-11-20T02:00:00Z")));
    // Closed notices are not extended.
    n.apply(
        &analyst(),
        true,
        NoticeAction::Cancel { reason: "x".into() },
        t,
        "",
    )
    .unwrap();
    assert!(matches!(
        n.apply(&analyst(), true, extend("2026-11-29T02:00:00Z"), t, ""),
        Err(NoticeError::InvalidState { .. })
    ));
}
