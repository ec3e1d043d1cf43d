//! Text from outside (files, names from the DNS, replies) made harmless before it reaches a terminal: control
//! characters (escape sequences, carriage returns, line breaks) and the marks that reorder a line are written as
//! Rust escapes (`\u{1b}`, `\r`, `\u{202e}`), so that nobody else's text can move the cursor, retitle the window,
//! or disguise what is printed.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: a control character (C0, DEL, C1) or a directional formatting mark.
fn harmful(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every harmful character escaped; unchanged (borrowed) when it has none.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(harmful) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if harmful(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_and_reordering_marks_are_escaped() {
        assert_eq!(escape("r1.lab ä"), "r1.lab ä");
        assert_eq!(escape("\u{1b}]0;owned\u{7}x\u{1b}[2J"), "\\u{1b}]0;owned\\u{7}x\\u{1b}[2J");
        assert_eq!(escape("a\r\nb\t\u{9b}c\u{7f}"), "a\\r\\nb\\t\\u{9b}c\\u{7f}");
        assert_eq!(escape("gro\u{202e}gnp.exe"), "gro\\u{202e}gnp.exe");
    }
}
