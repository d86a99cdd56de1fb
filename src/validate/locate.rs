//! Line numbers for JSON pointers in YAML text: which line holds the value that a
//! finding is about. Pure.
//!
//! yaml_serde reads without positions (its event parser is private), and a second YAML
//! parser only for line numbers would be a second reader that could disagree with the
//! first. So this is a small structure reader of its own, for block YAML as idgit writes
//! it and people edit it: mappings and `- ` sequences by indentation, `? ` keys, flow
//! collections (`[a, b]`, `{a: 1}`), quoted scalars over several lines, and block
//! scalars (`|`, `>`), whose content it skips. It never decides what a value *is* —
//! `yaml::from_yaml` does that, and runs first. Where the text is something it does not
//! follow, it answers with the line of the nearest enclosing key it did find.

/// One step of a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// The 1-based line of the value at `pointer` (the line of its key, or of its `-`), or
/// of the nearest enclosing value found.
pub fn line_of(text: &str, pointer: &[Segment]) -> usize {
    let reader = Reader {
        lines: text.lines().collect(),
    };
    let Some(first) = reader.next_content(0) else {
        return 1;
    };
    let (root, _) = reader.node(first, reader.indent(first), -1, Context::Block);
    find(&root, pointer, root.line)
}

fn find(node: &Node, pointer: &[Segment], found: usize) -> usize {
    let Some((segment, rest)) = pointer.split_first() else {
        return found;
    };
    match (segment, &node.body) {
        (Segment::Key(key), Body::Map(entries)) => entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map_or(found, |(_, line, value)| find(value, rest, *line)),
        (Segment::Index(index), Body::Seq(items)) => items
            .get(*index)
            .map_or(found, |(line, value)| find(value, rest, *line)),
        _ => found,
    }
}

/// A value and where it starts (1-based).
#[derive(Debug)]
struct Node {
    line: usize,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// Key, the key's line, the value.
    Map(Vec<(String, usize, Node)>),
    /// The `-` line (or the item's line in a flow sequence), the value.
    Seq(Vec<(usize, Node)>),
    Scalar,
}

fn scalar(line: usize) -> Node {
    Node {
        line: line + 1,
        body: Body::Scalar,
    }
}

/// Where a node starts: a block node may be a mapping or a sequence; a value written
/// after `key:` on the same line can only be a scalar or a flow collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Block,
    AfterKey,
}

struct Reader<'t> {
    lines: Vec<&'t str>,
}

impl<'t> Reader<'t> {
    fn indent(&self, line: usize) -> usize {
        let text = self.lines[line];
        text.len() - text.trim_start_matches(' ').len()
    }

    /// The first line at or after `from` with content: not blank, not only a comment,
    /// not a document marker or directive.
    fn next_content(&self, from: usize) -> Option<usize> {
        (from..self.lines.len()).find(|&i| {
            let text = self.lines[i];
            let trimmed = text.trim();
            !(trimmed.is_empty()
                || trimmed.starts_with('#')
                || text == "---"
                || text.starts_with("--- #")
                || text == "..."
                || text.starts_with('%'))
        })
    }

    /// The node starting at column `col` of `line`, inside a parent indented by
    /// `parent` (-1 at the top). Returns it and the index of the line after it.
    fn node(&self, line: usize, col: usize, parent: isize, context: Context) -> (Node, usize) {
        let raw = &self.lines[line][col..];
        let (text, col) = skip_properties(raw, col);
        if text.is_empty() || text.starts_with('#') {
            // `key: &anchor` with the value below.
            return self.value_below(line, parent);
        }
        if context == Context::Block && is_dash(text) {
            return self.sequence(line, col);
        }
        if text.starts_with('[') || text.starts_with('{') {
            let mut cursor = Cursor { line, col };
            let node = self.flow(&mut cursor);
            return (node, cursor.line + 1);
        }
        if context == Context::Block && (block_key(text).is_some() || is_explicit_key(text)) {
            return self.mapping(line, col);
        }
        if text.starts_with('|') || text.starts_with('>') {
            return (scalar(line), self.skip_indented(line + 1, parent));
        }
        if text.starts_with('"') || text.starts_with('\'') {
            let mut cursor = Cursor { line, col };
            self.quoted(&mut cursor);
            return (scalar(line), cursor.line + 1);
        }
        // A plain scalar, perhaps continued on more indented lines.
        (scalar(line), self.skip_indented(line + 1, parent))
    }

