//! The condition grammar of Sigma rules.
//!
//! ```text
//! expr   := and ("or" and)*
//! and    := not ("and" not)*
//! not    := "not" not | of
//! of     := ("all" | N) "of" (IDENT-PATTERN | "them") | "(" expr ")" | IDENT
//! ```
//! Precedence from loosest to tightest: `or`, `and`, `not`, `x of`, parentheses. Keywords are
//! case-insensitive. The legacy v1 aggregation (`| count() by …`) and `near` are rejected with a
//! clear message, as the v2 specification dropped them in favour of correlation rules.

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// A search identifier.
    Ident(String),
    /// `1 of x*`, `all of them`, `3 of sel_*`.
    Of {
        /// How many of the matching identifiers must be true.
        quantity: Quantity,
        /// Which identifiers.
        target: OfTarget,
    },
    /// Negation.
    Not(Box<Cond>),
    /// Conjunction.
    And(Vec<Cond>),
    /// Disjunction.
    Or(Vec<Cond>),
}

/// The quantity of an `x of` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// `all of`.
    All,
    /// `N of`: at least N.
    AtLeast(usize),
}

/// The identifiers an `x of` expression ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfTarget {
    /// `them`: every identifier not starting with `_`.
    Them,
    /// A pattern where `*` matches any run of characters.
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Of,
    All,
    Them,
    Num(usize),
    Ident(String),
    Pipe,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            out.push(Tok::LParen);
            chars.next();
        } else if c == ')' {
            out.push(Tok::RParen);
            chars.next();
        } else if c == '|' {
            out.push(Tok::Pipe);
            chars.next();
        } else {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_whitespace() || d == '(' || d == ')' || d == '|' {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let word = &s[i..end];
            let tok = match word.to_ascii_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                "of" => Tok::Of,
                "all" => Tok::All,
                "them" => Tok::Them,
                _ if word.bytes().all(|b| b.is_ascii_digit()) => Tok::Num(
                    word.parse()
                        .map_err(|_| format!("number `{word}` is too large"))?,
                ),
                _ => Tok::Ident(word.to_owned()),
            };
            out.push(tok);
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expr(&mut self) -> Result<Cond, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("condition is nested too deeply".into());
        }
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.next();
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.next();
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::And(items)
        })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::Not) {
            self.next();
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("condition is nested too deeply".into());
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, String> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.expr()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err("missing closing parenthesis".into()),
                }
            }
            Some(Tok::All) => self.of(Quantity::All),
            Some(Tok::Num(n)) => {
                if n == 0 {
                    return Err("`0 of` is not meaningful; use `not 1 of`".into());
                }
                self.of(Quantity::AtLeast(n))
            }
            Some(Tok::Ident(id)) if id.eq_ignore_ascii_case("near") => {
                Err("`near` is a Sigma v1 construct; use a temporal correlation rule".into())
            }
            Some(Tok::Ident(id)) => Ok(Cond::Ident(id)),
            Some(Tok::Pipe) => {
                Err("aggregation after `|` is a Sigma v1 construct; use a correlation rule".into())
            }
            Some(t) => Err(format!("unexpected {}", describe(&t))),
            None => Err("unexpected end of condition".into()),
        }
    }

    fn of(&mut self, quantity: Quantity) -> Result<Cond, String> {
        if self.next() != Some(Tok::Of) {
            return Err("expected `of` after a quantity".into());
        }
        match self.next() {
            Some(Tok::Them) => Ok(Cond::Of {
                quantity,
                target: OfTarget::Them,
            }),
            Some(Tok::Ident(p)) => Ok(Cond::Of {
                quantity,
                target: OfTarget::Pattern(p),
            }),
            Some(t) => Err(format!(
                "expected an identifier pattern after `of`, found {}",
                describe(&t)
            )),
            None => Err("expected an identifier pattern after `of`".into()),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::And => "`and`".into(),
        Tok::Or => "`or`".into(),
        Tok::Not => "`not`".into(),
        Tok::Of => "`of`".into(),
        Tok::All => "`all`".into(),
        Tok::Them => "`them`".into(),
        Tok::Num(n) => format!("number {n}"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Pipe => "`|`".into(),
    }
}

/// Parses one condition string.
///
/// # Errors
/// A message naming the unexpected token when the text is not a valid condition.
pub fn parse(text: &str) -> Result<Cond, String> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("empty condition".into());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    match p.peek() {
        None => Ok(e),
        Some(Tok::Pipe) => {
            Err("aggregation after `|` is a Sigma v1 construct; use a correlation rule".into())
        }
        Some(t) => Err(format!(
            "unexpected {} after a complete expression",
            describe(t)
        )),
    }
}

/// Whether a search identifier matches an `x of` pattern (`*` = any run of characters).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.len() >= part.len() && rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Cond {
        Cond::Ident(s.into())
    }

    #[test]
    fn precedence_or_and_not() {
        assert_eq!(
            parse("a or b and not c").unwrap(),
            Cond::Or(vec![
                id("a"),
                Cond::And(vec![id("b"), Cond::Not(Box::new(id("c")))])
            ])
        );
        assert_eq!(
            parse("(a or b) and c").unwrap(),
            Cond::And(vec![Cond::Or(vec![id("a"), id("b")]), id("c")])
        );
    }

    #[test]
    fn of_forms() {
        assert_eq!(
            parse("1 of selection* and not 1 of filter*").unwrap(),
            Cond::And(vec![
                Cond::Of {
                    quantity: Quantity::AtLeast(1),
                    target: OfTarget::Pattern("selection*".into())
                },
                Cond::Not(Box::new(Cond::Of {
                    quantity: Quantity::AtLeast(1),
                    target: OfTarget::Pattern("filter*".into())
                })),
            ])
        );
        assert_eq!(
            parse("all of them").unwrap(),
            Cond::Of {
                quantity: Quantity::All,
                target: OfTarget::Them
            }
        );
        assert_eq!(
            parse("2 OF sel_*").unwrap(),
            Cond::Of {
                quantity: Quantity::AtLeast(2),
                target: OfTarget::Pattern("sel_*".into())
            }
        );
    }

    #[test]
    fn errors_are_clear() {
        assert!(
            parse("selection | count() by x > 5")
                .unwrap_err()
                .contains("correlation")
        );
        assert!(parse("a and").unwrap_err().contains("end of condition"));
        assert!(parse("(a or b").unwrap_err().contains("parenthesis"));
        assert!(parse("a b").unwrap_err().contains("after a complete"));
        assert!(parse("1 of").is_err());
        assert!(parse("").is_err());
        let deep = "(".repeat(200) + "a" + &")".repeat(200);
        assert!(parse(&deep).is_err());
        let nots = "not ".repeat(500) + "a";
        assert!(parse(&nots).is_err());
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("sel*", "selection"));
        assert!(pattern_matches("*", "x"));
        assert!(pattern_matches("filter_*_x", "filter_main_x"));
        assert!(!pattern_matches("filter_*_x", "filter_main_y"));
        assert!(pattern_matches("a", "a"));
        assert!(!pattern_matches("a*b", "ab_"));
        assert!(pattern_matches("a*b", "ab"));
    }
}
