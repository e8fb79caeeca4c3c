//! The bytes of the write-ahead log (decision 0018): a header naming the
//! store and the log's epoch, then records, each framed with its length, a
//! CRC-32, the epoch it was written in and its sequence number.
//!
//! Header ([`HEADER_LEN`] bytes): the magic `RDBWAL\0\x01`, the store's
//! log id (u64 little-endian, drawn at random when the store was made, so
//! that a log left beside another store is told apart), the epoch (u64
//! LE), the CRC-32 of those 24 bytes (u32 LE) and 4 zero bytes.
//!
//! Record ([`RECORD_HEAD`] bytes, then the payload): the payload's length
//! (u32 LE), the CRC-32 of the epoch, sequence number and payload (u32
//! LE), the epoch (u64 LE), the sequence number (u64 LE: the commit's
//! place among the store's logged commits; the store file holds the
//! number of the last one it has, so replay skips what it holds).

/// The magic number that opens every log (its last byte is the layout's
/// version).
const MAGIC: [u8; 8] = *b"RDBWAL\0\x01";

/// The length of the header, in bytes.
pub(crate) const HEADER_LEN: usize = 32;

/// The length of a record's frame before its payload, in bytes.
pub(crate) const RECORD_HEAD: usize = 24;

/// The header of the log of the store with log id `id`, in `epoch`.
pub(crate) fn header(id: u64, epoch: u64) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    let body = [MAGIC, id.to_le_bytes(), epoch.to_le_bytes()].concat();
    let crc = crc32fast::hash(&body).to_le_bytes();
    for (at, byte) in body.iter().chain(crc.iter()).enumerate() {
        if let Some(slot) = out.get_mut(at) {
            *slot = *byte;
        }
    }
    out
}

/// Appends the record numbered `lsn` of `payload`, written in `epoch`, to
/// `out`.
///
/// Errors: `None` when the payload is 4 GiB or longer (the caller
/// checkpoints instead of logging so large a transaction).
pub(crate) fn append_record(out: &mut Vec<u8>, epoch: u64, lsn: u64, payload: &[u8]) -> Option<()> {
    let len = u32::try_from(payload.len()).ok()?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&epoch.to_le_bytes());
    hasher.update(&lsn.to_le_bytes());
    hasher.update(payload);
    out.reserve(RECORD_HEAD.saturating_add(payload.len()));
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&hasher.finalize().to_le_bytes());
    out.extend_from_slice(&epoch.to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(payload);
    Some(())
}

/// A whole record read back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    /// Its sequence number.
    pub(crate) lsn: u64,
    /// The journal of the commit it logs.
    pub(crate) payload: &'a [u8],
}

/// What a log's header says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// Shorter than a header: a log whose creation or reset was cut before
    /// its header was written, which holds no record.
    Missing,
    /// A whole, valid header: the store's log id and the epoch.
    Of { id: u64, epoch: u64 },
    /// A header that is not a log's (wrong magic or checksum): why.
    Damaged(&'static str),
}

/// A log read back: its header and the payloads of its whole records.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    /// What the header says.
    pub(crate) header: Header,
    /// The records of the header's epoch, in order, up to the first
    /// record that is short, torn, damaged or of another epoch.
    pub(crate) records: Vec<Record<'a>>,
    /// Where the last whole record ends: the log's valid length, at which
    /// anything after it is cut off.
    pub(crate) valid_len: usize,
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// Reads a log's header and its whole records (see [`Parsed`]).
pub(crate) fn parse(bytes: &[u8]) -> Parsed<'_> {
    let none = |header| Parsed {
        header,
        records: Vec::new(),
        valid_len: 0,
    };
    let Some(head) = bytes.get(..HEADER_LEN) else {
        return none(Header::Missing);
    };
    if head.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return none(Header::Damaged(
            "it does not start with the log's magic number",
        ));
    }
    let (Some(id), Some(epoch), Some(crc)) = (u64_at(head, 8), u64_at(head, 16), u32_at(head, 24))
    else {
        return none(Header::Damaged("its header is short"));
    };
    let want = crc32fast::hash(head.get(..24).unwrap_or_default());
    if crc != want {
        return none(Header::Damaged("its header's checksum does not match"));
    }
    let mut records = Vec::new();
    let mut at = HEADER_LEN;
    while let Some(record) = record_at(bytes, at, epoch) {
        at = at
            .saturating_add(RECORD_HEAD)
            .saturating_add(record.payload.len());
        records.push(record);
    }
    Parsed {
        header: Header::Of { id, epoch },
        records,
        valid_len: at,
    }
}