    /// The value of a `key:` or `-` with nothing after it: the more indented node on the
    /// next lines, or null.
    fn value_below(&self, line: usize, parent: isize) -> (Node, usize) {
        match self.next_content(line + 1) {
            Some(next) if self.indent(next) as isize > parent => {
                self.node(next, self.indent(next), parent, Context::Block)
            }
            _ => (scalar(line), line + 1),
        }
    }

    /// The first line from `from` that is not blank and not indented beyond `parent`.
    fn skip_indented(&self, from: usize, parent: isize) -> usize {
        (from..self.lines.len())
            .find(|&i| {
                let text = self.lines[i];
                !text.trim().is_empty() && self.indent(i) as isize <= parent
            })
            .unwrap_or(self.lines.len())
    }

    fn sequence(&self, line: usize, indent: usize) -> (Node, usize) {
        let mut items = Vec::new();
        let mut current = line;
        let next = loop {
            let text = &self.lines[current][indent..];
            let after = &text[1..];
            let content = after.trim_start();
            let (value, next) = if content.is_empty() || content.starts_with('#') {
                self.value_below(current, indent as isize)
            } else {
                let col = indent + 1 + (after.len() - content.len());
                self.node(current, col, indent as isize, Context::Block)
            };
            items.push((current + 1, value));
            match self.next_content(next) {
                Some(n) if self.indent(n) == indent && is_dash(&self.lines[n][indent..]) => {
                    current = n;
                }
                _ => break next,
            }
        };
        let node = Node {
            line: line + 1,
            body: Body::Seq(items),
        };
        (node, next)
    }

    fn mapping(&self, line: usize, indent: usize) -> (Node, usize) {
        let mut entries = Vec::new();
        let mut current = line;
        // The first key may follow a `- ` on its line; the others start at `indent`.
        let mut col = indent;
        let next = loop {
            let text = &self.lines[current][col..];
            let (key, value_line, value_col) = if is_explicit_key(text) {
                // `? key` then `: value` on a line of its own.
                let key = scalar_text(text[1..].trim());
                match self.next_content(current + 1) {
                    Some(n)
                        if self.indent(n) == indent && self.lines[n][indent..].starts_with(':') =>
                    {
                        (key, n, indent + 1)
                    }
                    _ => (key, current, text.len() + col),
                }
            } else {
                match block_key(text) {
                    Some((key, offset)) => (key, current, col + offset),
                    None => break current,
                }
            };
            let rest = &self.lines[value_line][value_col..];
            let content = rest.trim_start();
            let (value, next) = if content.is_empty() || content.starts_with('#') {
                match self.next_content(value_line + 1) {
                    // idgit writes a sequence under a key at the key's own indentation.
                    Some(n) if self.indent(n) == indent && is_dash(&self.lines[n][indent..]) => {
                        self.sequence(n, indent)
                    }
                    _ => self.value_below(value_line, indent as isize),
                }
            } else {
                let start = value_col + (rest.len() - content.len());
                self.node(value_line, start, indent as isize, Context::AfterKey)
            };
            entries.push((key, current + 1, value));
            match self.next_content(next) {
                Some(n) if self.indent(n) == indent && !is_dash(&self.lines[n][indent..]) => {
                    current = n;
                    col = indent;
                }
                _ => break next,
            }
        };
        let node = Node {
            line: line + 1,
            body: Body::Map(entries),
        };
        (node, next)
    }

    fn char_at(&self, cursor: &Cursor) -> Option<char> {
        self.lines
            .get(cursor.line)?
            .get(cursor.col..)?
            .chars()
            .next()
    }

    fn advance(&self, cursor: &mut Cursor) {
        match self.char_at(cursor) {
            Some(c) => cursor.col += c.len_utf8(),
            None => {
                cursor.line += 1;
                cursor.col = 0;
            }
        }
    }

    /// Skips spaces, line breaks and comments inside a flow collection.
    fn skip_space(&self, cursor: &mut Cursor) {
        while cursor.line < self.lines.len() {
            match self.char_at(cursor) {
                Some(' ' | '\t') => self.advance(cursor),
                Some('#') | None => {
                    cursor.line += 1;
                    cursor.col = 0;
                }
                Some(_) => return,
            }
        }
    }

