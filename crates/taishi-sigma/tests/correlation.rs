//! Correlation rules, written after the examples of the Sigma correlation specification (v2.1.0).

mod common;

use common::{Ev, load_with, unmapped_options};
use taishi_sigma::{CorrelationEngine, CorrelationHit, CorrelationState, Plan, Scratch};

const MIN: i64 = 60_000;

fn base(name: &str, field: &str, value: &str) -> String {
    format!(
        "title: {name}\nid: id-{name}\nname: {name}\nlogsource:\n    product: test\ndetection:\n    selection:\n        {field}: '{value}'\n    condition: selection\n"
    )
}

fn feed(
    plan: &Plan,
    engine: &CorrelationEngine<'_>,
    state: &mut CorrelationState,
    events: &[(i64, Ev)],
) -> Vec<CorrelationHit> {
    let mut s = Scratch::default();
    let mut out = Vec::new();
    for (ts, ev) in events {
        let mut hits = Vec::new();
        plan.matches_into(ev, &mut s, &mut hits);
        out.extend(engine.process(state, *ts, &hits, ev));
    }
    out
}

fn login(user: &str, ok: bool) -> Ev {
    Ev::new()
        .i("EventID", if ok { 4624 } else { 4625 })
        .s("User", user)
        .s("ComputerName", "pc1")
}

#[test]
fn event_count_groups_and_windows() {
    let corr = "title: Many failed logins\nid: c-1\nlevel: high\ncorrelation:\n    type: event_count\n    rules:\n        - failed\n    group-by:\n        - User\n    timespan: 10m\n    condition:\n        gte: 3\n";
    let (plan, report) = load_with(
        unmapped_options(),
        &[&base("failed", "EventID", "4625"), corr],
    );
    assert_eq!(report.correlations, 1);
    assert!(
        !plan.rules()[0].standalone,
        "referenced rules only feed the correlation by default"
    );
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    let evs = [
        (0, login("a", false)),
        (MIN, login("b", false)),
        (2 * MIN, login("a", false)),
        (3 * MIN, login("b", false)),
    ];
    assert!(feed(&plan, &engine, &mut st, &evs).is_empty());
    let hits = feed(&plan, &engine, &mut st, &[(4 * MIN, login("a", false))]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].group, vec![("User".to_owned(), "a".to_owned())]);
    assert_eq!(
        (
            hits[0].value,
            hits[0].events,
            hits[0].first_ms,
            hits[0].last_ms
        ),
        (3.0, 3, 0, 4 * MIN)
    );
    assert!(hits[0].standalone);
    // Spread over more than the timespan: no hit.
    let mut st = CorrelationState::default();
    let evs = [
        (0, login("c", false)),
        (6 * MIN, login("c", false)),
        (12 * MIN, login("c", false)),
    ];
    assert!(feed(&plan, &engine, &mut st, &evs).is_empty());
    assert!(engine.flush(&mut st, None).is_empty());
}

#[test]
fn value_count_counts_distinct_values() {
    let corr = "title: Spray\ncorrelation:\n    type: value_count\n    rules:\n        - failed\n    group-by:\n        - ComputerName\n    timespan: 1d\n    condition:\n        field: User\n        gte: 3\n";
    let (plan, _) = load_with(
        unmapped_options(),
        &[&base("failed", "EventID", "4625"), corr],
    );
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    let evs = [
        (0, login("a", false)),
        (1, login("a", false)),
        (2, login("b", false)),
        (3, login("b", false)),
    ];
    assert!(feed(&plan, &engine, &mut st, &evs).is_empty());
    let hits = feed(&plan, &engine, &mut st, &[(4, login("c", false))]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].value, 3.0);
}

fn recon(kind: &str) -> String {
    format!(
        "title: {kind}\nname: recon_cmd_{kind}\nlogsource:\n    product: test\ndetection:\n    selection:\n        CommandLine: '{kind}'\n    condition: selection\n"
    )
}

fn cmd(c: &str) -> Ev {
    Ev::new()
        .s("CommandLine", c)
        .s("ComputerName", "pc1")
        .s("User", "u")
}

