//! Condition forms and detection structures of the Sigma rules specification (v2.1.0).

mod common;

use common::{Ev, hit, load_errors, load_with, rule, unmapped_options};
use taishi_sigma::{Level, LoadOptions, Selection, Status};

const TWO: &str = "    a:\n        A: 'x'\n    b:\n        B: 'y'\n";

#[test]
fn and_or_not_and_precedence() {
    let p = rule(&format!(
        "{TWO}    c:\n        C: 'z'\n    condition: a or b and not c"
    ));
    assert!(
        hit(&p, &Ev::new().s("A", "x").s("C", "z")),
        "or binds loosest"
    );
    assert!(hit(&p, &Ev::new().s("B", "y")));
    assert!(!hit(&p, &Ev::new().s("B", "y").s("C", "z")));
    let p = rule(&format!(
        "{TWO}    c:\n        C: 'z'\n    condition: (a or b) and not c"
    ));
    assert!(!hit(&p, &Ev::new().s("A", "x").s("C", "z")));
    assert!(hit(&p, &Ev::new().s("A", "x")));
}

#[test]
fn x_of_patterns_and_them() {
    let sels = "    selection_1:\n        A: 'x'\n    selection_2:\n        B: 'y'\n    filter_main:\n        C: 'z'\n    _hidden:\n        D: 'w'\n";
    let p = rule(&format!(
        "{sels}    condition: 1 of selection_* and not 1 of filter*"
    ));
    assert!(hit(&p, &Ev::new().s("B", "y")));
    assert!(!hit(&p, &Ev::new().s("B", "y").s("C", "z")));
    let p = rule(&format!("{sels}    condition: all of selection_*"));
    assert!(!hit(&p, &Ev::new().s("B", "y")));
    assert!(hit(&p, &Ev::new().s("A", "x").s("B", "y")));
    let p = rule(&format!("{sels}    condition: 1 of them"));
    assert!(hit(&p, &Ev::new().s("C", "z")));
    assert!(
        !hit(&p, &Ev::new().s("D", "w")),
        "`them` skips identifiers starting with _"
    );
    let p = rule(&format!("{sels}    condition: all of them"));
    assert!(hit(&p, &Ev::new().s("A", "x").s("B", "y").s("C", "z")));
    assert!(!hit(&p, &Ev::new().s("A", "x").s("B", "y")));
    let p = rule(&format!("{sels}    condition: 2 of them"));
    assert!(hit(&p, &Ev::new().s("A", "x").s("C", "z")));
    assert!(!hit(&p, &Ev::new().s("A", "x")));
    // `not` binds looser than `x of`.
    let p = rule(&format!("{sels}    condition: not 1 of selection_*"));
    assert!(hit(&p, &Ev::new().s("C", "z")));
    assert!(!hit(&p, &Ev::new().s("A", "x")));
}

#[test]
fn condition_lists_are_or() {
    let p = rule(&format!("{TWO}    condition:\n        - a\n        - b"));
    assert!(hit(&p, &Ev::new().s("B", "y")));
    assert!(hit(&p, &Ev::new().s("A", "x")));
    assert!(!hit(&p, &Ev::new().s("C", "y")));
}

#[test]
fn maps_are_and_lists_of_maps_are_or() {
    let p = rule(
        "    selection:\n        - Image|endswith: '\\example.exe'\n        - Description|contains: 'Test executable'\n    condition: selection",
    );
    assert!(hit(&p, &Ev::new().s("Image", "c:\\example.exe")));
    assert!(hit(&p, &Ev::new().s("Description", "a Test executable b")));
    assert!(!hit(&p, &Ev::new().s("Image", "c:\\other.exe")));
    let p = rule(
        "    selection:\n        EventLog: Security\n        EventID: 4769\n        TicketOptions: '0x40810000'\n        TicketEncryption: '0x17'\n    condition: selection",
    );
    let ev = Ev::new()
        .s("EventLog", "Security")
        .i("EventID", 4769)
        .s("TicketOptions", "0x40810000")
        .s("TicketEncryption", "0x17");
    assert!(hit(&p, &ev));
    assert!(!hit(
        &p,
        &Ev::new()
            .s("EventLog", "Security")
            .i("EventID", 4769)
            .s("TicketOptions", "0x40810000")
    ));
}

#[test]
fn keywords_search_every_value() {
    let p = rule(
        "    mimikatz_keywords:\n        - 'event::clear'\n        - 'event::drop'\n    condition: mimikatz_keywords",
    );
    assert!(hit(
        &p,
        &Ev::new()
            .s("CommandLine", "mimikatz EVENT::DROP exit")
            .i("EventID", 1)
    ));
    assert!(!hit(&p, &Ev::new().s("CommandLine", "mimikatz")));
    let p = rule(
        "    keywords_cmdlet:\n        '|all':\n            - 'OabVirtualDirectory'\n            - ' -ExternalUrl '\n    condition: keywords_cmdlet",
    );
    assert!(hit(
        &p,
        &Ev::new()
            .s("A", "Set-OabVirtualDirectory")
            .s("B", "x -ExternalUrl y")
    ));
    assert!(!hit(&p, &Ev::new().s("A", "Set-OabVirtualDirectory")));
    // Keywords mixed with a field selection.
    let p = rule(
        "    keywords:\n        - 'wget '\n    sel:\n        EventID: 1\n    condition: keywords and sel",
    );
    assert!(hit(
        &p,
        &Ev::new().i("EventID", 1).s("Cmd", "wget http://x")
    ));
    assert!(!hit(
        &p,
        &Ev::new().i("EventID", 2).s("Cmd", "wget http://x")
    ));
}