    /// A quoted scalar at the cursor, over as many lines as it takes; returns its value.
    fn quoted(&self, cursor: &mut Cursor) -> String {
        let Some(quote) = self.char_at(cursor) else {
            return String::new();
        };
        self.advance(cursor);
        let mut raw = String::new();
        while cursor.line < self.lines.len() {
            match self.char_at(cursor) {
                None => {
                    raw.push(' ');
                    self.advance(cursor);
                }
                Some('\\') if quote == '"' => {
                    raw.push('\\');
                    self.advance(cursor);
                    if let Some(c) = self.char_at(cursor) {
                        raw.push(c);
                        self.advance(cursor);
                    }
                }
                Some('\'') if quote == '\'' => {
                    self.advance(cursor);
                    if self.char_at(cursor) == Some('\'') {
                        raw.push('\'');
                        self.advance(cursor);
                    } else {
                        return raw;
                    }
                }
                Some(c) if c == quote => {
                    self.advance(cursor);
                    return unescape_double(&raw);
                }
                Some(c) => {
                    raw.push(c);
                    self.advance(cursor);
                }
            }
        }
        raw
    }

    /// A flow node at the cursor; leaves the cursor after it.
    fn flow(&self, cursor: &mut Cursor) -> Node {
        let line = cursor.line;
        match self.char_at(cursor) {
            Some('[') => {
                self.advance(cursor);
                let mut items = Vec::new();
                loop {
                    self.skip_space(cursor);
                    match self.char_at(cursor) {
                        Some(']') => {
                            self.advance(cursor);
                            break;
                        }
                        Some(',') => self.advance(cursor),
                        Some(_) => {
                            let item_line = cursor.line + 1;
                            let item = self.flow(cursor);
                            items.push((item_line, item));
                        }
                        None => break,
                    }
                }
                Node {
                    line: line + 1,
                    body: Body::Seq(items),
                }
            }
            Some('{') => {
                self.advance(cursor);
                let mut entries = Vec::new();
                loop {
                    self.skip_space(cursor);
                    match self.char_at(cursor) {
                        Some('}') => {
                            self.advance(cursor);
                            break;
                        }
                        Some(',') => self.advance(cursor),
                        Some(_) => {
                            let key_line = cursor.line + 1;
                            let key = self.flow_key(cursor);
                            self.skip_space(cursor);
                            let value = if self.char_at(cursor) == Some(':') {
                                self.advance(cursor);
                                self.skip_space(cursor);
                                match self.char_at(cursor) {
                                    Some(',' | '}') | None => scalar(key_line - 1),
                                    Some(_) => self.flow(cursor),
                                }
                            } else {
                                scalar(key_line - 1)
                            };
                            entries.push((key, key_line, value));
                        }
                        None => break,
                    }
                }
                Node {
                    line: line + 1,
                    body: Body::Map(entries),
                }
            }
            Some('"' | '\'') => {
                self.quoted(cursor);
                scalar(line)
            }
            _ => {
                self.plain_in_flow(cursor);
                scalar(line)
            }
        }
    }

    /// A key in a flow mapping.
    fn flow_key(&self, cursor: &mut Cursor) -> String {
        match self.char_at(cursor) {
            Some('"' | '\'') => self.quoted(cursor),
            Some('[' | '{') => {
                self.flow(cursor);
                String::new()
            }
            _ => self.plain_in_flow(cursor),
        }
    }

    /// A plain scalar inside a flow collection, up to `,`, a closing bracket or `: `.
    fn plain_in_flow(&self, cursor: &mut Cursor) -> String {
        let mut text = String::new();
        while let Some(c) = self.char_at(cursor) {
            if matches!(c, ',' | ']' | '}') {
                break;
            }
            if c == ':' {
                let mut after = *cursor;
                self.advance(&mut after);
                match self.char_at(&after) {
                    None | Some(' ' | '\t' | ',' | ']' | '}') => break,
                    Some(_) => {}
                }
            }
            if c == '#' && text.ends_with(' ') {
                break;
            }
            text.push(c);
            self.advance(cursor);
        }
        text.trim().to_string()
    }
}

#[derive(Debug, Clone, Copy)]
struct Cursor {
    line: usize,
    col: usize,
}

