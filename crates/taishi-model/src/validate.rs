//! Field-level validation shared by the API, the store and import: one error names one field.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One invalid field: which one and why, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as written in the API and in import files (`code`, `contacts.principal.email`).
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl FieldError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects field errors so a caller sees every problem at once, not only the first.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// Records an error for `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// `Ok(())` when nothing was recorded, otherwise every recorded error.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Checks an external key (org code): 1–64 characters of letters, digits, `.`, `_`, `-`.
pub fn check_code(errors: &mut Errors, field: &str, code: &str) {
    if code.is_empty() || code.len() > 64 {
        errors.add(field, "must be 1 to 64 characters");
    } else if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        errors.add(
            field,
            "may contain only ASCII letters, digits, '.', '_' and '-'",
        );
    }
}

/// Checks a display name: not blank, at most `max` characters, no control characters.
pub fn check_name(errors: &mut Errors, field: &str, name: &str, max: usize) {
    if name.trim().is_empty() {
        errors.add(field, "must not be empty");
    } else if name.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if name.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
    }
}

/// Checks free text (notes): at most `max` characters.
pub fn check_text(errors: &mut Errors, field: &str, text: &str, max: usize) {
    if text.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    }
}

/// Checks an administrative division code (行政区划代码): 2 to 12 digits.
pub fn check_region_code(errors: &mut Errors, field: &str, code: &str) {
    if !(2..=12).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        errors.add(
            field,
            "must be an administrative division code of 2 to 12 digits, e.g. 110105",
        );
    }
}

/// Checks an e-mail address loosely: empty, or `local@domain` with a dot in the domain.
pub fn check_email(errors: &mut Errors, field: &str, email: &str) {
    if email.is_empty() {
        return;
    }
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        errors.add(field, "is not an e-mail address");
    }
}

/// Checks a phone number loosely: empty, or digits with `+`, `-`, spaces and parentheses.
pub fn check_phone(errors: &mut Errors, field: &str, phone: &str) {
    if phone.is_empty() {
        return;
    }
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if digits < 3
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
    {
        errors.add(
            field,
            "is not a phone number (digits, '+', '-', spaces, parentheses)",
        );
    }
}
