//! Per-tenant references numbered by the store on insert (`DSR-2027-0001`,
//! `BR-2027-0001`): one series per register and year, each number given once, never
//! reused, not even after its record was deleted. The stores keep one counter per
//! tenant, series and year and bump it in the insert's transaction (under their lock).

use crate::{Record, RecordKind};

/// A register whose records carry a reference the store numbers on insert.
pub trait Numbered: RecordKind {
    /// The reference's prefix, which names the series: `DSR`, `BR`.
    const SERIES: &'static str;

    /// The year a new record is numbered in (a request's receipt, a breach's awareness).
    fn numbering_year(record: &Record<Self>) -> i32;

    /// The record's reference (a derived value: no edit sets it).
    fn reference(record: &Record<Self>) -> &str;

    /// Where the record keeps it.
    fn reference_mut(record: &mut Record<Self>) -> &mut String;
}

/// The reference of the `number`th record of `year` in `series`: at least four digits.
pub fn numbered_reference(series: &str, year: i32, number: u32) -> String {
    format!("{series}-{year}-{number:04}")
}

/// Gives a new record the reference of `number` in its series and year.
pub fn assign_reference<K: Numbered>(record: &mut Record<K>, number: u32) {
    let year = K::numbering_year(record);
    *K::reference_mut(record) = numbered_reference(K::SERIES, year, number);
}

/// Carries the stored record's reference over to its replacement: an edit never
/// renumbers (a corrected awareness or receipt year keeps the reference given).
pub fn keep_reference<K: Numbered>(stored: &Record<K>, record: &mut Record<K>) {
    let kept = K::reference(stored);
    let reference = K::reference_mut(record);
    reference.clear();
    reference.push_str(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_have_at_least_four_digits() {
        assert_eq!(numbered_reference("BR", 2027, 1), "BR-2027-0001");
        assert_eq!(numbered_reference("DSR", 2027, 12_345), "DSR-2027-12345");
    }
}
