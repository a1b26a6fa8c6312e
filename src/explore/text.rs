//! `minimal.ron`: the user's scenario text with the minimal faults added at the end of its
//! `faults: [...]` list (or in a new field before the closing parenthesis), so comments
//! and layout survive.
//!
//! The scan knows just enough RON to find the top-level `faults` field: strings (with
//! escapes), raw strings `r#"..."#`, line and block comments, and bracket depth. When the
//! text defeats it (it should not: the text has parsed as a scenario), the caller
//! serializes the spec instead.

/// Byte ranges the scan found in the text.
struct Found {
    /// The value of a top-level `faults:` field, `[` to `]` inclusive.
    faults: Option<(usize, usize)>,
    /// The closing `)` of `Scenario(...)`.
    close: usize,
}

/// Walks `text`, calling `visit(i, depth)` at each byte outside strings and comments.
fn scan(text: &str) -> Option<Found> {
    let b = text.as_bytes();
    let (mut i, mut depth, mut faults, mut value_start) = (0usize, 0i32, None, None);
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(b.len(), |n| i + n);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map(|n| i + 2 + n + 2)?;
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'r' if matches!(b.get(i + 1), Some(b'#' | b'"'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                let close = format!("\"{}", "#".repeat(hashes));
                let open = i + 1 + hashes + 1;
                i = text
                    .get(open..)?
                    .find(&close)
                    .map(|n| open + n + close.len() - 1)?;
            }
            b'(' | b'[' | b'{' => {
                if depth == 1 && b[i] == b'[' && value_start == Some(i) {
                    let end = matching(text, i)?;
                    faults = Some((i, end));
                    i = end;
                } else {
                    depth += 1;
                }
            }
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(Found { faults, close: i });
                }
            }
            c if depth == 1 && is_ident(c) && (i == 0 || !is_ident(b[i - 1])) => {
                let word_end = i + b[i..].iter().take_while(|&&c| is_ident(c)).count();
                if &text[i..word_end] == "faults" {
                    let rest = &text[word_end..];
                    let colon = rest.len() - rest.trim_start().len();
                    if rest.trim_start().starts_with(':') {
                        let after = &rest[colon + 1..];
                        value_start =
                            Some(word_end + colon + 1 + (after.len() - after.trim_start().len()));
                    }
                }
                i = word_end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The index of the bracket closing the one at `open`, skipping strings and comments.
fn matching(text: &str, open: usize) -> Option<usize> {
    // A bracketed value is itself a small RON text: scan it at depth 0 as a whole.
    let inner = scan(&format!("({}", &text[open + 1..]))?;
    Some(open + inner.close)
}

/// `text` with `faults` (RON values) added at the end of its faults list, or in a new
/// `faults` field when it has none.
pub fn add_faults(text: &str, faults: &[String]) -> Option<String> {
    let found = scan(text)?;
    let items: String = faults.iter().map(|f| format!("        {f},\n")).collect();
    Some(match found.faults {
        Some((start, end)) => {
            let inner = text[start + 1..end].trim_end();
            let comma = if inner.is_empty() || inner.ends_with(',') {
                ""
            } else {
                ","
            };
            format!(
                "{}{inner}{comma}\n{items}    ]{}",
                &text[..=start],
                &text[end + 1..]
            )
        }
        None => {
            let head = text[..found.close].trim_end();
            let comma = if head.ends_with(',') || head.ends_with('(') {
                ""
            } else {
                ","
            };
            format!(
                "{head}{comma}\n    faults: [\n{items}    ],\n{}",
                &text[found.close..]
            )
        }
    })
}

/// `value` as one line of RON with a space after each `:` and `,` outside strings, as
/// people write it (`ron::to_string` writes `Crash(target:"a",at:"1s")`).
pub fn one_line<T: serde::Serialize>(value: &T) -> String {
    let tight = ron::to_string(value).expect("a scenario value serializes");
    let mut out = String::with_capacity(tight.len() + tight.len() / 4);
    let (mut in_string, mut escaped) = (false, false);
    for c in tight.chars() {
        out.push(c);
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ':' || c == ',' {
            out.push(' ');
        }
    }
    out
}

/// The scenario `spec` as RON, for when the user's text cannot be edited in place.
pub fn serialize(spec: &crate::scenario::Spec) -> String {
    let config = ron::ser::PrettyConfig::new().struct_names(true);
    ron::ser::to_string_pretty(spec, config).expect("a scenario serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_top_level_list_and_keeps_comments() {
        let text = r#"// a comment with faults: [x]
Scenario(
    name: "a(b]", /* faults: [] */
    services: [Service(name: "s", calls: [], faults: "x")],
    faults: [Crash(target: "s", at: "1s", duration: "1s")], // tail
)
"#;
        let out = add_faults(text, &["Pause(target: \"s\")".into()]).unwrap();
        assert_eq!(
            out,
            r#"// a comment with faults: [x]
Scenario(
    name: "a(b]", /* faults: [] */
    services: [Service(name: "s", calls: [], faults: "x")],
    faults: [Crash(target: "s", at: "1s", duration: "1s"),
        Pause(target: "s"),
    ], // tail
)
"#
        );
    }

    #[test]
    fn one_line_ron_reads_as_people_write_it() {
        let f = crate::scenario::FaultSpec::Pause {
            target: "a,b: \"c\"".into(),
            at: "1s".into(),
            duration: "2s".into(),
        };
        assert_eq!(
            one_line(&f),
            r#"Pause(target: "a,b: \"c\"", at: "1s", duration: "2s")"#
        );
    }

    #[test]
    fn adds_the_list_when_there_is_none() {
        let out = add_faults("Scenario(name: \"a\", duration: \"1s\")\n", &["X".into()]).unwrap();
        assert_eq!(
            out,
            "Scenario(name: \"a\", duration: \"1s\",\n    faults: [\n        X,\n    ],\n)\n"
        );
        let out = add_faults("Scenario(\n  name: \"a\",\n  faults: [],\n)", &["X".into()]).unwrap();
        assert_eq!(
            out,
            "Scenario(\n  name: \"a\",\n  faults: [\n        X,\n    ],\n)"
        );
    }
}
