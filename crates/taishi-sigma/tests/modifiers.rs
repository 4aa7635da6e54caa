//! Every value modifier of the Sigma modifiers appendix (v2.1.0), with examples from the
//! specification where it gives them.

mod common;

use base64::Engine as _;
use common::{Ev, hit, load_errors, load_with, rule, unmapped_options};
use taishi_fields::Value;
use taishi_sigma::{Placeholders, UnknownPlaceholder};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn plain_values_are_whole_and_case_insensitive() {
    let p =
        rule("    sel:\n        Image: 'C:\\Windows\\System32\\whoami.exe'\n    condition: sel");
    assert!(hit(
        &p,
        &Ev::new().s("Image", "c:\\windows\\system32\\WHOAMI.EXE")
    ));
    assert!(!hit(
        &p,
        &Ev::new().s("Image", "c:\\windows\\system32\\whoami.exe2")
    ));
    assert!(!hit(
        &p,
        &Ev::new().s("Other", "c:\\windows\\system32\\whoami.exe")
    ));
}

#[test]
fn contains_startswith_endswith() {
    let p = rule(
        "    sel:\n        CommandLine|contains: 'event::clear'\n        Image|endswith: '\\example.exe'\n        User|startswith: 'adm_'\n    condition: sel",
    );
    let ev = Ev::new()
        .s("CommandLine", "x EVENT::CLEAR y")
        .s("Image", "C:\\a\\Example.exe")
        .s("User", "ADM_bob");
    assert!(hit(&p, &ev));
    assert!(!hit(
        &p,
        &Ev::new()
            .s("CommandLine", "event::clear")
            .s("Image", "C:\\a\\example.exe")
            .s("User", "bob_adm_")
    ));
}