/// The whole record of `epoch` at `at`, if there is one.
fn record_at(bytes: &[u8], at: usize, epoch: u64) -> Option<Record<'_>> {
    let len = usize::try_from(u32_at(bytes, at)?).ok()?;
    let crc = u32_at(bytes, at.checked_add(4)?)?;
    let written = u64_at(bytes, at.checked_add(8)?)?;
    let lsn = u64_at(bytes, at.checked_add(16)?)?;
    let start = at.checked_add(RECORD_HEAD)?;
    let payload = bytes.get(start..start.checked_add(len)?)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&written.to_le_bytes());
    hasher.update(&lsn.to_le_bytes());
    hasher.update(payload);
    (written == epoch && hasher.finalize() == crc).then_some(Record { lsn, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: u64 = 0x5eed;

    fn payloads<'a>(parsed: &Parsed<'a>) -> Vec<&'a [u8]> {
        parsed.records.iter().map(|r| r.payload).collect()
    }

    fn log(epoch: u64, payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = header(ID, epoch).to_vec();
        for (lsn, p) in payloads.iter().enumerate() {
            append_record(&mut out, epoch, (lsn as u64).wrapping_add(10), p).unwrap();
        }
        out
    }

    #[test]
    fn records_read_back_in_order() {
        let bytes = log(7, &[b"one", b"", b"three"]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.header, Header::Of { id: ID, epoch: 7 });
        assert_eq!(payloads(&parsed), vec![&b"one"[..], b"", b"three"]);
        let lsns: Vec<u64> = parsed.records.iter().map(|r| r.lsn).collect();
        assert_eq!(lsns, [10, 11, 12]);
        assert_eq!(parsed.valid_len, bytes.len());
    }

    #[test]
    fn an_empty_log_has_its_header_and_no_record() {
        let bytes = log(3, &[]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.header, Header::Of { id: ID, epoch: 3 });
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.valid_len, HEADER_LEN);
        for cut in 0..HEADER_LEN {
            assert_eq!(parse(&bytes[..cut]).header, Header::Missing, "{cut}");
        }
    }

    #[test]
    fn a_torn_tail_ends_the_log_at_the_last_whole_record() {
        let bytes = log(1, &[b"first", b"second"]);
        let first_end = HEADER_LEN + RECORD_HEAD + 5;
        for cut in first_end..bytes.len() {
            let parsed = parse(&bytes[..cut]);
            assert_eq!(payloads(&parsed), vec![&b"first"[..]], "cut at {cut}");
            assert_eq!(parsed.valid_len, first_end);
        }
    }

    #[test]
    fn a_bad_checksum_ends_the_log_there() {
        let mut bytes = log(1, &[b"first", b"second", b"third"]);
        let second = HEADER_LEN + RECORD_HEAD + 5;
        // A flipped payload byte of the second record.
        bytes[second + RECORD_HEAD + 1] ^= 0x40;
        let parsed = parse(&bytes);
        assert_eq!(payloads(&parsed), vec![&b"first"[..]]);
        assert_eq!(parsed.valid_len, second);
        // A length that runs past the end.
        let mut bytes = log(1, &[b"first", b"second"]);
        bytes[second] = 0xff;
        assert_eq!(payloads(&parse(&bytes)), vec![&b"first"[..]]);
    }

    #[test]
    fn records_of_another_epoch_are_not_read() {
        // A reset log (new header) over the records of the old epoch.
        let old = log(4, &[b"old one", b"old two"]);
        let mut bytes = header(ID, 5).to_vec();
        bytes.extend_from_slice(&old[HEADER_LEN..]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.header, Header::Of { id: ID, epoch: 5 });
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.valid_len, HEADER_LEN);
        // A new record after old ones is not reached either.
        let mut mixed = log(5, &[b"new"]);
        append_record(&mut mixed, 4, 20, b"old").unwrap();
        append_record(&mut mixed, 5, 21, b"after").unwrap();
        assert_eq!(payloads(&parse(&mixed)), vec![&b"new"[..]]);
        // A damaged sequence number fails the checksum.
        let mut bytes = log(5, &[b"one", b"two"]);
        bytes[HEADER_LEN + 17] ^= 1;
        assert!(parse(&bytes).records.is_empty());
    }

    #[test]
    fn a_damaged_header_is_told_apart_from_a_missing_one() {
        let mut bytes = log(2, &[b"x"]);
        bytes[0] = b'X';
        assert!(matches!(parse(&bytes).header, Header::Damaged(_)));
        let mut bytes = log(2, &[b"x"]);
        bytes[17] ^= 1;
        assert!(matches!(parse(&bytes).header, Header::Damaged(_)));
        bytes = log(2, &[b"x"]);
        bytes[HEADER_LEN - 5] ^= 1;
        assert!(matches!(parse(&bytes).header, Header::Damaged(_)));
        assert!(matches!(parse(&[0u8; 64]).header, Header::Damaged(_)));
    }
}