#[test]
fn multi_valued_fields_match_any_value() {
    let p = rule(
        "    sel:\n        Tag|contains|all:\n            - 'red'\n            - 'blue'\n    condition: sel",
    );
    assert!(hit(
        &p,
        &Ev::new().s("Tag", "dark red").s("Tag", "light blue")
    ));
    assert!(!hit(&p, &Ev::new().s("Tag", "dark red")));
}

#[test]
fn condition_errors_are_located() {
    let base =
        "title: t\nid: r-1\nlogsource:\n    product: test\ndetection:\n    sel:\n        A: x\n";
    let e = load_errors(
        unmapped_options(),
        &format!("{base}    condition: sel and missing\n"),
    );
    assert!(
        e[0].contains("r-1") && e[0].contains("detection.condition") && e[0].contains("missing"),
        "{e:?}"
    );
    let e = load_errors(
        unmapped_options(),
        &format!("{base}    condition: 1 of nothing*\n"),
    );
    assert!(e[0].contains("nothing*"), "{e:?}");
    let e = load_errors(
        unmapped_options(),
        &format!("{base}    condition: sel | max(Size) by User > 3\n"),
    );
    assert!(
        e[0].contains("unsupported") && e[0].contains("no v2 correlation"),
        "{e:?}"
    );
    let e = load_errors(
        unmapped_options(),
        &format!("{base}    condition: sel and near x\n"),
    );
    assert!(e[0].contains("temporal correlation"), "{e:?}");
    let e = load_errors(
        unmapped_options(),
        &format!("{base}    condition: sel and (sel\n"),
    );
    assert!(e[0].contains("parenthesis"), "{e:?}");
    let e = load_errors(unmapped_options(), base);
    assert!(e[0].contains("missing condition"), "{e:?}");
    let e = load_errors(
        unmapped_options(),
        "title: t\nlogsource: {product: test}\ndetection:\n    sel:\n        A: [x\n",
    );
    assert!(
        e[0].contains("invalid YAML") && e[0].contains("bad.yml"),
        "{e:?}"
    );
    let e = load_errors(
        unmapped_options(),
        "title: t\nlevel: extreme\nlogsource: {product: test}\ndetection: {sel: {A: x}, condition: sel}\n",
    );
    assert!(e[0].contains("level") && e[0].contains("extreme"), "{e:?}");
}

#[test]
fn metadata_and_selection_by_level_and_status() {
    let mk = |id: &str, level: &str, status: &str| {
        format!(
            "title: Rule {id}\nid: {id}\nstatus: {status}\nlevel: {level}\nauthor: Ann, Bob\ntags:\n    - attack.t1059\nreferences:\n    - https://example.org\nfalsepositives:\n    - admins\nlogsource:\n    product: test\ndetection:\n    sel:\n        A: x\n    condition: sel\n"
        )
    };
    let texts = [
        mk("r1", "high", "stable"),
        mk("r2", "low", "test"),
        mk("r3", "critical", "experimental"),
    ];
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (plan, report) = load_with(unmapped_options(), &refs);
    assert_eq!(report.rules, 3);
    let m = &plan.rules()[0].meta;
    assert_eq!(
        (m.id.as_deref(), m.level, m.status),
        (Some("r1"), Some(Level::High), Some(Status::Stable))
    );
    assert_eq!(m.author.as_deref(), Some("Ann, Bob"));
    assert_eq!(m.tags, vec!["attack.t1059"]);
    assert_eq!(m.references, vec!["https://example.org"]);
    assert_eq!(m.falsepositives, vec!["admins"]);
    assert_eq!(m.logsource.product.as_deref(), Some("test"));
    let opts = LoadOptions {
        selection: Selection {
            min_level: Some(Level::High),
            statuses: vec![Status::Stable, Status::Experimental],
        },
        ..unmapped_options()
    };
    let (plan, report) = load_with(opts, &refs);
    assert_eq!(report.deselected, 1);
    let ids: Vec<_> = plan
        .rules()
        .iter()
        .map(|r| r.meta.id.clone().unwrap_or_default())
        .collect();
    assert_eq!(ids, vec!["r1", "r3"]);
}

#[test]
fn sigma_v1_rule_collections_are_expanded() {
    let text = "action: global\ntitle: Collection\nid: col-1\nlevel: high\ndetection:\n    selection:\n        CommandLine|contains: 'evil'\n    condition: selection\n---\nlogsource:\n    product: test\n    service: one\n---\nlogsource:\n    product: test\n    service: two\ndetection:\n    selection:\n        Image|endswith: '\\x.exe'\n";
    let (plan, report) = load_with(unmapped_options(), &[text]);
    assert_eq!(report.rules, 2);
    let ids: Vec<_> = plan
        .rules()
        .iter()
        .map(|r| r.meta.id.clone().unwrap_or_default())
        .collect();
    assert_eq!(ids, vec!["col-1", "col-1#3"]);
    assert_eq!(
        plan.rules()[1].meta.logsource.service.as_deref(),
        Some("two")
    );
    assert!(hit(&plan, &Ev::new().s("CommandLine", "an evil one")));
    let ev = Ev::new()
        .s("CommandLine", "an evil one")
        .s("Image", "c:\\x.exe");
    let mut s = taishi_sigma::Scratch::default();
    let mut out = Vec::new();
    plan.matches_into(&ev, &mut s, &mut out);
    assert_eq!(
        out,
        vec![0, 1],
        "the second document merges its selection into the global one"
    );
}

#[test]
fn yaml_errors_carry_line_and_column() {
    let e = load_errors(
        unmapped_options(),
        "title: t\nlogsource: {product: test}\ndetection:\n    sel:\n        A: [x\n    condition: sel\n",
    );
    assert!(e[0].contains("line 6 column 14"), "{e:?}");
    assert!(e[0].starts_with("bad.yml"), "{e:?}");
}