#[test]
fn temporal_and_temporal_ordered() {
    let temporal = "title: Recon\ncorrelation:\n    type: temporal\n    rules:\n        - recon_cmd_a\n        - recon_cmd_b\n        - recon_cmd_c\n    group-by:\n        - ComputerName\n        - User\n    timespan: 5m\n";
    let ordered = "title: Recon ordered\ncorrelation:\n    type: temporal_ordered\n    rules:\n        - recon_cmd_a\n        - recon_cmd_b\n        - recon_cmd_c\n    group-by:\n        - ComputerName\n        - User\n    timespan: 5m\n";
    let (plan, _) = load_with(
        unmapped_options(),
        &[&recon("a"), &recon("b"), &recon("c"), temporal, ordered],
    );
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    let hits = feed(
        &plan,
        &engine,
        &mut st,
        &[(0, cmd("c")), (MIN, cmd("a")), (2 * MIN, cmd("b"))],
    );
    assert_eq!(hits.len(), 1, "any order fires temporal only");
    assert_eq!(plan.correlations()[hits[0].correlation].meta.title, "Recon");
    let hits = feed(&plan, &engine, &mut st, &[(3 * MIN, cmd("c"))]);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        plan.correlations()[hits[0].correlation].meta.title,
        "Recon ordered"
    );
    // Too far apart.
    let mut st = CorrelationState::default();
    assert!(
        feed(
            &plan,
            &engine,
            &mut st,
            &[(0, cmd("a")), (MIN, cmd("b")), (7 * MIN, cmd("c"))]
        )
        .is_empty()
    );
}

#[test]
fn failed_logins_followed_by_successful_login_chain() {
    // The specification's complete example, as one multi-document text.
    let text = "title: Correlation - Multiple Failed Logins Followed by Successful Login\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\nstatus: experimental\nauthor: Florian Roth (Nextron Systems)\ncorrelation:\n    type: temporal_ordered\n    rules:\n        - multiple_failed_login\n        - successful_login\n    group-by:\n        - User\n    timespan: 10m\nlevel: high\n---\ntitle: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\ncorrelation:\n    type: event_count\n    rules:\n        - failed_login\n    group-by:\n        - User\n    timespan: 10m\n    condition:\n        gte: 10\n---\ntitle: Single failed login\nid: 53ba33fd-3a50-4468-a5ef-c583635cfa92\nname: failed_login\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 529\n            - 4625\n    condition: selection\n---\ntitle: Successful login\nid: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8\nname: successful_login\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 528\n            - 4624\n    condition: selection\n";
    let (plan, report) = load_with(unmapped_options(), &[text]);
    assert_eq!((report.rules, report.correlations), (2, 2));
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    let mut evs: Vec<(i64, Ev)> = (0..10).map(|i| (i * 1000, login("eve", false))).collect();
    evs.push((20_000, login("eve", true)));
    let hits = feed(&plan, &engine, &mut st, &evs);
    let titles: Vec<(&str, bool)> = hits
        .iter()
        .map(|h| {
            (
                plan.correlations()[h.correlation].meta.title.as_str(),
                h.standalone,
            )
        })
        .collect();
    assert_eq!(
        titles,
        vec![
            ("Multiple failed logons", false),
            (
                "Correlation - Multiple Failed Logins Followed by Successful Login",
                true
            )
        ]
    );
    // A success without the failures first does not fire.
    let mut st = CorrelationState::default();
    let mut evs = vec![(0, login("bob", true))];
    evs.extend((1..11).map(|i| (i * 1000, login("bob", false))));
    let hits = feed(&plan, &engine, &mut st, &evs);
    assert!(hits.iter().all(|h| !h.standalone));
}

