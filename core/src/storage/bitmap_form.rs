//! A check of a serialized posting bitmap's containers, made before it is
//! decoded without `roaring`'s own checks.
//!
//! `RoaringBitmap::deserialize_from` checks each array container's values
//! one comparison at a time, stopping at the first out of order; on a
//! `search` at 1M users that loop was a quarter of the query's planning
//! (6% of the call). [`well_formed`] makes the same checks over the
//! serialized bytes in loops the compiler vectorizes (no early exit), and
//! [`crate::storage::postings::decode`] then reads the bitmap with
//! `deserialize_unchecked_from`, which keeps every other check (the cookie,
//! the lengths, the containers' keys in order).
//!
//! The layout is the Roaring format specification's
//! (<https://github.com/RoaringBitmap/RoaringFormatSpec>), in the form
//! `RoaringBitmap::serialize_into` writes for a bitmap without run
//! containers, the only form rosterdb writes: the cookie 12346 (4 bytes,
//! little-endian), the number of containers (4 bytes), for each container
//! its key and its cardinality minus one (2 + 2 bytes), then an offset per
//! container (4 bytes), then the containers: an array of `cardinality`
//! ascending 2-byte values when the cardinality is at most 4,096, else a
//! bitmap of 8,192 bytes.

/// The cookie of a serialized bitmap without run containers.
const NO_RUNS: u32 = 12_346;

/// The largest cardinality an array container holds.
const ARRAY_LIMIT: usize = 4_096;

/// The bytes of a bitmap container.
const BITMAP_BYTES: usize = 8_192;

/// What [`well_formed`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// Every container is well formed: `deserialize_unchecked_from` may
    /// read the bytes (it still checks their lengths and keys).
    WellFormed,
    /// A container is not (values out of order or repeated, a bitmap
    /// whose bits do not count its cardinality, or bytes missing).
    Damaged,
    /// Not the form without run containers: read with the checks.
    Other,
}

/// Checks the containers of the serialized bitmap `bytes`: each array's
/// values strictly ascending, each bitmap's set bits as many as its
/// cardinality.
pub(crate) fn well_formed(bytes: &[u8]) -> Form {
    let Some((cookie, rest)) = take_u32(bytes) else {
        return Form::Other;
    };
    if cookie != NO_RUNS {
        return Form::Other;
    }
    check_containers(rest).unwrap_or(Form::Damaged)
}

/// The containers after the cookie; `None` when bytes are missing.
fn check_containers(bytes: &[u8]) -> Option<Form> {
    let (size, rest) = take_u32(bytes)?;
    let size = usize::try_from(size).ok()?;
    let (descriptions, rest) = rest.split_at_checked(size.checked_mul(4)?)?;
    // The offsets, which reading the containers in order does not need.
    let (_, mut rest) = rest.split_at_checked(size.checked_mul(4)?)?;
    let (descriptions, _) = descriptions.as_chunks::<4>();
    for &[_, _, low, high] in descriptions {
        let cardinality = usize::from(u16::from_le_bytes([low, high])).checked_add(1)?;
        let container;
        if cardinality <= ARRAY_LIMIT {
            (container, rest) = rest.split_at_checked(cardinality.checked_mul(2)?)?;
            if !strictly_ascending(container) {
                return Some(Form::Damaged);
            }
        } else {
            (container, rest) = rest.split_at_checked(BITMAP_BYTES)?;
            if set_bits(container) != cardinality {
                return Some(Form::Damaged);
            }
        }
    }
    Some(Form::WellFormed)
}

/// Whether the little-endian 2-byte values of `values` strictly ascend.
fn strictly_ascending(values: &[u8]) -> bool {
    let (values, _) = values.as_chunks::<2>();
    let mut previous: i32 = -1;
    let mut ascending = true;
    for &value in values {
        let value = i32::from(u16::from_le_bytes(value));
        ascending &= value > previous;
        previous = value;
    }
    ascending
}

/// The number of bits set in `bytes`.
fn set_bits(bytes: &[u8]) -> usize {
    let (words, _) = bytes.as_chunks::<8>();
    words
        .iter()
        .map(|&word| u64::from_le_bytes(word).count_ones())
        .fold(0usize, |total, ones| {
            total.saturating_add(usize::try_from(ones).unwrap_or(usize::MAX))
        })
}

