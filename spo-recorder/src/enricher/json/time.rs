//! UTC calendar formatting without a date library (days-from-civil arithmetic).

/// (year, month, day, hour, minute, second) of a Unix time in UTC.
pub(crate) fn civil(unix: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (unix / 86_400) as i64;
    let secs = (unix % 86_400) as u32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` (RC-42).
pub(crate) fn rfc3339_seconds(unix: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
}

/// `YYYY-MM-DDTHH-MM-SS.mmm` for rotated file names (as lumberjack names its backups).
pub(crate) fn backup_stamp(unix_millis: u128) -> String {
    let secs = u64::try_from(unix_millis / 1000).unwrap_or(u64::MAX);
    let (y, mo, d, h, mi, s) = civil(secs);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}-{mi:02}-{s:02}.{:03}",
        unix_millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rc_42_known_dates() {
        assert_eq!(rfc3339_seconds(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_seconds(1_744_780_616), "2025-04-16T05:16:56.000Z");
        assert_eq!(rfc3339_seconds(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_seconds(4_102_444_799), "2099-12-31T23:59:59.000Z");
        assert_eq!(backup_stamp(1_744_780_616_123), "2025-04-16T05-16-56.123");
    }
}
