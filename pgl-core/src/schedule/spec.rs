//! The schedule spec language.
//!
//! ```text
//! spec   := name [ '(' spec { ',' spec } ')' ] [ ':' param { ',' param } ]
//! param  := key '=' value
//! value  := '(' spec ')' | atom | spec      (a nested spec with ':' takes the rest of the list)
//! ```
//!
//! Examples: `local-only`, `periodic:every=10`, `periodic:every=2,len=1,unit=epochs`,
//! `warmup:epochs=1,then=periodic:every=10,len=2` (here `len=2` belongs to `periodic`, because
//! a nested spec with parameters takes the rest of the list; write `then=(periodic:every=10)`
//! to put keys after it), `any(periodic:every=50,len=2,plateau:patience=20)` (inside a
//! combinator, a `key=value` item belongs to the inner spec before it).

use crate::error::CoreError;

/// The largest integer a spec accepts: schedule state is saved as JSON numbers (`f64`) in
/// checkpoints, which hold integers exactly only up to 2^53 − 1, so larger counters could not
/// be restored (found by the `schedule_spec` fuzz target).
pub const MAX_SPEC_INTEGER: u64 = (1 << 53) - 1;

/// A parsed spec: a schedule name, positional inner specs and `key=value` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecNode {
    /// The schedule name, e.g. `periodic`.
    pub name: String,
    /// Positional inner specs, for combinators: `any(A,B)` has `["A", "B"]`.
    pub args: Vec<String>,
    /// Parameters in the order written; values are raw text (a nested spec stays a string).
    pub params: Vec<(String, String)>,
    /// The text this node was parsed from, for error messages.
    pub text: String,
}

fn syntax(spec: &str, reason: impl Into<String>) -> CoreError {
    CoreError::SpecSyntax {
        spec: spec.to_string(),
        reason: reason.into(),
    }
}

