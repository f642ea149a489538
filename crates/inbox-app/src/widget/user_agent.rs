//! W4, K1: the visitor's browser and operating system, read from the `User-Agent` header. A
//! dozen substring checks cover the browsers people chat from; anything else is "Other". Good
//! enough for a contact card, not for statistics (which would need a maintained database).

/// Browser and operating system, as shown on the contact card (`Chrome 124`, `Windows`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserAgent {
    /// The browser and its major version.
    pub browser: String,
    /// The operating system.
    pub os: String,
}

fn major_after<'a>(ua: &'a str, marker: &str) -> Option<&'a str> {
    let start = ua.find(marker)? + marker.len();
    let version = &ua[start..];
    let end = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    (end > 0).then(|| &version[..end])
}

/// Reads a `User-Agent` header.
#[must_use]
pub fn parse(ua: &str) -> UserAgent {
    // Order matters: Edge, Opera and Samsung also say "Chrome", Chrome also says "Safari".
    const BROWSERS: [(&str, &str); 10] = [
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
        ("MSIE ", "Internet Explorer"),
    ];
    let browser = BROWSERS
        .iter()
        .find_map(|(marker, name)| {
            major_after(ua, marker).map(|major| {
                if *name == "Safari" && !ua.contains("Safari/") {
                    "Other".to_owned()
                } else {
                    format!("{name} {major}")
                }
            })
        })
        .unwrap_or_else(|| "Other".to_owned());
    let os = if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        "iOS"
    } else if ua.contains("CrOS") {
        "ChromeOS"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "Other"
    };
    UserAgent {
        browser,
        os: os.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(ua: &str) -> (String, String) {
        let parsed = parse(ua);
        (parsed.browser, parsed.os)
    }

    #[test]
    fn w4_common_browsers_and_systems_are_recognised() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "Chrome 124",
                "Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
                "Edge 124",
                "Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                "Safari 17",
                "macOS",
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                "Firefox 125",
                "Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                "Chrome 124",
                "iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
                "Samsung Internet 24",
                "Android",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
                "Opera 109",
                "ChromeOS",
            ),
        ];
        for (ua, browser, os) in cases {
            assert_eq!(read(ua), (browser.to_owned(), os.to_owned()), "{ua}");
        }
    }

    #[test]
    fn w4_unknown_agents_are_other() {
        assert_eq!(read("curl/8.5.0"), ("Other".to_owned(), "Other".to_owned()));
        assert_eq!(read(""), ("Other".to_owned(), "Other".to_owned()));
        assert_eq!(read("Version/"), ("Other".to_owned(), "Other".to_owned()));
    }
}
