//! The built-in Windows logsource mapping and user mappings given as YAML.

mod common;

use common::{Ev, hit, load_with};
use taishi_sigma::{LoadOptions, Mapping};

const PROC: &str = "title: Whoami\nid: p-1\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n        ParentImage|endswith: '\\cmd.exe'\n    condition: selection\n";
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

#[test]
fn process_creation_from_sysmon_and_security_4688() {
    let (plan, _) = load_with(LoadOptions::default(), &[PROC]);
    let sysmon = Ev::new()
        .s("Channel", SYSMON)
        .i("EventID", 1)
        .s("Image", "C:\\w\\whoami.exe")
        .s("ParentImage", "C:\\w\\cmd.exe");
    assert!(hit(&plan, &sysmon));
    let security = Ev::new()
        .s("Channel", "Security")
        .i("EventID", 4688)
        .s("NewProcessName", "C:\\w\\whoami.exe")
        .s("ParentProcessName", "C:\\w\\cmd.exe");
    assert!(
        hit(&plan, &security),
        "4688 fields are renamed by the mapping"
    );
    let wrong_id = Ev::new()
        .s("Channel", SYSMON)
        .i("EventID", 11)
        .s("Image", "C:\\w\\whoami.exe")
        .s("ParentImage", "C:\\w\\cmd.exe");
    assert!(!hit(&plan, &wrong_id));
    let wrong_channel = Ev::new()
        .s("Channel", "Application")
        .i("EventID", 1)
        .s("Image", "C:\\w\\whoami.exe")
        .s("ParentImage", "C:\\w\\cmd.exe");
    assert!(!hit(&plan, &wrong_channel));
    let fields = plan.matched_fields(0, &security);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        names.contains(&"NewProcessName")
            && names.contains(&"ParentProcessName")
            && !names.contains(&"Channel"),
        "{names:?}"
    );
    let stats = plan.stats();
    assert_eq!(
        (stats.variants, stats.indexed_by_event_id, stats.prefiltered),
        (2, 2, 2)
    );
}

/// SigmaHQ rules name the creator's integrity level, logon id and user as Sysmon does; 4688 calls
/// them MandatoryLabel (rules list the SIDs next to the level names), SubjectLogonId and
/// SubjectUserName.
#[test]
fn security_4688_renames_integrity_level_logon_id_and_user() {
    let rule = "title: Elevated\nid: p-2\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        IntegrityLevel:\n            - 'System'\n            - 'S-1-16-16384'\n        LogonId: '0x3e7'\n        User|contains: 'WKS01$'\n    condition: selection\n";
    let (plan, _) = load_with(LoadOptions::default(), &[rule]);
    let security = || {
        Ev::new()
            .s("Channel", "Security")
            .i("EventID", 4688)
            .s("NewProcessName", "C:\\w\\whoami.exe")
            .s("SubjectLogonId", "0x3e7")
            .s("SubjectUserName", "WKS01$")
    };
    assert!(hit(&plan, &security().s("MandatoryLabel", "S-1-16-16384")));
    assert!(!hit(&plan, &security().s("MandatoryLabel", "S-1-16-8192")));
    let sysmon = Ev::new()
        .s("Channel", SYSMON)
        .i("EventID", 1)
        .s("IntegrityLevel", "System")
        .s("LogonId", "0x3e7")
        .s("User", "CORP\\WKS01$");
    assert!(hit(&plan, &sysmon));
}

#[test]
fn services_map_to_channels_and_event_ids_come_from_the_detection() {
    let rule = "title: Logon\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID: 4624\n        LogonType: 10\n    condition: selection\n";
    let (plan, _) = load_with(LoadOptions::default(), &[rule]);
    assert_eq!(plan.stats().indexed_by_event_id, 1);
    assert!(hit(
        &plan,
        &Ev::new()
            .s("Channel", "security")
            .i("EventID", 4624)
            .i("LogonType", 10)
    ));
    assert!(!hit(
        &plan,
        &Ev::new()
            .s("Channel", "System")
            .i("EventID", 4624)
            .i("LogonType", 10)
    ));
}

#[test]
fn unmapped_rules_are_reported_and_skipped_by_default() {
    let rule = "title: Linux\nid: l-1\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n    selection:\n        type: EXECVE\n    condition: selection\n";
    let (plan, report) = load_with(LoadOptions::default(), &[rule]);
    assert_eq!(plan.rules().len(), 0);
    assert_eq!(report.compiled, 1);
    assert_eq!(report.unmapped.len(), 1);
    assert_eq!(report.unmapped[0].rule, "l-1");
}

#[test]
fn a_user_mapping_from_yaml() {
    let mapping = Mapping::from_yaml(
        "unmapped: skip\nlogsources:\n  - product: linux\n    service: auditd\n    conditions:\n      source: auditd\n    fields:\n      type: audit.type\n",
    )
    .unwrap();
    let rule = "title: Linux\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n    selection:\n        type: EXECVE\n    condition: selection\n";
    let (plan, _) = load_with(
        LoadOptions {
            mapping,
            ..LoadOptions::default()
        },
        &[rule],
    );
    assert!(hit(
        &plan,
        &Ev::new().s("source", "auditd").s("audit.type", "execve")
    ));
    assert!(!hit(
        &plan,
        &Ev::new().s("source", "syslog").s("audit.type", "execve")
    ));
}

#[test]
fn defender_antivirus_renames() {
    let rule = "title: AV\nlogsource:\n    category: antivirus\ndetection:\n    selection:\n        Signature|contains: 'Mimikatz'\n    condition: selection\n";
    let (plan, _) = load_with(LoadOptions::default(), &[rule]);
    let ev = Ev::new()
        .s("Channel", "Microsoft-Windows-Windows Defender/Operational")
        .i("EventID", 1116)
        .s("ThreatName", "HackTool:Win32/Mimikatz");
    assert!(hit(&plan, &ev));
}
