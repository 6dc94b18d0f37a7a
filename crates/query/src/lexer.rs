//! Splits query text into tokens. Hand-written: every error names the
//! character or token at fault and where it is.

use crate::ast::Span;
use crate::error::{ErrorKind, QueryError};

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A plain word: a keyword, a name or `$name`. Keywords are recognised by
    /// the parser, case-insensitively.
    Word(String),
    /// `[[name]]`: a name that is never a keyword.
    Escaped(String),
    /// A string literal, escapes resolved.
    Str(String),
    /// A number literal.
    Number(serde_json::Number),
    /// `@name`, a query parameter (not supported; kept for a clear message).
    Param(String),
    Star,
    Comma,
    Dot,
    DotDot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Eq,
    /// `==` (kept for a clear message).
    EqEq,
    Ne,
    /// `<>` (kept for a clear message).
    LtGt,
    Lt,
    Le,
    Gt,
    Ge,
    Minus,
    Plus,
    Colon,
    Pipe,
    /// `||` or `&&` (kept for a clear message).
    LogicalSymbol(&'static str),
    Semicolon,
    Eof,
}

impl TokenKind {
    /// How the token is named in messages.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Word(w) => format!("`{w}`"),
            TokenKind::Escaped(w) => format!("`[[{w}]]`"),
            TokenKind::Str(_) => "a string".to_owned(),
            TokenKind::Number(n) => format!("the number `{n}`"),
            TokenKind::Param(p) => format!("the parameter `@{p}`"),
            TokenKind::Eof => "the end of the query".to_owned(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            TokenKind::Star => "*",
            TokenKind::Comma => ",",
            TokenKind::Dot => ".",
            TokenKind::DotDot => "..",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::Eq => "=",
            TokenKind::EqEq => "==",
            TokenKind::Ne => "!=",
            TokenKind::LtGt => "<>",
            TokenKind::Lt => "<",
            TokenKind::Le => "<=",
            TokenKind::Gt => ">",
            TokenKind::Ge => ">=",
            TokenKind::Minus => "-",
            TokenKind::Plus => "+",
            TokenKind::Colon => ":",
            TokenKind::Pipe => "|",
            TokenKind::LogicalSymbol(s) => s,
            TokenKind::Semicolon => ";",
            _ => "?",
        }
    }
}

/// Whether `c` may start a plain name.
pub(crate) fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// Whether `c` may continue a plain name.
pub(crate) fn is_name_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `source` into tokens, ending with `Eof`.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, QueryError> {
    Lexer {
        source,
        pos: 0,
        tokens: Vec::new(),
    }
    .run()
}