#[test]
fn wildcards_and_escapes() {
    let p = rule("    sel:\n        Image: 'prog?.exe'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("Image", "progA.exe")));
    assert!(!hit(&p, &Ev::new().s("Image", "prog.exe")));
    let p = rule("    sel:\n        Image: 'antivirus_V*.exe'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("Image", "antivirus_V21.2.1.exe")));
    assert!(!hit(&p, &Ev::new().s("Image", "antivirus_V21.2.1.dll")));
    // `\*` is a literal star; `\\*` is a backslash then a wildcard; `\\\*` a backslash and a star.
    let p = rule(
        "    sel:\n        A: 'a\\*b'\n        B: 'c\\\\*'\n        C: 'd\\\\\\*'\n    condition: sel",
    );
    assert!(hit(
        &p,
        &Ev::new().s("A", "a*b").s("B", "c\\anything").s("C", "d\\*")
    ));
    assert!(!hit(
        &p,
        &Ev::new()
            .s("A", "axxb")
            .s("B", "c\\anything")
            .s("C", "d\\*")
    ));
    assert!(!hit(
        &p,
        &Ev::new().s("A", "a*b").s("B", "c\\anything").s("C", "d\\x")
    ));
}

#[test]
fn lists_are_or_and_all_makes_them_and() {
    let p = rule(
        "    sel:\n        EventID:\n            - 517\n            - 1102\n    condition: sel",
    );
    assert!(hit(&p, &Ev::new().i("EventID", 1102)));
    assert!(hit(&p, &Ev::new().s("EventID", "517")));
    assert!(!hit(&p, &Ev::new().i("EventID", 4624)));
    let p = rule(
        "    sel:\n        CommandLine|contains|all:\n            - ' -ExternalUrl '\n            - 'OabVirtualDirectory'\n    condition: sel",
    );
    assert!(hit(
        &p,
        &Ev::new().s("CommandLine", "Set-OabVirtualDirectory -ExternalUrl x")
    ));
    assert!(!hit(
        &p,
        &Ev::new().s("CommandLine", "Set-OabVirtualDirectory")
    ));
}

#[test]
fn base64_and_base64offset() {
    let p = rule("    sel:\n        CommandLine|base64: 'cmd'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("CommandLine", &b64(b"cmd"))));
    let p = rule(
        "    sel:\n        CommandLine|base64offset|contains: '/bin/bash'\n    condition: sel",
    );
    for prefix in ["", "a", "ab", "abc"] {
        let encoded = b64(format!("{prefix}/bin/bash -i").as_bytes());
        assert!(
            hit(
                &p,
                &Ev::new().s("CommandLine", &format!("echo {encoded} | base64 -d"))
            ),
            "prefix {prefix:?}"
        );
    }
    assert!(!hit(&p, &Ev::new().s("CommandLine", &b64(b"/bin/sh -i"))));
}

#[test]
fn utf16_encodings_before_base64() {
    let wide = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let p = rule(
        "    sel:\n        CommandLine|wide|base64offset|contains: 'ping'\n    condition: sel",
    );
    let enc = b64(&wide("powershell ping 127.0.0.1"));
    assert!(hit(&p, &Ev::new().s("CommandLine", &format!("-enc {enc}"))));
    let p = rule("    sel:\n        CommandLine|utf16le|base64: 'cmd'\n    condition: sel");
    assert!(hit(
        &p,
        &Ev::new().s("CommandLine", &b64(&[0x63, 0, 0x6d, 0, 0x64, 0]))
    ));
    let p = rule("    sel:\n        CommandLine|utf16be|base64: 'cmd'\n    condition: sel");
    assert!(hit(
        &p,
        &Ev::new().s("CommandLine", &b64(&[0, 0x63, 0, 0x6d, 0, 0x64]))
    ));
    let p = rule("    sel:\n        CommandLine|utf16|base64: 'cmd'\n    condition: sel");
    assert!(hit(
        &p,
        &Ev::new().s(
            "CommandLine",
            &b64(&[0xFF, 0xFE, 0x63, 0, 0x6d, 0, 0x64, 0])
        )
    ));
}

#[test]
fn windash_permutes_flag_dashes() {
    let p =
        rule("    sel:\n        CommandLine|contains|windash: ' -exec bypass'\n    condition: sel");
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(
            hit(
                &p,
                &Ev::new().s("CommandLine", &format!("powershell {dash}exec bypass"))
            ),
            "{dash}"
        );
    }
    assert!(!hit(
        &p,
        &Ev::new().s("CommandLine", "powershell +exec bypass")
    ));
}

#[test]
fn regular_expressions_and_flags() {
    let p = rule("    sel:\n        CommandLine|re: 'evil\\.(exe|dll)$'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("CommandLine", "run evil.dll")));
    assert!(
        !hit(&p, &Ev::new().s("CommandLine", "run EVIL.dll")),
        "re is case-sensitive by default"
    );
    let p = rule("    sel:\n        CommandLine|re|i: 'evil\\.exe'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("CommandLine", "EVIL.EXE")));
    let p = rule("    sel:\n        CommandLine|re|m: '^second$'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("CommandLine", "first\nsecond\nthird")));
    let p = rule("    sel:\n        CommandLine|re: '^second$'\n    condition: sel");
    assert!(!hit(
        &p,
        &Ev::new().s("CommandLine", "first\nsecond\nthird")
    ));
    let p = rule("    sel:\n        CommandLine|re|s: 'a.b'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("CommandLine", "a\nb")));
    // Look-around needs the backtracking engine.
    let p = rule("    sel:\n        CommandLine|re: 'foo(?!bar)'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("CommandLine", "foobaz")));
    assert!(!hit(&p, &Ev::new().s("CommandLine", "foobar")));
}

#[test]
fn cidr_v4_and_v6() {
    let p = rule(
        "    sel:\n        DestinationIp|cidr:\n            - '10.0.0.0/8'\n            - 'fe80::/10'\n    condition: sel",
    );
    assert!(hit(&p, &Ev::new().s("DestinationIp", "10.1.2.3")));
    assert!(hit(&p, &Ev::new().s("DestinationIp", "fe80::1")));
    assert!(hit(&p, &Ev::new().s("DestinationIp", "::ffff:10.9.9.9")));
    assert!(!hit(&p, &Ev::new().s("DestinationIp", "11.0.0.1")));
    assert!(!hit(&p, &Ev::new().s("DestinationIp", "not an ip")));
}

#[test]
fn exists() {
    let p = rule(
        "    selection:\n        EventID: 4738\n        PasswordLastSet|exists: true\n    condition: selection",
    );
    assert!(hit(
        &p,
        &Ev::new().i("EventID", 4738).s("PasswordLastSet", "")
    ));
    assert!(!hit(&p, &Ev::new().i("EventID", 4738)));
    let p = rule("    sel:\n        A|exists: false\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("B", "x")));
    assert!(!hit(&p, &Ev::new().v("A", Value::Null)));
}

#[test]
fn cased() {
    let p =
        rule("    sel:\n        CommandLine|cased|contains: 'Invoke-Mimikatz'\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("CommandLine", "x Invoke-Mimikatz")));
    assert!(!hit(&p, &Ev::new().s("CommandLine", "x invoke-mimikatz")));
}

#[test]
fn numeric_comparisons() {
    let p = rule(
        "    sel:\n        Size|gt: 100\n        Count|lte: 5\n        Port|gte: 1024\n        Ttl|lt: 10\n    condition: sel",
    );
    assert!(hit(
        &p,
        &Ev::new()
            .i("Size", 101)
            .s("Count", "5")
            .i("Port", 1024)
            .v("Ttl", Value::Float(9.5))
    ));
    assert!(!hit(
        &p,
        &Ev::new()
            .i("Size", 100)
            .s("Count", "5")
            .i("Port", 1024)
            .i("Ttl", 9)
    ));
    assert!(!hit(
        &p,
        &Ev::new()
            .i("Size", 101)
            .s("Count", "6")
            .i("Port", 1024)
            .i("Ttl", 9)
    ));
    assert!(!hit(
        &p,
        &Ev::new()
            .i("Size", 101)
            .s("Count", "five")
            .i("Port", 1024)
            .i("Ttl", 9)
    ));
}

#[test]
fn neq() {
    let p = rule(
        "    sel:\n        User|neq:\n            - 'SYSTEM'\n            - 'LOCAL SERVICE'\n    condition: sel",
    );
    assert!(hit(&p, &Ev::new().s("User", "bob")));
    assert!(!hit(&p, &Ev::new().s("User", "system")));
    assert!(!hit(&p, &Ev::new().s("User", "local service")));
    assert!(
        !hit(&p, &Ev::new().s("Other", "bob")),
        "an absent field is not different"
    );
}

#[test]
fn time_parts() {
    let p = rule("    sel:\n        UtcTime|hour|gte: 22\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("UtcTime", "2024-03-05 23:10:00.000")));
    assert!(!hit(&p, &Ev::new().s("UtcTime", "2024-03-05 08:10:00.000")));
    let p = rule(
        "    sel:\n        T|minute: 30\n        T|day: 5\n        T|month: 3\n        T|year: 2024\n        T|week: 10\n    condition: sel",
    );
    assert!(hit(&p, &Ev::new().s("T", "2024-03-05T10:30:00Z")));
    assert!(!hit(&p, &Ev::new().s("T", "2024-03-06T10:30:00Z")));
}

#[test]
fn fieldref() {
    let p = rule("    sel:\n        TargetFilename|fieldref: Image\n    condition: sel");
    assert!(hit(
        &p,
        &Ev::new()
            .s("TargetFilename", "C:\\x\\A.exe")
            .s("Image", "c:\\x\\a.exe")
    ));
    assert!(!hit(
        &p,
        &Ev::new()
            .s("TargetFilename", "C:\\x\\A.exe")
            .s("Image", "c:\\x\\b.exe")
    ));
    assert!(!hit(&p, &Ev::new().s("TargetFilename", "C:\\x\\A.exe")));
    let p = rule("    sel:\n        CommandLine|fieldref|contains: Image\n    condition: sel");
    assert!(hit(
        &p,
        &Ev::new()
            .s("CommandLine", "\"c:\\x\\a.exe\" -v")
            .s("Image", "C:\\x\\a.exe")
    ));
    let p = rule("    sel:\n        User|fieldref|neq: ParentUser\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("User", "a").s("ParentUser", "b")));
    assert!(!hit(&p, &Ev::new().s("User", "a").s("ParentUser", "A")));
}

#[test]
fn expand_uses_the_supplied_placeholders() {
    let text = "title: t\nlogsource:\n    product: test\ndetection:\n    sel:\n        WorkstationName|expand: '%Workstations%'\n        CommandLine|contains|expand: '\\%plain%domain%'\n    condition: sel\n";
    let errors = load_errors(unmapped_options(), text);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("%Workstations%") && e.contains("WorkstationName|expand")),
        "{errors:?}"
    );
    let mut opts = unmapped_options();
    opts.placeholders =
        Placeholders::from_yaml("Workstations: ['ws-*', 'pc-01']\ndomain: CORP\n").unwrap();
    let (plan, _) = load_with(opts, &[text]);
    assert!(hit(
        &plan,
        &Ev::new()
            .s("WorkstationName", "WS-17")
            .s("CommandLine", "echo %plainCORP")
    ));
    assert!(hit(
        &plan,
        &Ev::new()
            .s("WorkstationName", "pc-01")
            .s("CommandLine", "x%plaincorpx")
    ));
    assert!(!hit(
        &plan,
        &Ev::new()
            .s("WorkstationName", "srv-01")
            .s("CommandLine", "%plaincorp")
    ));
    let mut opts = unmapped_options();
    opts.placeholders.unknown = UnknownPlaceholder::Wildcard;
    let (plan, _) = load_with(opts, &[text]);
    assert!(hit(
        &plan,
        &Ev::new()
            .s("WorkstationName", "anything")
            .s("CommandLine", "%plainX")
    ));
}

#[test]
fn null_and_empty_values() {
    let p = rule(
        "    selection:\n        EventID: 4738\n    filter:\n        PasswordLastSet: null\n    condition: selection and not filter",
    );
    assert!(hit(
        &p,
        &Ev::new()
            .i("EventID", 4738)
            .s("PasswordLastSet", "2024-01-01")
    ));
    assert!(!hit(&p, &Ev::new().i("EventID", 4738)));
    assert!(!hit(
        &p,
        &Ev::new()
            .i("EventID", 4738)
            .v("PasswordLastSet", Value::Null)
    ));
    let p = rule(
        "    selection_main:\n        FieldA: 'something'\n    selection_empty1:\n        FieldB: ''\n    selection_empty2:\n        FieldB: null\n    condition: selection_main and 1 of selection_empty*",
    );
    assert!(hit(&p, &Ev::new().s("FieldA", "something").s("FieldB", "")));
    assert!(hit(&p, &Ev::new().s("FieldA", "something")));
    assert!(hit(
        &p,
        &Ev::new().s("FieldA", "something").v("FieldB", Value::Null)
    ));
    assert!(!hit(
        &p,
        &Ev::new().s("FieldA", "something").s("FieldB", "x")
    ));
}

/// The spec keeps `null` (absent or null) apart from `''` (the empty value): an empty string is
/// not null, so `PasswordLastSet: null` as a filter does not drop an event whose field is empty.
#[test]
fn null_does_not_match_an_empty_string() {
    let p = rule("    sel:\n        FieldB: null\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("FieldA", "x")));
    assert!(hit(&p, &Ev::new().v("FieldB", Value::Null)));
    assert!(!hit(&p, &Ev::new().s("FieldB", "")));
    assert!(!hit(&p, &Ev::new().s("FieldB", "x")));
    let p = rule("    sel:\n        FieldB: ''\n    condition: sel");
    assert!(hit(&p, &Ev::new().s("FieldB", "")));
    assert!(!hit(&p, &Ev::new().s("FieldB", "x")));
    assert!(!hit(&p, &Ev::new().s("FieldA", "x")));
}

#[test]
fn numbers_match_numbers_and_their_text() {
    let p = rule("    sel:\n        EventID: 4624\n        LogonType: '3'\n    condition: sel");
    assert!(hit(&p, &Ev::new().i("EventID", 4624).i("LogonType", 3)));
    assert!(hit(&p, &Ev::new().s("EventID", "4624").s("LogonType", "3")));
    assert!(!hit(&p, &Ev::new().i("EventID", 4625).i("LogonType", 3)));
}

#[test]
fn bad_modifiers_name_the_field() {
    let text = "title: t\nid: x-1\nlogsource:\n    product: test\ndetection:\n    sel:\n        Image|endswitch: 'a'\n    condition: sel\n";
    let errors = load_errors(unmapped_options(), text);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("bad.yml")
            && errors[0].contains("x-1")
            && errors[0].contains("detection.sel.Image|endswitch")
            && errors[0].contains("endswitch"),
        "{}",
        errors[0]
    );
    let text = "title: t\nlogsource:\n    product: test\ndetection:\n    sel:\n        Ip|cidr: '10.0.0.0/33'\n    condition: sel\n";
    assert!(load_errors(unmapped_options(), text)[0].contains("invalid CIDR"));
    let text = "title: t\nlogsource:\n    product: test\ndetection:\n    sel:\n        A|re: '(unclosed'\n    condition: sel\n";
    assert!(load_errors(unmapped_options(), text)[0].contains("regular expression"));
}
