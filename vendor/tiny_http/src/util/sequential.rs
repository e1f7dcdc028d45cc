use std::io::Result as IoResult;
use std::io::{BufRead, Read, Write};

use std::sync::{Arc, Condvar, Mutex, PoisonError};

use std::mem;

/// PATCH (fewer system calls): the hand-over of the connection's reader (and the
/// writer's turn) from one request to the next, in place of a `std::sync::mpsc` channel
/// per request: a channel allocates (and zeroes) a block of 31 slots on its first message,
/// and these carry exactly one. Giving notifies only when the other side already waits.
fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Handover {
        state: Mutex::new(HandoverState {
            value: None,
            waiting: false,
            giver_gone: false,
        }),
        given: Condvar::new(),
    });
    (Sender(Some(shared.clone())), Receiver(shared))
}

struct Handover<T> {
    state: Mutex<HandoverState<T>>,
    given: Condvar,
}

struct HandoverState<T> {
    value: Option<T>,
    waiting: bool,
    giver_gone: bool,
}

/// The giving side: gives one value, or none if dropped first.
pub struct Sender<T>(Option<Arc<Handover<T>>>);

/// The taking side.
pub struct Receiver<T>(Arc<Handover<T>>);

/// Never given: the sender was dropped first.
#[derive(Debug)]
pub struct RecvError;

impl<T> Sender<T> {
    /// Gives the value (dropped with the hand-over if the receiver is gone).
    fn send(mut self, value: T) {
        if let Some(shared) = self.0.take() {
            Self::finish(&shared, Some(value));
        }
    }

    fn finish(shared: &Handover<T>, value: Option<T>) {
        let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.value = value;
        state.giver_gone = true;
        let waiting = state.waiting;
        drop(state);
        if waiting {
            shared.given.notify_one();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            Self::finish(&shared, None);
        }
    }
}

impl<T> Receiver<T> {
    /// Waits for the value; fails if the sender was dropped without giving one.
    fn recv(&mut self) -> Result<T, RecvError> {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(value) = state.value.take() {
                return Ok(value);
            }
            if state.giver_gone {
                return Err(RecvError);
            }
            state.waiting = true;
            state = self
                .0
                .given
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting = false;
        }
    }
}

pub struct SequentialReaderBuilder<R>
where
    R: Read + Send,
{
    inner: SequentialReaderBuilderInner<R>,
}

enum SequentialReaderBuilderInner<R>
where
    R: Read + Send,
{
    First(R),
    NotFirst(Receiver<R>),
}

pub struct SequentialReader<R>
where
    R: Read + Send,
{
    inner: SequentialReaderInner<R>,
    next: Option<Sender<R>>,
}

enum SequentialReaderInner<R>
where
    R: Read + Send,
{
    MyTurn(R),
    Waiting(Receiver<R>),
    Empty,
}

pub struct SequentialWriterBuilder<W>
where
    W: Write + Send,
{
    writer: Arc<Mutex<W>>,
    next_trigger: Option<Receiver<()>>,
}

pub struct SequentialWriter<W>
where
    W: Write + Send,
{
    trigger: Option<Receiver<()>>,
    writer: Arc<Mutex<W>>,
    on_finish: Option<Sender<()>>,
}

impl<R: Read + Send> SequentialReaderBuilder<R> {
    pub fn new(reader: R) -> SequentialReaderBuilder<R> {
        SequentialReaderBuilder {
            inner: SequentialReaderBuilderInner::First(reader),
        }
    }
}

impl<W: Write + Send> SequentialWriterBuilder<W> {
    pub fn new(writer: W) -> SequentialWriterBuilder<W> {
        SequentialWriterBuilder {
            writer: Arc::new(Mutex::new(writer)),
            next_trigger: None,
        }
    }
}

impl<R: Read + Send> Iterator for SequentialReaderBuilder<R> {
    type Item = SequentialReader<R>;

