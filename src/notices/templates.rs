//! The texts of the notices, in one place: one template per kind, with
//! named fields (`{domain}`), embedded from `src/notices/templates/` and
//! overridable without code by a file of the same name (`renewal-due.txt`)
//! in the folder given by `--notice-templates`.
//!
//! A template is `Subject: …`, a blank line, and the plain-text body. The
//! HTML part of an email is made from the same text (escaped, paragraphs,
//! links), so the two never say different things. Every template is
//! checked at start-up: a field the kind does not have refuses the start,
//! rather than sending `{typo}` to customers.

use super::NoticeKind;
use std::collections::BTreeMap;
use std::path::Path;

/// Fields every template may use.
const COMMON: &[&str] = &["site", "profile_link", "contact"];

/// The fields of each kind, beyond [`COMMON`].
fn fields_of(kind: NoticeKind) -> &'static [&'static str] {
    match kind {
        NoticeKind::OrderReceived => &["amount", "plan", "domain"],
        NoticeKind::Receipt => &["amount", "plan", "domain", "period"],
        NoticeKind::AccountReady => &["domain", "username", "end_date", "dns"],
        NoticeKind::RenewalDue => &["domain", "username", "end_date", "days", "renewal"],
        NoticeKind::Expired => &["domain", "username", "end_date", "removal"],
        NoticeKind::Suspended => &["domain", "username", "end_date", "message"],
        NoticeKind::Unsuspended => &["domain", "username", "end_date"],
        NoticeKind::CustomerSuspended | NoticeKind::CustomerUnsuspended => &["domains"],
        NoticeKind::TerminationWarning => &["domain", "username", "end_date", "days", "removal_date", "removal"],
        NoticeKind::Deleted => &["purge_date"],
        NoticeKind::Recovered => &[],
        NoticeKind::EmailConfirmation => &["email", "confirm_link"],
        NoticeKind::FulfilmentFailed => &["amount", "plan", "domain", "payment", "customer", "error", "retries"],
        NoticeKind::AutoRenewSoon => &["domain", "end_date", "alias", "date", "amount", "cap", "periods"],
        NoticeKind::AutoRenewFailed => &["domain", "end_date", "alias", "message", "next"],
        NoticeKind::AutoRenewBroken => &["domain", "end_date", "alias", "message"],
    }
}

fn embedded(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::OrderReceived => include_str!("templates/order-received.txt"),
        NoticeKind::Receipt => include_str!("templates/receipt.txt"),
        NoticeKind::AccountReady => include_str!("templates/account-ready.txt"),
        NoticeKind::RenewalDue => include_str!("templates/renewal-due.txt"),
        NoticeKind::Expired => include_str!("templates/expired.txt"),
        NoticeKind::Suspended => include_str!("templates/suspended.txt"),
        NoticeKind::Unsuspended => include_str!("templates/unsuspended.txt"),
        NoticeKind::CustomerSuspended => include_str!("templates/customer-suspended.txt"),
        NoticeKind::CustomerUnsuspended => include_str!("templates/customer-unsuspended.txt"),
        NoticeKind::TerminationWarning => include_str!("templates/termination-warning.txt"),
        NoticeKind::Deleted => include_str!("templates/deleted.txt"),
        NoticeKind::Recovered => include_str!("templates/recovered.txt"),
        NoticeKind::EmailConfirmation => include_str!("templates/email-confirmation.txt"),
        NoticeKind::FulfilmentFailed => include_str!("templates/fulfilment-failed.txt"),
        NoticeKind::AutoRenewSoon => include_str!("templates/auto-renew-soon.txt"),
        NoticeKind::AutoRenewFailed => include_str!("templates/auto-renew-failed.txt"),
        NoticeKind::AutoRenewBroken => include_str!("templates/auto-renew-broken.txt"),
    }
}

/// One rendered notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

impl Rendered {
    /// The same text as a small HTML document.
    pub fn html(&self) -> String {
        let paragraphs: Vec<String> = self
            .text
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| format!("<p>{}</p>", p.lines().map(html_line).collect::<Vec<_>>().join("<br>\n")))
            .collect();
        format!(
            "<!doctype html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5\">\n{}\n</body></html>\n",
            paragraphs.join("\n")
        )
    }

    /// Subject and body as one plain-text message (a Nostr DM).
    pub fn as_message(&self) -> String {
        format!("{}\n\n{}", self.subject, self.text)
    }
}

