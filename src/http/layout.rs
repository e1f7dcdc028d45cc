//! Layouts: one shell template that page fragments are poured into, so that
//! what every page shares (the `<head>`, the header, the footer) is written
//! once and each page file holds only what is its own.
//!
//! The shell marks its holes the way HTML's own `<slot>` element does:
//! `<slot name="head"></slot>` is a named hole and `<slot></slot>` the
//! unnamed one; whatever stands between the tags is the fallback, kept when a
//! page leaves the hole alone. A page fills a named hole with
//! `<template slot="head">…</template>`; everything else in the page fills
//! the unnamed hole. Fills are trimmed; fallbacks are kept as written.
//! Neither element reaches the browser.
//!
//! The syntax is strict on purpose (exact tags, no nesting, a hole filled at
//! most once, no fill for a hole the shell lacks): a typo is an error when
//! the page is served, not a page quietly missing a part. This module is
//! pure text in, text out; reading files and caching is `static_files`.

use std::collections::BTreeMap;
use std::fmt;

/// Why a page could not be poured into its shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError(String);

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LayoutError {}

fn error(message: impl Into<String>) -> LayoutError {
    LayoutError(message.into())
}

const SLOT: &str = "<slot";
const SLOT_END: &str = "</slot>";
const FILL: &str = "<template slot=\"";
const FILL_END: &str = "</template>";

/// Pours `page` into `shell`: each hole of the shell gets the page's fill
/// for it, or keeps its fallback.
pub fn compose(shell: &str, page: &str) -> Result<String, LayoutError> {
    let fills = fills(page)?;
    let mut composed = String::with_capacity(shell.len() + page.len());
    let mut holes = Vec::new();
    let mut rest = shell;
    while let Some(start) = rest.find(SLOT) {
        composed.push_str(&rest[..start]);
        let (name, fallback, after) = slot(&rest[start..])?;
        composed.push_str(fills.get(name).map_or(fallback, String::as_str));
        holes.push(name);
        rest = after;
    }
    composed.push_str(rest);
    match fills.keys().find(|name| !holes.contains(*name)) {
        None => Ok(composed),
        Some(&"") => Err(error("the page has content of its own, but the shell has no <slot></slot> for it")),
        Some(name) => Err(error(format!("the page fills slot \"{name}\", which the shell does not have"))),
    }
}

/// Reads the hole at the start of `shell` (`<slot>…</slot>` or
/// `<slot name="…">…</slot>`): its name ("" for the unnamed one), its
/// fallback and the text after it.
fn slot(shell: &str) -> Result<(&str, &str, &str), LayoutError> {
    let tag_end = shell.find('>').ok_or_else(|| error("the shell has a <slot tag that is never closed"))?;
    let tag = &shell[..=tag_end];
    let name = match tag {
        "<slot>" => "",
        _ => tag
            .strip_prefix("<slot name=\"")
            .and_then(|t| t.strip_suffix("\">"))
            .filter(|name| is_name(name))
            .ok_or_else(|| error(format!("the shell's {tag} is neither <slot> nor <slot name=\"a-name\">")))?,
    };
    let body = &shell[tag_end + 1..];
    let end = body.find(SLOT_END).ok_or_else(|| error(format!("the shell's {tag} has no </slot>")))?;
    let fallback = &body[..end];
    if fallback.contains(SLOT) {
        return Err(error(format!("the shell's {tag} holds another slot; slots do not nest")));
    }
    Ok((name, fallback, &body[end + SLOT_END.len()..]))
}

