//! Rule loading never panics: arbitrary text, arbitrary conditions, and real rules with random
//! bytes changed all end in a plan or in located errors.

mod common;

use common::unmapped_options;
use proptest::prelude::*;
use taishi_sigma::{LoadOptions, Loader, parse_condition};

const RULE: &str = "title: Whoami\nid: 1\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n        CommandLine|contains|all:\n            - '/priv'\n            - '/all'\n    filter:\n        User|re: '^adm'\n        Ip|cidr: 10.0.0.0/8\n    keywords:\n        - 'evil'\n    condition: selection and not filter or 1 of key*\n---\ntitle: c\ncorrelation:\n    type: event_count\n    rules: [1]\n    group-by: [User]\n    timespan: 5m\n    condition: {gte: 3}\n";

fn load(text: &str, opts: LoadOptions) {
    let mut l = Loader::new(opts);
    l.add_text("fuzz.yml", text);
    let (plan, report) = l.build();
    assert_eq!(plan.rules().len(), report.rules);
    for e in &report.errors {
        assert_eq!(e.location().origin, "fuzz.yml");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        load(&text, unmapped_options());
    }

    #[test]
    fn arbitrary_conditions_never_panic(text in "[a-z_*() 0-9|]{0,80}|((not |1 of |all of |\\(|\\)| and | or |sel|filter\\*| them)){0,30}") {
        let _ = parse_condition(&text);
        load(&RULE.replace("selection and not filter or 1 of key*", &text), unmapped_options());
    }

    #[test]
    fn mutated_rules_never_panic(edits in prop::collection::vec((0..RULE.len(), any::<u8>()), 1..8)) {
        let mut bytes = RULE.as_bytes().to_vec();
        for (at, b) in edits {
            bytes[at] = b;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        load(&text, unmapped_options());
        load(&text, LoadOptions::default());
    }
}
