//! The pages in `public/`: safe path mapping, content types, revalidation,
//! and the layout page fragments are served in.
//!
//! Layout: when the root holds `_shell.html`, every HTML file below it that
//! is not a whole document (one beginning with `<!doctype`) is a fragment,
//! served poured into the shell (see `layout` for the slots). A page is
//! composed on its first request and again whenever it or the shell changes,
//! judged by their modification times and sizes on every request, as any
//! file's ETag is; so an edit to either shows on the next reload, with no
//! build step. A composed page's ETag names both files' stamps, so browsers
//! revalidate it as cheaply as any file.
//!
//! Names beginning with `.` or `_` are never served: `_` marks the site's
//! own parts, such as the shell, which are only ever served inside a page.

use super::error::{HttpError, HttpResult};
use super::layout;
use super::request::Request;
use super::response::Response;
use percent_encoding::percent_decode_str;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::UNIX_EPOCH;

/// Maps a URL path to a file below `root`, or `None` for anything that
/// could step outside it or reach a hidden file (`.name`) or one of the
/// site's own parts (`_name`). The path is decoded first,
/// so `%2e%2e` and `%2f` are judged as the `..` and `/` they stand for.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode_str(url_path).decode_utf8().ok()?;
    let relative = decoded.strip_prefix('/')?;
    let relative = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_owned()
    };
    let mut path = root.to_path_buf();
    for segment in relative.split('/') {
        let safe = !segment.is_empty()
            && !segment.starts_with(['.', '_'])
            && !segment.contains(['\\', '\0', ':'])
            && segment.len() <= 255;
        if !safe {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

/// The shell that page fragments below the root are poured into.
pub const SHELL: &str = "_shell.html";

/// Serves the files below one root, composing pages with its shell.
pub struct StaticFiles {
    root: PathBuf,
    /// Composed pages by path, each with the ETag it was composed for.
    composed: Mutex<HashMap<PathBuf, Composed>>,
}

struct Composed {
    etag: String,
    body: Vec<u8>,
}

impl StaticFiles {
    pub fn new(root: PathBuf) -> StaticFiles {
        StaticFiles { root, composed: Mutex::new(HashMap::new()) }
    }

    /// Answers a GET or HEAD for a file, with an ETag so browsers
    /// revalidate cheaply and always see a new version after an upgrade.
    pub fn serve(&self, request: &Request) -> HttpResult<Response> {
        let not_found = || HttpError::not_found("not_found", "There is no page at this address.");
        let path = resolve(&self.root, &request.path).ok_or_else(not_found)?;
        let file = file_metadata(&path)?.ok_or_else(not_found)?;
        let is_html = path.extension().is_some_and(|e| e == "html");
        let shell = if is_html { file_metadata(&self.root.join(SHELL))? } else { None };
        let etag = match &shell {
            Some(shell) => format!("\"{}.{}\"", stamp(&file), stamp(shell)),
            None => format!("\"{}\"", stamp(&file)),
        };
        let cache = "no-cache";
        if request.header("if-none-match").is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag)) {
            return Ok(Response::new(304, "", Vec::new())
                .with_header("ETag", etag)
                .with_header("Cache-Control", cache));
        }
        let body = match shell {
            Some(_) => self.composed(&path, &etag)?,
            None => read(&path)?,
        };
        let mime = mime_guess::from_path(&path).first_or_octet_stream();
        let content_type = match mime.type_() {
            mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
            _ if mime.subtype() == mime_guess::mime::JAVASCRIPT => format!("{mime}; charset=utf-8"),
            _ => mime.to_string(),
        };
        Ok(Response::new(200, content_type, body).with_header("ETag", etag).with_header("Cache-Control", cache))
    }

    /// The page at `path` in the shell, composed again only when `etag`
    /// (both files' stamps) is not the one it was last composed for.
    fn composed(&self, path: &Path, etag: &str) -> HttpResult<Vec<u8>> {
        let cached = self.composed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(page) = cached.get(path).filter(|page| page.etag == etag) {
            return Ok(page.body.clone());
        }
        // Composing reads two files: not while holding up the other workers.
        drop(cached);
        let page = read(path)?;
        let body = if is_whole_document(&page) {
            page
        } else {
            let shell_path = self.root.join(SHELL);
            let shell = read(&shell_path)?;
            let composed = layout::compose(text(&shell, &shell_path)?, text(&page, path)?)
                .map_err(|e| HttpError::internal(&format!("{} in {}: {e}", path.display(), shell_path.display())))?;
            composed.into_bytes()
        };
        let fresh = Composed { etag: etag.to_owned(), body: body.clone() };
        self.composed.lock().unwrap_or_else(PoisonError::into_inner).insert(path.to_owned(), fresh);
        Ok(body)
    }
}

/// The file's metadata, or `None` when there is no file at `path`.
fn file_metadata(path: &Path) -> HttpResult<Option<fs::Metadata>> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Some(m)),
        Ok(_) => Ok(None),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(HttpError::internal(&format!("{}: {e}", path.display()))),
    }
}