/// The page's fills by slot name; its own content, outside any
/// `<template slot>`, under "" when there is any.
fn fills(page: &str) -> Result<BTreeMap<&str, String>, LayoutError> {
    let mut fills = BTreeMap::new();
    let mut own = String::new();
    let mut rest = page;
    while let Some(start) = rest.find(FILL) {
        own.push_str(&rest[..start]);
        let opened = &rest[start + FILL.len()..];
        let (name, body) = opened
            .split_once("\">")
            .filter(|(name, _)| is_name(name))
            .ok_or_else(|| error("the page has a <template slot=\"…\"> whose slot is not a plain name"))?;
        let (content, after) =
            body.split_once(FILL_END).ok_or_else(|| error(format!("the page's slot \"{name}\" has no </template>")))?;
        if content.contains("<template") {
            return Err(error(format!("the page's slot \"{name}\" holds a <template>; fills do not nest")));
        }
        if fills.insert(name, content.trim().to_owned()).is_some() {
            return Err(error(format!("the page fills slot \"{name}\" twice")));
        }
        rest = after;
    }
    own.push_str(rest);
    if !own.trim().is_empty() {
        fills.insert("", own.trim().to_owned());
    }
    Ok(fills)
}

/// Slot names: lowercase letters, digits and dashes, as in `site-header`.
fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHELL: &str = "<head><slot name=\"head\"></slot></head>\n\
        <nav>site</nav><slot name=\"nav-end\"></slot>\n\
        <slot name=\"banner\"><div id=\"banner\"></div></slot>\n\
        <slot></slot>\n\
        <slot name=\"footer\"><footer>shared</footer></slot>";

    #[test]
    fn fills_replace_their_slots_and_the_rest_of_the_page_fills_the_unnamed_one() {
        let page = "<template slot=\"head\">\n<title>Plans</title>\n</template>\n\
            <template slot=\"nav-end\"><div id=\"who\"></div></template>\n\
            <main>plans</main>\n";
        assert_eq!(
            compose(SHELL, page).unwrap(),
            "<head><title>Plans</title></head>\n\
             <nav>site</nav><div id=\"who\"></div>\n\
             <div id=\"banner\"></div>\n\
             <main>plans</main>\n\
             <footer>shared</footer>"
        );
    }

    #[test]
    fn a_slot_left_alone_keeps_its_fallback_and_an_empty_fill_removes_it() {
        let page = "<template slot=\"banner\"><div>static</div></template>\
            <template slot=\"footer\"></template><main>x</main>";
        assert_eq!(
            compose(SHELL, page).unwrap(),
            "<head></head>\n<nav>site</nav>\n<div>static</div>\n<main>x</main>\n"
        );
    }

    #[test]
    fn text_without_slots_comes_out_as_it_went_in() {
        assert_eq!(compose("<p>no slots</p>", "").unwrap(), "<p>no slots</p>");
        assert_eq!(compose("<slot>nothing yet</slot>", " \n").unwrap(), "nothing yet");
        assert_eq!(compose("a<slot></slot>b", "<!-- é -->").unwrap(), "a<!-- é -->b");
    }

    #[test]
    fn mistakes_in_the_shell_or_the_page_are_errors_not_missing_parts() {
        let bad = [
            (SHELL, "<template slot=\"heda\">x</template>", "fills slot \"heda\", which the shell does not have"),
            ("<slot name=\"head\"></slot>", "<main>x</main>", "no <slot></slot>"),
            (SHELL, "<template slot=\"head\">a</template><template slot=\"head\">b</template>", "twice"),
            (SHELL, "<template slot=\"head\">never closed", "has no </template>"),
            (SHELL, "<template slot=\"Head Tag\">x</template>", "not a plain name"),
            (SHELL, "<template slot=\"head\"><template>x</template></template>", "fills do not nest"),
            ("<slot name='head'></slot>", "", "neither <slot> nor"),
            ("<slot name=\"head\">", "", "has no </slot>"),
            ("<slot name=\"a\"><slot></slot></slot>", "", "slots do not nest"),
            ("<slot", "", "never closed"),
        ];
        for (shell, page, expected) in bad {
            let message = compose(shell, page).unwrap_err().to_string();
            assert!(message.contains(expected), "{shell:?} + {page:?}: {message}");
        }
    }
}
