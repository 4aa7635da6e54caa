//! Organisations: the tree the authority supervises (district → township/department → village/site…).

use crate::contact::Contacts;
use crate::enums::{OrgKind, Sector};
use crate::ids::OrgId;
use crate::validate::{self, Errors, FieldError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One organisation, a node of the org tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Org {
    /// Internal identifier.
    pub id: OrgId,
    /// The parent organisation; `None` for a root.
    pub parent_id: Option<OrgId>,
    /// Stable external key (机构代码), unique; import and export match on it.
    pub code: String,
    /// Display name.
    pub name: String,
    /// What sort of body this is.
    pub kind: OrgKind,
    /// Economic sector.
    pub sector: Sector,
    /// Administrative division code (行政区划代码), when known.
    pub region_code: Option<String>,
    /// Operates critical information infrastructure (关键信息基础设施运营者).
    pub critical_infrastructure: bool,
    /// Principal responsible person and security officer.
    pub contacts: Contacts,
    /// Free-form notes.
    pub notes: String,
    /// Ids from the root down to and including this org; `path.len() - 1` is the depth.
    pub path: Vec<OrgId>,
    /// When the org was registered.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it was last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Org {
    /// Depth in the tree: 0 for a root.
    pub fn depth(&self) -> usize {
        self.path.len().saturating_sub(1)
    }

    /// True when this org is `root` or lies beneath it: the scoping test for every read.
    pub fn is_within(&self, root: OrgId) -> bool {
        self.path.contains(&root)
    }
}

/// What a caller supplies to register an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInput {
    /// Parent org; `None` creates a root (admins of the whole tree only).
    #[serde(default)]
    pub parent_id: Option<OrgId>,
    /// Stable external key, unique.
    pub code: String,
    /// Display name.
    pub name: String,
    /// What sort of body this is.
    pub kind: OrgKind,
    /// Economic sector.
    pub sector: Sector,
    /// Administrative division code.
    #[serde(default)]
    pub region_code: Option<String>,
    /// Critical-infrastructure operator.
    #[serde(default)]
    pub critical_infrastructure: bool,
    /// Contacts.
    #[serde(default)]
    pub contacts: Contacts,
    /// Notes.
    #[serde(default)]
    pub notes: String,
}

impl OrgInput {
    /// Every problem with the input's fields (the parent's existence is the store's to check).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut e = Errors::default();
        validate::check_code(&mut e, "code", &self.code);
        validate::check_name(&mut e, "name", &self.name, 200);
        if let Some(r) = &self.region_code {
            validate::check_region_code(&mut e, "region_code", r);
        }
        check_contacts(&mut e, &self.contacts);
        validate::check_text(&mut e, "notes", &self.notes, 10_000);
        e.finish()
    }
}

/// A partial update of an organisation: absent fields stay as they are. Moving is a separate operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    /// New external key.
    #[serde(default)]
    pub code: Option<String>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New kind.
    #[serde(default)]
    pub kind: Option<OrgKind>,
    /// New sector.
    #[serde(default)]
    pub sector: Option<Sector>,
    /// New region code; an empty string clears it.
    #[serde(default)]
    pub region_code: Option<String>,
    /// New critical-infrastructure flag.
    #[serde(default)]
    pub critical_infrastructure: Option<bool>,
    /// New contacts (replaces both people).
    #[serde(default)]
    pub contacts: Option<Contacts>,
    /// New notes.
    #[serde(default)]
    pub notes: Option<String>,
}

impl OrgPatch {
    /// Applies the patch to `org` in memory, validating every field it touches.
    pub fn apply(&self, org: &mut Org) -> Result<(), Vec<FieldError>> {
        let mut e = Errors::default();
        if let Some(c) = &self.code {
            validate::check_code(&mut e, "code", c);
            org.code.clone_from(c);
        }
        if let Some(n) = &self.name {
            validate::check_name(&mut e, "name", n, 200);
            org.name.clone_from(n);
        }
        if let Some(k) = self.kind {
            org.kind = k;
        }
        if let Some(s) = self.sector {
            org.sector = s;
        }
        if let Some(r) = &self.region_code {
            if r.is_empty() {
                org.region_code = None;
            } else {
                validate::check_region_code(&mut e, "region_code", r);
                org.region_code = Some(r.clone());
            }
        }
        if let Some(c) = self.critical_infrastructure {
            org.critical_infrastructure = c;
        }
        if let Some(c) = &self.contacts {
            check_contacts(&mut e, c);
            org.contacts = c.clone();
        }
        if let Some(n) = &self.notes {
            validate::check_text(&mut e, "notes", n, 10_000);
            org.notes.clone_from(n);
        }
        e.finish()
    }
}

fn check_contacts(e: &mut Errors, c: &Contacts) {
    for (who, p) in [
        ("principal", &c.principal),
        ("security_officer", &c.security_officer),
    ] {
        validate::check_text(e, &format!("contacts.{who}.name"), &p.name, 100);
        validate::check_phone(e, &format!("contacts.{who}.phone"), &p.phone);
        validate::check_email(e, &format!("contacts.{who}.email"), &p.email);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OrgInput {
        OrgInput {
            parent_id: None,
            code: "D01".into(),
            name: "东城区".into(),
            kind: OrgKind::District,
            sector: Sector::Government,
            region_code: Some("110101".into()),
            critical_infrastructure: false,
            contacts: Contacts::default(),
            notes: String::new(),
        }
    }

    #[test]
    fn validation_reports_every_field() {
        assert!(input().validate().is_ok());
        let mut bad = input();
        bad.code = "a b".into();
        bad.name = " ".into();
        bad.region_code = Some("x1".into());
        bad.contacts.security_officer.email = "nobody".into();
        let errs = bad.validate().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "code",
                "name",
                "region_code",
                "contacts.security_officer.email"
            ]
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let r: Result<OrgInput, _> = serde_json::from_str(
            r#"{"code":"a","name":"b","kind":"site","sector":"other","colour":"red"}"#,
        );
        assert!(r.unwrap_err().to_string().contains("colour"));
    }
}
