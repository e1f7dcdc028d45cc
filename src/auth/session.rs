//! Sessions: an HS256 JWT naming the customer's public key, carried in the
//! `hostr_session` cookie or an `Authorization: Bearer` header.
//!
//! The algorithm is pinned (a token claiming `none` or another algorithm
//! is refused), expiry is enforced, and every token carries the customer's
//! session epoch: raising the epoch ("sign out everywhere") revokes every
//! token issued before.
//!
//! The operator's console has its own `Sessions` ([`Sessions::admin`]): its
//! tokens carry the `admin` scope, live in the `hostr_admin` cookie sent to
//! `/api/admin/` only, and last hours, not days. Each kind of `Sessions`
//! refuses the other's tokens, so a customer token never opens the console
//! and a console token is no customer session.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const COOKIE_NAME: &str = "hostr_session";
/// The console's cookie, sent by browsers to `/api/admin/` only.
pub const ADMIN_COOKIE_NAME: &str = "hostr_admin";
pub const ADMIN_SCOPE: &str = "admin";

/// The secret that signs session tokens, kept in `.session-secret` at the
/// root of the database (mode 0600) and made on first use.
pub fn secret_in(database: &std::path::Path) -> crate::store::StoreResult<Vec<u8>> {
    let path = database.join(".session-secret");
    crate::secret_file::load_or_create(&path, 32, super::random_hex::<32>)
        .map_err(|source| crate::store::StoreError::Io { path, source })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The signed-in public key, lowercase hex.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The customer's session epoch when the token was issued.
    pub epoch: u64,
    /// `admin` for the console's tokens; none for customers'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    Expired,
    /// Not a token this server issued, or altered since.
    Invalid,
}

pub struct Sessions {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
    scope: Option<&'static str>,
    cookie_name: &'static str,
    cookie_path: &'static str,
}

impl Sessions {
    pub fn new(secret: &[u8], lifetime: Duration) -> Sessions {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Sessions {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime,
            scope: None,
            cookie_name: COOKIE_NAME,
            cookie_path: "/",
        }
    }

    /// The console's sessions: same secret, the `admin` scope, their own cookie.
    pub fn admin(secret: &[u8], lifetime: Duration) -> Sessions {
        Sessions {
            scope: Some(ADMIN_SCOPE),
            cookie_name: ADMIN_COOKIE_NAME,
            cookie_path: "/api/admin",
            ..Sessions::new(secret, lifetime)
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A token for `public_key`, issued at unix time `now`.
    pub fn issue(&self, public_key: &str, epoch: u64, now: i64) -> String {
        let claims = Claims {
            sub: public_key.to_owned(),
            iat: now,
            exp: now + self.lifetime.as_secs() as i64,
            epoch,
            scope: self.scope.map(str::to_owned),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, SessionError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => SessionError::Expired,
                _ => SessionError::Invalid,
            })
            .and_then(|claims| {
                let ours = claims.scope.as_deref() == self.scope;
                if ours && crate::ids::is_public_key_hex(&claims.sub) { Ok(claims) } else { Err(SessionError::Invalid) }
            })
    }

    /// The `Set-Cookie` value that stores `token` in the browser.
    pub fn cookie(&self, token: &str, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        let (name, path) = (self.cookie_name, self.cookie_path);
        format!("{name}={token}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={}{secure}", self.lifetime.as_secs())
    }

    /// The `Set-Cookie` value that removes this kind of session's cookie.
    pub fn clearing(&self, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!("{}=; HttpOnly; SameSite=Strict; Path={}; Max-Age=0{secure}", self.cookie_name, self.cookie_path)
    }

    /// This kind of session's token in a `Cookie` header, if any.
    pub fn token_in<'a>(&self, cookie_header: &'a str) -> Option<&'a str> {
        let name = self.cookie_name;
        cookie_header.split(';').map(str::trim).find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clearing_cookie(secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
    }
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').map(str::trim).find_map(|pair| pair.strip_prefix(COOKIE_NAME)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const KEY: &str = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn sessions(secret: &[u8]) -> Sessions {
        Sessions::new(secret, Duration::from_secs(3600))
    }

    #[test]
    fn a_token_names_its_key_and_epoch() {
        let s = sessions(b"0123456789abcdef0123456789abcdef");
        let claims = s.verify(&s.issue(KEY, 3, now())).unwrap();
        assert_eq!((claims.sub.as_str(), claims.epoch), (KEY, 3));
    }

    #[test]
    fn forged_altered_expired_and_unsigned_tokens_are_refused() {
        let s = sessions(b"0123456789abcdef0123456789abcdef");
        let other = sessions(b"another secret, another server!!");
        assert_eq!(s.verify(&other.issue(KEY, 0, now())), Err(SessionError::Invalid));
        assert_eq!(s.verify(&s.issue(KEY, 0, now() - 7200)), Err(SessionError::Expired));

        let token = s.issue(KEY, 0, now());
        let parts: Vec<&str> = token.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut payload: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        payload["epoch"] = 99.into();
        let tampered = format!("{}.{}.{}", parts[0], b64.encode(payload.to_string()), parts[2]);
        assert_eq!(s.verify(&tampered), Err(SessionError::Invalid));

        let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(s.verify(&format!("{none_header}.{}.", parts[1])), Err(SessionError::Invalid));
        assert_eq!(s.verify("not a token"), Err(SessionError::Invalid));
        assert_eq!(s.verify(&s.issue("not-a-key", 0, now())), Err(SessionError::Invalid));
    }

    #[test]
    fn console_and_customer_tokens_open_only_their_own_door() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let (customers, console) = (sessions(secret), Sessions::admin(secret, Duration::from_secs(600)));
        let admin = console.issue(KEY, 0, now());
        assert_eq!(console.verify(&admin).unwrap().scope.as_deref(), Some("admin"));
        assert_eq!(customers.verify(&admin), Err(SessionError::Invalid), "a console token is no customer session");
        assert_eq!(console.verify(&customers.issue(KEY, 0, now())), Err(SessionError::Invalid));
        let cookie = console.cookie(&admin, true);
        assert!(cookie.starts_with("hostr_admin=") && cookie.contains("Path=/api/admin; Max-Age=600"), "{cookie}");
        assert_eq!(console.token_in("hostr_session=a; hostr_admin=b"), Some("b"));
        assert_eq!(customers.token_in("hostr_admin=b"), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_on_https() {
        let s = sessions(b"0123456789abcdef0123456789abcdef");
        let cookie = s.cookie("t0k3n", true);
        assert!(cookie.starts_with("hostr_session=t0k3n; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600"));
        assert!(cookie.ends_with("; Secure"));
        assert!(!s.cookie("t", false).contains("Secure"));
        assert_eq!(token_from_cookie_header("a=1; hostr_session=abc.def.ghi; b=2"), Some("abc.def.ghi"));
        assert_eq!(token_from_cookie_header("hostr_sessionx=1"), None);
    }
}