/// Byte index of the bracket that closes the one opening at `open`, if any.
fn matching_close(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits `s` on commas that are not inside brackets.
fn split_top_level(s: &str, spec: &str) -> Result<Vec<String>, CoreError> {
    let mut parts = Vec::new();
    let mut depth = 0i64;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(syntax(spec, "unbalanced `)`"));
                }
            }
            ',' if depth == 0 => {
                parts.push(s[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(syntax(spec, "unbalanced `(`"));
    }
    parts.push(s[start..].trim().to_string());
    Ok(parts)
}

/// True when `s` has a `:` outside brackets, i.e. it is a spec with parameters.
fn has_top_level_colon(s: &str) -> bool {
    let mut depth = 0i64;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ':' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// Joins every `key=value` piece to the spec before it: in `periodic:every=5,len=2,local-only`
/// the pieces are `periodic:every=5,len=2` and `local-only`.
fn merge_param_pieces(pieces: Vec<String>) -> Vec<String> {
    let mut specs: Vec<String> = Vec::new();
    for piece in pieces {
        match specs.last_mut() {
            Some(previous) if !previous.is_empty() && is_param_piece(&piece) => {
                previous.push(',');
                previous.push_str(&piece);
            }
            _ => specs.push(piece),
        }
    }
    specs
}

/// Splits a comma-separated list of specs, such as the value of `pgl compare --schedules`:
/// a `key=value` item belongs to the spec before it, and commas inside brackets do not split.
///
/// ```
/// use pgl_core::schedule::spec::split_spec_list;
/// assert_eq!(
///     split_spec_list("end-to-end,periodic:every=10,len=2,any(local-only,end-to-end)").unwrap(),
///     ["end-to-end", "periodic:every=10,len=2", "any(local-only,end-to-end)"]
/// );
/// ```
pub fn split_spec_list(list: &str) -> Result<Vec<String>, CoreError> {
    let specs = merge_param_pieces(split_top_level(list, list)?);
    if specs.iter().any(String::is_empty) {
        return Err(syntax(list, "empty schedule in the list"));
    }
    Ok(specs)
}

/// True for `key=...`: a parameter, not a schedule (names never contain `=`).
fn is_param_piece(piece: &str) -> bool {
    let name_end = piece
        .find(|c: char| !is_name_char(c))
        .unwrap_or(piece.len());
    name_end > 0 && piece[name_end..].trim_start().starts_with('=')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl SpecNode {
    /// Parses one spec string.
    pub fn parse(spec: &str) -> Result<SpecNode, CoreError> {
        let text = spec.trim();
        if text.is_empty() {
            return Err(syntax(spec, "the spec is empty; expected a schedule name"));
        }
        let name_end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
        let name = &text[..name_end];
        if name.is_empty() {
            return Err(syntax(
                text,
                "expected a schedule name (letters, digits, `-`, `_`) at the start",
            ));
        }
        let mut rest = &text[name_end..];
        let mut args = Vec::new();
        if rest.starts_with('(') {
            let close = matching_close(rest, 0)
                .ok_or_else(|| syntax(text, format!("unbalanced `(` after `{name}`")))?;
            let inner = &rest[1..close];
            for arg in merge_param_pieces(split_top_level(inner, text)?) {
                if arg.is_empty() {
                    return Err(syntax(text, format!("empty schedule inside `{name}(...)`")));
                }
                args.push(arg);
            }
            rest = &rest[close + 1..];
        }
        let mut params = Vec::new();
        if let Some(list) = rest.strip_prefix(':') {
            params = parse_params(list, text)?;
        } else if !rest.trim().is_empty() {
            return Err(syntax(
                text,
                format!(
                    "unexpected `{}` after `{name}`; expected `:` and parameters",
                    rest.trim()
                ),
            ));
        }
        Ok(SpecNode {
            name: name.to_string(),
            args,
            params,
            text: text.to_string(),
        })
    }
}

/// Byte index of the first comma of `s` outside brackets.
fn top_level_comma(s: &str) -> Option<usize> {
    let mut depth = 0i64;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits `s` after its first top-level comma: `(before, Some(after))`, or `(s, None)`.
fn split_first(s: &str) -> (&str, Option<&str>) {
    match top_level_comma(s) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

fn parse_params(list: &str, spec: &str) -> Result<Vec<(String, String)>, CoreError> {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut rest = Some(list);
    while let Some(current) = rest {
        let current = current.trim_start();
        if current.is_empty() {
            let reason = if params.is_empty() {
                "expected `key=value` after `:`"
            } else {
                "trailing `,`"
            };
            return Err(syntax(spec, reason));
        }
        let (first, _) = split_first(current);
        let Some(eq) = first.find('=') else {
            return Err(syntax(
                spec,
                format!("`{}` is not of the form key=value", first.trim()),
            ));
        };
        let key = current[..eq].trim();
        if key.is_empty() || !key.chars().all(is_name_char) {
            return Err(syntax(spec, format!("bad parameter name `{key}`")));
        }
        let after = current[eq + 1..].trim_start();
        let value;
        if after.starts_with('(') {
            let close = matching_close(after, 0)
                .ok_or_else(|| syntax(spec, format!("unbalanced `(` in value of `{key}`")))?;
            value = after[1..close].trim().to_string();
            let tail = after[close + 1..].trim_start();
            rest = if let Some(r) = tail.strip_prefix(',') {
                Some(r)
            } else if tail.is_empty() {
                None
            } else {
                return Err(syntax(
                    spec,
                    format!("expected `,` after `{key}=({value})`, found `{tail}`"),
                ));
            };
        } else {
            let (head, tail) = split_first(after);
            if has_top_level_colon(head) {
                // A nested spec with parameters takes the rest of the list.
                value = after.trim().to_string();
                rest = None;
            } else {
                value = head.trim().to_string();
                rest = tail;
            }
        }
        if value.is_empty() {
            return Err(syntax(spec, format!("`{key}=` has no value")));
        }
        if params.iter().any(|(k, _)| k == key) {
            return Err(syntax(spec, format!("parameter `{key}` is given twice")));
        }
        params.push((key.to_string(), value));
    }
    Ok(params)
}

/// Typed access to a [`SpecNode`]'s parameters for a schedule builder.
///
/// Created with the list of keys the schedule accepts, so an unknown key is an error before
/// any value is read; every getter names the schedule and the offending `key=value`.
#[derive(Debug)]
pub struct SpecArgs<'a> {
    node: &'a SpecNode,
}

impl<'a> SpecArgs<'a> {
    /// Checks that `node` only uses `allowed` keys and no positional arguments.
    pub fn new(node: &'a SpecNode, allowed: &[&str]) -> Result<Self, CoreError> {
        if !node.args.is_empty() {
            return Err(syntax(
                &node.text,
                format!("`{}` takes no inner schedules in `(...)`", node.name),
            ));
        }
        for (key, _) in &node.params {
            if !allowed.contains(&key.as_str()) {
                return Err(CoreError::UnknownKey {
                    schedule: node.name.clone(),
                    key: key.clone(),
                    allowed: if allowed.is_empty() {
                        "(none)".to_string()
                    } else {
                        allowed.join(", ")
                    },
                });
            }
        }
        Ok(Self { node })
    }

    /// The raw value of `key`, if given.
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.node
            .params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn bad(&self, key: &str, value: &str, expected: &str) -> CoreError {
        CoreError::BadValue {
            schedule: self.node.name.clone(),
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    /// An integer parameter `>= min`, or `default` when absent (`None`: required).
    pub fn u64(&self, key: &str, default: Option<u64>, min: u64) -> Result<u64, CoreError> {
        let expected = || format!("an integer >= {min} (at most {MAX_SPEC_INTEGER})");
        match self.raw(key) {
            None => default.ok_or_else(|| CoreError::MissingKey {
                schedule: self.node.name.clone(),
                key: key.to_string(),
                expected: expected(),
            }),
            Some(raw) => match raw.parse::<u64>() {
                Ok(v) if (min..=MAX_SPEC_INTEGER).contains(&v) => Ok(v),
                _ => Err(self.bad(key, raw, &expected())),
            },
        }
    }

    /// A finite, non-negative number, or `default` when absent.
    pub fn non_negative_f64(&self, key: &str, default: f64) -> Result<f64, CoreError> {
        match self.raw(key) {
            None => Ok(default),
            Some(raw) => match raw.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                _ => Err(self.bad(key, raw, "a finite number >= 0")),
            },
        }
    }

    /// One of `options`, or `default` when absent.
    pub fn choice(
        &self,
        key: &str,
        options: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, CoreError> {
        match self.raw(key) {
            None => Ok(default),
            Some(raw) => options
                .iter()
                .find(|o| **o == raw)
                .copied()
                .ok_or_else(|| self.bad(key, raw, &format!("one of {}", options.join(", ")))),
        }
    }
}
