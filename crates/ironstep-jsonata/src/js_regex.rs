//! JavaScript regular expressions (what jsonata-js and AWS run) on top of `fancy-regex`.
//!
//! jsonata-core compiles regex literals with the `regex` crate, which has no lookaround and no
//! backreferences. `fancy-regex` has both, hands the parts of a pattern that need neither to the
//! linear-time `regex` crate, and stops its own backtracking after a fixed number of steps (so a
//! catastrophic pattern returns an error instead of hanging a worker). `regress` (pinned in the
//! workspace) follows ECMAScript exactly but has no backtracking limit, which is why it is not
//! used here.
//!
//! Patterns are written in JavaScript syntax (jsonata-js builds `new RegExp(pattern, flags + 'g')`
//! without the `u` flag), so they are translated first. The translation covers what differs in
//! practice: `\d`/`\w` are ASCII in JavaScript, `.` also excludes `\r` and U+2028/9, `[^]` and `[]`,
//! literal `{`/`}`/`]`, `[` inside a class, `\/`, `\uXXXX`, `\cX`, octal escapes and identity
//! escapes. Known remaining differences: `\b` and case-insensitive matching follow Unicode rules,
//! and `\s` uses Unicode's whitespace set.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use fancy_regex::{Regex, RegexBuilder};

/// Backtracking steps allowed per match attempt. fancy-regex's default (1,000,000) is about
/// 10–50 ms of work; a pattern needing more is almost certainly catastrophic.
const BACKTRACK_LIMIT: usize = 1_000_000;

/// Compiled regexes kept per thread. Evaluations run the same few literals over and over, and
/// compiling one costs far more than matching; the cache is dropped whole when full.
const CACHE_CAPACITY: usize = 256;

/// (pattern, flags) to compiled regex.
type Cache = HashMap<(Rc<str>, Rc<str>), Rc<Regex>>;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
}

/// A pattern that cannot be compiled, with jsonata-js-like wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegexError(pub String);

/// Compiles (or fetches from the per-thread cache) a JavaScript pattern with JSONata flags.
pub(crate) fn compile_cached(pattern: &Rc<str>, flags: &Rc<str>) -> Result<Rc<Regex>, RegexError> {
    let key = (pattern.clone(), flags.clone());
    if let Some(re) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let re = Rc::new(compile(pattern, flags)?);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_CAPACITY {
            c.clear();
        }
        c.insert(key, re.clone());
    });
    Ok(re)
}

/// Compiles a JavaScript pattern with JSONata flags (`i`, `m`; jsonata-js also accepts `s`).
pub(crate) fn compile(pattern: &str, flags: &str) -> Result<Regex, RegexError> {
    if pattern.is_empty() {
        return Err(RegexError(
            "Empty regular expressions are not allowed".to_owned(),
        ));
    }
    let invalid = |why: &str| RegexError(format!("Invalid regular expression: /{pattern}/: {why}"));
    let (mut icase, mut multi, mut dotall) = (false, false, false);
    for f in flags.chars() {
        let seen = match f {
            'i' => std::mem::replace(&mut icase, true),
            'm' => std::mem::replace(&mut multi, true),
            's' => std::mem::replace(&mut dotall, true),
            _ => return Err(invalid(&format!("Invalid flags '{flags}'"))),
        };
        if seen {
            return Err(invalid(&format!("Invalid flags '{flags}'")));
        }
    }
    let translated = translate(pattern, dotall).map_err(|e| invalid(&e))?;
    RegexBuilder::new(&translated)
        .case_insensitive(icase)
        .multi_line(multi)
        .backtrack_limit(BACKTRACK_LIMIT)
        .build()
        .map_err(|e| invalid(&e.to_string()))
}

/// One match: byte offsets into the subject, and each group's text (`None` when it did not
/// participate, which jsonata-js reports as `undefined`).
pub(crate) struct JsMatch {
    pub start: usize,
    pub end: usize,
    pub groups: Vec<Option<(usize, usize)>>,
}

/// The first match at or after byte offset `from`, like JavaScript's `exec` with `lastIndex`.
pub(crate) fn find_at(re: &Regex, text: &str, from: usize) -> Result<Option<JsMatch>, String> {
    if from > text.len() {
        return Ok(None);
    }
    let caps = re
        .captures_from_pos(text, from)
        .map_err(|e| format!("Regular expression evaluation failed: {e}"))?;
    Ok(caps.map(|caps| {
        let whole = caps.get(0).map_or((from, from), |m| (m.start(), m.end()));
        JsMatch {
            start: whole.0,
            end: whole.1,
            groups: (1..caps.len())
                .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
                .collect(),
        }
    }))
}

/// A byte offset as the UTF-16 index JavaScript reports.
pub(crate) fn utf16_index(text: &str, byte: usize) -> usize {
    text[..byte].encode_utf16().count()
}

const DIGIT: &str = "0-9";
const WORD: &str = "A-Za-z0-9_";
const DOT: &str = "[^\\n\\r\\x{2028}\\x{2029}]";

