//! The PostgreSQL backend, through the blocking `postgres` client (always run off the async
//! runtime, see [`super::Db::run`]). Feed-appending transactions take a transaction-scoped
//! advisory lock shared by every server process on the database.
//!
//! TLS as the URL asks for it, with libpq's `sslmode` words ([`tls`]): `disable` (and no
//! `sslmode`, as before) plain; `prefer` TLS when the server offers it; `require` TLS always;
//! `verify-ca` TLS with the server's certificate checked against `sslrootcert`; `verify-full`
//! that and the host name. As in libpq, `prefer` and `require` check the certificate only when
//! `sslrootcert` is given (otherwise they encrypt against a passive listener only).

use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::{Backend, Connection, DbError, Mode, Row, Tx, Value, FEED_LOCK_KEY};
use crate::error::Result;

pub(super) struct PgConn {
    /// Always `Some` until drop (see the `Drop` impl).
    client: Option<Client>,
    /// Prepared statements by SQL text: the server runs a handful of queries over and over.
    statements: HashMap<String, Statement>,
}

impl PgConn {
    pub(super) fn connect(config: &postgres::Config, tls: &tls::Tls) -> Result<PgConn> {
        let client = match tls {
            tls::Tls::None => config.connect(NoTls),
            tls::Tls::Rustls(make) => config.connect(make.clone()),
        }
        .map_err(|e| match e.source().map(|s| s.to_string()) {
            // "error performing TLS handshake" alone does not say what was wrong.
            Some(why) if e.to_string().contains("TLS") => DbError::Config(format!("PostgreSQL: {e}: {why}")),
            _ => DbError::from(e),
        })?;
        Ok(PgConn { client: Some(client), statements: HashMap::new() })
    }

    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until drop")
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client().prepare(sql).map_err(DbError::from)?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let mismatch = || -> Box<dyn StdError + Sync + Send> { format!("cannot send {self:?} as a PostgreSQL {ty}").into() };
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => {
                if *ty == Type::INT8 {
                    i.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*i != 0).to_sql(ty, out)
                } else if <&str as ToSql>::accepts(ty) {
                    i.to_string().as_str().to_sql(ty, out)
                } else {
                    Err(mismatch())
                }
            }
            Value::Text(t) => {
                if <&str as ToSql>::accepts(ty) {
                    t.as_str().to_sql(ty, out)
                } else {
                    Err(mismatch())
                }
            }
            Value::Blob(b) => {
                if *ty == Type::BYTEA {
                    b.as_slice().to_sql(ty, out)
                } else {
                    Err(mismatch())
                }
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`: a NULL fits any column.
        true
    }

    postgres::types::to_sql_checked!();
}

fn read_value(row: &postgres::Row, i: usize) -> std::result::Result<Value, postgres::Error> {
    let ty = row.columns()[i].type_();
    Ok(if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(Value::Int).unwrap_or(Value::Null)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?.map(|v| Value::Int(v.into())).unwrap_or(Value::Null)
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?.map(|v| Value::Int(v.into())).unwrap_or(Value::Null)
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?.map(|v| Value::Int(v as i64)).unwrap_or(Value::Null)
    } else if *ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob).unwrap_or(Value::Null)
    } else if *ty == Type::VOID {
        Value::Null
    } else {
        row.try_get::<_, Option<String>>(i)?.map(Value::Text).unwrap_or(Value::Null)
    })
}

fn as_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Tx for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        Ok(self.client().execute(&stmt, &as_params(params)).map_err(DbError::from)?)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let rows = self.client().query(&stmt, &as_params(params)).map_err(DbError::from)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let values = (0..r.len()).map(|i| read_value(r, i)).collect::<std::result::Result<Vec<_>, _>>().map_err(DbError::from)?;
            out.push(Row(values));
        }
        Ok(out)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.client().batch_execute(sql).map_err(DbError::from)?)
    }
}

impl Connection for PgConn {
    fn begin(&mut self, mode: Mode) -> Result<()> {
        let sql = match mode {
            Mode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_owned(),
            Mode::Write => "BEGIN".to_owned(),
            // The lock is the transaction's first statement and is held until commit: the next
            // feed writer reads max(seq) only after this one's rows are visible.
            Mode::Feed => format!("BEGIN; SELECT pg_advisory_xact_lock({FEED_LOCK_KEY})"),
        };
        Ok(self.client().batch_execute(&sql).map_err(DbError::from)?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.client().batch_execute("COMMIT").map_err(DbError::from)?)
    }

    fn rollback(&mut self) {
        let _ = self.client().batch_execute("ROLLBACK");
    }

    fn as_tx(&mut self) -> &mut dyn Tx {
        self
    }

    fn is_healthy(&self) -> bool {
        self.client.as_ref().is_some_and(|c| !c.is_closed())
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Closing a blocking client runs its own little runtime, which panics on a thread that
        // drives async tasks (the last `Db` handle may well be dropped there): close it on a
        // thread of its own.
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new().name("pg-close".into()).spawn(move || drop(client));
            }
        }
    }
}

/// `sslmode` and `sslrootcert` of a PostgreSQL URL, made into a TLS connector.
pub mod tls {
    use std::sync::Arc;

    use postgres::config::SslMode;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::client::WebPkiServerVerifier;
    use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme};

    /// How connections are made.
    #[derive(Clone)]
    pub enum Tls {
        None,
        Rustls(tokio_postgres_rustls::MakeRustlsConnect),
    }

    impl std::fmt::Debug for Tls {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(match self {
                Tls::None => "Tls::None",
                Tls::Rustls(_) => "Tls::Rustls",
            })
        }
    }

    /// What the URL asked for (for messages and tests).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Mode {
        Disable,
        Prefer,
        Require,
        VerifyCa,
        VerifyFull,
    }

    /// Takes `sslmode` and `sslrootcert` out of `url` (the client library knows neither
    /// `verify-*` nor `sslrootcert`) and parses the rest. Works on URLs
    /// (`postgres://…?sslmode=require`) and on `key=value` strings.
    pub fn config(url: &str) -> std::result::Result<(postgres::Config, Mode, Tls), String> {
        let (rest, params) = take_params(url);
        let mode = match params.sslmode.as_deref() {
            None | Some("disable") => Mode::Disable,
            Some("allow") | Some("prefer") => Mode::Prefer,
            Some("require") => Mode::Require,
            Some("verify-ca") => Mode::VerifyCa,
            Some("verify-full") => Mode::VerifyFull,
            Some(other) => return Err(format!("sslmode={other}: use disable, prefer, require, verify-ca or verify-full")),
        };
        let mut config: postgres::Config = rest.parse().map_err(|e| format!("{e}"))?;
        if mode == Mode::Disable {
            config.ssl_mode(SslMode::Disable);
            return Ok((config, mode, Tls::None));
        }
        config.ssl_mode(if mode == Mode::Prefer { SslMode::Prefer } else { SslMode::Require });
        let roots = match params.sslrootcert.as_deref() {
            Some(path) => Some(load_roots(path)?),
            None if matches!(mode, Mode::VerifyCa | Mode::VerifyFull) => {
                return Err(format!(
                    "sslmode={}: give the CA certificate that signed the database server's certificate as sslrootcert=/path/to/root.crt",
                    if mode == Mode::VerifyCa { "verify-ca" } else { "verify-full" }
                ))
            }
            None => None,
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().map_err(|e| format!("TLS: {e}"))?;
        let client = match (mode, roots) {
            (Mode::VerifyFull, Some(roots)) => builder.with_root_certificates(roots).with_no_client_auth(),
            (_, Some(roots)) => {
                let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().map_err(|e| format!("sslrootcert: {e}"))?;
                builder.dangerous().with_custom_certificate_verifier(Arc::new(ChainOnly(webpki))).with_no_client_auth()
            }
            (_, None) => builder.dangerous().with_custom_certificate_verifier(Arc::new(EncryptOnly(provider))).with_no_client_auth(),
        };
        Ok((config, mode, Tls::Rustls(tokio_postgres_rustls::MakeRustlsConnect::new(client))))
    }

    #[derive(Default)]
    struct Params {
        sslmode: Option<String>,
        sslrootcert: Option<String>,
    }

    fn take_params(url: &str) -> (String, Params) {
        let mut p = Params::default();
        let mut take = |k: &str, v: &str| match k {
            "sslmode" => {
                p.sslmode = Some(v.to_owned());
                true
            }
            "sslrootcert" => {
                p.sslrootcert = Some(percent_decode(v));
                true
            }
            _ => false,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let Some((head, query)) = url.split_once('?') else { return (url.to_owned(), p) };
            let kept: Vec<&str> = query.split('&').filter(|kv| !kv.split_once('=').is_some_and(|(k, v)| take(k, v))).collect();
            let rest = if kept.is_empty() { head.to_owned() } else { format!("{head}?{}", kept.join("&")) };
            (rest, p)
        } else {
            let kept: Vec<&str> = url.split_whitespace().filter(|kv| !kv.split_once('=').is_some_and(|(k, v)| take(k, v))).collect();
            (kept.join(" "), p)
        }
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                if let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn load_roots(path: &str) -> std::result::Result<RootCertStore, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("sslrootcert={path}: cannot read it ({e})"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| format!("sslrootcert={path}: not PEM certificates ({e})"))?;
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!("sslrootcert={path}: holds no usable certificate; give the PEM file of the CA that signed the database server's certificate"));
        }
        Ok(roots)
    }

    /// `verify-ca` (and `require`/`prefer` with `sslrootcert`): the chain must lead to a given
    /// root; the name in the certificate is not compared with the host.
    #[derive(Debug)]
    struct ChainOnly(Arc<WebPkiServerVerifier>);

    impl ServerCertVerifier for ChainOnly {
        fn verify_server_cert(&self, end: &CertificateDer<'_>, mids: &[CertificateDer<'_>], name: &ServerName<'_>, ocsp: &[u8], now: UnixTime) -> Result<ServerCertVerified, TlsError> {
            match self.0.verify_server_cert(end, mids, name, ocsp, now) {
                Err(TlsError::InvalidCertificate(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. })) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }
        fn verify_tls12_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, TlsError> {
            self.0.verify_tls12_signature(m, c, d)
        }
        fn verify_tls13_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, TlsError> {
            self.0.verify_tls13_signature(m, c, d)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.supported_verify_schemes()
        }
    }

    /// `require`/`prefer` without `sslrootcert` (libpq's meaning): encrypted, any certificate
    /// (the handshake's signatures are still checked against it).
    #[derive(Debug)]
    struct EncryptOnly(Arc<CryptoProvider>);

    impl ServerCertVerifier for EncryptOnly {
        fn verify_server_cert(&self, _: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: &ServerName<'_>, _: &[u8], _: UnixTime) -> Result<ServerCertVerified, TlsError> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, TlsError> {
            verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
        }
        fn verify_tls13_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, TlsError> {
            verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn sslmode_and_sslrootcert_are_taken_out_of_the_url() {
            let (rest, p) = take_params("postgres://u:p@db/fb?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem");
            assert_eq!(rest, "postgres://u:p@db/fb?application_name=x");
            assert_eq!((p.sslmode.as_deref(), p.sslrootcert.as_deref()), (Some("verify-full"), Some("/etc/ca.pem")));
            let (rest, p) = take_params("host=db user=u sslmode=require");
            assert_eq!((rest.as_str(), p.sslmode.as_deref()), ("host=db user=u", Some("require")));
            assert!(matches!(config("postgres://u@db/fb").unwrap(), (_, Mode::Disable, Tls::None)));
            assert!(matches!(config("postgres://u@db/fb?sslmode=require").unwrap(), (_, Mode::Require, Tls::Rustls(_))));
            assert!(config("postgres://u@db/fb?sslmode=verify-full").unwrap_err().contains("sslrootcert=/path/to/root.crt"));
            assert!(config("postgres://u@db/fb?sslmode=sometimes").unwrap_err().contains("use disable, prefer, require"));
            assert!(config("postgres://u@db/fb?sslmode=verify-ca&sslrootcert=/nonexistent.pem").unwrap_err().contains("cannot read it"));
        }
    }
}