fn is_dash(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

fn is_explicit_key(text: &str) -> bool {
    text == "?" || text.starts_with("? ")
}

/// Anchors (`&a`) and tags (`!t`) before a value.
fn skip_properties(text: &str, mut col: usize) -> (&str, usize) {
    let mut rest = text;
    while rest.starts_with('&') || rest.starts_with('!') {
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        let after = rest[end..].trim_start();
        col += rest.len() - after.len();
        rest = after;
    }
    (rest, col)
}

/// `key:` at the start of `text`: the key's value and the offset just after the colon.
fn block_key(text: &str) -> Option<(String, usize)> {
    let separator = |at: usize| -> bool {
        let after = &text[at + 1..];
        after.is_empty() || after.starts_with([' ', '\t'])
    };
    if text.starts_with('"') || text.starts_with('\'') {
        let reader = Reader { lines: vec![text] };
        let mut cursor = Cursor { line: 0, col: 0 };
        let key = reader.quoted(&mut cursor);
        if cursor.line != 0 {
            return None;
        }
        let after = &text[cursor.col..];
        let colon = cursor.col + (after.len() - after.trim_start().len());
        return (text[colon..].starts_with(':') && separator(colon)).then_some((key, colon + 1));
    }
    if text.starts_with([
        '[', '{', '#', '|', '>', '!', '&', '*', '%', '@', '`', ',', '"',
    ]) || is_dash(text)
    {
        return None;
    }
    let mut previous = ' ';
    for (at, c) in text.char_indices() {
        if c == '#' && previous == ' ' && at > 0 {
            return None;
        }
        if c == ':' && separator(at) {
            let key = text[..at].trim_end();
            return (!key.is_empty()).then(|| (key.to_string(), at + 1));
        }
        previous = c;
    }
    None
}

/// The value of a key written after `? `.
fn scalar_text(text: &str) -> String {
    if text.starts_with('"') || text.starts_with('\'') {
        let reader = Reader { lines: vec![text] };
        reader.quoted(&mut Cursor { line: 0, col: 0 })
    } else {
        text.to_string()
    }
}

/// The escapes of a double-quoted scalar. Keys are compared with what was read, so the
/// common escapes are enough; an unknown one is kept as it is.
fn unescape_double(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            break;
        };
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
            let digits: String = chars.take(n).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
        };
        let decoded = match e {
            'n' => Some('\n'),
            't' | '\t' => Some('\t'),
            'r' => Some('\r'),
            '0' => Some('\0'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'e' => Some('\x1b'),
            'f' => Some('\x0c'),
            'v' => Some('\x0b'),
            'N' => Some('\u{85}'),
            '_' => Some('\u{a0}'),
            'L' => Some('\u{2028}'),
            'P' => Some('\u{2029}'),
            'x' => hex(&mut chars, 2),
            'u' => hex(&mut chars, 4),
            'U' => hex(&mut chars, 8),
            other => Some(other),
        };
        out.extend(decoded);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ptr(text: &str) -> Vec<Segment> {
        text.split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.parse() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Key(s.to_string()),
            })
            .collect()
    }

    #[test]
    fn nested_mappings() {
        let text = "\
# yaml-language-server: $schema=../schemas/x.schema.json
properties:
  conditions:
    users:
      excludeGroups:
      - not-a-guid
      includeUsers:
      - All
  displayName: x
";
        assert_eq!(line_of(text, &ptr("")), 2);
        assert_eq!(line_of(text, &ptr("properties")), 2);
        assert_eq!(line_of(text, &ptr("properties/conditions/users")), 4);
        assert_eq!(
            line_of(text, &ptr("properties/conditions/users/excludeGroups")),
            5
        );
        assert_eq!(
            line_of(text, &ptr("properties/conditions/users/excludeGroups/0")),
            6
        );
        assert_eq!(
            line_of(text, &ptr("properties/conditions/users/includeUsers/0")),
            8
        );
        assert_eq!(line_of(text, &ptr("properties/displayName")), 9);
        // Not there: the nearest enclosing key.
        assert_eq!(
            line_of(text, &ptr("properties/conditions/users/excludeGroups/5")),
            5
        );
        assert_eq!(line_of(text, &ptr("properties/conditions/platforms/x")), 3);
    }

    #[test]
    fn sequences_of_mappings() {
        let text = "\
properties:
  appRoles:
  - allowedMemberTypes:
    - User
    id: 6215250c-3d70-4014-95f4-1acc6e7a08d6
    value: HR.Admin
  -   id: d76b1c40-6ea4-4947-af3d-82a7c2a69b63
      isEnabled: yes

      value: HR.Reader
  nested:
    - - a
      - b
    - c: 1
";
        assert_eq!(line_of(text, &ptr("properties/appRoles/0")), 3);
        assert_eq!(
            line_of(text, &ptr("properties/appRoles/0/allowedMemberTypes/0")),
            4
        );
        assert_eq!(line_of(text, &ptr("properties/appRoles/0/value")), 6);
        assert_eq!(line_of(text, &ptr("properties/appRoles/1/id")), 7);
        assert_eq!(line_of(text, &ptr("properties/appRoles/1/isEnabled")), 8);
        assert_eq!(line_of(text, &ptr("properties/appRoles/1/value")), 10);
        assert_eq!(line_of(text, &ptr("properties/nested/0/1")), 13);
        assert_eq!(line_of(text, &ptr("properties/nested/1/c")), 14);
    }

    #[test]
    fn block_and_quoted_scalars_are_skipped() {
        let text = "\
properties:
  description: |
    a: not a key
    - not an item

    #not a comment
  notes: >-
    folded
  \"@odata.type\": \"#microsoft.graph.x\"
  quoted: \"two
    lines\"
  'it''s': 1
  plain: one
    two: still the value
  last: x
";
        assert_eq!(line_of(text, &ptr("properties/notes")), 7);
        assert_eq!(line_of(text, &ptr("properties/@odata.type")), 9);
        assert_eq!(line_of(text, &ptr("properties/it's")), 12);
        assert_eq!(line_of(text, &ptr("properties/plain")), 13);
        assert_eq!(line_of(text, &ptr("properties/last")), 15);
        assert_eq!(line_of(text, &ptr("properties/description")), 2);
    }

    #[test]
    fn flow_collections() {
        let text = "\
properties:
  includeUsers: [All, 'x, y']
  map: {a: 1, \"b\": [2,
      3], c: {d: e}}
  empty: []
  after: 1