/// Translates JavaScript (Annex B, non-Unicode) pattern syntax to fancy-regex syntax.
fn translate(pattern: &str, dotall: bool) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let group_count = count_groups(&chars);
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                i += 1;
                let Some(&e) = chars.get(i) else {
                    return Err("\\ at end of pattern".to_owned());
                };
                match e {
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str("[A-Za-z0-9_]"),
                    'W' => out.push_str("[^A-Za-z0-9_]"),
                    's' | 'S' | 'b' | 'B' | 't' | 'n' | 'r' | 'f' | 'v' => {
                        out.push('\\');
                        out.push(e);
                    }
                    '1'..='9' => {
                        let (n, len) = read_decimal(&chars[i..]);
                        if n <= group_count {
                            out.push_str(&format!("\\{n}"));
                            i += len - 1;
                        } else {
                            // Annex B: not a group, so a legacy octal escape (or the digit).
                            let (ch, len) = read_octal(&chars[i..]);
                            push_literal(&mut out, ch);
                            i += len - 1;
                        }
                    }
                    '0' => {
                        let (ch, len) = read_octal(&chars[i..]);
                        push_literal(&mut out, ch);
                        i += len - 1;
                    }
                    'k' if chars.get(i + 1) == Some(&'<') => out.push_str("\\k"),
                    _ => {
                        let (ch, len) = escape_char(&chars[i..]);
                        push_literal(&mut out, ch);
                        i += len - 1;
                    }
                }
                i += 1;
            }
            '[' => {
                i = translate_class(&chars, i, &mut out)?;
            }
            '.' => {
                out.push_str(if dotall { "[\\s\\S]" } else { DOT });
                i += 1;
            }
            '{' => {
                if let Some(len) = quantifier_len(&chars[i..]) {
                    out.extend(&chars[i..i + len]);
                    i += len;
                } else {
                    out.push_str("\\{");
                    i += 1;
                }
            }
            '}' | ']' => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            // Whitespace and `#` are literal in JavaScript; escape them in case a flag ever
            // turns on fancy-regex's verbose mode.
            '#' => {
                out.push_str("\\#");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Translates a character class starting at `chars[start] == '['`; returns the index after it.
fn translate_class(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        // `[]` matches nothing and `[^]` matches anything in JavaScript.
        out.push_str(if negated { "[\\s\\S]" } else { "[^\\s\\S]" });
        return Ok(i + 1);
    }
    out.push('[');
    if negated {
        out.push('^');
    }
    let mut prev_dash = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ']' => {
                out.push(']');
                return Ok(i + 1);
            }
            '\\' => {
                i += 1;
                let Some(&e) = chars.get(i) else {
                    return Err("\\ at end of pattern".to_owned());
                };
                match e {
                    'd' => out.push_str(DIGIT),
                    'w' => out.push_str(WORD),
                    'D' => out.push_str("[^0-9]"),
                    'W' => out.push_str("[^A-Za-z0-9_]"),
                    's' | 'S' | 't' | 'n' | 'r' | 'f' | 'v' => {
                        out.push('\\');
                        out.push(e);
                    }
                    'b' => push_literal(out, '\u{8}'),
                    '0'..='7' => {
                        let (ch, len) = read_octal(&chars[i..]);
                        push_literal(out, ch);
                        i += len - 1;
                    }
                    _ => {
                        let (ch, len) = escape_char(&chars[i..]);
                        push_literal(out, ch);
                        i += len - 1;
                    }
                }
                prev_dash = false;
                i += 1;
            }
            '-' => {
                // A second `-` in a row is a set operation in fancy-regex, a literal in JavaScript.
                if prev_dash {
                    out.push_str("\\-");
                    prev_dash = false;
                } else {
                    out.push('-');
                    prev_dash = true;
                }
                i += 1;
            }
            '[' | '&' | '~' | '^' => {
                out.push('\\');
                out.push(c);
                prev_dash = false;
                i += 1;
            }
            _ => {
                out.push(c);
                prev_dash = false;
                i += 1;
            }
        }
    }
    Err("Unterminated character class".to_owned())
}