#[test]
fn aliases_group_on_differently_named_fields() {
    let e500 = "title: e\nname: internal_error\nlogsource:\n    product: test\ndetection:\n    selection:\n        http.response.status_code: 500\n    condition: selection\n";
    let conn = "title: n\nname: new_network_connection\nlogsource:\n    product: test\ndetection:\n    selection:\n        event.category: network\n        event.type: connection\n    condition: selection\n";
    let corr = "title: alias\ncorrelation:\n    type: temporal\n    rules:\n        - internal_error\n        - new_network_connection\n    group-by:\n        - internal_ip\n        - remote_ip\n    timespan: 10s\n    aliases:\n        internal_ip:\n            internal_error: destination.ip\n            new_network_connection: source.ip\n        remote_ip:\n            internal_error: source.ip\n            new_network_connection: destination.ip\n";
    let (plan, _) = load_with(unmapped_options(), &[e500, conn, corr]);
    let engine = CorrelationEngine::new(&plan, 0);
    let err = Ev::new()
        .i("http.response.status_code", 500)
        .s("destination.ip", "10.0.0.1")
        .s("source.ip", "1.2.3.4");
    let ok = Ev::new()
        .s("event.category", "network")
        .s("event.type", "connection")
        .s("source.ip", "10.0.0.1")
        .s("destination.ip", "1.2.3.4");
    let other = Ev::new()
        .s("event.category", "network")
        .s("event.type", "connection")
        .s("source.ip", "10.0.0.2")
        .s("destination.ip", "1.2.3.4");
    let mut st = CorrelationState::default();
    assert!(feed(&plan, &engine, &mut st, &[(0, err.clone()), (1000, other)]).is_empty());
    let hits = feed(&plan, &engine, &mut st, &[(2000, ok)]);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].group,
        vec![
            ("internal_ip".into(), "10.0.0.1".into()),
            ("remote_ip".into(), "1.2.3.4".into())
        ]
    );
}

fn bytes(ip: &str, n: i64) -> Ev {
    Ev::new()
        .s("Kind", "web")
        .s("SourceIP", ip)
        .s("User", "u")
        .i("bytes_sent", n)
}

#[test]
fn value_sum_avg_median_percentile() {
    let web = base("website_access", "Kind", "web");
    let sum = "title: sum\ncorrelation:\n    type: value_sum\n    rules: [website_access]\n    group-by: [SourceIP, User]\n    timespan: 1h\n    condition:\n        field: bytes_sent\n        gt: 1000000\n";
    let (plan, _) = load_with(unmapped_options(), &[&web, sum]);
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    assert!(
        feed(
            &plan,
            &engine,
            &mut st,
            &[
                (0, bytes("1.1.1.1", 600_000)),
                (MIN, bytes("2.2.2.2", 600_000))
            ]
        )
        .is_empty()
    );
    let hits = feed(
        &plan,
        &engine,
        &mut st,
        &[(2 * MIN, bytes("1.1.1.1", 500_000))],
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].value, 1_100_000.0);

    // Averages are decided when the window closes.
    let avg = "title: avg\ncorrelation:\n    type: value_avg\n    rules: [website_access]\n    group-by: [SourceIP]\n    timespan: 1h\n    condition:\n        field: bytes_sent\n        gt: 500\n";
    let (plan, _) = load_with(unmapped_options(), &[&web, avg]);
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    assert!(
        feed(
            &plan,
            &engine,
            &mut st,
            &[(0, bytes("1.1.1.1", 400)), (MIN, bytes("1.1.1.1", 800))]
        )
        .is_empty()
    );
    let hits = engine.flush(&mut st, None);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].value, 600.0);
    assert!(st.groups.is_empty());

    let median = "title: med\ncorrelation:\n    type: value_median\n    rules: [website_access]\n    group-by: [SourceIP]\n    timespan: 1h\n    condition:\n        field: bytes_sent\n        lt: 100\n";
    let (plan, _) = load_with(unmapped_options(), &[&web, median]);
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    feed(
        &plan,
        &engine,
        &mut st,
        &[
            (0, bytes("1.1.1.1", 10)),
            (1, bytes("1.1.1.1", 50)),
            (2, bytes("1.1.1.1", 9000)),
        ],
    );
    // The window closes once the stream moves past it.
    let hits = feed(
        &plan,
        &engine,
        &mut st,
        &[(2 * 60 * MIN, bytes("9.9.9.9", 1))],
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].value, 50.0);

    let proc = base("process_creation", "Kind", "proc");
    let pct = "title: rare\ncorrelation:\n    type: value_percentile\n    rules: [process_creation]\n    group-by: [ComputerName]\n    timespan: 24h\n    condition:\n        field: Image\n        lte: 10\n";
    let (plan, _) = load_with(unmapped_options(), &[&proc, pct]);
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    let mut evs: Vec<(i64, Ev)> = (0..19)
        .map(|i| {
            (
                i,
                Ev::new()
                    .s("Kind", "proc")
                    .s("ComputerName", "pc")
                    .s("Image", "svchost.exe"),
            )
        })
        .collect();
    evs.push((
        20,
        Ev::new()
            .s("Kind", "proc")
            .s("ComputerName", "pc")
            .s("Image", "evil.exe"),
    ));
    feed(&plan, &engine, &mut st, &evs);
    let hits = engine.flush(&mut st, None);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].value, 5.0, "evil.exe is 1 of 20 events: 5 %");
}