/// A little-endian `u32` and the bytes after it.
fn take_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values
mod tests {
    use roaring::RoaringBitmap;

    use super::*;

    fn serialized(bitmap: &RoaringBitmap) -> Vec<u8> {
        let mut out = Vec::new();
        bitmap.serialize_into(&mut out).unwrap();
        out
    }

    /// Bitmaps of every shape rosterdb writes: empty, one value, arrays in
    /// several containers, a full array (4,096 values), bitmap containers.
    fn shapes() -> Vec<RoaringBitmap> {
        let mut shapes = vec![
            RoaringBitmap::new(),
            RoaringBitmap::from_iter([7u32]),
            RoaringBitmap::from_iter([0u32, 1, 65_535, 65_536, 200_000, u32::MAX]),
            (0u32..4_096).map(|i| i * 16).collect(),
            (0u32..4_097).map(|i| i * 15).collect(),
            (0u32..65_536).collect(),
        ];
        let mut mixed: RoaringBitmap = (0u32..10_000).map(|i| i * 3).collect();
        mixed.extend((100_000u32..100_050).map(|i| i * 7));
        shapes.push(mixed);
        shapes
    }

    #[test]
    fn written_bitmaps_are_well_formed_and_read_back_as_the_checked_read_reads_them() {
        for bitmap in shapes() {
            let bytes = serialized(&bitmap);
            assert_eq!(well_formed(&bytes), Form::WellFormed, "{bitmap:?}");
            let unchecked = RoaringBitmap::deserialize_unchecked_from(&bytes[..]).unwrap();
            assert_eq!(unchecked, bitmap);
            assert_eq!(RoaringBitmap::deserialize_from(&bytes[..]).unwrap(), bitmap);
        }
    }

    /// The byte offset of the first container's values in `bytes`.
    fn first_values(bytes: &[u8]) -> usize {
        let size = usize::try_from(u32::from_le_bytes(bytes[4..8].try_into().unwrap())).unwrap();
        8 + size * 8
    }

    #[test]
    fn arrays_out_of_order_or_repeated_are_damaged_as_the_checked_read_finds_them() {
        let bitmap = RoaringBitmap::from_iter([3u32, 9, 12, 70_000, 70_001]);
        let bytes = serialized(&bitmap);
        let at = first_values(&bytes);
        let mut swapped = bytes.clone();
        swapped.swap(at, at + 2);
        swapped.swap(at + 1, at + 3);
        let mut repeated = bytes.clone();
        repeated.copy_within(at..at + 2, at + 2);
        let mut last_container = bytes.clone();
        // The second container's two values (70,000 and 70,001 are low
        // bits 4,464 and 4,465), made equal.
        let end = last_container.len();
        last_container.copy_within(end - 4..end - 2, end - 2);
        for damaged in [swapped, repeated, last_container] {
            assert_eq!(well_formed(&damaged), Form::Damaged);
            assert!(RoaringBitmap::deserialize_from(&damaged[..]).is_err());
        }
    }

    #[test]
    fn a_bitmap_container_whose_bits_do_not_count_its_cardinality_is_damaged() {
        let bitmap: RoaringBitmap = (0u32..5_000).map(|i| i * 13).collect();
        let mut bytes = serialized(&bitmap);
        let at = first_values(&bytes);
        // Clear one set bit (value 0, the first word's lowest bit).
        bytes[at] &= !1;
        assert_eq!(well_formed(&bytes), Form::Damaged);
        assert!(RoaringBitmap::deserialize_from(&bytes[..]).is_err());
    }

    #[test]
    fn missing_bytes_are_damaged_and_other_forms_are_left_to_the_checked_read() {
        let bytes = serialized(&(0u32..5_000).map(|i| i * 13).collect());
        for cut in [5, 9, 12, 20, bytes.len() - 1] {
            assert_eq!(well_formed(&bytes[..cut]), Form::Damaged, "cut at {cut}");
        }
        assert_eq!(well_formed(&bytes[..3]), Form::Other);
        let mut runs: RoaringBitmap = (0u32..70_000).collect();
        runs.optimize();
        let run_bytes = serialized(&runs);
        assert_eq!(well_formed(&run_bytes), Form::Other);
        assert_eq!(
            RoaringBitmap::deserialize_from(&run_bytes[..]).unwrap(),
            runs
        );
    }
}