    fn next(&mut self) -> Option<SequentialReader<R>> {
        let (tx, rx) = channel();

        let inner = mem::replace(&mut self.inner, SequentialReaderBuilderInner::NotFirst(rx));

        match inner {
            SequentialReaderBuilderInner::First(reader) => Some(SequentialReader {
                inner: SequentialReaderInner::MyTurn(reader),
                next: Some(tx),
            }),

            SequentialReaderBuilderInner::NotFirst(previous) => Some(SequentialReader {
                inner: SequentialReaderInner::Waiting(previous),
                next: Some(tx),
            }),
        }
    }
}

impl<W: Write + Send> Iterator for SequentialWriterBuilder<W> {
    type Item = SequentialWriter<W>;
    fn next(&mut self) -> Option<SequentialWriter<W>> {
        let (tx, rx) = channel();
        let mut next_next_trigger = Some(rx);
        ::std::mem::swap(&mut next_next_trigger, &mut self.next_trigger);

        Some(SequentialWriter {
            trigger: next_next_trigger,
            writer: self.writer.clone(),
            on_finish: Some(tx),
        })
    }
}

impl<R: Read + Send> SequentialReader<R> {
    /// PATCH (request bodies): blocks until the previous reader of the sequence has been
    /// dropped (i.e. until this one may read), without reading.
    pub fn wait_turn(&mut self) {
        if let SequentialReaderInner::Waiting(ref mut recv) = self.inner {
            let reader = recv.recv().unwrap();
            self.inner = SequentialReaderInner::MyTurn(reader);
        }
    }
}

impl<R: Read + Send> Read for SequentialReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        let mut reader = match self.inner {
            SequentialReaderInner::MyTurn(ref mut reader) => return reader.read(buf),
            SequentialReaderInner::Waiting(ref mut recv) => recv.recv().unwrap(),
            SequentialReaderInner::Empty => unreachable!(),
        };

        let result = reader.read(buf);
        self.inner = SequentialReaderInner::MyTurn(reader);
        result
    }
}

/// PATCH (request heads): lets `ClientConnection` scan request heads in the reader's
/// buffer instead of reading them one byte at a time.
impl<R: BufRead + Send> BufRead for SequentialReader<R> {
    fn fill_buf(&mut self) -> IoResult<&[u8]> {
        self.wait_turn();
        match self.inner {
            SequentialReaderInner::MyTurn(ref mut reader) => reader.fill_buf(),
            _ => unreachable!(),
        }
    }

    fn consume(&mut self, amount: usize) {
        if let SequentialReaderInner::MyTurn(ref mut reader) = self.inner {
            reader.consume(amount);
        }
    }
}

impl<W: Write + Send> Write for SequentialWriter<W> {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        if let Some(v) = self.trigger.as_mut() {
            v.recv().unwrap()
        }
        self.trigger = None;

        self.writer.lock().unwrap().write(buf)
    }

    fn flush(&mut self) -> IoResult<()> {
        if let Some(v) = self.trigger.as_mut() {
            v.recv().unwrap()
        }
        self.trigger = None;

        self.writer.lock().unwrap().flush()
    }
}

impl<R> Drop for SequentialReader<R>
where
    R: Read + Send,
{
    fn drop(&mut self) {
        let inner = mem::replace(&mut self.inner, SequentialReaderInner::Empty);

        let next = self.next.take();
        match inner {
            SequentialReaderInner::MyTurn(reader) => {
                if let Some(next) = next {
                    next.send(reader);
                }
            }
            SequentialReaderInner::Waiting(mut recv) => {
                let reader = recv.recv().unwrap();
                if let Some(next) = next {
                    next.send(reader);
                }
            }
            SequentialReaderInner::Empty => (),
        }
    }
}

impl<W> Drop for SequentialWriter<W>
where
    W: Write + Send,
{
    fn drop(&mut self) {
        if let Some(on_finish) = self.on_finish.take() {
            on_finish.send(());
        }
    }
}