#[test]
fn upper_bounds_are_decided_when_the_window_closes() {
    let corr = "title: few\ncorrelation:\n    type: event_count\n    rules: [failed]\n    group-by: [User]\n    timespan: 10m\n    condition:\n        lt: 3\n";
    let (plan, _) = load_with(
        unmapped_options(),
        &[&base("failed", "EventID", "4625"), corr],
    );
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    assert!(
        feed(
            &plan,
            &engine,
            &mut st,
            &[(0, login("a", false)), (MIN, login("a", false))]
        )
        .is_empty()
    );
    let hits = feed(&plan, &engine, &mut st, &[(11 * MIN, login("z", false))]);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].value, hits[0].group[0].1.as_str()), (2.0, "a"));
}

#[test]
fn out_of_order_within_lateness_and_late_events() {
    let corr = "title: burst\ncorrelation:\n    type: event_count\n    rules: [failed]\n    group-by: [User]\n    timespan: 1m\n    condition:\n        gte: 3\n";
    let (plan, _) = load_with(
        unmapped_options(),
        &[&base("failed", "EventID", "4625"), corr],
    );
    let engine = CorrelationEngine::new(&plan, 5 * MIN);
    let mut st = CorrelationState::default();
    let evs = [
        (10 * MIN, login("a", false)),
        (9 * MIN, login("a", false)),
        (20 * MIN, login("b", false)),
    ];
    assert!(feed(&plan, &engine, &mut st, &evs).is_empty());
    // 9m30s is inside the lateness bound (watermark 15m)? No: it is older, so it is late.
    assert!(
        feed(
            &plan,
            &engine,
            &mut st,
            &[(9 * MIN + 30_000, login("a", false))]
        )
        .is_empty()
    );
    assert_eq!(st.late_events, 1);
    // Within the bound, out of order: fires.
    let mut st = CorrelationState::default();
    let evs = [
        (10 * MIN, login("a", false)),
        (12 * MIN, login("b", false)),
        (9 * MIN + 30_000, login("a", false)),
    ];
    assert!(feed(&plan, &engine, &mut st, &evs).is_empty());
    // The state is plain data: it survives a round trip through JSON between two events.
    let json = serde_json::to_string(&st).unwrap();
    let mut st: CorrelationState = serde_json::from_str(&json).unwrap();
    let hits = feed(
        &plan,
        &engine,
        &mut st,
        &[(9 * MIN + 45_000, login("a", false))],
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].first_ms, hits[0].last_ms),
        (9 * MIN + 30_000, 10 * MIN)
    );
}

#[test]
fn generate_keeps_referenced_rules_standalone_and_bad_references_are_reported() {
    let corr = "title: g\ncorrelation:\n    type: event_count\n    rules: [failed]\n    group-by: [User]\n    timespan: 1m\n    condition:\n        gte: 3\n    generate: true\n";
    let (plan, _) = load_with(
        unmapped_options(),
        &[&base("failed", "EventID", "4625"), corr],
    );
    assert!(plan.rules()[0].standalone);
    let bad = "title: b\nid: corr-bad\ncorrelation:\n    type: event_count\n    rules: [nope]\n    group-by: [User]\n    timespan: 1m\n    condition:\n        gte: 3\n";
    let errors = common::load_errors(unmapped_options(), bad);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("corr-bad") && e.contains("nope")),
        "{errors:?}"
    );
    let no_cond = "title: b\ncorrelation:\n    type: event_count\n    rules: [x]\n    group-by: [User]\n    timespan: 1m\n";
    assert!(common::load_errors(unmapped_options(), no_cond)[0].contains("condition"));
    let bad_span =
        "title: b\ncorrelation:\n    type: temporal\n    rules: [x]\n    timespan: soon\n";
    assert!(common::load_errors(unmapped_options(), bad_span)[0].contains("timespan"));
    let cycle = "title: c1\nname: c1\ncorrelation:\n    type: event_count\n    rules: [c2]\n    timespan: 1m\n    condition: {gte: 1}\n---\ntitle: c2\nname: c2\ncorrelation:\n    type: event_count\n    rules: [c1]\n    timespan: 1m\n    condition: {gte: 1}\n";
    assert_eq!(common::load_errors(unmapped_options(), cycle).len(), 2);
}

