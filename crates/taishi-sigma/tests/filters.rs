//! Meta filters (Sigma filters specification v2.1.0), with pySigma's semantics: the filter's
//! condition is AND-ed with the condition of every rule it names.

mod common;

use common::{Ev, hit, load_with};
use taishi_sigma::{LoadOptions, Loader};

const RAR: &str = "title: Data Compressed - rar.exe\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\rar.exe'\n    condition: selection\n";
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

fn rar(user: &str) -> Ev {
    Ev::new()
        .s("Channel", SYSMON)
        .i("EventID", 1)
        .s("Image", "C:\\x\\rar.exe")
        .s("User", user)
}

#[test]
fn suppressing_filter_from_the_specification_example() {
    // The specification's example, written as a suppression (`not selection`).
    let filter = "title: Filter Administrator account\ndescription: The valid administrator account start with adm_\nlogsource:\n    category: process_creation\n    product: windows\nfilter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095 # Data Compressed - rar.exe\n        - df0841c0-9846-4e9f-ad8a-7df91571771b # Login on jump host\n    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n";
    let (plan, report) = load_with(LoadOptions::default(), &[RAR, filter]);
    assert_eq!(report.filters, 1);
    assert!(hit(&plan, &rar("bob")));
    assert!(!hit(&plan, &rar("adm_bob")));
}

#[test]
fn the_specification_example_as_written_keeps_only_matching_events() {
    let filter = "title: Filter Administrator account\nlogsource:\n    category: process_creation\n    product: windows\nfilter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n    selection:\n        User|startswith: 'adm_'\n    condition: selection\n";
    let (plan, _) = load_with(LoadOptions::default(), &[RAR, filter]);
    assert!(!hit(&plan, &rar("bob")));
    assert!(hit(&plan, &rar("adm_bob")));
}

#[test]
fn filters_follow_the_field_mapping_and_report_mismatches() {
    let filter = "title: f\nlogsource:\n    category: process_creation\n    product: windows\nfilter:\n    rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]\n    selection:\n        ParentImage|endswith: '\\backup.exe'\n    condition: not selection\n";
    let (plan, _) = load_with(LoadOptions::default(), &[RAR, filter]);
    let ev = Ev::new()
        .s("Channel", "Security")
        .i("EventID", 4688)
        .s("NewProcessName", "C:\\x\\rar.exe");
    assert!(hit(
        &plan,
        &ev.clone().s("ParentProcessName", "C:\\x\\explorer.exe")
    ));
    assert!(!hit(&plan, &ev.s("ParentProcessName", "C:\\x\\backup.exe")));

    let wrong = "title: wrong logsource\nid: f-2\nlogsource:\n    product: linux\nfilter:\n    rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]\n    selection:\n        User: root\n    condition: not selection\n";
    let mut l = Loader::new(LoadOptions::default());
    l.add_text("rar.yml", RAR);
    l.add_text("mf_wrong.yml", wrong);
    let (plan, report) = l.build();
    assert_eq!(report.filters, 0);
    assert!(
        report.errors[0].to_string().contains("f-2"),
        "{:?}",
        report.errors
    );
    assert!(hit(&plan, &rar("root")));
}
