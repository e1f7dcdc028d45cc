//! The pages in `public/`: safe path mapping, content types and caching.

use super::error::{HttpError, HttpResult};
use super::request::Request;
use super::response::Response;
use percent_encoding::percent_decode_str;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Maps a URL path to a file below `root`, or `None` for anything that
/// could step outside it or reach a hidden file. The path is decoded first,
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
            && !segment.starts_with('.')
            && !segment.contains(['\\', '\0', ':'])
            && segment.len() <= 255;
        if !safe {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

/// Answers a GET or HEAD for a static file, with an ETag so browsers
/// revalidate cheaply and always see a new version after an upgrade.
pub fn serve(root: &Path, request: &Request) -> HttpResult<Response> {
    let not_found = || HttpError::not_found("not_found", "There is no page at this address.");
    let path = resolve(root, &request.path).ok_or_else(not_found)?;
    let metadata = match fs::metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => return Err(not_found()),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
            return Err(not_found());
        }
        Err(e) => return Err(HttpError::internal(&format!("{}: {e}", path.display()))),
    };
    let modified = metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
    let etag = format!("\"{:x}-{:x}\"", modified.as_nanos(), metadata.len());
    let cache = "no-cache";
    if request.header("if-none-match").is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag)) {
        return Ok(Response::new(304, "", Vec::new()).with_header("ETag", etag).with_header("Cache-Control", cache));
    }
    let body = fs::read(&path).map_err(|e| HttpError::internal(&format!("{}: {e}", path.display())))?;
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let content_type = match mime.type_() {
        mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
        _ if mime.subtype() == mime_guess::mime::JAVASCRIPT => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    };
    Ok(Response::new(200, &content_type, body).with_header("ETag", etag).with_header("Cache-Control", cache))
}

#[cfg(test)]
mod tests {
    use super::*;

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