/// Counts capturing groups, to tell a backreference from a legacy octal escape.
fn count_groups(chars: &[char]) -> usize {
    let mut n = 0;
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => {
                let next = chars.get(i + 1);
                let named = next == Some(&'?')
                    && chars.get(i + 2) == Some(&'<')
                    && !matches!(chars.get(i + 3), Some('=') | Some('!'));
                if next != Some(&'?') || named {
                    n += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    n
}

fn read_decimal(chars: &[char]) -> (usize, usize) {
    let digits: String = chars.iter().take_while(|c| c.is_ascii_digit()).collect();
    (digits.parse().unwrap_or(usize::MAX), digits.len().max(1))
}

/// A legacy octal escape (up to three digits, value ≤ 0o377), or a lone `8`/`9` as itself.
fn read_octal(chars: &[char]) -> (char, usize) {
    let mut value = 0u32;
    let mut len = 0;
    while len < 3 {
        match chars.get(len).and_then(|c| c.to_digit(8)) {
            Some(d) if value * 8 + d <= 0o377 => {
                value = value * 8 + d;
                len += 1;
            }
            _ => break,
        }
    }
    if len == 0 {
        return (chars[0], 1);
    }
    (char::from_u32(value).unwrap_or('\0'), len)
}

/// An escape other than a class or group escape: `\xHH`, `\uHHHH`, `\cX`, or an identity escape.
/// Returns the character and how many characters (after the backslash) it used.
fn escape_char(chars: &[char]) -> (char, usize) {
    let hex = |from: usize, n: usize| -> Option<char> {
        let s: String = chars.get(from..from + n)?.iter().collect();
        if s.chars().all(|c| c.is_ascii_hexdigit()) {
            char::from_u32(u32::from_str_radix(&s, 16).ok()?)
        } else {
            None
        }
    };
    match chars[0] {
        'x' => hex(1, 2).map_or(('x', 1), |c| (c, 3)),
        'u' => hex(1, 4).map_or(('u', 1), |c| (c, 5)),
        'c' => match chars.get(1) {
            Some(l) if l.is_ascii_alphabetic() => {
                (char::from_u32(*l as u32 % 32).unwrap_or('\0'), 2)
            }
            _ => ('\\', 0),
        },
        other => (other, 1),
    }
}

fn push_literal(out: &mut String, c: char) {
    // Only regex metacharacters are escaped: fancy-regex gives some other escapes a meaning
    // (`\<` and `\>` are word boundaries).
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
        out.push(c);
    } else if c.is_control() {
        out.push_str(&format!("\\x{{{:x}}}", c as u32));
    } else {
        out.push(c);
    }
}

/// Length of a `{n}`, `{n,}` or `{n,m}` quantifier at the start of `chars`, if it is one.
fn quantifier_len(chars: &[char]) -> Option<usize> {
    let mut i = 1;
    let digits = |i: &mut usize| {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if chars.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (chars.get(i) == Some(&'}')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(pattern: &str, flags: &str, text: &str) -> Option<String> {
        let re = compile(pattern, flags).unwrap();
        find_at(&re, text, 0)
            .unwrap()
            .map(|m| text[m.start..m.end].to_owned())
    }

    #[test]
    fn lookaround_and_backreferences() {
        assert_eq!(
            first(r"\d+(?=USD)", "", "price: 100USD"),
            Some("100".into())
        );
        assert_eq!(first(r"(?<!\$)\d+", "", "$5 7"), Some("7".into()));
        assert_eq!(first(r"(\w)\1", "", "ab cdd"), Some("dd".into()));
        assert_eq!(first(r"(?<x>a)\k<x>", "", "baab"), Some("aa".into()));
    }

    #[test]
    fn javascript_classes_are_ascii() {
        assert_eq!(first(r"\d+", "", "٣4"), Some("4".into()));
        assert_eq!(first(r"[\w-]+", "", "é-ab_"), Some("-ab_".into()));
        assert_eq!(first(r"a.c", "", "a\rc abc"), Some("abc".into()));
        assert_eq!(first(r"a[^]c", "", "a\nc"), Some("a\nc".into()));
        assert_eq!(first(r"a[]c", "", "abc"), None);
    }

    #[test]
    fn annex_b_literals() {
        assert_eq!(first(r"a{", "", "xa{"), Some("a{".into()));
        assert_eq!(first(r"a{2}", "", "aaa"), Some("aa".into()));
        assert_eq!(first(r"x]", "", "x]"), Some("x]".into()));
        assert_eq!(first(r"[[]", "", "a[b"), Some("[".into()));
        assert_eq!(first(r"\/\-\q", "", "a/-q"), Some("/-q".into()));
        assert_eq!(first(r"\u0041\x42", "", "zAB"), Some("AB".into()));
        assert_eq!(first(r"a\0", "", "a\0"), Some("a\0".into()));
        assert_eq!(first(r"^hello\$", "", "hello$world"), Some("hello$".into()));
    }

    #[test]
    fn flags() {
        assert_eq!(first("abc", "i", "xABC"), Some("ABC".into()));
        assert_eq!(first("^b", "m", "a\nb"), Some("b".into()));
        assert!(compile("a", "g").is_err());
        assert!(compile("a", "ii").is_err());
        assert!(compile("", "").is_err());
        assert!(compile("(", "").is_err());
    }

    #[test]
    fn catastrophic_backtracking_is_stopped() {
        let text = "a".repeat(40);
        for pattern in [r"^(?=(a+)+b)", r"^((a+)+)\1b", r"(a|aa)+(?=b)\1"] {
            let re = compile(pattern, "").unwrap();
            let started = std::time::Instant::now();
            let outcome = find_at(&re, &text, 0);
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{pattern}"
            );
            assert!(!matches!(outcome, Ok(Some(_))), "{pattern}");
        }
        let re = compile(r"(a|aa)+(?=b)\1", "").unwrap();
        assert!(find_at(&re, &text, 0).is_err());
    }

    #[test]
    fn utf16_indexes() {
        assert_eq!(utf16_index("😀ab", "😀".len()), 2);
    }
}
