//! [`PublicUrl`], the origin customers reach the site at, in the exact form
//! browsers send in `Origin`: sign-in events, cookies and Origin checks all
//! compare against it.

/// The origin customers reach the site at: scheme, host and optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
}

impl PublicUrl {
    pub fn parse(url: &str) -> Result<PublicUrl, String> {
        let bad = |why: &str| format!("the public URL `{url}` {why}; use a form such as https://hosting.example.com");
        let trimmed = url.trim_end_matches('/');
        let (scheme, authority) = trimmed.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("must start with http:// or https://"));
        }
        let authority_ok =
            !authority.is_empty() && authority.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
        if !authority_ok {
            return Err(bad("must be only a scheme, a host and an optional port, without a path"));
        }
        // Browsers leave the default port out of `Origin`; so must we.
        let authority = authority.to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
        Ok(PublicUrl { origin: format!("{scheme}://{authority}") })
    }

    /// `scheme://host[:port]`, as browsers send it in the `Origin` header.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The exact URL sign-in events must name in their `u` tag.
    pub fn verify_url(&self) -> String {
        format!("{}/api/verify", self.origin)
    }

    /// The host (and port) part, for "Sign in to …" lines.
    pub fn host(&self) -> &str {
        self.origin.split_once("://").map_or(&self.origin, |(_, host)| host)
    }

    pub fn is_https(&self) -> bool {
        self.origin.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_origins() {
        assert_eq!(PublicUrl::parse("https://Hosting.Example.com/").unwrap().origin(), "https://hosting.example.com");
        assert!(PublicUrl::parse("http://127.0.0.1:8080").unwrap().origin() == "http://127.0.0.1:8080");
        for bad in ["hosting.example.com", "ftp://x.com", "https://x.com/shop", "https://user@x.com", "https://"] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(PublicUrl::parse("https://x.com").unwrap().is_https());
        assert_eq!(PublicUrl::parse("https://x.com:443").unwrap().origin(), "https://x.com");
        assert_eq!(PublicUrl::parse("http://x.com:80/").unwrap().origin(), "http://x.com");
        assert_eq!(PublicUrl::parse("https://x.com:8443").unwrap().origin(), "https://x.com:8443");
    }
}