/// A line of text, escaped, with its http(s) links made links.
fn html_line(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            let escaped = escape(word);
            if word.starts_with("https://") || word.starts_with("http://") {
                format!("<a href=\"{escaped}\">{escaped}</a>")
            } else {
                escaped
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Every kind's template, checked.
#[derive(Debug, Clone)]
pub struct Templates {
    by_kind: BTreeMap<NoticeKind, (String, String)>,
}

impl Templates {
    /// The embedded texts.
    pub fn embedded() -> Templates {
        Templates::load(None).expect("the embedded templates are valid")
    }

    /// The embedded texts, each replaced by `<dir>/<kind>.txt` when that
    /// file exists; any template with a field its kind lacks is refused.
    pub fn load(dir: Option<&Path>) -> Result<Templates, String> {
        let mut by_kind = BTreeMap::new();
        for kind in NoticeKind::ALL {
            let file = dir.map(|d| d.join(format!("{}.txt", kind.as_str()))).filter(|f| f.exists());
            let text = match &file {
                Some(file) => std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?,
                None => embedded(kind).to_owned(),
            };
            let name = file.map_or_else(|| format!("the embedded {}.txt", kind.as_str()), |f| f.display().to_string());
            by_kind.insert(kind, parse(kind, &text).map_err(|why| format!("{name}: {why}"))?);
        }
        Ok(Templates { by_kind })
    }

    /// The notice of `kind` with `fields` filled in (a missing one is empty).
    pub fn render(&self, kind: NoticeKind, fields: &BTreeMap<String, String>) -> Rendered {
        let (subject, body) = &self.by_kind[&kind];
        // A field's value is put in as it is: never read as a template.
        let subject = fill(subject, fields).replace(['\r', '\n'], " ");
        Rendered { subject, text: fill(body, fields).trim().to_owned() + "\n" }
    }
}

fn parse(kind: NoticeKind, text: &str) -> Result<(String, String), String> {
    let (first, body) = text.split_once('\n').unwrap_or((text, ""));
    let subject = first.strip_prefix("Subject:").ok_or("the first line must be `Subject: …`")?.trim();
    if subject.is_empty() {
        return Err("the subject is empty".to_owned());
    }
    for name in placeholders(text) {
        if !COMMON.contains(&name) && !fields_of(kind).contains(&name) {
            let mut known: Vec<&str> = COMMON.iter().chain(fields_of(kind)).copied().collect();
            known.sort_unstable();
            return Err(format!(
                "`{{{name}}}` is not a field of {}; its fields are {}",
                kind.as_str(),
                known.join(", ")
            ));
        }
    }
    Ok((subject.to_owned(), body.trim_start_matches('\n').to_owned()))
}

/// The `{name}`s of a template: lowercase letters and `_` between braces.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| {
        let name = rest.split_once('}')?.0;
        (!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then_some(name)
    })
}

fn fill(template: &str, fields: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.split_once('}').filter(|(name, _)| placeholders(&format!("{{{name}}}")).next().is_some()) {
            Some((name, tail)) => {
                out.push_str(fields.get(name).map_or("", String::as_str));
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_embedded_template_uses_only_its_fields() {
        let templates = Templates::embedded();
        for kind in NoticeKind::ALL {
            let rendered = templates.render(kind, &BTreeMap::new());
            assert!(!rendered.subject.is_empty(), "{kind:?}");
            assert!(!rendered.text.contains('{'), "{kind:?}: {}", rendered.text);
        }
    }

    #[test]
    fn fields_are_filled_once_and_never_read_as_templates() {
        let templates = Templates::embedded();
        let values = fields(&[("domain", "{site} <b>x</b>"), ("end_date", "2026-02-10"), ("days", "3")]);
        let rendered = templates.render(NoticeKind::RenewalDue, &values);
        assert_eq!(rendered.subject, "{site} <b>x</b> renews on 2026-02-10");
        assert!(rendered.html().contains("{site} &lt;b&gt;x&lt;/b&gt;"), "escaped in HTML: {}", rendered.html());
        let link = templates.render(NoticeKind::Recovered, &fields(&[("profile_link", "https://h.example/profile")]));
        assert!(link.html().contains("<a href=\"https://h.example/profile\">"), "{}", link.html());
    }

    #[test]
    fn an_operator_template_is_checked_and_used() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("receipt.txt"), "Subject: Paid: {amount}\n\nThanks, {plan}!\n").unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let rendered = templates.render(NoticeKind::Receipt, &fields(&[("amount", "5 USD"), ("plan", "Basic")]));
        assert_eq!(rendered, Rendered { subject: "Paid: 5 USD".into(), text: "Thanks, Basic!\n".into() });
        let cases = [
            ("Subject: Paid {amout}\n\nx", "`{amout}` is not a field of receipt"),
            ("Paid\n\nx", "the first line must be `Subject: …`"),
            ("Subject:  \n\nx", "the subject is empty"),
        ];
        for (text, why) in cases {
            std::fs::write(dir.path().join("receipt.txt"), text).unwrap();
            let refused = Templates::load(Some(dir.path())).unwrap_err();
            assert!(refused.contains("receipt.txt: ") && refused.contains(why), "{refused}");
        }
    }
}
