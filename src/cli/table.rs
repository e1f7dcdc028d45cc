//! Tables for people: each column as wide as its widest cell, measured in
//! terminal columns (so `bücher.de`, `日本語` and emoji line up like ASCII),
//! two spaces between columns, no trailing spaces.
//!
//! Invariants: every line of a table has its columns at the same positions,
//! whatever the cells hold. A cell never contains a control or bidirectional
//! formatting character (they are shown escaped, as `\n` or `\u{202e}`), so a
//! value from a hand-edited file cannot break a row or move the cursor. A
//! column with a `max` cuts longer cells with `…`: free text (names, email
//! addresses) is bounded; identifiers, which operators copy, have no `max`.

use unicode_width::UnicodeWidthChar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone)]
pub struct Column {
    title: &'static str,
    align: Align,
    max: Option<usize>,
}

/// A column whose cells start at its left edge.
pub fn left(title: &'static str) -> Column {
    Column { title, align: Align::Left, max: None }
}

/// A column whose cells end at its right edge (amounts, sizes).
pub fn right(title: &'static str) -> Column {
    Column { title, align: Align::Right, max: None }
}

impl Column {
    /// Cells wider than `width` terminal columns are cut, ending in `…`.
    pub fn max(self, width: usize) -> Column {
        Column { max: Some(width.max(1)), ..self }
    }
}

pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: impl IntoIterator<Item = Column>) -> Table {
        Table { columns: columns.into_iter().collect(), rows: Vec::new() }
    }

    /// Adds a row: one cell per column, in order (missing cells are empty).
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut cells: Vec<String> = cells.into_iter().map(|c| c.as_ref().to_owned()).collect();
        cells.resize(self.columns.len(), String::new());
        let cells = cells.iter().zip(&self.columns).map(|(cell, column)| fit(&clean(cell), column.max)).collect();
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The header and the rows, one line each, every line ending in `\n`.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| self.rows.iter().map(|r| width(&r[i])).chain([width(c.title)]).max().unwrap_or(0))
            .collect();
        let titles: Vec<String> = self.columns.iter().map(|c| c.title.to_owned()).collect();
        let mut out = String::new();
        for cells in std::iter::once(&titles).chain(&self.rows) {
            let mut line = String::new();
            for (i, (cell, column)) in cells.iter().zip(&self.columns).enumerate() {
                let pad = " ".repeat(widths[i] - width(cell));
                match column.align {
                    Align::Left => line.extend([cell.as_str(), &pad]),
                    Align::Right => line.extend([pad.as_str(), cell]),
                }
                line.push_str("  ");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table, or `empty` (a sentence) when it has no rows.
    pub fn print_or(&self, empty: &str) {
        if self.is_empty() {
            println!("{empty}");
        } else {
            print!("{}", self.render());
        }
    }
}

/// `label  value` lines, the values starting at one column; each line
/// indented by two spaces and ending in `\n`.
pub fn fields(lines: &[(&str, String)]) -> String {
    let widest = lines.iter().map(|(label, _)| width(label)).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in lines {
        let pad = " ".repeat(widest - width(label));
        out.push_str(format!("  {label}{pad}  {}", clean(value)).trim_end());
        out.push('\n');
    }
    out
}

/// How many terminal columns `text` takes (after [`clean`]).
pub fn width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` with every control and bidirectional formatting character escaped.
pub fn clean(text: &str) -> String {
    let unsafe_char = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_owned();
    }
    text.chars().map(|c| if unsafe_char(c) { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// `text` cut to at most `max` terminal columns, ending in `…` when cut.
fn fit(text: &str, max: Option<usize>) -> String {
    let Some(max) = max.filter(|&max| width(text) > max) else {
        return text.to_owned();
    };
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terminal column at which each cell of each line starts.
    fn starts(rendered: &str, cells: &[&[&str]]) -> Vec<Vec<usize>> {
        rendered
            .lines()
            .zip(cells)
            .map(|(line, row)| {
                let mut from = 0;
                row.iter()
                    .map(|cell| {
                        let at = from + line[from..].find(cell).expect("the cell is on its line");
                        from = at + cell.len();
                        width(&line[..at])
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn columns_line_up_whatever_the_script_of_the_cells() {
        let mut table = Table::new([left("DOMAIN"), right("PRICE"), left("NAME")]);
        table.row(["bücher.de", "5 EUR", "Ünïcødé"]);
        table.row(["日本語.jp", "1200 JPY", "名前"]);
        table.row(["e\u{301}cole.fr", "12.5 USD", "🚀 rocket"]);
        table.row(["a.io", "1 USD", "x"]);
        let out = table.render();
        let cells: &[&[&str]] = &[
            &["DOMAIN", "PRICE", "NAME"],
            &["bücher.de", "5 EUR", "Ünïcødé"],
            &["日本語.jp", "1200 JPY", "名前"],
            &["e\u{301}cole.fr", "12.5 USD", "🚀 rocket"],
            &["a.io", "1 USD", "x"],
        ];
        let starts = starts(&out, cells);
        let names: Vec<usize> = starts.iter().map(|s| s[2]).collect();
        assert!(names.iter().all(|&n| n == names[0]), "the third column starts at one place:\n{out}{names:?}");
        let price_ends: Vec<usize> = cells[1..].iter().zip(&starts[1..]).map(|(r, s)| s[1] + width(r[1])).collect();
        assert!(price_ends.iter().all(|&e| e == price_ends[0]), "amounts end at one place:\n{out}");
        assert!(out.lines().all(|l| !l.ends_with(' ')), "no trailing spaces:\n{out}");
    }

    #[test]
    fn long_free_text_is_cut_and_identifiers_are_not() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let mut table = Table::new([left("ID"), left("NAME").max(10), left("END")]);
        table.row([id, "A plan with a very long name indeed", "x"]);
        table.row(["b", "名前名前名前名前", "y"]);
        let out = table.render();
        assert!(out.contains(id), "{out}");
        assert!(out.contains("A plan wi…"), "{out}");
        assert!(out.contains("名前名前…"), "wide characters count twice: {out}");
        let last: Vec<usize> = starts(&out, &[&["END"], &["x"], &["y"]]).into_iter().map(|s| s[0]).collect();
        assert!(last.iter().all(|&at| at == last[0]), "{out}");
    }

    #[test]
    fn control_and_bidi_characters_cannot_break_a_row() {
        let mut table = Table::new([left("NAME"), left("NEXT")]);
        table.row(["two\nlines\tand \u{1b}[31mred\u{202e}txet", "after"]);
        let out = table.render();
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.contains(r"two\nlines\tand \u{1b}[31mred\u{202e}txet  after"), "{out}");
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    }

    #[test]
    fn fields_put_their_values_in_one_column() {
        let out =
            fields(&[("Name", "Zoë 日本".into()), ("Registered", "2026-01-31 12:00".into()), ("Bad", "a\nb".into())]);
        assert_eq!(out, "  Name        Zoë 日本\n  Registered  2026-01-31 12:00\n  Bad         a\\nb\n");
    }

    #[test]
    fn an_empty_table_is_said_in_a_sentence() {
        let table = Table::new([left("ID")]);
        assert!(table.is_empty());
        assert_eq!(table.render(), "ID\n");
    }
}
