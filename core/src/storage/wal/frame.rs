//! The bytes of the write-ahead log (decision 0018): a header naming the
//! store, the log's epoch and its generation's salt, then records, each
//! framed with its length, a CRC-32, the salt of the generation it was
//! written in and its sequence number.
//!
//! Header ([`HEADER_LEN`] bytes): the magic `RDBWAL\0\x01`, the store's
//! log id (u64 little-endian, drawn at random when the store was made, so
//! that a log left beside another store is told apart), the epoch (u64
//! LE: the store's, moved on by each checkpoint), the salt (u64 LE, drawn
//! at random each time the log is emptied: records of earlier
//! generations, which the log keeps overwriting, never pass for this
//! one's), the CRC-32 of those 32 bytes (u32 LE) and 4 zero bytes.
//!
//! Record ([`RECORD_HEAD`] bytes, then the payload): the payload's length
//! (u32 LE), the CRC-32 of the salt, sequence number and payload (u32 LE),
//! the salt (u64 LE), the sequence number (u64 LE: the commit's place
//! among the store's logged commits, rising; the store file holds the
//! number of the last one it has, so replay skips what it holds), then the
//! payload.

/// The magic number that opens every log (its last byte is the layout's
/// version).
const MAGIC: [u8; 8] = *b"RDBWAL\0\x01";

/// The length of the header, in bytes.
pub(crate) const HEADER_LEN: usize = 40;

/// The length of a record's frame before its payload, in bytes.
pub(crate) const RECORD_HEAD: usize = 24;

/// What a log's header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    /// The store's log id.
    pub(crate) id: u64,
    /// The store's epoch when the log was last emptied.
    pub(crate) epoch: u64,
    /// The salt of the log's current generation.
    pub(crate) salt: u64,
}

/// The header naming `names`.
pub(crate) fn header(names: Names) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    let body = [
        MAGIC,
        names.id.to_le_bytes(),
        names.epoch.to_le_bytes(),
        names.salt.to_le_bytes(),
    ]
    .concat();
    let crc = crc32fast::hash(&body).to_le_bytes();
    for (at, byte) in body.iter().chain(crc.iter()).enumerate() {
        if let Some(slot) = out.get_mut(at) {
            *slot = *byte;
        }
    }
    out
}

/// Appends the record numbered `lsn` of `payload`, written in the
/// generation of `salt`, to `out`.
///
/// Errors: `None` when the payload is 4 GiB or longer (the caller
/// checkpoints instead of logging so large a transaction).
pub(crate) fn append_record(out: &mut Vec<u8>, salt: u64, lsn: u64, payload: &[u8]) -> Option<()> {
    let len = u32::try_from(payload.len()).ok()?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&salt.to_le_bytes());
    hasher.update(&lsn.to_le_bytes());
    hasher.update(payload);
    out.reserve(RECORD_HEAD.saturating_add(payload.len()));
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&hasher.finalize().to_le_bytes());
    out.extend_from_slice(&salt.to_le_bytes());
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
    /// Shorter than a header: a log whose creation was cut before its
    /// header was written, which holds no record.
    Missing,
    /// A whole, valid header.
    Of(Names),
    /// A header that is not a log's (wrong magic or checksum): why.
    Damaged(&'static str),
}

/// A log read back: its header and its whole records.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    /// What the header says.
    pub(crate) header: Header,
    /// The records of the header's generation, in order, up to the first
    /// record that is short, torn, damaged, of another generation or not
    /// numbered above the one before it.
    pub(crate) records: Vec<Record<'a>>,
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
    };
    let Some(head) = bytes.get(..HEADER_LEN) else {
        return none(Header::Missing);
    };
    if head.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return none(Header::Damaged(
            "it does not start with the log's magic number",
        ));
    }
    let fields = (
        u64_at(head, 8),
        u64_at(head, 16),
        u64_at(head, 24),
        u32_at(head, 32),
    );
    let (Some(id), Some(epoch), Some(salt), Some(crc)) = fields else {
        return none(Header::Damaged("its header is short"));
    };
    if crc != crc32fast::hash(head.get(..32).unwrap_or_default()) {
        return none(Header::Damaged("its header's checksum does not match"));
    }
    Parsed {
        header: Header::Of(Names { id, epoch, salt }),
        records: records_from(bytes, salt),
    }
}

/// The records of generation `salt` from just after the header, in
/// order, up to the first short, torn, damaged, other-generation or
/// not-rising one.
fn records_from(bytes: &[u8], salt: u64) -> Vec<Record<'_>> {
    let mut records: Vec<Record<'_>> = Vec::new();
    let mut at = HEADER_LEN;
    while let Some(record) = record_at(bytes, at, salt) {
        if records.last().is_some_and(|last| last.lsn >= record.lsn) {
            break;
        }
        at = at
            .saturating_add(RECORD_HEAD)
            .saturating_add(record.payload.len());
        records.push(record);
    }
    records
}

