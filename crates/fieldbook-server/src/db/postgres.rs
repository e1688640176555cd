//! The PostgreSQL backend, through the blocking `postgres` client (always run off the async
//! runtime, see [`super::Db::run`]). Feed-appending transactions take a transaction-scoped
//! advisory lock shared by every server process on the database.

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
    pub(super) fn connect(config: &postgres::Config) -> Result<PgConn> {
        let client = config.connect(NoTls).map_err(DbError::from)?;
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
