//! Byte-level helpers shared by the SIP decoders: whitespace trimming (folded lines
//! included), splitting outside quotes and angle brackets, and `;name=value` parameter
//! lookup. Everything borrows; nothing allocates.

/// Linear whitespace as it can appear inside a header value once folded lines are
/// kept in place (RFC 3261 §7.3.1: a fold is CRLF followed by SP or HT).
pub(crate) fn is_lws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// `bytes` without leading and trailing linear whitespace.
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    trim_end(trim_start(bytes))
}

pub(crate) fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_lws(b))
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

pub(crate) fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| !is_lws(b)).map_or(0, |i| i + 1);
    bytes.get(..end).unwrap_or_default()
}

/// Removes one pair of surrounding double quotes, if present.
pub(crate) fn unquote(bytes: &[u8]) -> &[u8] {
    match bytes {
        [b'"', inner @ .., b'"'] => inner,
        _ => bytes,
    }
}

/// Position of the first `separator` that is outside a quoted string (with `\`
/// escapes, RFC 3261 §25.1 quoted-pair) and outside `<...>`.
///
/// Jumps from one byte of interest to the next with memchr rather than looking at
/// every byte: header values are mostly plain tokens (this runs for every Via, every
/// parameter list). Quotes inside `<...>` are still honoured, as a `>` in a quoted
/// string does not close the angle brackets.
pub(crate) fn find_top_level(bytes: &[u8], separator: u8) -> Option<usize> {
    let mut at = 0;
    loop {
        at += memchr::memchr3(separator, b'"', b'<', bytes.get(at..)?)?;
        match bytes.get(at)? {
            b'"' => at = after_quoted(bytes, at + 1)?,
            b'<' => at = after_angle(bytes, at + 1)?,
            _ => return Some(at),
        }
    }
}

/// Index just past the closing quote of a quoted string whose content starts at
/// `from`; `None` when it never closes.
fn after_quoted(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        from += memchr::memchr2(b'"', b'\\', bytes.get(from..)?)?;
        if bytes.get(from) == Some(&b'"') {
            return Some(from + 1);
        }
        from += 2; // a quoted-pair: the escaped byte is skipped
    }
}

/// Index just past the `>` that closes `<...>` whose content starts at `from`;
/// `None` when it never closes.
fn after_angle(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        from += memchr::memchr2(b'>', b'"', bytes.get(from..)?)?;
        if bytes.get(from) == Some(&b'>') {
            return Some(from + 1);
        }
        from = after_quoted(bytes, from + 1)?;
    }
}

/// Splits on `separator` outside quotes and `<...>`, trimming each piece and dropping
/// empty ones (RFC 3261 §7.3.1: several values of one header may share a line).
pub(crate) fn split_top_level(bytes: &[u8], separator: u8) -> SplitTopLevel<'_> {
    SplitTopLevel {
        rest: Some(bytes),
        separator,
    }
}

pub(crate) struct SplitTopLevel<'a> {
    rest: Option<&'a [u8]>,
    separator: u8,
}

impl<'a> Iterator for SplitTopLevel<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let rest = self.rest?;
            let piece = match find_top_level(rest, self.separator) {
                Some(at) => {
                    self.rest = rest.get(at + 1..);
                    rest.get(..at).unwrap_or_default()
                }
                None => {
                    self.rest = None;
                    rest
                }
            };
            let piece = trim(piece);
            if !piece.is_empty() {
                return Some(piece);
            }
        }
    }
}

/// Iterates `name[=value]` pairs of a `;`-separated parameter list (the part after the
/// first `;`). Names and values are trimmed; quoted values keep their quotes.
pub(crate) fn params(list: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    split_top_level(list, b';').map(|param| match memchr::memchr(b'=', param) {
        Some(eq) => (
            trim(param.get(..eq).unwrap_or_default()),
            Some(trim(param.get(eq + 1..).unwrap_or_default())),
        ),
        None => (param, None),
    })
}

