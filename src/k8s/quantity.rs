//! Resource quantities written in the form the API server stores them in. The API server
//! parses every quantity of a built-in object (container `resources`, a ResourceQuota's
//! `hard`, a LimitRange, a claim's `storage`) and serializes it back canonically: `1000m`
//! reads back `1`, `0.5` → `500m`, `0.5Gi` → `512Mi`, `1024Mi` → `1Gi`, `1000` → `1k`
//! (<https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>:
//! "Before serializing, Quantity will be put in canonical form … 1.5 will be serialized as
//! 1500m, 1.5Gi will be serialized as 1536Mi"; k8s.io/apimachinery
//! `resource.Quantity.CanonicalizeBytes`, which keeps the suffix family). A tool that compares the
//! manifest with the live object field by field — Argo CD's default diff — then shows the
//! object OutOfSync for ever and re-syncs it in a loop (argoproj/argo-cd#21135 "1000M -> 1G
//! for memory, and 1000m -> 1 for CPU", #17682 "0.5CPU vs 500mCPU"). Written canonically,
//! what is applied is what is read back.
//!
//! The value is held exactly, as an integer count of nano-units (the API's own precision);
//! a form outside what blueprints use (a sign, an exponent such as `1e3`, more than nine
//! decimals) is left as written.

use std::borrow::Cow;

/// Binary suffixes, by power of 1024.
const BINARY: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
/// Decimal suffixes, by power of 1000 from 10^-9.
const DECIMAL: [&str; 10] = ["n", "u", "m", "", "k", "M", "G", "T", "P", "E"];
const NANO: i128 = 1_000_000_000;

/// `q` in the API server's canonical form; `q` itself when it is in it already or is not a
/// form this handles.
pub(crate) fn canonical(q: &str) -> Cow<'_, str> {
    match exact(q).and_then(|(nanos, binary)| write(nanos, binary)) {
        Some(c) if c != q => Cow::Owned(c),
        _ => Cow::Borrowed(q),
    }
}

/// The value in nano-units, and whether it was written with a binary suffix (the API keeps
/// the suffix family: binary stays binary while the value is a whole number of at least
/// 1024, decimal stays decimal).
fn exact(q: &str) -> Option<(i128, bool)> {
    let (number, scale, binary) =
        if let Some(i) = (1..BINARY.len()).find(|&i| q.ends_with(BINARY[i])) {
            (&q[..q.len() - 2], 1024_i128.checked_pow(i as u32)?, true)
        } else if let Some(i) = DECIMAL.iter().position(|s| !s.is_empty() && q.ends_with(s)) {
            (&q[..q.len() - 1], -(i as i128), false)
        } else {
            (q, -3, false)
        };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 9
    {
        return None;
    }
    // The number in nano-units: its digits, then as many zeros as make nine decimals.
    let padded = format!("{whole}{fraction:0<9}");
    let nanos: i128 = padded.parse().ok()?;
    if binary {
        return Some((nanos.checked_mul(scale)?, true));
    }
    // Decimal: `scale` is minus the index in DECIMAL, whose power of 1000 is index - 3.
    let power = -scale as i32 - 3;
    let value = if power >= 0 {
        nanos.checked_mul(1000_i128.checked_pow(power as u32)?)?
    } else {
        let div = 1000_i128.pow((-power) as u32);
        if nanos % div != 0 {
            return None; // finer than a nano-unit: the API rounds it up
        }
        nanos / div
    };
    Some((value, false))
}

fn write(nanos: i128, binary: bool) -> Option<String> {
    if nanos == 0 {
        return Some("0".into());
    }
    // Binary only for a whole number of at least 1024, as the API does (below 1024, or
    // fractional, it switches to decimal rather than round).
    if binary && nanos % NANO == 0 && nanos / NANO >= 1024 {
        let (mut n, mut i) = (nanos / NANO, 0);
        while i + 1 < BINARY.len() && n % 1024 == 0 {
            n /= 1024;
            i += 1;
        }
        return Some(format!("{n}{}", BINARY[i]));
    }
    // Decimal: the largest power of 1000 that keeps the number whole.
    let (mut n, mut i) = (nanos, 0);
    while i + 1 < DECIMAL.len() && n % 1000 == 0 {
        n /= 1000;
        i += 1;
    }
    Some(format!("{n}{}", DECIMAL[i]))
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn as_the_api_server_stores_them() {
        // Each pair: written, read back (the API reference's rules, see the module doc).
        for (written, stored) in [
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("2", "2"),
            ("250m", "250m"),
            ("0.5Gi", "512Mi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("2048Gi", "2Ti"),
            ("0.5Ki", "512"),
            ("1000M", "1G"),
            ("1000", "1k"),
            ("128Mi", "128Mi"),
            ("1Gi", "1Gi"),
            ("0", "0"),
            ("0Mi", "0"),
            ("100k", "100k"),
            ("0.1", "100m"),
            ("10", "10"),
        ] {
            assert_eq!(canonical(written), stored, "{written}");
        }
    }

    #[test]
    fn other_forms_are_left_as_written() {
        for q in [
            "1e3",
            "-1",
            "+1",
            "",
            ".",
            "1.0000000001",
            "abc",
            "1Zi",
            "0.5n",
        ] {
            assert_eq!(canonical(q), q);
        }
    }
}