struct Lexer<'a> {
    source: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.source[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.source[self.pos..].chars().nth(n)
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>, span: Span) -> QueryError {
        QueryError::new(kind, message, self.source, span)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn run(mut self) -> Result<Vec<Token>, QueryError> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            if is_name_start(c) {
                let word = self.take_while(is_name_continue).to_owned();
                self.push(TokenKind::Word(word), start);
                continue;
            }
            if c.is_ascii_digit() {
                self.number(start)?;
                continue;
            }
            match c {
                '$' => {
                    self.pos += 1;
                    if !self.peek().is_some_and(is_name_start) {
                        return Err(self.error(
                            ErrorKind::InvalidCharacter,
                            "`$` must start a metadata name such as `$dtId` or `$metadata`",
                            Span::new(start, self.pos),
                        ));
                    }
                    self.take_while(is_name_continue);
                    let word = self.source[start..self.pos].to_owned();
                    self.push(TokenKind::Word(word), start);
                }
                '@' => {
                    self.pos += 1;
                    let name = self.take_while(is_name_continue).to_owned();
                    self.push(TokenKind::Param(name), start);
                }
                '\'' | '"' => self.string(c, start)?,
                // `[[[name]]]` in a MATCH condition is `[` then `[[name]]`.
                '[' if self.peek_at(1) == Some('[') && self.peek_at(2) != Some('[') => {
                    self.escaped_name(start)?
                }
                _ => self.symbol(c, start)?,
            }
        }
        let end = self.source.len();
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(end, end),
        });
        Ok(self.tokens)
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !f(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.source[start..self.pos]
    }

    fn symbol(&mut self, c: char, start: usize) -> Result<(), QueryError> {
        let next = self.peek_at(1);
        let (kind, len) = match (c, next) {
            ('*', _) => (TokenKind::Star, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('.', Some('.')) => (TokenKind::DotDot, 2),
            ('.', _) => (TokenKind::Dot, 1),
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            ('[', _) => (TokenKind::LBracket, 1),
            (']', _) => (TokenKind::RBracket, 1),
            ('=', Some('=')) => (TokenKind::EqEq, 2),
            ('=', _) => (TokenKind::Eq, 1),
            ('!', Some('=')) => (TokenKind::Ne, 2),
            ('<', Some('>')) => (TokenKind::LtGt, 2),
            ('<', Some('=')) => (TokenKind::Le, 2),
            ('<', _) => (TokenKind::Lt, 1),
            ('>', Some('=')) => (TokenKind::Ge, 2),
            ('>', _) => (TokenKind::Gt, 1),
            ('-', _) => (TokenKind::Minus, 1),
            ('+', _) => (TokenKind::Plus, 1),
            (':', _) => (TokenKind::Colon, 1),
            ('|', Some('|')) => (TokenKind::LogicalSymbol("||"), 2),
            ('|', _) => (TokenKind::Pipe, 1),
            ('&', Some('&')) => (TokenKind::LogicalSymbol("&&"), 2),
            (';', _) => (TokenKind::Semicolon, 1),
            _ => {
                let span = Span::new(start, start + c.len_utf8());
                let message = match c {
                    '!' => "unexpected `!`; write `!=` to compare, or NOT to negate".to_owned(),
                    '`' => {
                        "unexpected `` ` ``; escape a name with double square brackets: [[name]]"
                            .to_owned()
                    }
                    _ => format!("unexpected character `{}`", c.escape_debug()),
                };
                return Err(self.error(ErrorKind::InvalidCharacter, message, span));
            }
        };
        self.pos += len;
        self.push(kind, start);
        Ok(())
    }

    fn number(&mut self, start: usize) -> Result<(), QueryError> {
        self.take_while(|c| c.is_ascii_digit());
        let mut is_float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.take_while(|c| c.is_ascii_digit());
            is_float = true;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.take_while(|c| c.is_ascii_digit());
                is_float = true;
            } else {
                self.pos = save;
            }
        }
        if self.peek().is_some_and(is_name_continue) {
            self.take_while(is_name_continue);
            let text = &self.source[start..self.pos];
            return Err(self.error(
                ErrorKind::InvalidNumber,
                format!(
                    "`{text}` is not a number, and a name cannot start with a digit; \
                     escape such a name with double square brackets: [[{text}]]"
                ),
                Span::new(start, self.pos),
            ));
        }
        let text = &self.source[start..self.pos];
        let number = if is_float {
            text.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
        } else if let Ok(n) = text.parse::<u64>() {
            Some(serde_json::Number::from(n))
        } else {
            text.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
        };
        let Some(number) = number else {
            return Err(self.error(
                ErrorKind::InvalidNumber,
                format!("`{text}` is out of the range of numbers"),
                Span::new(start, self.pos),
            ));
        };
        self.push(TokenKind::Number(number), start);
        Ok(())
    }

    fn string(&mut self, quote: char, start: usize) -> Result<(), QueryError> {
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(
                    ErrorKind::UnterminatedString,
                    format!("this string has no closing {quote}"),
                    Span::new(start, self.pos),
                ));
            };
            let at = self.pos;
            self.pos += c.len_utf8();
            if c == quote {
                break;
            }
            if c != '\\' {
                value.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.error(
                    ErrorKind::UnterminatedString,
                    format!("this string has no closing {quote}"),
                    Span::new(start, self.pos),
                ));
            };
            self.pos += e.len_utf8();
            match e {
                '\'' | '"' | '\\' | '/' => value.push(e),
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                'b' => value.push('\u{8}'),
                'f' => value.push('\u{c}'),
                'u' => value.push(self.unicode_escape(at)?),
                _ => {
                    return Err(self.error(
                        ErrorKind::InvalidEscape,
                        format!(
                            "unknown escape `\\{}` in a string; use \\' \\\" \\\\ \\n \\t \\r \\b \\f \\/ or \\uXXXX",
                            e.escape_debug()
                        ),
                        Span::new(at, self.pos),
                    ));
                }
            }
        }
        self.push(TokenKind::Str(value), start);
        Ok(())
    }

    /// After `\u`: four hex digits, with a second `\uXXXX` for a surrogate pair.
    fn unicode_escape(&mut self, at: usize) -> Result<char, QueryError> {
        let first = self.hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.source[self.pos..].starts_with("\\u") {
                self.pos += 2;
                let second = self.hex4(at)?;
                if !(0xDC00..0xE000).contains(&second) {
                    return Err(self.bad_unicode(at));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else {
                return Err(self.bad_unicode(at));
            }
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.bad_unicode(at))
    }

    fn hex4(&mut self, at: usize) -> Result<u32, QueryError> {
        let digits = self
            .source
            .get(self.pos..self.pos + 4)
            .filter(|d| d.chars().all(|c| c.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            return Err(self.bad_unicode(at));
        };
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.bad_unicode(at))
    }

    fn bad_unicode(&self, at: usize) -> QueryError {
        self.error(
            ErrorKind::InvalidEscape,
            "`\\u` must be followed by four hex digits naming a Unicode character",
            Span::new(at, self.pos.max(at + 2)),
        )
    }

    fn escaped_name(&mut self, start: usize) -> Result<(), QueryError> {
        self.pos += 2;
        let Some(len) = self.source[self.pos..].find("]]") else {
            return Err(self.error(
                ErrorKind::InvalidEscapedName,
                "this escaped name has no closing `]]`",
                Span::new(start, start + 2),
            ));
        };
        let name = self.source[self.pos..self.pos + len].to_owned();
        self.pos += len + 2;
        if name.is_empty() {
            return Err(self.error(
                ErrorKind::InvalidEscapedName,
                "an escaped name `[[…]]` cannot be empty",
                Span::new(start, self.pos),
            ));
        }
        self.push(TokenKind::Escaped(name), start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_numbers_and_symbols() {
        assert_eq!(
            kinds("T.$dtId >= 70 AND x<-5"),
            vec![
                TokenKind::Word("T".into()),
                TokenKind::Dot,
                TokenKind::Word("$dtId".into()),
                TokenKind::Ge,
                TokenKind::Number(70.into()),
                TokenKind::Word("AND".into()),
                TokenKind::Word("x".into()),
                TokenKind::Lt,
                TokenKind::Minus,
                TokenKind::Number(5.into()),
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn ranges_are_not_decimals() {
        assert_eq!(
            kinds("*1..3"),
            vec![
                TokenKind::Star,
                TokenKind::Number(1.into()),
                TokenKind::DotDot,
                TokenKind::Number(3.into()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn number_fidelity() {
        let n = |s: &str| match &kinds(s)[0] {
            TokenKind::Number(n) => n.clone(),
            other => panic!("{other:?}"),
        };
        assert!(n("70").is_u64());
        assert!(n("70.0").is_f64());
        assert!(n("7e1").is_f64());
        assert_eq!(n("2.5").as_f64(), Some(2.5));
        assert!(n("18446744073709551616").is_f64());
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(kinds(r"'D\'Souza'")[0], TokenKind::Str("D'Souza".into()));
        assert_eq!(kinds(r#""a\"b""#)[0], TokenKind::Str("a\"b".into()));
        assert_eq!(kinds(r"'\u00e9\n'")[0], TokenKind::Str("é\n".into()));
        assert_eq!(kinds(r"'\ud83d\ude00'")[0], TokenKind::Str("😀".into()));
        let err = tokenize(r"'a\qb'").unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidEscape);
        assert_eq!(err.position.offset, 2);
        let err = tokenize("x = 'abc").unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnterminatedString);
        assert_eq!(err.position.column, 5);
    }

    #[test]
    fn escaped_names() {
        assert_eq!(
            kinds("-[[[r]]]-"),
            vec![
                TokenKind::Minus,
                TokenKind::LBracket,
                TokenKind::Escaped("r".into()),
                TokenKind::RBracket,
                TokenKind::Minus,
                TokenKind::Eof
            ]
        );
        assert_eq!(kinds("[[Group]]")[0], TokenKind::Escaped("Group".into()));
        assert_eq!(kinds("[[1 key]]")[0], TokenKind::Escaped("1 key".into()));
        assert_eq!(
            tokenize("[[abc").unwrap_err().kind,
            ErrorKind::InvalidEscapedName
        );
        assert_eq!(
            tokenize("[[]]").unwrap_err().kind,
            ErrorKind::InvalidEscapedName
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for s in [
            "#",
            "$",
            "2abc",
            "'\\u12'",
            "'\\ud800'",
            "'\\",
            "é'",
            "x ! y",
            "`x`",
        ] {
            assert!(tokenize(s).is_err(), "{s}");
        }
    }
}