/// What changes whenever the file does: its modification time and size.
fn stamp(metadata: &fs::Metadata) -> String {
    let modified = metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
    format!("{:x}-{:x}", modified.as_nanos(), metadata.len())
}

fn read(path: &Path) -> HttpResult<Vec<u8>> {
    fs::read(path).map_err(|e| HttpError::internal(&format!("{}: {e}", path.display())))
}

fn text<'a>(bytes: &'a [u8], path: &Path) -> HttpResult<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| HttpError::internal(&format!("{}: {e}", path.display())))
}

/// A page that is a whole document is served as it is, shell or not.
fn is_whole_document(page: &[u8]) -> bool {
    page.trim_ascii_start().get(..9).is_some_and(|start| start.eq_ignore_ascii_case(b"<!doctype"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public folder with a shell, a fragment, a whole document and a
    /// stylesheet.
    fn site() -> (tempfile::TempDir, StaticFiles) {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (SHELL, "<!doctype html>\n<title><slot name=\"title\"></slot></title>\n<slot></slot>\n"),
            ("page.html", "<template slot=\"title\">Plans</template>\n<main>plans</main>\n"),
            ("whole.html", "\n<!DOCTYPE html><p>complete</p>"),
            ("site.css", "p {}"),
        ];
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        let files = StaticFiles::new(dir.path().to_path_buf());
        (dir, files)
    }

    fn get(files: &StaticFiles, path: &str, etag: Option<&str>) -> Response {
        let mut request = Request::new("GET", path);
        request.headers.extend(etag.map(|tag| ("if-none-match".to_owned(), tag.to_owned())));
        files.serve(&request).unwrap_or_else(Response::from)
    }

    fn etag(response: &Response) -> String {
        response.headers.iter().find(|(name, _)| *name == "ETag").map(|(_, tag)| tag.to_string()).unwrap()
    }

    #[test]
    fn fragments_are_served_in_the_shell_and_everything_else_as_it_is() {
        let (_dir, files) = site();
        let page = get(&files, "/page.html", None);
        assert_eq!(page.status, 200);
        assert_eq!(
            String::from_utf8(page.body).unwrap(),
            "<!doctype html>\n<title>Plans</title>\n<main>plans</main>\n"
        );
        assert_eq!(get(&files, "/whole.html", None).body, b"\n<!DOCTYPE html><p>complete</p>");
        assert_eq!(get(&files, "/site.css", None).body, b"p {}");
        assert_eq!(get(&files, "/_shell.html", None).status, 404);
    }

    #[test]
    fn a_composed_page_revalidates_and_changes_when_its_shell_does() {
        let (dir, files) = site();
        let first = etag(&get(&files, "/page.html", None));
        assert_eq!(get(&files, "/page.html", Some(&first)).status, 304);
        // A different length, so the stamp changes even where mtimes are coarse.
        fs::write(dir.path().join(SHELL), "<h1><slot name=\"title\"></slot></h1><slot></slot>").unwrap();
        let changed = get(&files, "/page.html", Some(&first));
        assert_eq!(changed.status, 200);
        assert_ne!(etag(&changed), first);
        assert_eq!(changed.body, b"<h1>Plans</h1><main>plans</main>");
    }

    #[test]
    fn a_page_that_does_not_fit_its_shell_is_an_internal_error() {
        let (dir, files) = site();
        fs::write(dir.path().join("typo.html"), "<template slot=\"titel\">Plans</template>").unwrap();
        assert_eq!(get(&files, "/typo.html", None).status, 500);
    }

    #[test]
    fn without_a_shell_fragments_are_served_as_they_are() {
        let (dir, files) = site();
        fs::remove_file(dir.path().join(SHELL)).unwrap();
        let page = get(&files, "/page.html", None);
        assert_eq!(page.body, b"<template slot=\"title\">Plans</template>\n<main>plans</main>\n");
        assert!(!etag(&page).contains('.'), "the ETag names the page alone");
    }

    #[test]
    fn maps_paths_below_the_root_only() {
        let root = Path::new("/srv/public");
        assert_eq!(resolve(root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(root, "/products.html"), Some(root.join("products.html")));
        assert_eq!(resolve(root, "/js/app.js"), Some(root.join("js/app.js")));
        assert_eq!(resolve(root, "/js/"), Some(root.join("js/index.html")));
        assert_eq!(resolve(root, "/my%20page.html"), Some(root.join("my page.html")));
        for hostile in [
            "/../Cargo.toml",
            "/js/../../etc/passwd",
            "/%2e%2e/Cargo.toml",
            "/%2E%2E%2fCargo.toml",
            "/..%5cCargo.toml",
            "/.git/config",
            "/_shell.html",
            "/js/_part.js",
            "/a//b",
            "/a%00.html",
            "/%ff",
            "relative.html",
            "/C:/windows",
        ] {
            assert_eq!(resolve(root, hostile), None, "{hostile}");
        }
    }
}