";
        assert_eq!(line_of(text, &ptr("properties/includeUsers/1")), 2);
        assert_eq!(line_of(text, &ptr("properties/map/b/1")), 4);
        assert_eq!(line_of(text, &ptr("properties/map/c/d")), 4);
        assert_eq!(line_of(text, &ptr("properties/empty")), 5);
        assert_eq!(line_of(text, &ptr("properties/after")), 6);
    }

    #[test]
    fn explicit_keys_anchors_and_odd_input() {
        let long = "k".repeat(20);
        let text = format!("properties:\n  ? {long}\n  : 1\n  next: &a\n    x: 1\n  z: !!str 3\n");
        assert_eq!(line_of(&text, &ptr(&format!("properties/{long}"))), 2);
        assert_eq!(line_of(&text, &ptr("properties/next/x")), 5);
        assert_eq!(line_of(&text, &ptr("properties/z")), 6);
        for odd in [
            "",
            "\n\n",
            "- a\n",
            "x",
            "a: [1\n",
            "a:\n\tb: 1\n",
            "  a: 1\n b: 2\n",
        ] {
            assert!(line_of(odd, &ptr("a/b/0")) >= 1, "{odd:?}");
        }
        assert_eq!(line_of("- a\n- b: 1\n", &ptr("1/b")), 2);
    }

    #[test]
    fn agrees_with_what_idgit_writes() {
        let value = serde_json::json!({
            "properties": {
                "a": {"b": [{"c": "line\nbreak\n", "d": [1, [2, 3]]}, {}], "e": []},
                "z": "x: y",
            },
            "relationships": {"members": ["m1", "m2"]},
        });
        let text = crate::yaml::to_yaml(&value);
        let lines: Vec<&str> = text.lines().collect();
        let at = |p: &str| lines[line_of(&text, &ptr(p)) - 1].trim_start();
        assert!(at("properties/a/b/0/d/1/1").starts_with("- 3"));
        assert!(at("properties/a/b/0/d/1").starts_with("- - 2"));
        assert!(at("properties/a/b/1").starts_with("- {}"));
        assert!(at("properties/z").starts_with("z:"));
        assert!(at("relationships/members/1").starts_with("- m2"));
    }
}