/// Looks up a parameter by name, case-insensitively (RFC 3261 §7.3.1: parameter names
/// are case-insensitive). `Some(None)` for a parameter without a value.
pub(crate) fn find_param<'a>(list: &'a [u8], name: &str) -> Option<Option<&'a [u8]>> {
    params(list)
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.map(unquote))
}

/// Splits `bytes` at the first occurrence of `separator`, which is not included.
pub(crate) fn split_once(bytes: &[u8], separator: u8) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(separator, bytes) {
        Some(at) => (bytes.get(..at).unwrap_or_default(), bytes.get(at + 1..)),
        None => (bytes, None),
    }
}

/// Parses an unsigned decimal number made only of ASCII digits (no sign, no spaces).
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

pub(crate) fn parse_u32(digits: &[u8]) -> Option<u32> {
    parse_u64(digits).and_then(|n| u32::try_from(n).ok())
}

pub(crate) fn parse_u16(digits: &[u8]) -> Option<u16> {
    parse_u64(digits).and_then(|n| u16::try_from(n).ok())
}

/// RFC 3261 §25.1 `token` characters.
pub(crate) fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time reading [`find_top_level`] must agree with.
    fn find_top_level_slowly(bytes: &[u8], separator: u8) -> Option<usize> {
        let (mut in_quotes, mut in_angle, mut escaped) = (false, false, false);
        for (i, &b) in bytes.iter().enumerate() {
            if in_quotes {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_quotes = false;
                }
                continue;
            }
            match b {
                b'"' => in_quotes = true,
                b'<' => in_angle = true,
                b'>' => in_angle = false,
                _ if b == separator && !in_angle => return Some(i),
                _ => {}
            }
        }
        None
    }

    #[test]
    fn find_top_level_agrees_with_a_byte_by_byte_reading() {
        // Every string of up to 6 bytes over the alphabet that matters.
        let alphabet = [b'a', b';', b',', b'"', b'\\', b'<', b'>'];
        let mut input = Vec::new();
        for len in 0..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                input.clear();
                for _ in 0..len {
                    input.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                for sep in [b';', b','] {
                    assert_eq!(
                        find_top_level(&input, sep),
                        find_top_level_slowly(&input, sep),
                        "{:?} split on {:?}",
                        String::from_utf8_lossy(&input),
                        sep as char
                    );
                }
            }
        }
    }

    #[test]
    fn trims_folded_whitespace() {
        assert_eq!(trim(b" \t a b\r\n "), b"a b");
        assert_eq!(trim(b"\r\n"), b"");
        assert_eq!(trim(b""), b"");
    }

    #[test]
    fn splits_outside_quotes_and_brackets() {
        let parts: Vec<&[u8]> =
            split_top_level(b"\"a,b\" <sip:x,y@h>;p=1 , <sip:z@h>,,", b',').collect();
        assert_eq!(parts, vec![&b"\"a,b\" <sip:x,y@h>;p=1"[..], b"<sip:z@h>"]);
        // An escaped quote does not end the quoted string.
        let parts: Vec<&[u8]> = split_top_level(br#""a\",b" <sip:x@h>, c"#, b',').collect();
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn finds_params_case_insensitively() {
        let list = b"Tag = abc ; lr ; q=\"0.5\"";
        assert_eq!(find_param(list, "tag"), Some(Some(&b"abc"[..])));
        assert_eq!(find_param(list, "LR"), Some(None));
        assert_eq!(find_param(list, "q"), Some(Some(&b"0.5"[..])));
        assert_eq!(find_param(list, "x"), None);
    }

    #[test]
    fn parses_numbers_without_overflow() {
        assert_eq!(parse_u64(b"0042"), Some(42));
        assert_eq!(parse_u64(b"99999999999999999999999"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u16(b"65536"), None);
    }
}
