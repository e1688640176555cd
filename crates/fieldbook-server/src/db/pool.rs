//! A small blocking connection pool: at most `size` connections, opened on demand, handed out
//! one at a time and returned when the guard drops. A connection whose transaction did not finish
//! (a panic) or that broke is closed instead of returned.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Connection, DbError};
use crate::error::Result;

/// How long a request waits for a free connection before failing.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

type Connect<C> = Box<dyn Fn() -> Result<C> + Send + Sync>;

pub(super) struct Pool<C> {
    state: Mutex<State<C>>,
    freed: Condvar,
    size: usize,
    connect: Connect<C>,
}

struct State<C> {
    idle: Vec<C>,
    /// Connections open, idle or in use.
    open: usize,
}

impl<C: Connection> Pool<C> {
    pub(super) fn new(size: usize, connect: impl Fn() -> Result<C> + Send + Sync + 'static) -> Self {
        Pool { state: Mutex::new(State { idle: Vec::new(), open: 0 }), freed: Condvar::new(), size: size.max(1), connect: Box::new(connect) }
    }

    pub(super) fn get(&self) -> Result<Pooled<'_, C>> {
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Pooled { pool: self, conn: Some(conn), finished: false });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                // Connect outside the lock: a slow database must not block returning connections.
                return match (self.connect)() {
                    Ok(conn) => Ok(Pooled { pool: self, conn: Some(conn), finished: false }),
                    Err(e) => {
                        self.state.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DbError::PoolTimeout(CHECKOUT_TIMEOUT.as_secs()).into());
            }
            state = self.freed.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// A connection checked out of the pool.
pub(super) struct Pooled<'p, C: Connection> {
    pool: &'p Pool<C>,
    conn: Option<C>,
    finished: bool,
}

impl<C: Connection> Pooled<'_, C> {
    pub(super) fn conn(&mut self) -> &mut C {
        self.conn.as_mut().expect("present until drop")
    }

    /// The transaction ended (committed or rolled back): the connection may be reused.
    pub(super) fn finish(&mut self) {
        self.finished = true;
    }
}

impl<C: Connection> Drop for Pooled<'_, C> {
    fn drop(&mut self) {
        let conn = self.conn.take().expect("present until drop");
        let mut state = self.pool.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.finished && conn.is_healthy() {
            state.idle.push(conn);
        } else {
            state.open -= 1;
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}
