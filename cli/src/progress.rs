//! Progress bars on stderr for long work (export, import), hidden when
//! stderr is not a terminal or with `--quiet`, and the readers and writers
//! that move them.

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a bar counts.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    /// Records (lines of an export).
    Records,
    /// Bytes (of a file read).
    Bytes,
}

/// A bar of `len` units saying `what` (a spinner and a count when the
/// length is not known); hidden unless stderr is a terminal and not
/// `quiet` (it still counts, so the same code runs either way).
pub fn bar(len: Option<u64>, unit: Unit, what: &'static str, quiet: bool) -> ProgressBar {
    let target = if !quiet && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let template = match (unit, len) {
        (Unit::Records, Some(_)) => {
            "{spinner} {msg} [{bar:40}] {human_pos}/{human_len} records, {elapsed} ({eta} left)"
        }
        (Unit::Bytes, Some(_)) => {
            "{spinner} {msg} [{bar:40}] {bytes}/{total_bytes}, {elapsed} ({eta} left)"
        }
        (Unit::Records, None) => "{spinner} {msg} {human_pos} records, {elapsed}",
        (Unit::Bytes, None) => "{spinner} {msg} {bytes}, {elapsed}",
    };
    let bar = ProgressBar::with_draw_target(len, target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    bar
}

/// A writer that moves `bar` by one for each line written through it.
pub struct LineCounter<W> {
    /// Where the bytes go.
    pub inner: W,
    /// The bar to move.
    pub bar: ProgressBar,
}

impl<W: Write> Write for LineCounter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let lines = buf
            .get(..n)
            .unwrap_or(buf)
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.bar.inc(lines as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that moves `bar` by the bytes read through it; at the end of
/// the input it says `then` and keeps ticking (the work after the read,
/// such as one large commit, shows no count).
pub struct ByteCounter<R> {
    /// Where the bytes come from.
    pub inner: R,
    /// The bar to move.
    pub bar: ProgressBar,
    /// What the bar says once the input is read.
    pub then: &'static str,
}

impl<R: Read> Read for ByteCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.bar.is_finished() {
            self.bar.set_message(self.then);
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar.inc(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_count_lines_written_and_bytes_read() {
        let lines = super::bar(Some(3), Unit::Records, "export", true);
        let mut w = LineCounter {
            inner: Vec::new(),
            bar: lines.clone(),
        };
        w.write_all(b"a\nb\nc\n").unwrap();
        assert_eq!(lines.position(), 3);
        assert_eq!(w.inner, b"a\nb\nc\n");

        let bytes = super::bar(None, Unit::Bytes, "import", true);
        let mut r = ByteCounter {
            inner: &b"hello"[..],
            bar: bytes.clone(),
            then: "writing",
        };
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!((out.as_str(), bytes.position()), ("hello", 5));
        assert_eq!(bytes.message(), "writing");
    }
}
