//! Kubernetes resource quantities (`500m`, `512Mi`, `1.5`, `2e3`), checked by the grammar
//! the API server parses (`k8s.io/apimachinery/pkg/api/resource`): a signed decimal number
//! and one suffix — binary `Ki Mi Gi Ti Pi Ei`, decimal `n u m k M G T P E` (or none), or an
//! exponent `e<n>`/`E<n>`. The JSON schemas only say "string or number", so `500mc` or
//! `512MB` would pass them and fail at `kubectl apply`.

/// `Ok` when `q` is a quantity; otherwise what is wrong, with the likely intended spelling.
pub fn check(q: &str) -> Result<(), String> {
    let bad = |hint: Option<String>| {
        let mut m = format!("`{q}` is not a Kubernetes quantity");
        if let Some(h) = hint {
            m.push_str(&format!("; did you mean `{h}`?"));
        }
        Err(m)
    };
    let s = q.strip_prefix(['+', '-']).unwrap_or(q);
    let digits = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits);
    let number_ok = !number.is_empty()
        && number != "."
        && number.matches('.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    if !number_ok {
        return bad(None);
    }
    let ok = match suffix {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        _ => suffix
            .strip_prefix(['e', 'E'])
            .map(|exp| {
                let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit())
            })
            .unwrap_or(false),
    };
    if ok {
        return Ok(());
    }
    // The usual slips: CPU written as `mc`/`mcpu`, memory in units of other tools.
    let hint = match suffix {
        "mc" | "mcpu" | "milli" | "millicores" => Some(format!("{number}m")),
        "KB" | "Kb" | "kb" | "KiB" | "K" => Some(format!("{number}Ki")),
        "MB" | "Mb" | "mb" | "MiB" => Some(format!("{number}Mi")),
        "GB" | "Gb" | "gb" | "GiB" | "g" => Some(format!("{number}Gi")),
        "TB" | "Tb" | "tb" | "TiB" => Some(format!("{number}Ti")),
        "cpu" | "cpus" | "core" | "cores" | "vcpu" | "vCPU" => Some(number.to_string()),
        _ => None,
    };
    bad(hint)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn the_api_servers_grammar() {
        for ok in [
            "500m",
            "1",
            "0.5",
            ".5",
            "1.",
            "512Mi",
            "1Gi",
            "2G",
            "100k",
            "1e3",
            "1E-2",
            "+1",
            "-1",
            "10n",
            "5u",
            "128974848",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "m", "500mc", "512MB", "1 Gi", "1.2.3", "Gi", "1e", "1ki", "abc",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert!(check("500mc").unwrap_err().contains("did you mean `500m`?"));
        assert!(
            check("512MB")
                .unwrap_err()
                .contains("did you mean `512Mi`?")
        );
    }
}