/// For a log that starts with the magic number but whose header's
/// checksum does not match (as a header rewritten in place and torn by a
/// power loss leaves it: the magic number and the log id are the same in
/// the old and the new header): the log id its header names, and the
/// records that follow it, read in the generation the first of them
/// names. `None` when the bytes do not start with the magic number.
pub(crate) fn salvage(bytes: &[u8]) -> Option<(u64, Vec<Record<'_>>)> {
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return None;
    }
    let id = u64_at(bytes, 8)?;
    let records = u64_at(bytes, HEADER_LEN.saturating_add(8))
        .map(|salt| records_from(bytes, salt))
        .unwrap_or_default();
    Some((id, records))
}

/// The whole record of the generation of `salt` at `at`, if there is one.
fn record_at(bytes: &[u8], at: usize, salt: u64) -> Option<Record<'_>> {
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
    (written == salt && hasher.finalize() == crc).then_some(Record { lsn, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(salt: u64) -> Names {
        Names {
            id: 0x5eed,
            epoch: 4,
            salt,
        }
    }

    fn payloads<'a>(parsed: &Parsed<'a>) -> Vec<&'a [u8]> {
        parsed.records.iter().map(|r| r.payload).collect()
    }

    /// A log of the generation of `salt` holding `payloads`, numbered from 10.
    fn log(salt: u64, payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = header(names(salt)).to_vec();
        for (lsn, p) in payloads.iter().enumerate() {
            append_record(&mut out, salt, (lsn as u64).wrapping_add(10), p).unwrap();
        }
        out
    }

    /// Where the record after the first one (of 5 payload bytes) starts.
    const SECOND: usize = HEADER_LEN + RECORD_HEAD + 5;

    #[test]
    fn records_read_back_in_order() {
        let bytes = log(7, &[b"one", b"", b"three"]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.header, Header::Of(names(7)));
        assert_eq!(payloads(&parsed), vec![&b"one"[..], b"", b"three"]);
        let lsns: Vec<u64> = parsed.records.iter().map(|r| r.lsn).collect();
        assert_eq!(lsns, [10, 11, 12]);
    }

    #[test]
    fn an_empty_log_has_its_header_and_no_record() {
        let bytes = log(3, &[]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.header, Header::Of(names(3)));
        assert!(parsed.records.is_empty());
        for cut in 0..HEADER_LEN {
            assert_eq!(parse(&bytes[..cut]).header, Header::Missing, "{cut}");
        }
        // Zeros after the header (a preallocated log) hold no record.
        let mut zeros = bytes.clone();
        zeros.resize(4096, 0);
        assert!(parse(&zeros).records.is_empty());
    }

    #[test]
    fn a_torn_tail_ends_the_log_at_the_last_whole_record() {
        let bytes = log(1, &[b"first", b"second"]);
        for cut in SECOND..bytes.len() {
            let parsed = parse(&bytes[..cut]);
            assert_eq!(payloads(&parsed), vec![&b"first"[..]], "cut at {cut}");
        }
    }

    #[test]
    fn a_bad_checksum_ends_the_log_there() {
        let mut bytes = log(1, &[b"first", b"second", b"third"]);
        // A flipped payload byte of the second record.
        bytes[SECOND + RECORD_HEAD + 1] ^= 0x40;
        assert_eq!(payloads(&parse(&bytes)), vec![&b"first"[..]]);
        // A length that runs past the end.
        let mut bytes = log(1, &[b"first", b"second"]);
        bytes[SECOND] = 0xff;
        assert_eq!(payloads(&parse(&bytes)), vec![&b"first"[..]]);
        // A damaged sequence number.
        let mut bytes = log(1, &[b"first", b"second"]);
        bytes[SECOND + 17] ^= 1;
        assert_eq!(payloads(&parse(&bytes)), vec![&b"first"[..]]);
    }

    #[test]
    fn records_of_another_generation_are_not_read() {
        // A log emptied (a new header, a new salt) over the records of the
        // generation before: none of them is read.
        let old = log(4, &[b"old one", b"old two"]);
        let mut bytes = header(names(5)).to_vec();
        bytes.extend_from_slice(&old[HEADER_LEN..]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.header, Header::Of(names(5)));
        assert!(parsed.records.is_empty());
        // A new record written over the first old one: the old second is
        // not reached either.
        let mut mixed = header(names(5)).to_vec();
        append_record(&mut mixed, 5, 30, b"new 1..").unwrap();
        mixed.extend_from_slice(&old[mixed.len()..]);
        assert_eq!(payloads(&parse(&mixed)), vec![&b"new 1.."[..]]);
    }

    #[test]
    fn sequence_numbers_must_rise() {
        let mut bytes = header(names(2)).to_vec();
        for lsn in [5, 6, 6, 7] {
            append_record(&mut bytes, 2, lsn, b"x").unwrap();
        }
        let lsns: Vec<u64> = parse(&bytes).records.iter().map(|r| r.lsn).collect();
        assert_eq!(lsns, [5, 6]);
    }

    #[test]
    fn a_damaged_header_is_told_apart_from_a_missing_one() {
        let mut bytes = log(2, &[b"x"]);
        bytes[0] = b'X';
        assert!(matches!(parse(&bytes).header, Header::Damaged(_)));
        for at in [9, 17, 25, 33] {
            let mut bytes = log(2, &[b"x"]);
            bytes[at] ^= 1;
            assert!(matches!(parse(&bytes).header, Header::Damaged(_)), "{at}");
        }
        assert!(matches!(parse(&[0u8; 64]).header, Header::Damaged(_)));
    }
}