#[test]
fn temporal_with_a_boolean_condition() {
    // Sigma 2.2 draft (SEP #198): which referenced rules must (not) occur in the window.
    let corr = "title: Recon without admin\ncorrelation:\n    type: temporal\n    rules:\n        - recon_cmd_a\n        - recon_cmd_b\n        - recon_cmd_c\n    group-by:\n        - ComputerName\n    timespan: 5m\n    condition: recon_cmd_a and recon_cmd_b and not recon_cmd_c\n";
    let (plan, _) = load_with(
        unmapped_options(),
        &[&recon("a"), &recon("b"), &recon("c"), corr],
    );
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    assert!(
        feed(&plan, &engine, &mut st, &[(0, cmd("a")), (MIN, cmd("b"))]).is_empty(),
        "decided when the window closes"
    );
    let hits = feed(
        &plan,
        &engine,
        &mut st,
        &[(
            20 * MIN,
            Ev::new().s("CommandLine", "x").s("ComputerName", "pc1"),
        )],
    );
    assert!(
        hits.is_empty(),
        "the watermark only moves with events that feed a correlation"
    );
    let hits = engine.flush(&mut st, None);
    assert_eq!(hits.len(), 1);
    let mut st = CorrelationState::default();
    feed(
        &plan,
        &engine,
        &mut st,
        &[(0, cmd("a")), (MIN, cmd("c")), (2 * MIN, cmd("b"))],
    );
    assert!(
        engine.flush(&mut st, None).is_empty(),
        "recon_cmd_c in the window vetoes it"
    );
    let bad = corr.replace("not recon_cmd_c", "not recon_cmd_x");
    assert!(
        common::load_errors(unmapped_options(), &bad)
            .iter()
            .any(|e| e.contains("recon_cmd_x"))
    );
}

#[test]
fn sigma_v1_aggregations_are_rewritten_into_correlations() {
    let count_by = "title: Brute force\nid: v1-1\nlevel: high\nlogsource:\n    product: test\ndetection:\n    selection:\n        EventID: 4625\n    filter:\n        User: 'svc'\n    timeframe: 10m\n    condition: selection and not filter | count(User) by ComputerName > 2\n";
    let (plan, report) = load_with(unmapped_options(), &[count_by]);
    assert_eq!((report.rules, report.correlations), (1, 1));
    assert!(!plan.rules()[0].standalone);
    assert_eq!(plan.correlations()[0].meta.id.as_deref(), Some("v1-1"));
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    let evs = [
        (0, login("a", false)),
        (MIN, login("b", false)),
        (2 * MIN, login("svc", false)),
        (3 * MIN, login("a", false)),
    ];
    assert!(feed(&plan, &engine, &mut st, &evs).is_empty());
    let hits = feed(&plan, &engine, &mut st, &[(4 * MIN, login("c", false))]);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].value, hits[0].group[0].1.as_str()), (3.0, "pc1"));

    let near = "title: Near\nid: v1-2\nlogsource:\n    product: test\ndetection:\n    a:\n        CommandLine: 'a'\n    b:\n        CommandLine: 'b'\n    c:\n        CommandLine: 'c'\n    timeframe: 5m\n    condition: a | near b and not c\n";
    let (plan, report) = load_with(unmapped_options(), &[near]);
    assert_eq!((report.rules, report.correlations), (3, 1));
    let engine = CorrelationEngine::new(&plan, 0);
    let mut st = CorrelationState::default();
    feed(&plan, &engine, &mut st, &[(0, cmd("a")), (MIN, cmd("b"))]);
    assert_eq!(engine.flush(&mut st, None).len(), 1);

    let unknown = count_by.replace("count(User)", "max(User)");
    assert!(common::load_errors(unmapped_options(), &unknown)[0].contains("max(User)"));
}
